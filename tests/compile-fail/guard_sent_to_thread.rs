// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: a guard may not move to another task (it holds this CPU's copy).
//!
//! expect: E0277

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

fn spawn<F: FnOnce() + Send + 'static>(_f: F) {}

pub fn misuse(lock: &'static LocalLockNestedBh<u32>) -> Result {
    let bh: &'static mut BhDisabled =
        Box::leak(KBox::new(LocalBhDisable::new()?, GFP_KERNEL)?).token();
    let guard = lock.lock(bh).ok_or(EBUSY)?;
    spawn(move || drop(guard));
    Ok(())
}
