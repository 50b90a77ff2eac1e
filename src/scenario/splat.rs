// SPDX-License-Identifier: GPL-2.0

//! The expected-splat cases that are one action rather than a run: each breaks one rule of
//! the nested-BH lock once, through `unsafe` code that knowingly violates its contract, so
//! that the kernel's own checks (lockdep, `lockdep_assert_in_softirq()`, the RT lock's
//! debugging) must report it. Each needs a boot of its own: lockdep reports only once.

use core::{
    ffi::{c_int, c_void},
    ptr,
    sync::atomic::{AtomicBool, Ordering::Relaxed},
};
use kernel::{
    bindings,
    interrupt::local_interrupt_disable,
    prelude::*,
    sync::{Arc, Completion},
    time::{delay::fsleep, Delta},
    types::Opaque,
};

use crate::{
    new_local_lock_nested_bh,
    services::{
        health::debug_locks,
        kthread::KThread,
        one_shot::{HardOneShot, SoftOneShot},
        shim,
    },
    sync::{
        bh::{local_bh_disable, LocalBhDisabled},
        local_lock_nested_bh::LocalLockNestedBh,
    },
};

/// Two nested-BH locks of their own classes, private to one case.
pub(crate) struct SplatLocks {
    a: LocalLockNestedBh<u64>,
    b: LocalLockNestedBh<u64>,
}

impl SplatLocks {
    /// Both locks, zeroed.
    pub(crate) fn new() -> Result<Arc<Self>> {
        Ok(Arc::new(
            Self {
                a: new_local_lock_nested_bh!(|_cpu| Ok(0u64), "bhlock_splat_a")?,
                b: new_local_lock_nested_bh!(|_cpu| Ok(0u64), "bhlock_splat_b")?,
            },
            GFP_KERNEL,
        )?)
    }

    /// `a` once, the right way: BH disabled, in process context with interrupts on.
    fn lock_a_properly(&self) -> Result {
        let bh = local_bh_disable()?;
        *self.a.lock(&bh).ok_or(EINVAL)? += 1;
        Ok(())
    }
}

/// Takes `a` properly in process context, then once in hard-irq.
pub(crate) fn in_hardirq(locks: &Arc<SplatLocks>) -> Result {
    locks.lock_a_properly()?;
    HardOneShot::run(locks, |locks| {
        // SAFETY: Deliberately broken: this is hard-irq, which `assume_disabled()` excludes.
        // Nothing else takes this private lock, so the lock itself is free and uncontended.
        let bh = unsafe { LocalBhDisabled::assume_disabled() };
        if let Some(mut a) = locks.a.lock(bh) {
            *a += 1;
        }
    })
}

/// Takes `a` then `b` in process context, then `b` then `a` in a soft hrtimer: the AB-BA
/// order lockdep must call a possible deadlock. One after the other, never at once, so it
/// cannot deadlock for real (on PREEMPT_RT it could).
pub(crate) fn abba(locks: &Arc<SplatLocks>) -> Result {
    {
        let (outer, inner) = (local_bh_disable()?, local_bh_disable()?);
        let mut a = locks.a.lock(&outer).ok_or(EINVAL)?;
        let mut b = locks.b.lock(&inner).ok_or(EINVAL)?;
        *a += 1;
        *b += 1;
    }
    SoftOneShot::run(locks, |locks| {
        // SAFETY: A SOFT hrtimer callback runs in softirq: BH stays disabled until it returns.
        let outer = unsafe { LocalBhDisabled::assume_disabled() };
        let Ok(inner) = local_bh_disable() else {
            return;
        };
        let Some(mut b) = locks.b.lock(outer) else {
            return;
        };
        if let Some(mut a) = locks.a.lock(&inner) {
            *a += 1;
        }
        *b += 1;
    })
}

/// Holds `a` and unlocks a nested-BH lock that nobody holds: the wrong lock released.
///
/// `a` is left held, its guard forgotten, so that on PREEMPT_RT the side effects of the RT
/// lock (`migrate_disable()`, `rcu_read_lock()`) stay balanced: `a`'s lock took them and the
/// other lock's unlock gives them back. What is left unbalanced is exactly what the lock's
/// debugging checks: a release with no matching acquire. `a` is private to this case; its
/// drop finds the forgotten guard and leaks it with a warning (see [`forgotten_guard`]).
///
/// The guard API has no way to unlock without a guard, so the unlocked lock is a raw
/// `local_lock_t` of the harness's own, on this stack, driven through the C helpers.
pub(crate) fn unlock_not_held(locks: &Arc<SplatLocks>) -> Result {
    let bh = local_bh_disable()?;
    core::mem::forget(locks.a.lock(&bh).ok_or(EINVAL)?);
    let raw = Opaque::<bindings::local_lock_t>::uninit();
    let key = kernel::static_lock_class!();
    // SAFETY: `raw` is unused, and the name and class are static.
    unsafe {
        shim::bhlock_local_lock_init(raw.get(), c"bhlock_splat_b".as_char_ptr(), key.as_ptr())
    };
    // SAFETY: Deliberately broken: `raw` is not held. It is private to this call, so no holder
    // can be hurt; the C lock's own debugging must report it.
    unsafe { shim::bhlock_local_unlock_nested_bh(raw.get()) };
    Ok(())
}

