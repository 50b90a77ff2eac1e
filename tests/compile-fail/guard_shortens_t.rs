// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: `LocalLockNestedBhGuard<'a, T>` is invariant in `T`: it derefs to `&mut T`, so a guard
//! of `&'static u32` must not pass for a guard of `&'short u32` and store a short reference.
//!
//! expect: lifetime may not live long enough

include!("layer.inc");

pub fn misuse<'g, 's>(
    guard: LocalLockNestedBhGuard<'g, &'static u32>,
) -> LocalLockNestedBhGuard<'g, &'s u32> {
    guard
}
