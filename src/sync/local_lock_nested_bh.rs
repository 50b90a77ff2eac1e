// SPDX-License-Identifier: GPL-2.0

//! A per-CPU `T` protected by `local_lock_nested_bh()`.
//!
//! [`LocalLockNestedBh<T>`] holds one `local_lock_t` and one `T` for every possible CPU. A
//! context with bottom halves disabled locks its own CPU's copy with
//! [`LocalLockNestedBh::lock`], which borrows a [`LocalBhDisabled`] token, and gets a guard
//! that dereferences to that CPU's `T` and unlocks when dropped.
//!
//! What the C lock does depends on the kernel configuration, and the guard must be sound on
//! all of them:
//!
//! - !PREEMPT_RT without lockdep: nothing at all. Disabled bottom halves alone keep other
//!   contexts of this CPU away;
//! - !PREEMPT_RT with lockdep: a lockdep acquire plus `lockdep_assert_in_softirq()`;
//! - PREEMPT_RT: a real per-CPU sleeping spinlock. BH sections are preemptible there, and on
//!   7.x without `PREEMPT_RT_NEEDS_BH_LOCK` this lock is all that keeps two of them apart.
//!
//! In none of them does the C lock stop the *same* context from locking twice (on PREEMPT_RT
//! that would deadlock). Each CPU's copy therefore records its owner task, and a second
//! [`lock`](LocalLockNestedBh::lock) by the owner returns `None` instead of a second `&mut T`.
//!
//! What is checked when, per configuration:
//!
//! - at compile time, everywhere: locking needs a [`LocalBhDisabled`] that outlives the guard;
//!   guards and tokens stay in their task; a `T` moves between tasks only if it is [`Send`];
//! - at run time, everywhere: a second guard of one copy in one task (the owner check, which
//!   is also what makes one token enough for several locks);
//! - at run time, by the kernel's debugging only: lock order (lockdep, with
//!   `CONFIG_PROVE_LOCKING`), and, on PREEMPT_RT, taking the lock with interrupts disabled,
//!   where the sleeping lock may block (`CONFIG_DEBUG_ATOMIC_SLEEP`);
//! - not at all: sleeping under a guard on !PREEMPT_RT. BH is disabled there, and
//!   `schedule()` reports "scheduling while atomic" and resets the preempt count, so bottom
//!   halves come back on and the task may migrate while the guard lives; the C lock, empty
//!   without lockdep, then keeps nothing out. It is the atomic-context rule that Rust cannot
//!   express yet (the same one `rcu::Guard` rests on), left to `CONFIG_DEBUG_ATOMIC_SLEEP` and,
//!   in time, klint. On PREEMPT_RT sleeping under a guard is allowed.
//!
//! C reference: [`include/linux/local_lock.h`](srctree/include/linux/local_lock.h)

use super::{
    bh::{self, LocalBhDisabled},
    bindings,
};

use core::{
    cell::UnsafeCell,
    marker::PhantomData,
    mem::{align_of, size_of},
    ops::{Deref, DerefMut},
    pin::Pin,
    ptr::{self, NonNull},
    sync::atomic::{AtomicPtr, Ordering},
};

// A group of its own: in the kernel tree it reads `use crate::`, which sorts after `core`.
use kernel::{
    cpu::{nr_cpu_ids, CpuId},
    cpumask::Cpumask,
    ffi::c_void,
    page::PAGE_SIZE,
    prelude::*,
    str::CStr,
    sync::LockClassKey,
    types::{NotThreadSafe, Opaque},
};

mod this_cpu;

/// Creates a [`LocalLockNestedBh`] with its own lockdep class, named after the call site
/// unless a name is given.
///
/// `$init` is called once for every possible CPU with its [`CpuId`] and returns a
/// `PinInit<T, Error>` for that CPU's copy.
///
/// # Examples
///
/// ```
/// use kernel::new_local_lock_nested_bh;
///
/// let counters = new_local_lock_nested_bh!(|_cpu| Ok(0u64), "rx_counters")?;
/// # Ok::<(), Error>(())
/// ```
#[macro_export]
macro_rules! new_local_lock_nested_bh {
    ($init:expr $(, $name:literal)? $(,)?) => {
        $crate::sync::local_lock_nested_bh::LocalLockNestedBh::new(
            $init,
            ::kernel::optional_name!($($name)?),
            ::kernel::static_lock_class!(),
        )
    };
}

