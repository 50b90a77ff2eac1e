// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: the per-CPU container is `Send` only for `T: Send`: it drops the `T`s where it goes.
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

fn require_send<T: Send>() {}

pub fn misuse() {
    require_send::<LocalLockNestedBh<*mut u8>>();
}
