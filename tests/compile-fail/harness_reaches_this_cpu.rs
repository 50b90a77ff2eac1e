// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: the guard's inline per-CPU reads (`this_cpu`) are private to its module;
//! the harness has its own `this_cpu_ptr()` in its services.
//!
//! expect: E0603

include!("layer.inc");

pub fn misuse() -> *mut kernel::bindings::task_struct {
    sync::local_lock_nested_bh::this_cpu::current()
}