/// Whether `local_lock_nested_bh()` compiles to nothing: on !PREEMPT_RT without
/// `DEBUG_LOCK_ALLOC`, `local_lock_acquire()` and `local_lock_release()` are empty inlines and
/// `lockdep_assert_in_softirq()` is empty too (`include/linux/local_lock_internal.h`). The guard
/// then skips its calls into the shim, which would cost a call and a return each for nothing:
/// disabled bottom halves alone keep the other contexts of the CPU out, and the owner check
/// below still refuses a second guard.
const C_LOCK_IS_EMPTY: bool = !cfg!(CONFIG_PREEMPT_RT) && !cfg!(CONFIG_DEBUG_LOCK_ALLOC);

/// The largest per-CPU allocation, `PCPU_MIN_UNIT_SIZE` in `include/linux/percpu.h` (a macro).
const PCPU_MIN_UNIT_SIZE: usize = 32 << 10;

/// Whether the per-CPU allocator takes a copy of `T` (with its lock): at most
/// `PCPU_MIN_UNIT_SIZE` bytes, aligned to at most a page. `pcpu_alloc()` refuses the others,
/// with a WARN.
const fn fits_per_cpu<T>() -> bool {
    size_of::<Slot<T>>() <= PCPU_MIN_UNIT_SIZE && align_of::<Slot<T>>() <= PAGE_SIZE
}

/// One CPU's copy: the C lock, the task holding it, and the data.
#[repr(C)]
struct Slot<T> {
    lock: Opaque<bindings::local_lock_t>,
    /// The task whose guard holds this slot, or null. Written only with the C lock held (or,
    /// for null, just before releasing it), read by the owner's re-entry check.
    owner: AtomicPtr<bindings::task_struct>,
    data: UnsafeCell<T>,
}

impl<T> Slot<T> {
    /// The C lock. Not `self.lock.get()`: `Opaque::get()` is not `#[inline]`, and the call it
    /// costs showed up on the guard's fast path (`make bench`).
    #[inline]
    fn lock_ptr(&self) -> *mut bindings::local_lock_t {
        // `Opaque<T>` is `repr(transparent)` over `UnsafeCell<MaybeUninit<T>>`, so a pointer to
        // it is a pointer to the `T` inside.
        ptr::from_ref(&self.lock).cast_mut().cast()
    }
}

/// A per-CPU `T`, each copy protected by its own CPU's `local_lock_t` in nested-BH mode.
///
/// A copy the per-CPU allocator would refuse (larger than 32 KiB with its lock, or aligned
/// beyond a page) does not build: [`LocalLockNestedBh::new`] asserts its size at compile time.
///
/// # Examples
///
/// A counter per CPU, bumped under the lock and summed when nothing else can reach it:
///
/// ```
/// use kernel::bh::local_bh_disable;
/// use kernel::new_local_lock_nested_bh;
///
/// let mut counters = new_local_lock_nested_bh!(|_cpu| Ok(0u64))?;
/// {
///     let bh = local_bh_disable()?;
///     let mut mine = counters.lock(&bh).ok_or(EBUSY)?;
///     *mine += 1;
///     // The same task cannot hold the same copy twice: the second guard is refused.
///     assert!(counters.lock(&bh).is_none());
/// }
/// let mut total = 0;
/// counters.for_each_cpu_mut(|_cpu, n| total += *n);
/// assert_eq!(total, 1);
/// # Ok::<(), Error>(())
/// ```
///
/// # Invariants
///
/// `slots` is a live per-CPU allocation of `Slot<T>` owned by this object; on every possible
/// CPU its `lock` is initialised with this object's class (a static one, or `own_class`, which
/// is unregistered only after `slots` is freed) and its `data` holds an initialised, pinned
/// `T`. A slot's `owner` is the task whose guard for it exists (a softirq records the
/// task it runs on), or null when no guard does. A forgotten guard (`core::mem::forget`) leaves
/// its task recorded and, on PREEMPT_RT, the C lock held for good, as any leaked lock guard:
/// later `lock()`s by that task return `None` and other tasks block, and dropping the object
/// then leaks the copies, with a warning, rather than free a lock that is still held. On
/// !PREEMPT_RT another task's guard overwrites and then clears the record. `owner` is only ever
/// compared, never dereferenced. The C lock is another matter: on PREEMPT_RT a forgotten guard
/// whose task then exits leaves the sleeping lock owned by a freed task, and the next task to
/// lock that CPU's copy follows the owner pointer (priority inheritance). That is the same
/// limit as a forgotten guard of the kernel's `SpinLock` on PREEMPT_RT: safe Rust cannot rule
/// out `core::mem::forget()`, and the kernel reports the exit with a lock held (lockdep,
/// `DEBUG_ATOMIC_SLEEP`).
pub struct LocalLockNestedBh<T> {
    slots: NonNull<c_void>,
    /// The class registered for this object alone by
    /// [`new_with_dynamic_class`](Self::new_with_dynamic_class); a field, so that it is
    /// dropped (unregistered) after `Drop` has freed the locks of its class.
    own_class: Option<Pin<KBox<LockClassKey>>>,
    // Owns the `T`s (drop check), and is invariant in `T` as the kernel's `Lock<T>` is
    // (through its `UnsafeCell<T>`): `lock(&self)` hands out `&mut T`, so a covariant
    // `LocalLockNestedBh<&'static U>` could be used as a `LocalLockNestedBh<&'short U>` and
    // store a short-lived reference that a later guard reads back as `&'static U`.
    _data: PhantomData<UnsafeCell<T>>,
}

