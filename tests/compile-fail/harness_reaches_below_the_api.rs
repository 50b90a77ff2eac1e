// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: code outside the guard API cannot reach below it: its `bindings` (the
//! C helpers it stands on) are private to `crate::sync`, so the harness takes what it needs
//! from its own services or from `kernel::bindings`.
//!
//! expect: E0603

include!("layer.inc");

pub fn misuse() -> bool {
    // SAFETY: Only reads the CPU's interrupt state.
    unsafe { sync::bindings::irqs_disabled() }
}
