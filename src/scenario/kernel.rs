// SPDX-License-Identifier: GPL-2.0

//! What the running kernel is, as far as the outcome of a case depends on it: a few properties
//! read from its configuration. The table keys every expectation on them, as
//! `lib/locking-selftest.c` keys its expectations on config rather than on a kernel's name, so
//! a new kernel configuration gets its expectations from what it is, without an edit to the
//! table.

use core::{ffi::CStr, fmt};

use crate::services::shim;

/// Whether this boot removed the protection of resource `name` (only the must-fail kernel
/// can).
fn resource_unlocked(name: &CStr) -> bool {
    // SAFETY: `name` is NUL-terminated.
    unsafe { shim::bhlock_resource_unlocked(name.as_ptr().cast()) }
}

/// The properties of a kernel that decide what a case of the table must produce.
#[derive(Clone, Copy)]
pub(crate) struct Kernel {
    /// `CONFIG_PREEMPT_RT`: sleeping spinlocks, threaded interrupts, and the RT versions of the
    /// locking code that print some of the expected reports.
    pub(crate) preempt_rt: bool,
    /// Two BH sections of one CPU cannot interleave: a BH section disables preemption
    /// (!PREEMPT_RT), or the per-CPU softirq lock serialises them
    /// (`CONFIG_PREEMPT_RT_NEEDS_BH_LOCK`). Without it a per-CPU resource that BH users share
    /// needs its own `local_lock_nested_bh()`.
    pub(crate) bh_serialised: bool,
    /// `napi_alloc_cache` (`net/core/skbuff.c`) keeps its `local_lock_nested_bh()`; false only
    /// in a boot of the probe's must-fail kernel that removed it (`bhlock_unlocked=`).
    pub(crate) napi_alloc_cache_locked: bool,
}

/// The name of napi_alloc_cache's switch in the must-fail kernel (`bhlock_unlocked=`), which
/// is also the name of its case in the table.
pub(crate) const NAPI_ALLOC_CACHE: &CStr = c"napi_alloc_cache";

/// `name` as a `&str`, at compile time (the table's names are `&str`).
pub(crate) const fn str_of(name: &'static CStr) -> &'static str {
    match core::str::from_utf8(name.to_bytes()) {
        Ok(s) => s,
        Err(_) => panic!("a resource name must be UTF-8"),
    }
}

impl Kernel {
    /// The kernel this module runs on: its config, and, on the must-fail kernel, which
    /// resources' protection this boot removed (configs/rt-nolock.patch, `bhlock_unlocked=`).
    pub(crate) fn this() -> Self {
        Self {
            preempt_rt: cfg!(CONFIG_PREEMPT_RT),
            bh_serialised: !cfg!(CONFIG_PREEMPT_RT) || cfg!(CONFIG_PREEMPT_RT_NEEDS_BH_LOCK),
            napi_alloc_cache_locked: !resource_unlocked(NAPI_ALLOC_CACHE),
        }
    }

    /// Whether two BH users of one CPU can both be inside a per-CPU resource whose own lock
    /// is present (`locked`) or not: only when BH sections interleave and the lock is gone.
    pub(crate) fn shares_unlocked(self, locked: bool) -> bool {
        !self.bh_serialised && !locked
    }
}

// `pr_info!` formats through the kernel's own `Display`.
impl kernel::fmt::Display for Kernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "preempt_rt={} bh_serialised={} napi_alloc_cache_locked={}",
            u8::from(self.preempt_rt),
            u8::from(self.bh_serialised),
            u8::from(self.napi_alloc_cache_locked)
        )
    }
}
