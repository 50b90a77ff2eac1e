// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: a token cannot be built by hand; only `local_bh_disable()` and `unsafe assume_disabled()` make one.
//!
//! expect: E0423

include!("layer.inc");

pub fn misuse(lock: &LocalLockNestedBh<u32>) -> Option<u32> {
    let bh = LocalBhDisabled(kernel::types::NotThreadSafe);
    lock.lock(&bh).map(|g| *g)
}
