// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: a token cannot be built by hand; only `local_bh_disable()` and `unsafe assume_disabled()` make one.
//!
//! expect: E0423

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
    let bh = LocalBhDisabled(kernel::types::NotThreadSafe);
    lock.lock(&bh).map(|g| *g)
}
