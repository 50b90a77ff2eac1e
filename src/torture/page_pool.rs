// SPDX-License-Identifier: GPL-2.0

//! A page_pool's lockless alloc cache (`net/core/page_pool.c`) as a resource of the kernel.
//!
//! A pool's alloc cache belongs to its one consumer, the NAPI poll of its CPU, and has no lock:
//! a page given back may go straight into it only from that consumer's context
//! (`page_pool_napi_local()`), else into the pool's `ptr_ring`. The talk this project grew from
//! calls the page_pool "probably safe: if preempted by another NAPI instance then it ends up in
//! slowpath". In 7.3 that rests on the first lines of `page_pool_napi_local()`, which say no on
//! PREEMPT_RT, where another BH section of the CPU can preempt the consumer in the middle of
//! its refill.
//!
//! - **State**: a pool of the module's own for every possible CPU ([`PagePools`], made with
//!   `page_pool_create_percpu()`), whose one consumer is the forced pair's outer thread of that
//!   CPU. The other contexts of the run do not touch it (a second consumer would be a misuse
//!   of the pool on any kernel), so the traffic round is empty.
//! - **Probe**: the kprobe on `alloc_pages_bulk_noprof()`, which
//!   `__page_pool_alloc_netmems_slow()` calls after clearing the cache's first 64 slots and
//!   before it counts them. The outer thread first empties the cache (pages until the probe
//!   sees a refill, then the 63 that refill left), hands the inner thread one page, and
//!   allocates again with the probe armed; the inner thread, woken inside that refill, gives
//!   its page back with `napi_pp_put_page()`, as a NAPI user freeing an skb does. Where the
//!   gate holds, the page goes to the ring. Without it, it goes into the cache's slot 0 and
//!   bumps the count under the refill, which then copies slot 0 over the slots after it: the
//!   outer thread, taking the refill's pages, gets one page several times. Its check sorts the
//!   pages it holds and finds the duplicate.
//!
//! After a fault the pages are leaked and the pool with them, never given back or destroyed: a
//! corrupted pool would free a page twice. The must-fail kernel's `bhlock_unlocked=page_pool`
//! removes the PREEMPT_RT gate.

use core::{
    ptr::{self, NonNull},
    sync::atomic::{AtomicBool, AtomicPtr, Ordering::Relaxed},
};
use kernel::{bindings, cpu::CpuId, error::from_err_ptr, prelude::*, sync::SpinLock};

use super::{
    core_state::Core,
    ops::{self, Ops},
    probe_point::{InnerThread, ProbePoint},
    resource::KernelResource,
    stats::{Context, Event, Violation},
};
use crate::{
    services::{
        cpus::possible_cpus,
        kprobe::KProbe,
        page_pool::{self as sys, PagePool},
    },
    sync::bh::LocalBhDisabled,
};

/// The resource: its name is its case in the scenario table and its switch in the must-fail
/// kernel.
pub(crate) static RESOURCE: KernelResource = KernelResource {
    name: c"page_pool",
    new_state: || Ok(KBox::new(PagePools::new()?, GFP_KERNEL)?),
    round: traffic_round,
    probe: ProbePoint {
        symbol: c"alloc_pages_bulk_noprof",
        outer: probed_outer,
        inner: probed_inner,
    },
    protected_in_stock: true,
};

/// Its entry of the ops table.
pub(crate) static OPS: Ops = ops::kernel_resource("kernel_page_pool", &RESOURCE);

/// `PP_ALLOC_CACHE_REFILL` in 7.3's `include/net/page_pool/types.h`: the pages a slow-path
/// allocation asks the page allocator for at once, with 4 KiB pages (the test kernels'; with
/// larger pages the figures here would only make rounds miss the probe, not fault).
const REFILL: usize = 64;

/// Pages a pool can hold before an allocation reaches the page allocator: its alloc cache
/// (`PP_ALLOC_CACHE_SIZE`, 128) and its ring (the pool size, 64, in `page_pool_shim.c`).
const POOL_HOLDS: usize = 128 + 64;