// SAFETY: The object only owns the per-CPU `T`s; moving it to another task moves the right to
// drop them there, which `T: Send` allows.
unsafe impl<T: Send> Send for LocalLockNestedBh<T> {}

// SAFETY: Through `&self`, a `T` is reached only by `lock()`, which gives one context at a time
// a `&mut T` to the copy of the CPU it runs on; different tasks of one CPU (PREEMPT_RT) take
// turns through the C lock, so `T` moves between tasks, which `T: Send` allows.
unsafe impl<T: Send> Sync for LocalLockNestedBh<T> {}

// The `T`s live in per-CPU memory, which never moves, whatever happens to this object: moving it
// moves a pointer. No API pins through it.
impl<T> Unpin for LocalLockNestedBh<T> {}

/// Every possible CPU, in order.
fn possible_cpus() -> impl Iterator<Item = CpuId> {
    // SAFETY: `__cpu_possible_mask` is a valid cpumask for the whole life of the kernel.
    let mask = unsafe { Cpumask::from_raw(&raw const bindings::__cpu_possible_mask) };
    (0..nr_cpu_ids())
        .filter_map(CpuId::from_u32)
        .filter(move |cpu| mask.test(*cpu))
}

impl<T> LocalLockNestedBh<T> {
    /// Allocates a copy of the lock and of `T` for every possible CPU.
    ///
    /// `init(cpu)` builds CPU `cpu`'s `T` where it lives, in per-CPU memory: a `T` too large
    /// for a stack frame comes from an in-place initializer (`init!`, `pin_init!`), not from a
    /// value, which would be built on the stack first. On failure the copies built so far are
    /// dropped.
    /// A copy larger than the per-CPU allocator takes (32 KiB, with its lock) or aligned beyond
    /// a page does not build. Prefer [`new_local_lock_nested_bh!`], which supplies the name and
    /// a lock class.
    pub fn new<I>(
        init: impl FnMut(CpuId) -> I,
        name: &'static CStr,
        key: Pin<&'static LockClassKey>,
    ) -> Result<Self>
    where
        I: PinInit<T, Error>,
    {
        // SAFETY: The key is static: it outlives the object.
        unsafe { Self::new_with_key(init, name, key.get_ref()) }
    }

