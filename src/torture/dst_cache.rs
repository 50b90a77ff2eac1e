// SPDX-License-Identifier: GPL-2.0

//! The dst_cache (`net/core/dst_cache.c`) as a resource of the kernel: one of 7.3's
//! `local_lock_nested_bh()` users.
//!
//! A `dst_cache` keeps one route (`dst_entry`) and its source address per CPU, for tunnels
//! (vxlan, geneve, wireguard, ip tunnels, seg6 and rpl lightweight tunnels) whose transmit, in
//! a BH section, looks up and refills it. Each CPU's entry sits behind a nested-BH lock: on
//! PREEMPT_RT without the BH lock, another BH section of the CPU can preempt an update
//! halfway. `dst_cache_set_ip4()` reads the CPU's entry, calls `dst_release()` on it, takes a
//! reference to the new one and stores it; a second update inside that call reads the same
//! old entry and releases it again.
//!
//! - **State**: two caches of the module's own, with metadata dsts of its own (no route, no
//!   device: the cache only counts and stores them), to which it keeps more references than it
//!   needs, so that a dst the race releases twice is not freed under it: the forced pairs'
//!   dsts [`OURS`] (a pair stops at its first double release), the traffic's
//!   [`TRAFFIC_OURS`] (the traffic may release one twice unseen, many times over). The traffic
//!   rounds of every context share one cache and its dsts; the forced pairs use the other,
//!   each CPU's pair only its CPU's entry and three dsts of its own, claimed for the round (a
//!   pair that CPU hotplug moved to another CPU leaves that CPU's alone).
//! - **Traffic**: each round stores an entry with a source address that names it, then reads
//!   the CPU's entry back, as a tunnel's transmit does: whatever comes back must carry its own
//!   address, since the lock makes a store of both one step (`kernel_dst_cache_torn`), and
//!   still hold the module's references (`kernel_dst_reference_lost`).
//! - **Probe**: the kprobe on `dst_release()`, which `dst_cache_set_ip4()` calls with the lock
//!   held. The outer thread stores its first dst `A`, then stores `B` with the probe armed; the
//!   inner thread, woken inside that call's release of `A`, stores `C`, then, once the outer
//!   call is over, counts the three dsts' references: the cache holds exactly one of them, so
//!   one must have [`OURS`] + 1 and the others [`OURS`]. With the lock it is `C`; without it
//!   `A` was released twice and both `B` and `C` keep a cache reference
//!   (`kernel_dst_reference_lost`).
//!
//! After a fault the caches and the dsts are leaked, never released: their counts are wrong,
//! and a release by the count would free a dst still in use. The must-fail kernel's
//! `bhlock_unlocked=dst_cache` removes the cache's nested-BH lock. The test kernels have
//! `CONFIG_DST_CACHE` through `NET_IPIP` (`NET_IP_TUNNEL` selects it).

use core::{
    ptr,
    sync::atomic::{
        AtomicBool, AtomicUsize,
        Ordering::{Acquire, Relaxed, Release},
    },
};
use kernel::{cpu::CpuId, error::from_err_ptr, prelude::*, sync::SpinLock};

use super::{
    core_state::Core,
    ops::{self, Ops},
    probe_point::{InnerThread, ProbePoint},
    resource::KernelResource,
    stats::{Context, Event, Violation},
};
use crate::{
    services::{
        dst_cache::{self as sys, DstCache, DstEntry},
        kprobe::KProbe,
    },
    sync::bh::LocalBhDisabled,
};

/// The resource: its name is its case in the scenario table and its switch in the must-fail
/// kernel.
pub(crate) static RESOURCE: KernelResource = KernelResource {
    name: c"dst_cache",
    new_state: || Ok(KBox::new(DstCaches::new()?, GFP_KERNEL)?),
    round: traffic_round,
    probe: ProbePoint {
        symbol: c"dst_release",
        outer: probed_outer,
        inner: probed_inner,
    },
    protected_in_stock: true,
};

