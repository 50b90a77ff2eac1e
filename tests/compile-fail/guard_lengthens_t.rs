// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: `LocalLockNestedBhGuard<'a, T>` is not contravariant in `T` either.
//!
//! expect: lifetime may not live long enough

include!("layer.inc");

pub fn misuse<'g, 's>(
    guard: LocalLockNestedBhGuard<'g, &'s u32>,
) -> LocalLockNestedBhGuard<'g, &'static u32> {
    guard
}
