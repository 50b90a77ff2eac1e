// SPDX-License-Identifier: GPL-2.0

//! The load-time self-check: one nested-BH lock round trip on this kernel must leave lockdep
//! on and add no warning.

use kernel::prelude::*;

use crate::{
    new_local_lock_nested_bh,
    services::{
        health::{debug_locks, Baseline},
        kthread,
    },
    sync::bh::{local_bh_disable, LocalBhDisabled},
};

/// Locks a fresh nested-BH lock once under `local_bh_disable()` and checks the outcome.
///
/// With `lock_with_bh_enabled` (the negative control) it takes the lock with BH enabled
/// instead, which lockdep's `lockdep_assert_in_softirq()` must report.
// Not inlined into the module's init, which calls it beside the other load steps: its locals
// then take stack only while it runs (the kernel's `noinline_for_stack`).
#[inline(never)]
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
