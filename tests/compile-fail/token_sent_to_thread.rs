// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: a BH section and its token belong to the task that started it (`LocalBhDisabled: !Send`).
//!
//! expect: E0277

include!("layer.inc");

fn spawn<F: FnOnce() + Send + 'static>(_f: F) {}

pub fn misuse() -> Result {
    let bh = local_bh_disable()?;
    spawn(move || drop(bh));
    Ok(())
}
