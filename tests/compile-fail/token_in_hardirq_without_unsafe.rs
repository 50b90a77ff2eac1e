// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: hard-irq code (here, a HARD hrtimer callback) cannot conjure a softirq token without `unsafe`.
//!
//! expect: E0133

include!("layer.inc");

pub fn hard_hrtimer_callback(lock: &LocalLockNestedBh<u32>) -> Option<u32> {
    let bh = LocalBhDisabled::assume_disabled();
    lock.lock(bh).map(|g| *g)
}
