// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: `run_on_cpu()` runs its closure in another CPU's hard-irq, in whatever
//! task that CPU was running, so the closure must be `Send`; a guard moved into it would be
//! released in that other task.
//!
//! expect: E0277

#[path = "../../src/bh.rs"]
mod bh;
#[path = "../../src/kthread.rs"]
mod kthread;
#[path = "../../src/local_lock_nested_bh.rs"]
mod local_lock_nested_bh;
#[path = "../../src/shim.rs"]
mod shim;
#[path = "../../src/this_cpu.rs"]
mod this_cpu;

use bh::BhDisabled;
use kernel::{cpu::CpuId, prelude::*};
use local_lock_nested_bh::LocalLockNestedBh;

pub fn misuse(lock: &LocalLockNestedBh<u32>, bh: &mut BhDisabled, cpu: CpuId) -> Result {
    let guard = lock.lock(bh).ok_or(EBUSY)?;
    kthread::run_on_cpu(cpu, move || drop(guard))
}
