// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: `run_on_cpu()` (the harness's IPI helper, built here with the layer alone)
//! runs its closure in another CPU's hard-irq, in whatever task that CPU was running, so the
//! closure must be `Send`; a guard moved into it would be released in that other task.
//!
//! expect: E0277

#[path = "../../src/services/on_cpu.rs"]
mod on_cpu;

include!("layer.inc");

pub fn misuse(
    lock: &LocalLockNestedBh<u32>,
    bh: &LocalBhDisabled,
    cpu: kernel::cpu::CpuId,
) -> Result {
    let guard = lock.lock(bh).ok_or(EBUSY)?;
    on_cpu::run_on_cpu(cpu, move || drop(guard))
}
