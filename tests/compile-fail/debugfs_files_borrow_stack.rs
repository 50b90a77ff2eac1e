// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: the data the harness's debugfs `Files` serve may not borrow from a stack
//! frame. A leaked `Files` is never removed, so its files would read the borrow after the frame
//! is gone (`Files::new()` takes `T: 'static`).
//!
//! expect: E0597

#[path = "../../src/services/debugfs.rs"]
mod debugfs;

include!("layer.inc");

use core::sync::atomic::{AtomicU32, Ordering};

struct Counter<'a>(&'a AtomicU32);

pub fn misuse() -> Result {
    let n = AtomicU32::new(7);
    let files = debugfs::Files::new(c"case", KBox::pin(Counter(&n), GFP_KERNEL)?)?
        .show(c"n", |c, f| writeln!(f, "{}", c.0.load(Ordering::Relaxed)))?;
    core::mem::forget(files);
    Ok(())
}
