// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: the control. Every legitimate use below must build, or the failures of
//! the other cases prove nothing. It also holds the rows of the variance and auto-trait table
//! (Documentation/guard-api.rst) that say "yes".
//!
//! expect: none

#[path = "../../src/sync/mod.rs"]
mod sync;

use core::{cell::Cell, marker::PhantomPinned};
use kernel::prelude::*;
use sync::{
    bh::{local_bh_disable, LocalBhDisabled},
    local_lock_nested_bh::{LocalLockNestedBh, LocalLockNestedBhGuard},
};

/// One section backs guards of two different locks at once, as in C.
fn two_locks_one_token(a: &LocalLockNestedBh<u32>, b: &LocalLockNestedBh<u32>) -> Result<u32> {
    let bh = local_bh_disable()?;
    let mut ga = a.lock(&bh).ok_or(EBUSY)?;
    *ga += 1;
    let gb = b.lock(&bh).ok_or(EBUSY)?;
    let sum = *ga + *gb;
    drop(gb);
    drop(ga);
    Ok(sum)
}

/// The same lock twice under one token builds; the owner check refuses the second at run time
/// (KUnit `reentry_on_same_cpu_refused`).
fn same_lock_twice(lock: &LocalLockNestedBh<u32>) -> Result<bool> {
    let bh = local_bh_disable()?;
    let first = lock.lock(&bh).ok_or(EBUSY)?;
    let second = lock.lock(&bh);
    Ok(second.is_none() && *first == 0)
}

fn in_softirq(lock: &LocalLockNestedBh<u32>) -> Option<u32> {
    // SAFETY: Compile-only: stands for a NAPI poll, which runs in softirq context.
    let bh: &LocalBhDisabled = unsafe { LocalBhDisabled::assume_disabled() };
    lock.lock(bh).map(|g| *g)
}

/// The guard is covariant in its lifetime: a longer-lived guard may be used as a shorter one.
fn guard_shortens_lifetime<'long: 'short, 'short>(
    guard: LocalLockNestedBhGuard<'long, u32>,
) -> LocalLockNestedBhGuard<'short, u32> {
    guard
}

/// A `!Unpin` `T` is reached pinned.
fn pinned_data(lock: &LocalLockNestedBh<PhantomPinned>) -> Result {
    let bh = local_bh_disable()?;
    let mut guard = lock.lock(&bh).ok_or(EBUSY)?;
    let _pinned: Pin<&mut PhantomPinned> = guard.as_mut();
    Ok(())
}

/// Instances of one call site with a lock class each, nested under one token.
fn own_classes_nest() -> Result<u32> {
    let cells = || LocalLockNestedBh::new_with_dynamic_class(|_cpu| Ok(1u32), c"cells");
    let (a, b) = (cells()?, cells()?);
    let bh = local_bh_disable()?;
    let ga = a.lock(&bh).ok_or(EBUSY)?;
    let gb = b.lock(&bh).ok_or(EBUSY)?;
    Ok(*ga + *gb)
}

fn require_send<T: Send>() {}
fn require_sync<T: Sync>() {}
fn require_unpin<T: Unpin>() {}

pub fn uses() {
    // `LocalLockNestedBh<T>`: `Send` and `Sync` for `T: Send`, even if `T` is not `Sync`.
    require_send::<LocalLockNestedBh<u32>>();
    require_sync::<LocalLockNestedBh<u32>>();
    require_send::<LocalLockNestedBh<Cell<u32>>>();
    require_sync::<LocalLockNestedBh<Cell<u32>>>();
    // `Unpin` whatever `T` is: the `T`s live in per-CPU memory, not in the object.
    require_unpin::<LocalLockNestedBh<PhantomPinned>>();
    // The token and the guard hold no data of their own to pin.
    require_unpin::<LocalBhDisabled>();
    require_unpin::<LocalLockNestedBhGuard<'static, PhantomPinned>>();
    let _ = two_locks_one_token;
    let _ = same_lock_twice;
    let _ = in_softirq;
    let _ = guard_shortens_lifetime;
    let _ = pinned_data;
    let _ = own_classes_nest;
}
