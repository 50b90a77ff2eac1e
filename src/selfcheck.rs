// SPDX-License-Identifier: GPL-2.0

//! The load-time self-check: one nested-BH lock round trip on this kernel must leave lockdep
//! on and add no warning.

use crate::{
    kthread, new_local_lock_nested_bh,
    sync::bh::{local_bh_disable, LocalBhDisabled},
};
use kernel::{bindings, prelude::*};

/// What lockdep and the taint mask said before a check.
pub(crate) struct Baseline {
    warned: bool,
}

/// Whether a `WARN()` has tainted the kernel.
pub(crate) fn warn_taint() -> bool {
    // SAFETY: `test_taint` only reads the taint mask.
    unsafe { bindings::test_taint(bindings::TAINT_WARN) != 0 }
}

/// Whether lockdep (and the other lock debugging) is still on.
pub(crate) fn debug_locks() -> bool {
    // SAFETY: `debug_locks` is a plain `int` that lock debugging only ever clears; a racy read
    // sees either value.
    unsafe { core::ptr::read_volatile(&raw const bindings::debug_locks) != 0 }
}

impl Baseline {
    /// Records the current state.
    pub(crate) fn now() -> Self {
        Self {
            warned: warn_taint(),
        }
    }

    /// Fails if lock debugging went off or a new `WARN()` tainted the kernel since `self`.
    pub(crate) fn check(&self) -> Result<(), &'static str> {
        if !debug_locks() {
            return Err("debug_locks is 0: lockdep reported a problem and turned itself off");
        }
        if warn_taint() && !self.warned {
            return Err("a WARN() tainted the kernel (taint W)");
        }
        Ok(())
    }
}

/// Locks a fresh nested-BH lock once under `local_bh_disable()` and checks the outcome.
///
/// With `lock_with_bh_enabled` (the negative control) it takes the lock with BH enabled
/// instead, which lockdep's `lockdep_assert_in_softirq()` must report.
pub(crate) fn run(lock_with_bh_enabled: bool, baseline: &Baseline) -> Result<(), &'static str> {
    if !debug_locks() {
        return Err("debug_locks was already 0 at load: lockdep cannot vouch for anything");
    }
    // Runs in process context (insmod, a debugfs write), where `kthread_should_stop()` would
    // read kthread data the task does not have: the wrapper must say false instead.
    if kthread::should_stop() {
        return Err("kthread::should_stop() is true outside a kthread");
    }
    let mut counters = new_local_lock_nested_bh!(|_cpu| Ok(0u64), "bhlock_selfcheck")
        .map_err(|_| "cannot allocate the per-CPU test lock")?;

    if lock_with_bh_enabled {
        // SAFETY: Deliberately broken, and only on request: BH is enabled here, so the promise
        // is false. The lock is private to this function, so no other context can race for
        // its data; what breaks is lockdep's context rule, which must report it.
        let bh = unsafe { LocalBhDisabled::assume_disabled() };
        *counters
            .lock(bh)
            .ok_or("re-entry refused on a fresh lock")? += 1;
    } else {
        let bh = local_bh_disable().map_err(|_| "cannot disable BH at module load")?;
        *counters
            .lock(&bh)
            .ok_or("re-entry refused on a fresh lock")? += 1;
    }

    let mut total = 0;
    counters.for_each_cpu_mut(|_cpu, count| total += *count);
    if total != 1 {
        return Err("the per-CPU counters do not add up to the one increment made");
    }
    baseline.check()
}
