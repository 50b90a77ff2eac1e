// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: a per-CPU copy the per-CPU allocator would refuse (over 32 KiB) does not build.
//!
//! expect: E0080

include!("layer.inc");

pub fn misuse() -> Result<LocalLockNestedBh<[u8; 64 << 10]>> {
    LocalLockNestedBh::new(
        |_cpu| Ok([0u8; 64 << 10]),
        kernel::c_str!("too_big"),
        kernel::static_lock_class!(),
    )
}
