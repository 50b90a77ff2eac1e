// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: hard-irq code (here, a HARD hrtimer callback) cannot conjure a softirq token without unsafe.
//!
//! expect: E0133

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

pub fn hard_hrtimer_callback(lock: &LocalLockNestedBh<u32>) -> Option<u32> {
    let bh = BhDisabled::assume_disabled();
    lock.lock(bh).map(|g| *g)
}
