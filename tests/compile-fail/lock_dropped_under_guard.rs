// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: the per-CPU storage may not be freed while a guard points into it.
//!
//! expect: E0505

include!("layer.inc");

pub fn misuse(lock: LocalLockNestedBh<u32>) -> Result<u32> {
    let bh = local_bh_disable()?;
    let guard = lock.lock(&bh).ok_or(EBUSY)?;
    drop(lock);
    Ok(*guard)
}
