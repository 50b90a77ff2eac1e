// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: a guard may not move to another task, which would unlock this CPU's copy there (`LocalLockNestedBhGuard: !Send`).
//!
//! expect: E0277

include!("layer.inc");

fn spawn<F: FnOnce() + Send + 'static>(_f: F) {}

pub fn misuse(lock: &'static LocalLockNestedBh<u32>) -> Result {
    let bh: &'static LocalBhDisabled = KBox::leak(KBox::new(local_bh_disable()?, GFP_KERNEL)?);
    let guard = lock.lock(bh).ok_or(EBUSY)?;
    spawn(move || drop(guard));
    Ok(())
}
