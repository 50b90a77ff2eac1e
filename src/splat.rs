// SPDX-License-Identifier: GPL-2.0

//! The expected-splat cases that are one action rather than a run: each breaks one rule of
//! the nested-BH lock once, through `unsafe` code that knowingly violates its contract, so
//! that the kernel's own checks (lockdep, `lockdep_assert_in_softirq()`, the RT lock's
//! debugging) must report it. Each needs a boot of its own: lockdep reports only once.

use kernel::{prelude::*, sync::Arc};

use crate::{
    bh::{BhDisabled, LocalBhDisable},
    local_lock_nested_bh::LocalLockNestedBh,
    new_local_lock_nested_bh,
    one_shot::{HardOneShot, SoftOneShot},
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
        let mut bh = LocalBhDisable::new()?;
        *self.a.lock(bh.token()).ok_or(EINVAL)? += 1;
        Ok(())
    }
}

/// Takes `a` properly in process context, then once in hard-irq.
pub(crate) fn in_hardirq(locks: &Arc<SplatLocks>) -> Result {
    locks.lock_a_properly()?;
    HardOneShot::run(locks, |locks| {
        // SAFETY: Deliberately broken: this is hard-irq, which `assume_disabled()` excludes.
        // Nothing else takes this private lock, so the lock itself is free and uncontended.
        let bh = unsafe { BhDisabled::assume_disabled() };
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
        let (mut outer, mut inner) = (LocalBhDisable::new()?, LocalBhDisable::new()?);
        let mut a = locks.a.lock(outer.token()).ok_or(EINVAL)?;
        let mut b = locks.b.lock(inner.token()).ok_or(EINVAL)?;
        *a += 1;
        *b += 1;
    }
    SoftOneShot::run(locks, |locks| {
        // SAFETY: A SOFT hrtimer callback runs in softirq: BH stays disabled until it returns.
        let outer = unsafe { BhDisabled::assume_disabled() };
        let Ok(mut inner) = LocalBhDisable::new() else {
            return;
        };
        let Some(mut b) = locks.b.lock(outer) else {
            return;
        };
        if let Some(mut a) = locks.a.lock(inner.token()) {
            *a += 1;
        }
        *b += 1;
    })
}

/// Holds `a` and unlocks `b`, which nobody holds: the wrong lock released.
///
/// `a` is left held, its guard forgotten, so that on PREEMPT_RT the side effects of the RT
/// lock (`migrate_disable()`, `rcu_read_lock()`) stay balanced: `a`'s lock took them and
/// `b`'s unlock gives them back. What is left unbalanced is exactly what the lock's debugging
/// checks: a release with no matching acquire. `a` is private to this case and freed with it.
pub(crate) fn unlock_not_held(locks: &Arc<SplatLocks>) -> Result {
    let mut bh = LocalBhDisable::new()?;
    core::mem::forget(locks.a.lock(bh.token()).ok_or(EINVAL)?);
    // SAFETY: Deliberately broken: `b` is not held (the caller holds `a`). It is private to
    // this case, so no holder can be hurt; the C lock's own debugging must report it.
    unsafe { locks.b.force_unlock(bh.token()) };
    Ok(())
}
