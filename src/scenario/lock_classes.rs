// SPDX-License-Identifier: GPL-2.0

//! Two instances of one per-CPU resource that nest, as `gro_cells` did once PREEMPT_RT lost
//! the softirq BH lock: one device's NAPI poll feeds another device's cells, so the poll holds
//! the first instance's nested-BH lock while it takes the second's. Created at one call site,
//! both locks have that site's class, and lockdep calls the second acquisition "possible
//! recursive locking" although the locks differ; the cure upstream was a class per device
//! (`lockdep_set_class()` with a dynamic key), which
//! [`LocalLockNestedBh::new_with_dynamic_class`] offers.

use kernel::{prelude::*, sync::Arc};

use crate::{
    new_local_lock_nested_bh,
    services::one_shot::SoftOneShot,
    sync::{bh::LocalBhDisabled, local_lock_nested_bh::LocalLockNestedBh},
};

/// Which lock class each instance gets.
#[derive(Clone, Copy)]
pub(crate) enum Classes {
    /// The class of the one call site that creates every instance.
    Shared,
    /// A class of its own per instance, registered at run time.
    PerInstance,
}

/// One device's per-CPU cells: a packet count per CPU.
fn device_cells(classes: Classes) -> Result<LocalLockNestedBh<u64>> {
    match classes {
        Classes::Shared => new_local_lock_nested_bh!(|_cpu| Ok(0u64), "bhlock_cells"),
        Classes::PerInstance => {
            LocalLockNestedBh::new_with_dynamic_class(|_cpu| Ok(0u64), c"bhlock_cells")
        }
    }
}

/// The two devices: the poll of `outer` feeds `inner`.
struct Devices {
    outer: LocalLockNestedBh<u64>,
    inner: LocalLockNestedBh<u64>,
}

/// In softirq (a soft hrtimer standing for the NAPI poll), takes `outer`'s cells and, while it
/// holds them, `inner`'s. Returns whether the module saw a problem: a guard refused, which it
/// must not be (the locks differ, whatever their classes).
pub(crate) fn poll_feeds_other_device(classes: Classes) -> Result<bool> {
    let devices = Arc::new(
        Devices {
            outer: device_cells(classes)?,
            inner: device_cells(classes)?,
        },
        GFP_KERNEL,
    )?;
    SoftOneShot::run(&devices, |devices| {
        // SAFETY: A SOFT hrtimer callback runs in softirq: BH stays disabled until it returns.
        let bh = unsafe { LocalBhDisabled::assume_disabled() };
        let Some(mut outer) = devices.outer.lock(bh) else {
            return;
        };
        let Some(mut inner) = devices.inner.lock(bh) else {
            return;
        };
        *inner += 1;
        *outer += 1;
    })?;
    let mut devices = Arc::into_unique_or_drop(devices).ok_or(EBUSY)?;
    let mut fed = 0;
    devices.outer.for_each_cpu_mut(|_cpu, n| fed += *n);
    devices.inner.for_each_cpu_mut(|_cpu, n| fed += *n);
    Ok(fed != 2)
}
