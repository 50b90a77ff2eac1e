// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: `LocalLockNestedBh<T>` is invariant in `T`. A covariant one would let a
//! `&LocalLockNestedBh<&'static u32>` pass for a `&LocalLockNestedBh<&'short u32>`: a guard
//! stores a reference to a local, and a later guard reads it back as `&'static u32` after the
//! frame is gone, all in safe code.
//!
//! expect: E0597

#[path = "../../src/bh.rs"]
mod bh;
#[path = "../../src/local_lock_nested_bh.rs"]
mod local_lock_nested_bh;
#[path = "../../src/shim.rs"]
mod shim;
#[path = "../../src/this_cpu.rs"]
mod this_cpu;

use bh::BhDisabled;
use local_lock_nested_bh::LocalLockNestedBh;

fn store<'short>(lock: &LocalLockNestedBh<&'short u32>, bh: &mut BhDisabled, r: &'short u32) {
    if let Some(mut guard) = lock.lock(bh) {
        *guard = r;
    }
}

pub fn misuse(lock: &LocalLockNestedBh<&'static u32>, bh: &mut BhDisabled) {
    let local = 7u32;
    store(lock, bh, &local);
}