/// Most pages a probed round holds: what the pool held and the refill that shows it empty, the
/// rest of that refill, the probed allocation and the rest of its refill.
const MAX_HELD: usize = POOL_HOLDS + 1 + 2 * REFILL;

/// A pool for every possible CPU, and the page each CPU's outer thread hands its inner one.
///
/// # Invariants
///
/// Each entry of `pools` is null or a live pool from `bhlock_page_pool_new()` for the CPU of its
/// index, destroyed by `drop` unless `corrupt`.
pub(crate) struct PagePools {
    pools: KVec<*mut PagePool>,
    gifts: KVec<AtomicPtr<bindings::page>>,
    /// A round found a page handed out twice: the pools are leaked, not destroyed.
    corrupt: AtomicBool,
}

// SAFETY: A pool is used only by its CPU's forced pair, with BH disabled, which is how the pool
// must be used; `drop` destroys them in process context after the run's threads stopped.
unsafe impl Send for PagePools {}
// SAFETY: As for `Send`; the gifts are atomics.
unsafe impl Sync for PagePools {}

impl PagePools {
    /// A pool for every possible CPU; process context.
    fn new() -> Result<Self> {
        let slots = kernel::cpu::nr_cpu_ids() as usize;
        let mut gifts = KVec::with_capacity(slots, GFP_KERNEL)?;
        for _ in 0..slots {
            gifts.push(AtomicPtr::new(ptr::null_mut()), GFP_KERNEL)?;
        }
        // INVARIANT: Every entry is null until a pool is made for its CPU below; on an error,
        // `drop` destroys those made before it.
        let mut this = Self {
            pools: KVec::from_elem(ptr::null_mut(), slots, GFP_KERNEL)?,
            gifts,
            corrupt: AtomicBool::new(false),
        };
        for cpu in possible_cpus() {
            // SAFETY: Process context; `cpu` is possible; destroyed by `drop`.
            let pool = unsafe { sys::bhlock_page_pool_new(cpu.as_u32() as i32) };
            this.pools[cpu.as_u32() as usize] = from_err_ptr(pool)?;
        }
        Ok(this)
    }

    /// The pool of `cpu`, if it has one.
    fn of(&self, cpu: CpuId) -> Option<NonNull<PagePool>> {
        NonNull::new(*self.pools.get(cpu.as_u32() as usize)?)
    }

    /// The gift slot of `cpu`.
    fn gift(&self, cpu: CpuId) -> Option<&AtomicPtr<bindings::page>> {
        self.gifts.get(cpu.as_u32() as usize)
    }
}

impl Drop for PagePools {
    fn drop(&mut self) {
        if self.corrupt.load(Relaxed) {
            pr_info!(
                "page_pool: a page was handed out twice: the pools are leaked, not destroyed\n"
            );
            return;
        }
        for (gift, pool) in self.gifts.iter().zip(self.pools.iter()) {
            let page = gift.swap(ptr::null_mut(), Relaxed);
            if !page.is_null() {
                // A gift the inner thread never took (its pair stopped first): back to its pool,
                // in a BH section as the consumer would.
                if let Ok(_bh) = crate::sync::bh::local_bh_disable() {
                    // SAFETY: The page is from this pool and ours; BH is disabled.
                    unsafe { sys::bhlock_page_pool_put(page) };
                }
            }
            if !pool.is_null() {
                // SAFETY: A live pool (type invariant), not corrupt; the run's threads have
                // stopped, so nothing allocates from it; process context.
                unsafe { sys::bhlock_page_pool_destroy(*pool) };
            }
        }
    }
}

/// The traffic round: none; see the module documentation.
fn traffic_round(
    core: &Core,
    context: Context,
    _bh: &LocalBhDisabled,
    _n: usize,
    _tag: u32,
    inside: &mut dyn FnMut(),
) {
    inside();
    core.stats.op(context);
}

