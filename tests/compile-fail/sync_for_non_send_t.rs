// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: the per-CPU container is `Sync` only for `T: Send` (on PREEMPT_RT several tasks of a CPU
//! take turns with a `T`).
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
    require_sync::<LocalLockNestedBh<*mut u8>>();
}
