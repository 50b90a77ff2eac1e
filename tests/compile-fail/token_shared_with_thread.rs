// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: another task may not borrow the token either (`LocalBhDisabled: !Sync`): its `&` is what locks take.
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
    require_sync::<LocalBhDisabled>();
}