/// Its entry of the ops table.
pub(crate) static OPS: Ops = ops::kernel_resource("kernel_dst_cache", &RESOURCE);

/// References the module keeps to each of the forced pairs' dsts: its own and a margin (see the
/// module documentation).
const OURS: u32 = 2;

/// References the module keeps to each of the traffic's dsts: far more than the traffic of a
/// run on a kernel without the lock can release twice unseen.
const TRAFFIC_OURS: u32 = 1 << 16;

/// Dsts the traffic rounds take turns with.
const TRAFFIC_DSTS: usize = 8;

/// The two caches, their dsts, and whether a round found them corrupt.
///
/// # Invariants
///
/// `traffic` and `forced` are null or live caches from `bhlock_dst_cache_new()`; every dst in
/// `traffic_dsts` is live with [`TRAFFIC_OURS`] references held by this struct, every non-null
/// dst in `pair_dsts` live with [`OURS`]. `drop` releases them unless `corrupt`.
pub(crate) struct DstCaches {
    traffic: *mut DstCache,
    traffic_dsts: KVec<*mut DstEntry>,
    forced: *mut DstCache,
    /// Per CPU id, the forced pair's dsts `A`, `B`, `C`.
    pair_dsts: KVec<[*mut DstEntry; 3]>,
    /// Per CPU id, the pair whose round uses that CPU's entry and dsts (its gate's address), or
    /// 0.
    pair_owner: KVec<AtomicUsize>,
    /// A round found the references wrong: everything is leaked, not released.
    corrupt: AtomicBool,
}

// SAFETY: The caches are used with BH disabled, as `dst_cache` requires, each CPU's entry by
// that CPU; `drop` frees them in process context after the run's threads stopped.
unsafe impl Send for DstCaches {}
// SAFETY: As for `Send`. The traffic's dsts are shared by every CPU, whose references are
// atomic counts; on a kernel without the lock, what keeps them alive is the margin of
// references held here. The rest are atomics.
unsafe impl Sync for DstCaches {}

/// A new dst with `refs` references, the caller's, who drops them with [`put`].
fn new_dst(refs: u32) -> Result<*mut DstEntry> {
    // SAFETY: Process context; the references are dropped by `DstCaches::drop` or, on an
    // error in `DstCaches::new`, by `put`.
    let dst = unsafe { sys::bhlock_dst_new() };
    if dst.is_null() {
        return Err(ENOMEM);
    }
    for _ in 1..refs {
        // SAFETY: We hold a reference.
        unsafe { sys::bhlock_dst_hold(dst) };
    }
    Ok(dst)
}

impl DstCaches {
    /// The caches and their dsts; process context.
    fn new() -> Result<Self> {
        let slots = kernel::cpu::nr_cpu_ids() as usize;
        // INVARIANT: Everything is null until made below; on an error, `drop` releases what
        // was made before it.
        let mut this = Self {
            traffic: ptr::null_mut(),
            traffic_dsts: KVec::with_capacity(TRAFFIC_DSTS, GFP_KERNEL)?,
            forced: ptr::null_mut(),
            pair_dsts: KVec::with_capacity(slots, GFP_KERNEL)?,
            pair_owner: KVec::with_capacity(slots, GFP_KERNEL)?,
            corrupt: AtomicBool::new(false),
        };
        for _ in 0..slots {
            this.pair_owner.push(AtomicUsize::new(0), GFP_KERNEL)?;
        }
        // SAFETY: Process context; freed by `drop`.
        this.traffic = from_err_ptr(unsafe { sys::bhlock_dst_cache_new() })?;
        // SAFETY: As above.
        this.forced = from_err_ptr(unsafe { sys::bhlock_dst_cache_new() })?;
        for _ in 0..TRAFFIC_DSTS {
            let dst = new_dst(TRAFFIC_OURS)?;
            this.traffic_dsts
                .push(dst, GFP_KERNEL)
                .inspect_err(|_| put(dst, TRAFFIC_OURS))?;
        }
        for _ in 0..slots {
            let mut three = [ptr::null_mut(); 3];
            for i in 0..three.len() {
                match new_dst(OURS) {
                    Ok(dst) => three[i] = dst,
                    Err(e) => {
                        three[..i].iter().for_each(|dst| put(*dst, OURS));
                        return Err(e);
                    }
                }
            }
            this.pair_dsts
                .push(three, GFP_KERNEL)
                .inspect_err(|_| three.iter().for_each(|dst| put(*dst, OURS)))?;
        }
        Ok(this)
    }

