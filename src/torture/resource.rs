// SPDX-License-Identifier: GPL-2.0

//! A per-CPU resource of the kernel that a run works on in place of bhlock's own cache, as one
//! value: its name, what its rounds need, its traffic and its way inside the kernel's BH
//! section. A probed resource is one file that defines its [`KernelResource`] and its entry of
//! the ops table ([`super::ops::kernel_resource`]), and one case of the scenario table, whose
//! expectation follows from [`KernelResource::name`] and the kernel's properties.

use core::any::Any;
use kernel::prelude::*;

use super::{core_state::RoundFn, probe_point::ProbePoint};

/// One resource of the kernel; see the module documentation.
pub(crate) struct KernelResource {
    /// Its name: the case `kernel.NAME` of the scenario table, and its switch in the must-fail
    /// kernel (`bhlock_unlocked=NAME`, configs/rt-nolock.patch).
    pub(crate) name: &'static CStr,
    /// What its rounds work with (a device, a pool), made once per run in process context and
    /// dropped with the run; the rounds find it with [`super::core_state::Core::resource`].
    pub(crate) new_state: fn() -> Result<KBox<dyn Any + Send + Sync>>,
    /// One round of traffic, in every context of a run: allocations the way the kernel's
    /// users make them, each checked before it is given back.
    pub(crate) round: RoundFn,
    /// How the forced pairs get inside its BH section, and what they check there.
    pub(crate) probe: ProbePoint,
    /// Whether the stock kernel protects it where BH sections interleave. False for a resource
    /// the probe found unprotected: the must-fail kernel carries a candidate fix for it, which
    /// its `bhlock_unlocked=NAME` takes out again.
    pub(crate) protected_in_stock: bool,
}
