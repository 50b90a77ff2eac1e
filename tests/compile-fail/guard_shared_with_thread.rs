// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: a guard may not be shared with another task either (`LocalLockNestedBhGuard: !Sync`).
//!
//! expect: E0277

#[path = "../../src/sync/mod.rs"]
mod sync;

#[allow(unused_imports)]
use kernel::prelude::*;
#[allow(unused_imports)]
use sync::{
    bh::{local_bh_disable, LocalBhDisabled},
    local_lock_nested_bh::{LocalLockNestedBh, LocalLockNestedBhGuard},
};

fn require_sync<T: Sync>() {}

pub fn misuse() {
    require_sync::<LocalLockNestedBhGuard<'static, u32>>();
}
