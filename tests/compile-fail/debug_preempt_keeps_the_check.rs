// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: built as on a `CONFIG_DEBUG_PREEMPT` kernel, the guard must resolve its
//! CPU's copy through `this_cpu_ptr()` (the helper), whose check that the caller cannot migrate
//! the inline `%gs` load would drop. None of the test kernels has that option, so the case
//! sets the cfg itself and looks at the object's undefined symbols.
//!
//! cfg: CONFIG_DEBUG_PREEMPT
//! expect: calls rust_helper_this_cpu_ptr

include!("layer.inc");

pub fn lock_once(lock: &LocalLockNestedBh<u32>) -> Result<u32> {
    let bh = local_bh_disable()?;
    let guard = lock.lock(&bh).ok_or(EBUSY)?;
    Ok(*guard)
}
