// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: the per-CPU storage may not be freed while a guard points into it.
//!
//! expect: E0505

#[path = "../../src/sync/mod.rs"]
mod sync;

#[allow(unused_imports)]
use kernel::prelude::*;
#[allow(unused_imports)]
use sync::{
    bh::{local_bh_disable, LocalBhDisabled},
    local_lock_nested_bh::{LocalLockNestedBh, LocalLockNestedBhGuard},
};

pub fn misuse(lock: LocalLockNestedBh<u32>) -> Result<u32> {
    let bh = local_bh_disable()?;
    let guard = lock.lock(&bh).ok_or(EBUSY)?;
    drop(lock);
    Ok(*guard)
}
