// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: a guard may not outlive the BH-disabled section whose token it borrows.
//!
//! expect: E0597

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
    let guard;
    {
        let mut bh = LocalBhDisable::new()?;
        guard = lock.lock(bh.token()).ok_or(EBUSY)?;
    }
    Ok(*guard)
}
