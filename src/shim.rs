// SPDX-License-Identifier: GPL-2.0

//! The functions of `bhlock_shim.c`: C macros and static inlines that have no Rust binding.
//!
//! This is the raw layer: every function is `unsafe` and says what its caller must ensure. The
//! safe types in [`crate::bh`] and [`crate::local_lock_nested_bh`] are the only callers.

use kernel::bindings;
use kernel::ffi::{c_char, c_int, c_void};

// `local_lock_t` is only ever passed by pointer, but the lint walks into it (through
// `lockdep_map` and `task_struct`) and, depending on the config, finds empty structs there.
#[allow(improper_ctypes)]
extern "C" {
    /// `local_bh_disable()`, if this context may disable and re-enable bottom halves (not
    /// hard-irq, not NMI, interrupts on); returns whether it did.
    ///
    /// # Safety
    ///
    /// If it returns true, the caller must call [`bhlock_local_bh_enable`] exactly once later,
    /// in the same task.
    pub(crate) fn bhlock_local_bh_disable_if_allowed() -> bool;

    /// `local_bh_enable()`.
    ///
    /// # Safety
    ///
    /// Must pair with an earlier successful [`bhlock_local_bh_disable_if_allowed`] of the same
    /// task, and nothing that relies on that BH section may outlive this call.
    pub(crate) fn bhlock_local_bh_enable();

    /// `lockdep_assert_in_softirq()`: warns once unless BH is disabled or a softirq runs.
    ///
    /// # Safety
    ///
    /// Always safe to call; `unsafe` only because it is a foreign function.
    pub(crate) fn bhlock_lockdep_assert_in_softirq();

    /// `__alloc_percpu(size, align)`: zeroed memory for every possible CPU, or null.
    ///
    /// # Safety
    ///
    /// `align` must be a power of two. The result must be freed with
    /// [`bindings::free_percpu`] once.
    pub(crate) fn bhlock_alloc_percpu(size: usize, align: usize) -> *mut c_void;

    /// `this_cpu_ptr(ptr)`.
    ///
    /// # Safety
    ///
    /// `ptr` must come from [`bhlock_alloc_percpu`] and not be freed. The caller must not
    /// migrate to another CPU while it uses the result as this CPU's copy.
    pub(crate) fn bhlock_this_cpu_ptr(ptr: *mut c_void) -> *mut c_void;

    /// `per_cpu_ptr(ptr, cpu)`.
    ///
    /// # Safety
    ///
    /// `ptr` must come from [`bhlock_alloc_percpu`] and not be freed; `cpu` must be a possible
    /// CPU.
    pub(crate) fn bhlock_per_cpu_ptr(ptr: *mut c_void, cpu: c_int) -> *mut c_void;

    /// `local_lock_init(lock)` with the lockdep class `key` and `name`.
    ///
    /// # Safety
    ///
    /// `lock` must be valid for writes and not in use; `name` and `key` must outlive every use
    /// of the lock.
    pub(crate) fn bhlock_local_lock_init(
        lock: *mut bindings::local_lock_t,
        name: *const c_char,
        key: *mut bindings::lock_class_key,
    );

    /// `local_lock_nested_bh()` on an already resolved per-CPU lock.
    ///
    /// # Safety
    ///
    /// `lock` must be initialised and be this CPU's copy, and BH must be disabled (or a softirq
    /// handler running) until the matching [`bhlock_local_unlock_nested_bh`].
    pub(crate) fn bhlock_local_lock_nested_bh(lock: *mut bindings::local_lock_t);

    /// `local_unlock_nested_bh()` on an already resolved per-CPU lock.
    ///
    /// # Safety
    ///
    /// The current context must hold `lock` through [`bhlock_local_lock_nested_bh`].
    pub(crate) fn bhlock_local_unlock_nested_bh(lock: *mut bindings::local_lock_t);

    /// `in_hardirq()`.
    ///
    /// # Safety
    ///
    /// Always safe to call; `unsafe` only because it is a foreign function.
    pub(crate) fn bhlock_in_hardirq() -> bool;

    /// `in_serving_softirq()`: a softirq handler runs (not merely BH disabled).
    ///
    /// # Safety
    ///
    /// Always safe to call; `unsafe` only because it is a foreign function.
    pub(crate) fn bhlock_in_serving_softirq() -> bool;

    /// `softirq_count() != 0`: BH is disabled or a softirq handler runs.
    ///
    /// # Safety
    ///
    /// Always safe to call; `unsafe` only because it is a foreign function.
    pub(crate) fn bhlock_bh_disabled() -> bool;

    /// `raw_irqs_disabled()`: the CPU's own interrupt flag.
    ///
    /// # Safety
    ///
    /// Always safe to call; `unsafe` only because it is a foreign function.
    pub(crate) fn bhlock_irqs_disabled() -> bool;

    /// `lockdep_hardirqs_enabled()`: lockdep's shadow of the interrupt flag (false without
    /// `CONFIG_TRACE_IRQFLAGS`).
    ///
    /// # Safety
    ///
    /// Always safe to call; `unsafe` only because it is a foreign function.
    pub(crate) fn bhlock_lockdep_irqs_enabled() -> bool;

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
    ///
    /// # Safety
    ///
    /// Always safe to call; `unsafe` only because it is a foreign function.
    pub(crate) fn bhlock_current_boosted() -> bool;

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
}
