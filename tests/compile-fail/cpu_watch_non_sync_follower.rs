// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: a `CpuWatch` follower must be `Sync`: its callbacks run in the hotplug
//! threads of other CPUs while the watch's owner reads it too (`CpuFollower: Send + Sync`).
//!
//! expect: E0277

#[path = "../../src/services/cpu_hotplug.rs"]
mod cpu_hotplug;

include!("layer.inc");

use core::cell::Cell;
use cpu_hotplug::CpuFollower;
use kernel::cpu::CpuId;

struct Counter(Cell<u32>);

impl CpuFollower for Counter {
    fn online(&self, _cpu: CpuId) -> Result {
        self.0.set(self.0.get() + 1);
        Ok(())
    }

    fn offline(&self, _cpu: CpuId) {}
}
