// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: a BH section and its token belong to the task that disabled BH.
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

pub fn misuse() -> Result {
    let bh = LocalBhDisable::new()?;
    spawn(move || drop(bh));
    Ok(())
}