/// One page of `pool`, pushed to `held`; whether there was one.
fn take(pool: NonNull<PagePool>, held: &mut KVec<usize>) -> bool {
    // SAFETY: The pool is live; the caller is its consumer (the outer thread of its CPU, BH
    // disabled).
    let page = unsafe { sys::bhlock_page_pool_alloc(pool.as_ptr()) };
    !page.is_null() && held.push(page as usize, GFP_ATOMIC).is_ok()
}

/// Whether `pages` holds one page twice: sorts it by insertion (a few hundred entries, and
/// core's slice sort brings code objtool rejects: a fall-through in its small-sort merge) and
/// compares neighbours.
fn has_duplicate(pages: &mut [usize]) -> bool {
    for i in 1..pages.len() {
        let mut j = i;
        while j > 0 && pages[j - 1] > pages[j] {
            pages.swap(j - 1, j);
            j -= 1;
        }
    }
    pages.windows(2).any(|w| w[0] == w[1])
}

fn probed_outer(
    core: &Core,
    _bh: &LocalBhDisabled,
    _tag: u32,
    probe: &KProbe,
    inner: &InnerThread<'_>,
    let_in: &mut dyn FnMut(),
) {
    // BH is disabled: this thread stays on this CPU, whose pool it consumes.
    let cpu = CpuId::current();
    let state = core.resource::<PagePools>().filter(|_| core.stats.clean());
    let pool = state.and_then(|s| Some((s, s.of(cpu)?, s.gift(cpu)?)));
    let held = KVec::with_capacity(MAX_HELD, GFP_ATOMIC);
    let (Some((pools, pool, gift)), Ok(mut held)) = (pool, held) else {
        let_in();
        core.stats.op(Context::Forced);
        return;
    };
    // The inner thread's page, to give back inside the refill below.
    // SAFETY: As in `take`.
    let page = unsafe { sys::bhlock_page_pool_alloc(pool.as_ptr()) };
    gift.store(page, Relaxed);
    // Pages until the probe sees a refill from the page allocator (the pool had nothing left),
    // then the rest of that refill: the cache is empty.
    let mut at_refill = false;
    while held.len() <= POOL_HOLDS {
        probe.arm(None);
        let got = take(pool, &mut held);
        let refilled = probe.disarm();
        if !got {
            break;
        }
        if refilled {
            at_refill = true;
            break;
        }
    }
    if at_refill {
        for _ in 1..REFILL {
            if !take(pool, &mut held) {
                break;
            }
        }
    }
    {
        let _gate = inner.gate.lock();
        let_in();
        probe.arm(Some(inner.task));
        take(pool, &mut held);
        inner.count_probe(core, probe, at_refill);
    }
    // The pages the probed refill left in the cache, where a page counted twice shows.
    for _ in 1..REFILL {
        if !take(pool, &mut held) {
            break;
        }
    }
    core.stats.event(Event::KernelBuffers, held.len() as u64);
    if has_duplicate(&mut held) {
        pools.corrupt.store(true, Relaxed);
        core.count_kernel_fault(Context::Forced, Violation::KernelBufferHandedTwice);
    } else {
        for page in held.iter() {
            // SAFETY: Each page is from this pool, ours, and held once; BH is disabled.
            unsafe { sys::bhlock_page_pool_put(*page as *mut bindings::page) };
        }
    }
    core.stats.op(Context::Forced);
}

fn probed_inner(core: &Core, _bh: &LocalBhDisabled, _tag: u32, gate: &SpinLock<()>) {
    let cpu = CpuId::current();
    if let Some(gift) = core.resource::<PagePools>().and_then(|s| s.gift(cpu)) {
        let page = gift.swap(ptr::null_mut(), Relaxed);
        if !page.is_null() {
            // SAFETY: The outer thread of this CPU handed this page of its pool over; BH is
            // disabled, as a NAPI user's is when it frees an skb.
            unsafe { sys::bhlock_page_pool_put(page) };
        }
    }
    drop(gate.lock());
    core.stats.op(Context::Forced);
}
