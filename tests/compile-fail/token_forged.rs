// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: a token cannot be built by hand; only LocalBhDisable and assume_disabled make one.
//!
//! expect: E0423

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

pub fn misuse(lock: &LocalLockNestedBh<u32>) -> Option<u32> {
    let mut bh = BhDisabled(kernel::types::NotThreadSafe);
    lock.lock(&mut bh).map(|g| *g)
}
