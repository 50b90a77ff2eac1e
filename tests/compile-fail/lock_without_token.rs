// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: locking needs proof that BH is disabled.
//!
//! expect: E0061

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
    lock.lock().map(|g| *g)
}
