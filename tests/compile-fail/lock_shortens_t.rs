// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: `LocalLockNestedBh<T>` is not covariant in `T`. A covariant one would let a
//! `&LocalLockNestedBh<&'static u32>` pass for a `&LocalLockNestedBh<&'short u32>`: a guard
//! stores a reference to a local, and a later guard reads it back as `&'static u32` after the
//! frame is gone, all in safe code.
//!
//! expect: E0597

include!("layer.inc");

fn store<'short>(lock: &LocalLockNestedBh<&'short u32>, bh: &LocalBhDisabled, r: &'short u32) {
    if let Some(mut guard) = lock.lock(bh) {
        *guard = r;
    }
}

pub fn misuse(lock: &LocalLockNestedBh<&'static u32>, bh: &LocalBhDisabled) {
    let local = 7u32;
    store(lock, bh, &local);
}
