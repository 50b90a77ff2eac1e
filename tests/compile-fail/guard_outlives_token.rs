// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: a guard may not outlive the BH-disabled section whose token it borrows.
//!
//! expect: E0597

include!("layer.inc");

pub fn misuse(lock: &LocalLockNestedBh<u32>) -> Result<u32> {
    let guard;
    {
        let bh = local_bh_disable()?;
        guard = lock.lock(&bh).ok_or(EBUSY)?;
    }
    Ok(*guard)
}