    /// As [`new`](Self::new), with a lockdep class of this object's own, registered at run time
    /// and unregistered when the object is dropped.
    ///
    /// For objects created at one call site that nest: with the one class of that site, the
    /// second lock taken while the first is held is "possible recursive locking" to lockdep,
    /// as one device's poll feeding another device's `gro_cells` was, until each device got a
    /// class of its own with `lockdep_set_class()` and a dynamic key.
    ///
    /// Dropping such an object may sleep: unregistering its class waits for an RCU grace
    /// period (`lockdep_unregister_key()`). Drop it in process context, never with bottom
    /// halves or interrupts disabled; the drop says so with `might_sleep()`, which
    /// `CONFIG_DEBUG_ATOMIC_SLEEP` checks.
    ///
    /// # Examples
    ///
    /// ```
    /// use kernel::bh::local_bh_disable;
    /// use kernel::sync::local_lock_nested_bh::LocalLockNestedBh;
    ///
    /// fn device_cells() -> Result<LocalLockNestedBh<u32>> {
    ///     LocalLockNestedBh::new_with_dynamic_class(|_cpu| Ok(0u32), c"cells")
    /// }
    /// let (rx, tx) = (device_cells()?, device_cells()?);
    /// let bh = local_bh_disable()?;
    /// let outer = rx.lock(&bh).ok_or(EBUSY)?;
    /// let inner = tx.lock(&bh).ok_or(EBUSY)?;
    /// assert_eq!(*outer + *inner, 0);
    /// # Ok::<(), Error>(())
    /// ```
    pub fn new_with_dynamic_class<I>(
        init: impl FnMut(CpuId) -> I,
        name: &'static CStr,
    ) -> Result<Self>
    where
        I: PinInit<T, Error>,
    {
        let key = KBox::pin_init(LockClassKey::new_dynamic(), GFP_KERNEL)?;
        // SAFETY: The key is boxed (it does not move) and kept in the object, whose `Drop`
        // frees the locks before the key is dropped; on error the locks are gone already.
        let mut this = unsafe { Self::new_with_key(init, name, &key) }?;
        this.own_class = Some(key);
        Ok(this)
    }

    /// As [`new`](Self::new), with the class `key`.
    ///
    /// # Safety
    ///
    /// `key` must be registered (static, or dynamic and registered) and must stay in place
    /// and registered until the result is dropped.
    unsafe fn new_with_key<I>(
        mut init: impl FnMut(CpuId) -> I,
        name: &'static CStr,
        key: &LockClassKey,
    ) -> Result<Self>
    where
        I: PinInit<T, Error>,
    {
        // `pcpu_alloc()` would refuse these with a WARN(): refuse them at build time.
        const_assert!(
            fits_per_cpu::<T>(),
            "a per-CPU copy must fit the per-CPU allocator"
        );
        // SAFETY: The alignment of a type is a power of two; the result is freed by `Drop` or
        // below.
        let ptr = unsafe { bindings::__alloc_percpu(size_of::<Slot<T>>(), align_of::<Slot<T>>()) };
        let slots = NonNull::new(ptr).ok_or(ENOMEM)?;
        let this = core::mem::ManuallyDrop::new(Self {
            slots,
            own_class: None,
            _data: PhantomData,
        });

        let mut done = 0;
        let mut result = Ok(());
        for cpu in possible_cpus() {
            let slot = this.slot(cpu);
            // SAFETY: `slot` is this CPU's zeroed, unused slot; `name` is static and `key`
            // outlives the lock, as the caller promises.
            unsafe {
                bindings::local_lock_init_class(
                    Opaque::cast_into(&raw const (*slot).lock),
                    name.as_char_ptr(),
                    key.as_ptr(),
                )
            };
            // SAFETY: `data` is valid for writes, per-CPU memory never moves (so it is pinned),
            // and on error `__pinned_init` leaves nothing to drop.
            result = unsafe { init(cpu).__init(UnsafeCell::raw_get(&raw const (*slot).data)) };
            if result.is_err() {
                break;
            }
            done += 1;
        }
        if let Err(e) = result {
            // Drop the `T`s of the first `done` CPUs, then the allocation.
            for cpu in possible_cpus().take(done) {
                // SAFETY: This CPU's `T` was initialised above and is not used elsewhere.
                unsafe {
                    ptr::drop_in_place(UnsafeCell::raw_get(&raw const (*this.slot(cpu)).data))
                };
            }
            // SAFETY: `slots` came from `__alloc_percpu` and is freed once.
            unsafe { bindings::free_percpu(this.slots.as_ptr()) };
            return Err(e);
        }
        // INVARIANT: Every possible CPU's lock and `T` are initialised; no owner is set (zeroed).
        Ok(core::mem::ManuallyDrop::into_inner(this))
    }

    /// The slot of the CPU this context runs on, which it stays on while `bh` is borrowed.
    #[inline]
    fn this_cpu_slot<'a>(&'a self, _bh: &'a LocalBhDisabled) -> &'a Slot<T> {
        // SAFETY: `slots` is live; BH is disabled (the token's invariant), so this task stays
        // on this CPU for `'a` and the pointer stays this CPU's slot.
        unsafe { &*this_cpu::this_cpu_ptr(self.slots.as_ptr()).cast::<Slot<T>>() }
    }