    /// The forced pair's dsts of `cpu`, and who uses them.
    fn pair(&self, cpu: CpuId) -> Option<([*mut DstEntry; 3], &AtomicUsize)> {
        let slot = cpu.as_u32() as usize;
        Some((*self.pair_dsts.get(slot)?, self.pair_owner.get(slot)?))
    }
}

/// Drops `refs` references the caller holds to `dst`.
fn put(dst: *mut DstEntry, refs: u32) {
    for _ in 0..refs {
        // SAFETY: The caller held these references and gives them up.
        unsafe { sys::bhlock_dst_put(dst) };
    }
}

/// The identity of a forced pair: its gate's address.
fn pair_id(gate: &SpinLock<()>) -> usize {
    ptr::from_ref(gate) as usize
}

impl Drop for DstCaches {
    fn drop(&mut self) {
        if self.corrupt.load(Relaxed) {
            pr_info!("dst_cache: the references went wrong: the caches and dsts are leaked\n");
            return;
        }
        for cache in [self.traffic, self.forced] {
            if !cache.is_null() {
                // SAFETY: A live cache (type invariant); the run's threads have stopped, so
                // nothing uses it; process context. It releases the entry of every CPU.
                unsafe { sys::bhlock_dst_cache_free(cache) };
            }
        }
        let traffic = self.traffic_dsts.iter().map(|dst| (*dst, TRAFFIC_OURS));
        let pairs = self
            .pair_dsts
            .iter()
            .flat_map(|three| three.map(|dst| (dst, OURS)));
        for (dst, ours) in Iterator::chain(traffic, pairs) {
            // SAFETY: A live dst to which we hold `ours` references (type invariant).
            let refs = unsafe { sys::bhlock_dst_refs(dst) };
            if refs == ours {
                put(dst, ours);
            } else {
                // Not ours alone after the caches are gone (a race of the traffic rounds on
                // a kernel without the lock): leaked, not released by a wrong count.
                pr_info!("dst_cache: a dst has {refs} references, not {ours}: leaked\n");
            }
        }
    }
}

/// The traffic round; see the module documentation.
fn traffic_round(
    core: &Core,
    context: Context,
    _bh: &LocalBhDisabled,
    _n: usize,
    tag: u32,
    inside: &mut dyn FnMut(),
) {
    let state = core.resource::<DstCaches>().filter(|_| core.stats.clean());
    let Some((state, &dst)) =
        state.and_then(|s| Some((s, s.traffic_dsts.get(tag as usize % TRAFFIC_DSTS)?)))
    else {
        inside();
        core.stats.op(context);
        return;
    };
    let dsts = &state.traffic_dsts;
    // SAFETY: A live cache and dst (type invariant); BH is disabled.
    unsafe { sys::bhlock_dst_cache_set(state.traffic, dst, tag) };
    inside();
    let mut saddr = 0;
    // SAFETY: As above; `saddr` is ours.
    let got = unsafe { sys::bhlock_dst_cache_get(state.traffic, &mut saddr) };
    if !got.is_null() {
        // A stored entry names its dst by its source address (`tag`, modulo the dsts), and
        // still has our references and the one `get` gave us.
        // SAFETY: `get` gave us a reference.
        let refs = unsafe { sys::bhlock_dst_refs(got) };
        let fault = if dsts.get(saddr as usize % TRAFFIC_DSTS) != Some(&got) {
            Some(Violation::KernelDstCacheTorn)
        } else if refs <= TRAFFIC_OURS {
            Some(Violation::KernelDstReferenceLost)
        } else {
            None
        };
        match fault {
            // SAFETY: `get` gave us this reference.
            None => unsafe { sys::bhlock_dst_put(got) },
            Some(what) => {
                // Our reference is leaked with the rest (`corrupt`).
                state.corrupt.store(true, Relaxed);
                core.count_kernel_fault(context, what);
            }
        }
    }
    core.stats.event(Event::KernelBuffers, 1);
    core.stats.op(context);
}

