// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: `run_on_cpu()` must not take a BH token to another CPU either.
//!
//! expect: E0277

#[path = "../../src/services/on_cpu.rs"]
mod on_cpu;

include!("layer.inc");

pub fn misuse(cpu: kernel::cpu::CpuId) -> Result {
    let bh = local_bh_disable()?;
    on_cpu::run_on_cpu(cpu, move || drop(bh))
}
