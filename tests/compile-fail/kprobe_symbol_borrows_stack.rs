// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: a `KProbe`'s symbol name may not borrow from a stack frame. The kernel
//! keeps the pointer in the registered kprobe, so a leaked probe would read the name after
//! the frame is gone (`KProbe::new()` takes `&'static CStr`).
//!
//! expect: E0597

#[path = "../../src/services/kprobe.rs"]
mod kprobe;

include!("layer.inc");

use kernel::str::CString;

pub fn misuse() -> Result {
    let symbol = CString::try_from_fmt(fmt!("kmem_cache_alloc_bulk_noprof"))?;
    let probe = kprobe::KProbe::new(&symbol)?;
    core::mem::forget(probe);
    Ok(())
}
