// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: `LocalLockNestedBh<T>` is not contravariant in `T` either: a lock of short-lived
//! references must not pass for one of `'static` ones, whose guard would read them as such.
//!
//! expect: lifetime may not live long enough

include!("layer.inc");

pub fn misuse<'l, 's>(lock: &'l LocalLockNestedBh<&'s u32>) -> &'l LocalLockNestedBh<&'static u32> {
    lock
}
