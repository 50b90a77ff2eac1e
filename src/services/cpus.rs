// SPDX-License-Identifier: GPL-2.0

//! The CPU sets the harness walks. The kernel crate of 7.3 has `CpuId` and `Cpumask` but no
//! iterator over the possible CPUs.

use kernel::{
    bindings,
    cpu::{nr_cpu_ids, CpuId},
    cpumask::Cpumask,
    prelude::*,
};

/// Every possible CPU, in order.
pub(crate) fn possible_cpus() -> impl Iterator<Item = CpuId> {
    // SAFETY: `__cpu_possible_mask` is a valid cpumask for the whole life of the kernel.
    let mask = unsafe { Cpumask::from_raw(&raw const bindings::__cpu_possible_mask) };
    (0..nr_cpu_ids())
        .filter_map(CpuId::from_u32)
        .filter(move |cpu| mask.test(*cpu))
}

/// The online CPUs now.
pub(crate) fn online_cpus() -> Result<KVec<CpuId>> {
    let mut cpus = KVec::new();
    for cpu in possible_cpus().filter(|cpu| is_online(*cpu)) {
        cpus.push(cpu, GFP_KERNEL)?;
    }
    Ok(cpus)
}

/// Whether `cpu` is online now.
pub(crate) fn is_online(cpu: CpuId) -> bool {
    // SAFETY: `__cpu_online_mask` is a valid cpumask for the whole life of the kernel.
    let mask = unsafe { Cpumask::from_raw(&raw const bindings::__cpu_online_mask) };
    mask.test(cpu)
}

/// Whether some CPU is in hotplug transition: online but dying (from the start of its way
/// down, when the scheduler stops waking tasks there and moves even bound kthreads away) or
/// not active (deactivated on its way down, or not activated yet on its way up).
pub(crate) fn some_cpu_in_transition() -> bool {
    // SAFETY: `__cpu_active_mask` and `__cpu_dying_mask` are valid cpumasks for the whole life
    // of the kernel.
    let (active, dying) = unsafe {
        (
            Cpumask::from_raw(&raw const bindings::__cpu_active_mask),
            Cpumask::from_raw(&raw const bindings::__cpu_dying_mask),
        )
    };
    possible_cpus().any(|cpu| is_online(cpu) && (dying.test(cpu) || !active.test(cpu)))
}