/// What [`forgotten_guard`]'s thread tells the case.
#[pin_data]
struct ForgetJob {
    #[pin]
    done: Completion,
    /// Whether the thread got its guard (and so forgot it).
    locked: AtomicBool,
}

/// In a kthread of its own: locks a nested-BH lock of its own, forgets the guard
/// (`core::mem::forget()`, which safe code may call) and drops the lock. The guard API must
/// leak the copies with a warning instead of freeing a lock that is still held: lockdep
/// still lists it among the thread's held locks (on PREEMPT_RT the thread also still holds
/// the sleeping lock), and would read it again after a free. Then the thread exits, and its
/// exit meets the lock it still holds: `kthread_do_exit()` takes a mutex under it, which
/// lockdep reports as an invalid wait context and turns itself off (on PREEMPT_RT the mutex's
/// `might_sleep()` reports first). The case waits for that (up to 2 s) so that the verdict
/// does not race the exit.
///
/// A thread rather than the caller's task: a task that goes on with the lock recorded as held
/// would meet it again (on PREEMPT_RT inside the `rcu_read_lock()` the sleeping lock took),
/// while an exiting task's RCU read-side section is ended by `do_exit()` and lockdep is off by
/// then. Not undone on PREEMPT_RT: the sleeping lock's `migrate_disable()`, which keeps the
/// thread's last CPU from going offline for the rest of the boot (this case's boot runs
/// nothing after it that needs that).
pub(crate) fn forgotten_guard() -> Result {
    let job = KBox::pin_init(
        pin_init!(ForgetJob {
            done <- Completion::new(),
            locked: AtomicBool::new(false),
        }),
        GFP_KERNEL,
    )?;
    // SAFETY: `job` outlives the thread: `thread` is dropped (the thread stopped) first.
    let thread = unsafe {
        KThread::start(
            forget_thread,
            ptr::from_ref(&*job).cast_mut().cast(),
            c"bhlock_forget",
            None,
        )
    }?;
    job.done.wait_for_completion();
    drop(thread);
    for _ in 0..200 {
        if !debug_locks() {
            break;
        }
        fsleep(Delta::from_millis(10));
    }
    if job.locked.load(Relaxed) {
        Ok(())
    } else {
        Err(EBUSY)
    }
}

/// The thread of [`forgotten_guard`].
///
/// # Safety
///
/// `data` must point to a [`ForgetJob`] that outlives the thread.
unsafe extern "C" fn forget_thread(data: *mut c_void) -> c_int {
    // SAFETY: As the caller promises.
    let job = unsafe { &*data.cast::<ForgetJob>() };
    let locked = forget_a_guard().is_ok();
    job.locked.store(locked, Relaxed);
    job.done.complete_all();
    0
}

/// Locks a new nested-BH lock, forgets the guard, and drops the lock.
fn forget_a_guard() -> Result {
    let lock = new_local_lock_nested_bh!(|_cpu| Ok(0u64), "bhlock_forgotten")?;
    {
        let bh = local_bh_disable()?;
        core::mem::forget(lock.lock(&bh).ok_or(EBUSY)?);
    }
    drop(lock);
    Ok(())
}

/// Ends a BH-disabled section (drops its token) while interrupts are disabled by a
/// `LocalInterruptDisabled` made inside it. `local_bh_enable()` is not allowed there: it may
/// run softirqs and, with `CONFIG_TRACE_IRQFLAGS`, enables interrupts on its way out, behind the
/// interrupt token's back. The token's drop must refuse with a warning and leave interrupts
/// off; returns whether they came back on (what the guard API must never let happen).
///
/// The refused section is still open afterwards; the harness closes it once interrupts are on.
pub(crate) fn bh_section_ends_with_irqs_off() -> Result<bool> {
    let bh = local_bh_disable()?;
    let irqs_off = local_interrupt_disable();
    drop(bh);
    let irqs_came_on = !shim::bhlock_irqs_disabled();
    drop(irqs_off);
    if !irqs_came_on {
        // SAFETY: The section `bh` started is open (its drop refused to end it) and this task
        // started it; interrupts are on again, so ending it here is what its drop would have
        // done.
        unsafe { shim::bhlock_local_bh_enable() };
    }
    Ok(irqs_came_on)
}
