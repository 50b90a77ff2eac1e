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
    // SAFETY: `__cpu_online_mask` is a valid cpumask for the whole life of the kernel.
    let mask = unsafe { Cpumask::from_raw(&raw const bindings::__cpu_online_mask) };
    let mut cpus = KVec::new();
    for cpu in possible_cpus().filter(|cpu| mask.test(*cpu)) {
        cpus.push(cpu, GFP_KERNEL)?;
    }
    Ok(cpus)
}