    /// CPU `cpu`'s slot.
    fn slot(&self, cpu: CpuId) -> *mut Slot<T> {
        // SAFETY: `slots` is a live per-CPU allocation and `cpu` is a possible CPU.
        unsafe { bindings::per_cpu_ptr(self.slots.as_ptr(), cpu.as_u32()).cast() }
    }

    /// Locks the local CPU's copy, or returns `None` if the current context already holds it.
    ///
    /// The guard borrows `bh`, so it cannot outlive the BH-disabled section, and it is neither
    /// `Send` nor `Sync`. One token may back guards of several locks at once, as one C section
    /// holds several nested-BH locks; the owner check refuses a second guard of the same one.
    /// On PREEMPT_RT this may block on another task of this CPU that holds the lock (with
    /// priority inheritance), so interrupts must be enabled there; it never sleeps on
    /// !PREEMPT_RT.
    ///
    /// # Examples
    ///
    /// Two nested-BH locks held under one section:
    ///
    /// ```
    /// use kernel::bh::local_bh_disable;
    /// use kernel::new_local_lock_nested_bh;
    ///
    /// let a = new_local_lock_nested_bh!(|_cpu| Ok(1u32))?;
    /// let b = new_local_lock_nested_bh!(|_cpu| Ok(2u32))?;
    /// let bh = local_bh_disable()?;
    /// let ga = a.lock(&bh).ok_or(EBUSY)?;
    /// let gb = b.lock(&bh).ok_or(EBUSY)?;
    /// assert_eq!(*ga + *gb, 3);
    /// # Ok::<(), Error>(())
    /// ```
    #[must_use = "the lock is released as soon as the guard is dropped"]
    #[inline]
    pub fn lock<'a>(&'a self, bh: &'a LocalBhDisabled) -> Option<LocalLockNestedBhGuard<'a, T>> {
        let slot: &'a Slot<T> = self.this_cpu_slot(bh);
        let me = this_cpu::current();
        // Only this context ever stores its task here, so a match means it holds the slot already,
        // and no other task can change the answer between this check and the store below.
        if slot.owner.load(Ordering::Relaxed) == me {
            return None;
        }
        if !C_LOCK_IS_EMPTY {
            // SAFETY: The lock is initialised (type invariant), it is this CPU's copy, and BH
            // stays disabled until the guard, which borrows the token, unlocks it.
            unsafe { bindings::__local_lock_nested_bh(slot.lock_ptr()) };
        }
        slot.owner.store(me, Ordering::Relaxed);
        // INVARIANT: This context holds the C lock and is recorded as the owner.
        Some(LocalLockNestedBhGuard {
            slot,
            _bh: PhantomData,
            _not_send: NotThreadSafe,
        })
    }

    /// Whether another task holds the local CPU's copy at this instant.
    ///
    /// A racy snapshot, for statistics only. With every guard dropped in its section, it can
    /// be true only on PREEMPT_RT without `PREEMPT_RT_NEEDS_BH_LOCK`, where BH-disabled sections
    /// of different tasks of one CPU interleave and this lock is what keeps them apart; a guard
    /// forgotten by another task makes it true anywhere.
    #[inline]
    pub fn held_by_other_task(&self, bh: &LocalBhDisabled) -> bool {
        let owner = self.this_cpu_slot(bh).owner.load(Ordering::Relaxed);
        !owner.is_null() && owner != this_cpu::current()
    }

    /// Calls `f` on every possible CPU's copy of `T`, without locking.
    ///
    /// `&mut self` proves that no guard exists and no other context can reach the data: for
    /// setup, teardown and statistics when nothing runs.
    pub fn for_each_cpu_mut(&mut self, mut f: impl FnMut(CpuId, Pin<&mut T>)) {
        for cpu in possible_cpus() {
            // SAFETY: The `T` is initialised (type invariant) and `&mut self` excludes every
            // other access to it; per-CPU memory never moves, so it may be pinned.
            let data = unsafe { Pin::new_unchecked(&mut *(*self.slot(cpu)).data.get()) };
            f(cpu, data);
        }
    }
}

