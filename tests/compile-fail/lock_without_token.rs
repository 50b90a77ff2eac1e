// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: locking needs proof that BH is disabled.
//!
//! expect: E0061

include!("layer.inc");

pub fn misuse(lock: &LocalLockNestedBh<u32>) -> Option<u32> {
    lock.lock().map(|g| *g)
}
