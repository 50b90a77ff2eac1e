// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: another task may not borrow the token either (`LocalBhDisabled: !Sync`): its `&` is what locks take.
//!
//! expect: E0277

include!("layer.inc");

fn require_sync<T: Sync>() {}

pub fn misuse() {
    require_sync::<LocalBhDisabled>();
}
