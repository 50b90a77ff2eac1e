// SPDX-License-Identifier: GPL-2.0

//! The locks the lock patterns of the ops table take besides the cache: a second nested-BH
//! lock, a `spinlock_t`, and the two C locks Rust has no type for (a raw spinlock, and a
//! `spinlock_t` to take with `spin_lock_bh()`).

use kernel::{
    bindings, new_spinlock, prelude::*, static_lock_class, sync::SpinLock, types::Opaque,
};

use crate::{
    new_local_lock_nested_bh, services::shim, sync::local_lock_nested_bh::LocalLockNestedBh,
};

/// The C locks, each with a lockdep class of its own.
#[pin_data]
pub(crate) struct ShimLocks {
    #[pin]
    pub(crate) raw: Opaque<bindings::raw_spinlock>,
    #[pin]
    pub(crate) bh_spin: Opaque<bindings::spinlock_t>,
}

// SAFETY: Both are kernel locks, made to be taken from any task and CPU; they are only used
// through their C functions.
unsafe impl Send for ShimLocks {}
// SAFETY: As above.
unsafe impl Sync for ShimLocks {}

impl ShimLocks {
    /// Both locks, initialised.
    fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            // SAFETY: `slot` is valid for writes and not in use; the name and key are static.
            raw <- Opaque::ffi_init(|slot| unsafe {
                shim::bhlock_raw_spin_lock_init(
                    slot,
                    c"bhlock_nonlifo_raw_lock".as_char_ptr(),
                    static_lock_class!().as_ptr(),
                )
            }),
            // SAFETY: As above.
            bh_spin <- Opaque::ffi_init(|slot| unsafe {
                shim::bhlock_spin_lock_init(
                    slot,
                    c"bhlock_spin_lock_bh".as_char_ptr(),
                    static_lock_class!().as_ptr(),
                )
            }),
        })
    }
}

/// The locks of the patterns.
pub(crate) struct PatternLocks {
    /// The second nested-BH lock of the `lifo_pair` and `early_return` entries.
    pub(crate) second: LocalLockNestedBh<u64>,
    /// The `spinlock_t` of the `non_lifo` entry.
    pub(crate) spin: Pin<KBox<SpinLock<u64>>>,
    pub(crate) shim: Pin<KBox<ShimLocks>>,
}

impl PatternLocks {
    /// Allocates and initialises them.
    pub(crate) fn new() -> Result<Self> {
        Ok(Self {
            second: new_local_lock_nested_bh!(|_cpu| Ok(0u64), "bhlock_second")?,
            spin: KBox::pin_init(new_spinlock!(0u64, "bhlock_nonlifo_spinlock"), GFP_KERNEL)?,
            shim: KBox::pin_init(ShimLocks::new(), GFP_KERNEL)?,
        })
    }
}
