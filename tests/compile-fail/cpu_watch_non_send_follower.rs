// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: a `CpuWatch` follower must be `Send`: the watch, which owns it, may be
//! dropped in another task (`CpuWatch<T>: Send` rests on `CpuFollower: Send`).
//!
//! expect: E0277

#[path = "../../src/services/cpu_hotplug.rs"]
mod cpu_hotplug;

include!("layer.inc");

use core::marker::PhantomData;
use cpu_hotplug::CpuFollower;
use kernel::cpu::CpuId;

/// Shared between tasks but tied to the one that made it, as a lock guard is.
struct TaskBound(PhantomData<*mut ()>);

// SAFETY: Compile-only: `&TaskBound` gives nothing.
unsafe impl Sync for TaskBound {}

impl CpuFollower for TaskBound {
    fn online(&self, _cpu: CpuId) -> Result {
        Ok(())
    }

    fn offline(&self, _cpu: CpuId) {}
}
