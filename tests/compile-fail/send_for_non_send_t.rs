// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: the per-CPU container is `Send` only for `T: Send`: it drops the `T`s where it goes.
//!
//! expect: E0277

include!("layer.inc");

fn require_send<T: Send>() {}

pub fn misuse() {
    require_send::<LocalLockNestedBh<*mut u8>>();
}