impl<T> Drop for LocalLockNestedBh<T> {
    fn drop(&mut self) {
        if self.own_class.is_some() {
            // Unregistering the class (the field's drop, after this) waits for an RCU grace
            // period: this drop may sleep, and says so before anything else.
            kernel::task::might_sleep();
        }
        // No guard can be alive here (each borrows `self`), so a copy still recorded as held
        // was locked by a guard that was forgotten (`core::mem::forget()` is safe). Its task
        // may still hold the C lock (PREEMPT_RT), and lockdep may still list the lock's map
        // among that task's held locks and read it when the task releases a lock taken before
        // it. `free_percpu()`, unlike `kfree()`, does not check the memory for held locks, so
        // the copies, and the class they belong to, are leaked instead: a leak is safe, as the
        // forgotten guard was. (On !PREEMPT_RT another task's guard may have cleared the
        // record since; its C lock then warned of the lock still held by the first task,
        // which turns lockdep off, and without lockdep the C lock has no state at all.)
        let forgotten = possible_cpus().any(|cpu| {
            // SAFETY: `slots` is live (type invariant) and, with `&mut self`, nothing else
            // uses it.
            let slot = unsafe { &*self.slot(cpu) };
            !slot.owner.load(Ordering::Relaxed).is_null()
        });
        if kernel::warn_on!(forgotten) {
            core::mem::forget(self.own_class.take());
            return;
        }
        for cpu in possible_cpus() {
            // SAFETY: Every `T` is initialised (type invariant) and, with `&mut self`, unused.
            unsafe { ptr::drop_in_place((*self.slot(cpu)).data.get()) };
        }
        // SAFETY: `slots` came from `__alloc_percpu` and is freed once, here.
        unsafe { bindings::free_percpu(self.slots.as_ptr()) };
    }
}

/// A held [`LocalLockNestedBh`] copy of the local CPU; unlocks when dropped.
///
/// # Invariants
///
/// The current context holds `slot`'s C lock, `slot.owner` is the current task, and bottom
/// halves stay disabled for `'a`.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct LocalLockNestedBhGuard<'a, T> {
    slot: &'a Slot<T>,
    _bh: PhantomData<&'a bh::LocalBhDisabled>,
    _not_send: NotThreadSafe,
}

impl<T> Deref for LocalLockNestedBhGuard<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: The guard holds the lock (type invariant), so no other context can reach this
        // CPU's `T` until it is dropped.
        unsafe { &*self.slot.data.get() }
    }
}

impl<T: Unpin> DerefMut for LocalLockNestedBhGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: As in `deref`, and `&mut self` makes this the only reference through the guard.
        unsafe { &mut *self.slot.data.get() }
    }
}

impl<T> LocalLockNestedBhGuard<'_, T> {
    /// The protected data, pinned, for a `T` that is not `Unpin`.
    #[inline]
    pub fn as_mut(&mut self) -> Pin<&mut T> {
        // SAFETY: As in `deref_mut`; per-CPU memory never moves.
        unsafe { Pin::new_unchecked(&mut *self.slot.data.get()) }
    }
}

impl<T> Drop for LocalLockNestedBhGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        // Clear the owner first: on PREEMPT_RT the next task may take the lock at once.
        self.slot.owner.store(ptr::null_mut(), Ordering::Relaxed);
        if !C_LOCK_IS_EMPTY {
            // SAFETY: This context holds the lock (type invariant), still with BH disabled.
            unsafe { bindings::__local_unlock_nested_bh(self.slot.lock_ptr()) };
        }
    }
}

#[kunit_tests(bhlock_local_lock_nested_bh)]
mod tests {
    // No `use core::...`: in the kernel tree `kernel::` becomes `crate::`, which rustfmt
    // orders before `core::`, and the one file must be formatted in both places.
    use super::{bh::local_bh_disable, bindings, possible_cpus, LocalLockNestedBh};
    use kernel::{
        cpu::CpuId,
        cpumask::CpumaskVar,
        error::to_result,
        prelude::*,
        sync::atomic::{Atomic, Relaxed},
        task::Task,
    };

    /// Moves the current task to `cpu` (or to every possible CPU with `None`).
    fn pin_to(cpu: Option<CpuId>) -> Result {
        let mut mask = CpumaskVar::new_zero(GFP_KERNEL)?;
        match cpu {
            Some(cpu) => mask.set(cpu),
            None => mask.setall(),
        }
        // SAFETY: The current task is alive and `mask` is a valid cpumask.
        to_result(unsafe { bindings::set_cpus_allowed_ptr(Task::current_raw(), mask.as_raw()) })
    }

