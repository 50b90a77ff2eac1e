// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: the control. Every legitimate use below must build, or the failures of the other cases prove nothing.
//!
//! expect: none

#[path = "../../src/bh.rs"]
mod bh;
#[path = "../../src/local_lock_nested_bh.rs"]
mod local_lock_nested_bh;
#[path = "../../src/shim.rs"]
mod shim;
#[path = "../../src/this_cpu.rs"]
mod this_cpu;

use bh::{BhDisabled, LocalBhDisable};
use kernel::prelude::*;
use local_lock_nested_bh::LocalLockNestedBh;

fn legitimate(lock: &LocalLockNestedBh<u32>, other: &LocalLockNestedBh<u32>) -> Result<u32> {
    let mut bh = LocalBhDisable::new()?;
    let mut bh2 = LocalBhDisable::new()?;
    let mut guard = lock.lock(bh.token()).ok_or(EBUSY)?;
    *guard += 1;
    let nested = other.lock(bh2.token()).ok_or(EBUSY)?;
    let sum = *guard + *nested;
    drop(nested);
    drop(guard);
    Ok(sum)
}

fn in_softirq(lock: &LocalLockNestedBh<u32>) -> Option<u32> {
    // SAFETY: Compile-only: stands for a NAPI poll, which runs in softirq context.
    let bh: &mut BhDisabled = unsafe { BhDisabled::assume_disabled() };
    lock.lock(bh).map(|g| *g)
}

fn require_send_sync<T: Send + Sync>() {}

pub fn uses() {
    require_send_sync::<LocalLockNestedBh<u32>>();
    let _ = legitimate;
    let _ = in_softirq;
}
