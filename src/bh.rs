// SPDX-License-Identifier: GPL-2.0

//! Bottom-half context tokens.
//!
//! A [`BhDisabled`] reference is proof that bottom halves (softirqs) are disabled on the local
//! CPU, or that a softirq handler is running there. That is the context
//! `local_lock_nested_bh()` requires, and on every configuration it also keeps the task on its
//! CPU: a BH section disables preemption on !PREEMPT_RT and migration on PREEMPT_RT.
//!
//! Tokens come from two places, modelled on [`kernel::interrupt`]:
//!
//! - [`LocalBhDisable::new`], an RAII guard over `local_bh_disable()`/`local_bh_enable()`, for
//!   process context;
//! - [`BhDisabled::assume_disabled`], `unsafe`, for code that already runs in softirq context
//!   (a NAPI poll, a soft hrtimer callback).
//!
//! Hard-irq code gets neither: [`LocalBhDisable::new`] refuses there, and a callback that runs in
//! hard-irq cannot honestly promise what [`BhDisabled::assume_disabled`] asks.
//!
//! Locks take the token by `&mut`, so one token backs one guard at a time. To hold two
//! nested-BH locks at once, disable BH once more (the count nests) and use the second token.

use crate::shim;
use core::ptr::NonNull;
use kernel::{prelude::*, types::NotThreadSafe};

/// Proof that bottom halves are disabled on the local CPU.
///
/// Only ever handed out by reference, with a lifetime that ends before the BH section does.
///
/// # Invariants
///
/// For as long as a reference to a `BhDisabled` is live, bottom halves are disabled on the CPU
/// that created it, or a softirq handler runs there, and the current task stays on that CPU.
/// The type is neither `Send` nor `Sync`, so the reference cannot leave the task.
pub struct BhDisabled(NotThreadSafe);

impl BhDisabled {
    /// Assumes that the caller runs in softirq context, and returns a token for it.
    ///
    /// For a softirq handler (a NAPI poll, a soft hrtimer callback), which cannot disable
    /// bottom halves itself because they already are. The assumption is checked with lockdep's
    /// `lockdep_assert_in_softirq()`, which warns once if it is false and lockdep is on.
    ///
    /// # Safety
    ///
    /// For the whole lifetime `'a`, bottom halves must stay disabled on this CPU (a softirq
    /// handler or a BH-disabled section that outlives `'a`), and the caller must not be in
    /// hard-irq or NMI context.
    #[inline]
    pub unsafe fn assume_disabled<'a>() -> &'a mut BhDisabled {
        // Without PROVE_LOCKING the assertion is an empty macro: skip the call.
        if cfg!(CONFIG_PROVE_LOCKING) {
            // SAFETY: Always safe to call.
            unsafe { shim::bhlock_lockdep_assert_in_softirq() };
        }
        // SAFETY: `BhDisabled` is zero-sized, so a dangling, well-aligned, non-null pointer is
        // valid for reads and writes of it, and no other data can alias it.
        // INVARIANT: The caller promises BH stays disabled for `'a`.
        unsafe { NonNull::<BhDisabled>::dangling().as_mut() }
    }
}

/// An RAII section with bottom halves disabled on the local CPU.
///
/// Created by [`LocalBhDisable::new`] (`local_bh_disable()`); dropping it calls
/// `local_bh_enable()`, which may run pending softirqs.
///
/// # Invariants
///
/// Bottom halves are disabled on the local CPU, by this object's own `local_bh_disable()`, for
/// as long as it exists, and it stays in the task that created it.
#[must_use = "bottom halves are re-enabled as soon as this is dropped"]
pub struct LocalBhDisable {
    token: BhDisabled,
}

impl LocalBhDisable {
    /// Disables bottom halves on the local CPU.
    ///
    /// Fails with `EINVAL` in hard-irq or NMI context and with interrupts disabled, where
    /// `local_bh_enable()` is not allowed.
    #[inline]
    pub fn new() -> Result<Self> {
        // SAFETY: It disables only where the enable is allowed, and if it did, `Drop` calls
        // the matching enable.
        if !unsafe { shim::bhlock_local_bh_disable_if_allowed() } {
            return Err(EINVAL);
        }
        // INVARIANT: BH was just disabled by this object.
        Ok(Self {
            token: BhDisabled(NotThreadSafe),
        })
    }

    /// The token for this section, to lock nested-BH locks with.
    #[inline]
    pub fn token(&mut self) -> &mut BhDisabled {
        &mut self.token
    }
}

impl Drop for LocalBhDisable {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: By the type invariant this object disabled BH in this task; every borrow of
        // its token has ended, so nothing relies on the section any more.
        unsafe { shim::bhlock_local_bh_enable() };
    }
}
