// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: BH may not be re-enabled (the section dropped) while a guard is alive.
//!
//! expect: E0505

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
    let guard = lock.lock(bh.token()).ok_or(EBUSY)?;
    drop(bh);
    Ok(*guard)
}
