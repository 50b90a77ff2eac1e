// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: locking needs proof that BH is disabled.
//!
//! expect: E0061

#[path = "../../src/sync/mod.rs"]
mod sync;

#[allow(unused_imports)]
use kernel::prelude::*;
#[allow(unused_imports)]
use sync::{
    bh::{local_bh_disable, LocalBhDisabled},
    local_lock_nested_bh::{LocalLockNestedBh, LocalLockNestedBhGuard},
};

pub fn misuse(lock: &LocalLockNestedBh<u32>) -> Option<u32> {
    lock.lock().map(|g| *g)
}
