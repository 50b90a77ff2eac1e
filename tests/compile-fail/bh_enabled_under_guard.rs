// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: BH may not be re-enabled (the section dropped) while a guard is alive.
//!
//! expect: E0505

include!("layer.inc");

pub fn misuse(lock: &LocalLockNestedBh<u32>) -> Result<u32> {
    let bh = local_bh_disable()?;
    let guard = lock.lock(&bh).ok_or(EBUSY)?;
    drop(bh);
    Ok(*guard)
}
