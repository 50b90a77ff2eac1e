// SPDX-License-Identifier: GPL-2.0

//! The functions of `shim.c`: C macros and static inlines the harness needs that have no Rust
//! binding (the guard API has its own, in `src/sync/helpers/`).
//!
//! The queries that are safe in any context are declared `safe fn`; every other function is
//! `unsafe` and says what its caller must ensure.

use kernel::bindings;
use kernel::ffi::{c_char, c_uint, c_void};

// `local_lock_t` is only ever passed by pointer, but the lint walks into it (through
// `lockdep_map` and `task_struct`) and, depending on the config, finds empty structs there.
#[allow(improper_ctypes)]
unsafe extern "C" {

    /// `in_serving_softirq()`: a softirq handler runs (not merely BH disabled).
    pub(crate) safe fn bhlock_in_serving_softirq() -> bool;

    /// `in_hardirq()`: a hard interrupt handler runs.
    pub(crate) safe fn bhlock_in_hardirq() -> bool;

    /// `softirq_count() != 0`: BH is disabled or a softirq handler runs.
    pub(crate) safe fn bhlock_bh_disabled() -> bool;

    /// `raw_irqs_disabled()`: the CPU's own interrupt flag.
    pub(crate) safe fn bhlock_irqs_disabled() -> bool;

    /// `lockdep_hardirqs_enabled()`: lockdep's shadow of the interrupt flag (false without
    /// `CONFIG_TRACE_IRQFLAGS`).
    pub(crate) safe fn bhlock_lockdep_irqs_enabled() -> bool;

    /// `local_irq_enable()`.
    ///
    /// # Safety
    ///
    /// Only for the negative control, in a hard-irq callback that calls
    /// [`bhlock_local_irq_disable`] before it returns.
    pub(crate) fn bhlock_local_irq_enable();

    /// `local_irq_disable()`.
    ///
    /// # Safety
    ///
    /// Must close a window opened by [`bhlock_local_irq_enable`].
    pub(crate) fn bhlock_local_irq_disable();

    /// `raw_spin_lock_init(lock)` with the lockdep class `key` and `name`.
    ///
    /// # Safety
    ///
    /// `lock` must be valid for writes and not in use; `name` and `key` must outlive it.
    pub(crate) fn bhlock_raw_spin_lock_init(
        lock: *mut bindings::raw_spinlock,
        name: *const c_char,
        key: *mut bindings::lock_class_key,
    );

    /// `raw_spin_lock(lock)`.
    ///
    /// # Safety
    ///
    /// `lock` must be initialised, with interrupts disabled if an interrupt may take it too.
    pub(crate) fn bhlock_raw_spin_lock(lock: *mut bindings::raw_spinlock);

    /// `raw_spin_unlock(lock)`.
    ///
    /// # Safety
    ///
    /// The caller must hold `lock`.
    pub(crate) fn bhlock_raw_spin_unlock(lock: *mut bindings::raw_spinlock);

    /// `raw_spin_unlock_irq(lock)`: releases and enables interrupts.
    ///
    /// # Safety
    ///
    /// The caller must hold `lock`; only for the negative control, which disables interrupts
    /// again with [`bhlock_local_irq_disable`] before it returns.
    pub(crate) fn bhlock_raw_spin_unlock_irq(lock: *mut bindings::raw_spinlock);

    /// `spin_lock_init(lock)` with the lockdep class `key` and `name`.
    ///
    /// # Safety
    ///
    /// `lock` must be valid for writes and not in use; `name` and `key` must outlive it.
    pub(crate) fn bhlock_spin_lock_init(
        lock: *mut bindings::spinlock_t,
        name: *const c_char,
        key: *mut bindings::lock_class_key,
    );

    /// `spin_lock_bh(lock)`: disables BH, then takes the lock.
    ///
    /// # Safety
    ///
    /// `lock` must be initialised; the caller must release it with [`bhlock_spin_unlock_bh`]
    /// in the same task, in a context where BH may be disabled.
    pub(crate) fn bhlock_spin_lock_bh(lock: *mut bindings::spinlock_t);

    /// `spin_unlock_bh(lock)`.
    ///
    /// # Safety
    ///
    /// The caller must hold `lock` through [`bhlock_spin_lock_bh`], and nothing that relies on
    /// its BH section may outlive this call.
    pub(crate) fn bhlock_spin_unlock_bh(lock: *mut bindings::spinlock_t);

    /// Whether priority inheritance has boosted the current task above its own priority.
    pub(crate) safe fn bhlock_current_boosted() -> bool;

    /// `SCHED_FIFO` at `MAX_RT_PRIO / 2 + 1`, one above the interrupt threads and
    /// [`bindings::sched_set_fifo`].
    ///
    /// # Safety
    ///
    /// `p` must be a live task.
    pub(crate) fn bhlock_sched_set_fifo_above_irq_threads(p: *mut bindings::task_struct);

    /// `lockdep_init_map(map, name, key, 0)`.
    ///
    /// # Safety
    ///
    /// `map` must be valid for writes and not in use; `name` and `key` must outlive it.
    pub(crate) fn bhlock_lock_map_init(
        map: *mut bindings::lockdep_map,
        name: *const c_char,
        key: *mut bindings::lock_class_key,
    );

    /// `lock_map_acquire(map)`.
    ///
    /// # Safety
    ///
    /// `map` must be initialised and released with [`bhlock_lock_map_release`] in the same
    /// context.
    pub(crate) fn bhlock_lock_map_acquire(map: *mut bindings::lockdep_map);

    /// `lock_map_release(map)`: lockdep's `lock_release()`.
    ///
    /// # Safety
    ///
    /// The current context must hold `map` through [`bhlock_lock_map_acquire`].
    pub(crate) fn bhlock_lock_map_release(map: *mut bindings::lockdep_map);

    /// `*work = IRQ_WORK_INIT_HARD(func)`.
    ///
    /// # Safety
    ///
    /// `work` must be valid for writes and not queued.
    pub(crate) fn bhlock_irq_work_init_hard(
        work: *mut bindings::irq_work,
        func: unsafe extern "C" fn(*mut bindings::irq_work),
    );

    /// Frees `head`, an skb head from `napi_skb_cache_get_bulk()` that was never built into an
    /// skb, to the skb head slab cache.
    ///
    /// # Safety
    ///
    /// `head` must come from `napi_skb_cache_get_bulk()`, be owned by the caller and not be
    /// used afterwards.
    pub(crate) fn bhlock_skb_head_free(head: *mut kernel::ffi::c_void);

    /// Whether resource `name` has no protection in this boot: on the must-fail kernel, which
    /// protects every probed resource, whether this boot removed it (its `bhlock_unlocked=`
    /// boot parameter); on every other kernel `unprotected_in_stock`.
    ///
    /// # Safety
    ///
    /// `name` must point to a NUL-terminated string.
    pub(crate) fn bhlock_resource_unlocked(
        name: *const kernel::ffi::c_char,
        unprotected_in_stock: bool,
    ) -> bool;

    /// `__alloc_percpu(size, align)`: zeroed per-CPU memory of the harness's own, or null.
    ///
    /// # Safety
    ///
    /// `align` must be a power of two; process context; the memory must be freed with
    /// `free_percpu()` once.
    pub(crate) fn bhlock_alloc_percpu(size: usize, align: usize) -> *mut c_void;

    /// `per_cpu_ptr(ptr, cpu)`.
    ///
    /// # Safety
    ///
    /// `ptr` must come from [`bhlock_alloc_percpu`] and `cpu` be a possible CPU.
    pub(crate) fn bhlock_per_cpu_ptr(ptr: *mut c_void, cpu: c_uint) -> *mut c_void;

    /// `this_cpu_ptr(ptr)`: the copy of the CPU the caller runs on at the time of the call.
    ///
    /// # Safety
    ///
    /// `ptr` must come from [`bhlock_alloc_percpu`].
    pub(crate) fn bhlock_this_cpu_ptr(ptr: *mut c_void) -> *mut c_void;

    /// `local_lock_init()` of a `local_lock_t` that is not per-CPU, with the class `key` and
    /// `name`.
    ///
    /// # Safety
    ///
    /// `lock` must be valid for writes and not in use; `name` and `key` must be static.
    pub(crate) fn bhlock_local_lock_init(
        lock: *mut bindings::local_lock_t,
        name: *const c_char,
        key: *mut bindings::lock_class_key,
    );

    /// `__local_unlock_nested_bh(lock)`.
    ///
    /// # Safety
    ///
    /// `lock` must be initialised with [`bhlock_local_lock_init`]; what releasing it does to
    /// the caller's context is the caller's to make right (the splat cases release one that is
    /// not held, on purpose).
    pub(crate) fn bhlock_local_unlock_nested_bh(lock: *mut bindings::local_lock_t);

    /// `local_bh_enable()`.
    ///
    /// # Safety
    ///
    /// The caller must have a BH section open that it started, with interrupts on.
    pub(crate) fn bhlock_local_bh_enable();
}
