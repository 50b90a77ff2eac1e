// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: the per-CPU container is Sync only for T: Send (on PREEMPT_RT several tasks of a CPU take turns with T).
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

fn require_sync<T: Sync>() {}

pub fn misuse() {
    require_sync::<LocalLockNestedBh<*mut u8>>();
}
