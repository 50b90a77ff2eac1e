// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: a `CpuWatch` follower may not borrow from a stack frame. A leaked watch
//! is never removed, so its hotplug callbacks would reach the borrow after the frame is gone
//! (`CpuWatch::new()` takes `T: 'static`).
//!
//! expect: E0597

#[path = "../../src/services/cpu_hotplug.rs"]
mod cpu_hotplug;

include!("layer.inc");

use core::sync::atomic::{AtomicU32, Ordering};
use cpu_hotplug::{CpuFollower, CpuWatch};
use kernel::cpu::CpuId;

struct Counter<'a>(&'a AtomicU32);

impl CpuFollower for Counter<'_> {
    fn online(&self, _cpu: CpuId) -> Result {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn offline(&self, _cpu: CpuId) {}
}

pub fn misuse() -> Result {
    let onlined = AtomicU32::new(0);
    let watch = CpuWatch::new(c"case:online", c"case:prepare", Counter(&onlined))?;
    core::mem::forget(watch);
    Ok(())
}
