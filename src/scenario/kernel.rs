// SPDX-License-Identifier: GPL-2.0

//! What the running kernel is, as far as the outcome of a case depends on it: a few properties
//! read from its configuration. The table keys every expectation on them, as
//! `lib/locking-selftest.c` keys its expectations on config rather than on a kernel's name, so
//! a new kernel configuration gets its expectations from what it is, without an edit to the
//! table.

use core::fmt;

use crate::{services::shim, torture::resource::KernelResource};

/// Whether the kernel resource has no protection in this boot: on the must-fail kernel, which
/// protects each, if this boot removed it (`bhlock_unlocked=NAME`); on a stock kernel, if the
/// stock kernel has none for it ([`KernelResource::protected_in_stock`]).
fn resource_unlocked(resource: &KernelResource) -> bool {
    // SAFETY: The name is NUL-terminated.
    unsafe {
        shim::bhlock_resource_unlocked(resource.name.as_ptr().cast(), !resource.protected_in_stock)
    }
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
    /// Whether a kernel resource has no protection of its own in this boot: one the stock
    /// kernel leaves unprotected, or, on the probe's must-fail kernel, one whose protection the
    /// boot removed (`bhlock_unlocked=NAME`). A function, so that a new resource needs no field
    /// here.
    pub(crate) unlocked: fn(&KernelResource) -> bool,
}

impl Kernel {
    /// The kernel this module runs on: its config, and, on the must-fail kernel, which
    /// resources' protection this boot removed (configs/rt-nolock.patch, `bhlock_unlocked=`).
    pub(crate) fn this() -> Self {
        Self {
            preempt_rt: cfg!(CONFIG_PREEMPT_RT),
            bh_serialised: !cfg!(CONFIG_PREEMPT_RT) || cfg!(CONFIG_PREEMPT_RT_NEEDS_BH_LOCK),
            unlocked: resource_unlocked,
        }
    }

    /// Whether two BH users of one CPU can both be inside the kernel resource: only when BH
    /// sections interleave and the resource has no protection of its own.
    pub(crate) fn shares(self, resource: &KernelResource) -> bool {
        !self.bh_serialised && (self.unlocked)(resource)
    }

    /// Writes the properties as `name=value` words, with those of `resources` that have no
    /// protection as `unlocked=a,b` (`-` for none): the `# kernel:` line that the selftests
    /// read (their `gate_covered`).
    pub(crate) fn describe<'a>(
        self,
        f: &mut fmt::Formatter<'_>,
        resources: impl Iterator<Item = &'a KernelResource>,
    ) -> fmt::Result {
        write!(
            f,
            "preempt_rt={} bh_serialised={} unlocked=",
            u8::from(self.preempt_rt),
            u8::from(self.bh_serialised),
        )?;
        let mut sep = "";
        for resource in resources.filter(|r| (self.unlocked)(r)) {
            write!(f, "{sep}{}", resource.name.to_str().unwrap_or("?"))?;
            sep = ",";
        }
        if sep.is_empty() {
            f.write_str("-")?;
        }
        Ok(())
    }
}