fn probed_outer(
    core: &Core,
    _bh: &LocalBhDisabled,
    _tag: u32,
    probe: &KProbe,
    inner: &InnerThread<'_>,
    let_in: &mut dyn FnMut(),
) {
    // BH is disabled: this thread stays on this CPU, whose entry it updates.
    let cpu = CpuId::current();
    let state = core.resource::<DstCaches>().filter(|_| core.stats.clean());
    let Some((state, ([a, b, _], owner))) = state.and_then(|s| Some((s, s.pair(cpu)?))) else {
        let_in();
        core.stats.op(Context::Forced);
        return;
    };
    // This CPU's entry and dsts for this pair's round, unless a pair that CPU hotplug moved here
    // has them (or this pair's inner thread did not get to its round last time).
    let me = pair_id(inner.gate);
    if let Err(other) = owner.compare_exchange(0, me, Acquire, Relaxed) {
        if other != me {
            let_in();
            core.stats.op(Context::Forced);
            return;
        }
    }
    // `A` in this CPU's entry, so that the probed call below releases it.
    // SAFETY: A live cache and dst (type invariant); BH is disabled.
    unsafe { sys::bhlock_dst_cache_set(state.forced, a, 0) };
    {
        let _gate = inner.gate.lock();
        let_in();
        probe.arm(Some(inner.task));
        // SAFETY: As above.
        unsafe { sys::bhlock_dst_cache_set(state.forced, b, 1) };
        inner.count_probe(core, probe, true);
    }
    core.stats.op(Context::Forced);
}

fn probed_inner(core: &Core, _bh: &LocalBhDisabled, _tag: u32, gate: &SpinLock<()>) {
    let cpu = CpuId::current();
    let state = core.resource::<DstCaches>().filter(|_| core.stats.clean());
    let pair = state.and_then(|s| Some((s, s.pair(cpu)?)));
    // Only the round of the pair whose outer thread claimed this CPU's entry: an inner thread
    // that CPU hotplug moved away from its outer one leaves this CPU's alone.
    let Some((state, (three, owner))) = pair.filter(|(_, (_, o))| o.load(Acquire) == pair_id(gate))
    else {
        drop(gate.lock());
        core.stats.op(Context::Forced);
        return;
    };
    // SAFETY: A live cache and dst (type invariant); BH is disabled.
    unsafe { sys::bhlock_dst_cache_set(state.forced, three[2], 2) };
    // The outer thread's call is over once the gate is free.
    drop(gate.lock());
    // SAFETY: Live dsts, to which the state holds references (type invariant).
    let refs = three.map(|dst| unsafe { sys::bhlock_dst_refs(dst) });
    let cached = refs.iter().filter(|&&r| r == OURS + 1).count();
    let only_ours = refs.iter().filter(|&&r| r == OURS).count();
    core.stats.event(Event::KernelBuffers, 3);
    if cached != 1 || only_ours != 2 {
        state.corrupt.store(true, Relaxed);
        core.count_kernel_fault(Context::Forced, Violation::KernelDstReferenceLost);
    }
    owner.store(0, Release);
    core.stats.op(Context::Forced);
}