    #[test]
    fn lock_unlock_under_token() -> Result {
        let lock = new_local_lock_nested_bh!(|_| Ok(0u32))?;
        let bh = local_bh_disable()?;
        *lock.lock(&bh).ok_or(EBUSY)? = 42;
        // The first guard is gone, so the same token locks again and sees the write.
        assert_eq!(*lock.lock(&bh).ok_or(EBUSY)?, 42);
        Ok(())
    }

    #[test]
    fn reentry_on_same_cpu_refused() -> Result {
        let lock = new_local_lock_nested_bh!(|_| Ok(0u32))?;
        let outer = local_bh_disable()?;
        let inner = local_bh_disable()?;
        let held = lock.lock(&outer).ok_or(EBUSY)?;
        // Refused with the same token and with another one: the owner check, not the token,
        // is what keeps a second `&mut` to one copy out.
        assert!(lock.lock(&outer).is_none());
        assert!(lock.lock(&inner).is_none());
        drop(held);
        assert!(lock.lock(&inner).is_some());
        Ok(())
    }

    #[test]
    fn two_instances_nest_with_two_tokens() -> Result {
        let a = new_local_lock_nested_bh!(|_| Ok(1u32))?;
        let b = new_local_lock_nested_bh!(|_| Ok(2u32))?;
        let bh_a = local_bh_disable()?;
        let bh_b = local_bh_disable()?;
        let ga = a.lock(&bh_a).ok_or(EBUSY)?;
        let gb = b.lock(&bh_b).ok_or(EBUSY)?;
        assert_eq!(*ga + *gb, 3);
        Ok(())
    }

    #[test]
    fn each_cpu_sees_its_own_copy() -> Result {
        let lock = new_local_lock_nested_bh!(|cpu: CpuId| Ok(cpu.as_u32()))?;
        let mut visited = 0;
        for cpu in possible_cpus() {
            if pin_to(Some(cpu)).is_err() {
                // An offline CPU cannot run us; its copy is checked by the teardown test.
                continue;
            }
            let bh = local_bh_disable()?;
            let guard = lock.lock(&bh).ok_or(EBUSY)?;
            // With BH disabled this task stays on its CPU: `cpu`, unless a CPU going offline
            // moved it meanwhile, so the copy is compared with where it runs.
            let here = CpuId::current();
            assert_eq!(*guard, here.as_u32());
            visited += usize::from(here == cpu);
        }
        pin_to(None)?;
        assert!(visited > 0);
        Ok(())
    }

    #[test]
    fn exclusive_access_visits_every_cpu() -> Result {
        let mut lock = new_local_lock_nested_bh!(|cpu: CpuId| Ok(cpu.as_u32()))?;
        let mut visits = 0;
        lock.for_each_cpu_mut(|cpu, mut value| {
            assert_eq!(*value, cpu.as_u32());
            *value += 1000;
            visits += 1;
        });
        assert_eq!(visits, possible_cpus().count());
        let bh = local_bh_disable()?;
        assert_eq!(
            *lock.lock(&bh).ok_or(EBUSY)?,
            CpuId::current().as_u32() + 1000
        );
        Ok(())
    }

    static DROPS: Atomic<i64> = Atomic::new(0);

    struct CountsDrops;

    impl Drop for CountsDrops {
        fn drop(&mut self) {
            DROPS.fetch_add(1, Relaxed);
        }
    }

    #[test]
    fn teardown_drops_every_cpu_copy() -> Result {
        DROPS.store(0, Relaxed);
        let lock: LocalLockNestedBh<CountsDrops> = new_local_lock_nested_bh!(|_| Ok(CountsDrops))?;
        drop(lock);
        assert_eq!(DROPS.load(Relaxed), possible_cpus().count() as i64);
        Ok(())
    }

    #[test]
    fn failed_init_drops_what_it_built() {
        DROPS.store(0, Relaxed);
        let mut built = 0;
        let result: Result<LocalLockNestedBh<CountsDrops>> = new_local_lock_nested_bh!(|_| {
            built += 1;
            if built == 2 {
                Err(ENOMEM)
            } else {
                Ok(CountsDrops)
            }
        });
        // With one possible CPU nothing fails; either way exactly one copy was built.
        assert!(result.is_err() == (possible_cpus().count() >= 2));
        drop(result);
        assert_eq!(DROPS.load(Relaxed), 1);
    }
}
