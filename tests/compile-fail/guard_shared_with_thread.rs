// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: a guard may not be shared with another task either (`LocalLockNestedBhGuard: !Sync`).
//!
//! expect: E0277

include!("layer.inc");

fn require_sync<T: Sync>() {}

pub fn misuse() {
    require_sync::<LocalLockNestedBhGuard<'static, u32>>();
}
