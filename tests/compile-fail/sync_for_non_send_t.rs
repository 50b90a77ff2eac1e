// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: the per-CPU container is `Sync` only for `T: Send` (on PREEMPT_RT several tasks of a CPU
//! take turns with a `T`).
//!
//! expect: E0277

include!("layer.inc");

fn require_sync<T: Sync>() {}

pub fn misuse() {
    require_sync::<LocalLockNestedBh<*mut u8>>();
}
