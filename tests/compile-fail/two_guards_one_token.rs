// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: one token backs one guard at a time, so one lock cannot hand out two live guards in one scope.
//!
//! expect: E0499

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

pub fn misuse(lock: &LocalLockNestedBh<u32>) -> Result<u32> {
    let mut bh = LocalBhDisable::new()?;
    let first = lock.lock(bh.token()).ok_or(EBUSY)?;
    let second = lock.lock(bh.token()).ok_or(EBUSY)?;
    Ok(*first + *second)
}
