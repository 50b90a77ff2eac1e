// SPDX-License-Identifier: GPL-2.0

//! Lockdep's and the taint mask's health: the two signals the kernel itself gives about
//! whatever ran, read before and after it.

use kernel::bindings;

/// Whether a `WARN()` has tainted the kernel (taint bit W).
pub(crate) fn warn_taint() -> bool {
    // SAFETY: `test_taint` only reads the taint mask.
    unsafe { bindings::test_taint(bindings::TAINT_WARN) != 0 }
}

/// Whether lockdep (and the other lock debugging) is still on: `debug_locks`, which the first
/// report turns off for the rest of the boot.
pub(crate) fn debug_locks() -> bool {
    // SAFETY: `debug_locks` is a plain `int` that lock debugging only ever clears; a racy read
    // sees either value.
    unsafe { core::ptr::read_volatile(&raw const bindings::debug_locks) != 0 }
}

/// What lockdep and the taint mask said at some point, to compare later.
pub(crate) struct Baseline {
    warned: bool,
}

impl Baseline {
    /// Records the current state.
    pub(crate) fn now() -> Self {
        Self {
            warned: warn_taint(),
        }
    }

    /// Fails if lock debugging went off or a new `WARN()` tainted the kernel since `self`.
    pub(crate) fn check(&self) -> Result<(), &'static str> {
        if !debug_locks() {
            return Err("debug_locks is 0: lockdep reported a problem and turned itself off");
        }
        if warn_taint() && !self.warned {
            return Err("a WARN() tainted the kernel (taint W)");
        }
        Ok(())
    }
}
