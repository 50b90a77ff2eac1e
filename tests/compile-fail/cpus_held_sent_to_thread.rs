// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: the CPU hotplug read lock of the harness's `CpusHeld` may not move to
//! another task, which would release a lock lockdep records as held by this one
//! (`CpusHeld: !Send`).
//!
//! expect: E0277

#[path = "../../src/services/cpu_hotplug.rs"]
mod cpu_hotplug;

include!("layer.inc");

fn spawn<F: FnOnce() + Send + 'static>(_f: F) {}

pub fn misuse() {
    let held = cpu_hotplug::CpusHeld::new();
    spawn(move || drop(held));
}
