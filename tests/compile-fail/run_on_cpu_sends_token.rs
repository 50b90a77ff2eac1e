// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: `run_on_cpu()` must not take a BH token to another CPU either.
//!
//! expect: E0277

#[path = "../../src/on_cpu.rs"]
mod on_cpu;
#[path = "../../src/sync/mod.rs"]
mod sync;

#[allow(unused_imports)]
use kernel::prelude::*;
#[allow(unused_imports)]
use sync::{
    bh::{local_bh_disable, LocalBhDisabled},
    local_lock_nested_bh::{LocalLockNestedBh, LocalLockNestedBhGuard},
};

pub fn misuse(cpu: kernel::cpu::CpuId) -> Result {
    let bh = local_bh_disable()?;
    on_cpu::run_on_cpu(cpu, move || drop(bh))
}
