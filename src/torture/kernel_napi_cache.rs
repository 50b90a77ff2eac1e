// SPDX-License-Identifier: GPL-2.0

//! The kernel's own per-CPU `napi_alloc_cache` (`net/core/skbuff.c`) as the cache of a run:
//! the skb heads NAPI recycles and the page fragment NAPI and BH-disabled process context
//! carve buffers from, behind the kernel's `local_lock_nested_bh()`, not bhlock's.
//!
//! - **Traffic** ([`traffic_round`]): every context allocates the way drivers do. The NAPI
//!   poll uses `napi_alloc_skb()`, `napi_skb_cache_get_bulk()` (as cpumap and veth do) and
//!   `napi_alloc_frag()`; process context with BH disabled uses `netdev_alloc_skb()` and
//!   `napi_alloc_frag()`. Each buffer carries a pattern ([`super::kernel_buffers`]), checked
//!   before the buffer is freed (`napi_consume_skb()` with a budget, which puts the head back
//!   into the cache, or `skb_free_frag()`), so an skb handed to two owners or two overlapping
//!   fragments are seen.
//! - **Probe** ([`RESOURCE`]'s probe point): the forced pairs get inside `napi_skb_cache_get_bulk()`'s section
//!   at its refill, the kprobe on `kmem_cache_alloc_bulk_noprof()`. The outer thread first
//!   takes heads one at a time until a refill is seen, which leaves 31 in the cache (a refill
//!   of 32, one taken); its probed call then asks for 32 and refills again. The inner thread
//!   takes 8 skbs from those 31. Without the lock, the outer call, once resumed, adds its
//!   refill behind a count that has dropped by 8 and hands out the 8 slots the inner thread
//!   emptied: the inner thread's skbs, which it still holds. Its check finds the outer
//!   thread's tag in them.
//!
//! A buffer that fails its check is leaked, never freed: whoever else has it frees it. The
//! traffic starts with the probe's first hit, and after the first fault rounds take no more
//! buffers: the first fault is the answer, and a kernel whose cache is broken is not pushed
//! further towards a crash (races of the traffic's own may double-free into the slab).

use core::ptr;
use kernel::{bindings, ffi::c_void, prelude::*, sync::SpinLock, task::Task};

use super::{
    core_state::Core,
    kernel_buffers::{cb_tag, Buffer, Kind, NapiDevice, LARGE, SMALL},
    ops::{self, Ops},
    probe_point::{InnerThread, ProbePoint},
    resource::KernelResource,
    stats::{Context, Event, Violation},
};
use crate::{
    services::{kprobe::KProbe, shim},
    sync::bh::LocalBhDisabled,
};

/// The resource: its name is its case in the scenario table and its switch in the must-fail
/// kernel.
pub(crate) static RESOURCE: KernelResource = KernelResource {
    name: c"napi_alloc_cache",
    new_state: || Ok(KBox::new(NapiDevice::new()?, GFP_KERNEL)?),
    round: traffic_round,
    probe: ProbePoint {
        symbol: c"kmem_cache_alloc_bulk_noprof",
        outer: probed_outer,
        inner: probed_inner,
    },
    protected_in_stock: true,
};

/// Its entry of the ops table.
pub(crate) static OPS: Ops = ops::kernel_resource("kernel_napi_alloc_cache", &RESOURCE);

/// `NAPI_SKB_CACHE_SIZE` and `NAPI_SKB_CACHE_BULK` in 7.3's `net/core/skbuff.c`.
const SKB_CACHE_SIZE: usize = 128;
const SKB_CACHE_BULK: u32 = 32;

/// Most buffers a traffic round holds at once.
const MAX_BUFFERS: usize = 16;

/// Skbs the inner thread of a probed round takes: some of the 31 the outer thread leaves.
const INNER_SKBS: usize = 8;

/// What each context allocates, in turn.
fn kinds(context: Context) -> &'static [Kind] {
    match context {
        Context::Napi => &[Kind::NapiSkb, Kind::BulkSkb, Kind::Frag],
        _ => &[Kind::NetdevSkb, Kind::Frag],
    }
}

/// Checks every buffer of `held` and frees those that pass; counts the others, which are
/// leaked.
fn check_and_free(core: &Core, context: Context, held: &[Option<Buffer>]) {
    for buffer in held.iter().flatten() {
        match buffer.check() {
            Ok(()) => buffer.free(),
            Err(fault) => core.count_kernel_fault(context, fault),
        }
        core.stats.event(Event::KernelBuffers, 1);
    }
}

/// The per-buffer tag of buffer `i` of a round with `tag`, mixed with the current task, so
/// that two threads whose rounds have the same tag still mark differently.
fn buffer_tag(tag: u32, i: usize) -> u32 {
    let task = Task::current_raw() as usize as u32;
    tag ^ ((i as u32) << 24) ^ task.rotate_left(13)
}

/// One traffic round: up to `n` buffers allocated the way `context` does, marked, `inside`
/// run, checked and freed.
fn traffic_round(
    core: &Core,
    context: Context,
    _bh: &LocalBhDisabled,
    n: usize,
    tag: u32,
    inside: &mut dyn FnMut(),
) {
    let mut held = [None; MAX_BUFFERS];
    // Traffic waits for the probe's first hit: on a kernel without the lock the first fault is
    // then the probe's, found before a race of the traffic's own could break the slab unseen.
    let probed = core.probe.is_none() || core.stats.event_count(Event::ProbeHits) != 0;
    if let Some(cache) = core
        .resource::<NapiDevice>()
        .filter(|_| probed && core.stats.clean())
    {
        let kinds = kinds(context);
        for (i, slot) in held.iter_mut().take(n).enumerate() {
            let len = if i % 2 == 0 { LARGE } else { SMALL };
            *slot = cache.alloc(kinds[i % kinds.len()], len);
            if let Some(buffer) = slot {
                buffer.mark(buffer_tag(tag, i));
            }
        }
    }
    inside();
    check_and_free(core, context, &held);
    core.stats.op(context);
}

fn probed_outer(
    core: &Core,
    _bh: &LocalBhDisabled,
    tag: u32,
    probe: &KProbe,
    inner: &InnerThread<'_>,
    let_in: &mut dyn FnMut(),
) {
    // Up to a whole cache of heads: on the heap, as 1 KiB is more than a stack frame should
    // take. BH is disabled, hence GFP_ATOMIC; a round without it is only not made.
    let drained = KVec::from_elem(ptr::null_mut::<c_void>(), SKB_CACHE_SIZE + 1, GFP_ATOMIC);
    let (Some(_), Ok(mut drained)) = (
        core.resource::<NapiDevice>().filter(|_| core.stats.clean()),
        drained,
    ) else {
        let_in();
        core.stats.op(Context::Forced);
        return;
    };
    // Heads one at a time until the probe sees a refill: the cache then holds 31. Each is
    // marked, as it may not be ours alone where the cache is broken.
    let drain_tag = tag ^ 0x00d0_0000;
    let mut taken = 0;
    let mut at_refill = false;
    while taken < drained.len() {
        probe.arm(None);
        // SAFETY: BH is disabled (`_bh`); room for one pointer.
        let got = unsafe { bindings::napi_skb_cache_get_bulk(&mut drained[taken], 1) };
        let refilled = probe.disarm();
        if got != 1 {
            break;
        }
        mark_head(drained[taken], buffer_tag(drain_tag, taken));
        taken += 1;
        if refilled {
            at_refill = true;
            break;
        }
    }
    let mut heads = [ptr::null_mut::<c_void>(); SKB_CACHE_BULK as usize];
    let got = {
        let _gate = inner.gate.lock();
        let_in();
        probe.arm(Some(inner.task));
        // SAFETY: BH is disabled; room for `SKB_CACHE_BULK` pointers.
        let got = unsafe { bindings::napi_skb_cache_get_bulk(heads.as_mut_ptr(), SKB_CACHE_BULK) };
        inner.count_probe(core, probe, at_refill);
        for (i, head) in heads.iter().take(got as usize).enumerate() {
            mark_head(*head, buffer_tag(tag, i));
        }
        got as usize
    };
    check_and_free_heads(core, &heads[..got], tag);
    check_and_free_heads(core, &drained[..taken], drain_tag);
    core.stats.op(Context::Forced);
}

/// Writes `tag` into the control buffer of `head`, a zeroed skb head of ours.
fn mark_head(head: *mut c_void, tag: u32) {
    // SAFETY: A head of ours, allocated until we free it.
    unsafe { ptr::write_volatile(cb_tag(head.cast()), tag) };
}

/// Checks the tags of `heads`, marked with `tag`, frees those that pass and counts the
/// others, which are leaked.
fn check_and_free_heads(core: &Core, heads: &[*mut c_void], tag: u32) {
    for (i, head) in heads.iter().enumerate() {
        // SAFETY: A head of ours, allocated until we free it.
        if unsafe { ptr::read_volatile(cb_tag(head.cast())) } == buffer_tag(tag, i) {
            // SAFETY: A head of ours, never built, not used afterwards.
            unsafe { shim::bhlock_skb_head_free(*head) };
        } else {
            core.count_kernel_fault(Context::Forced, Violation::KernelBufferHandedTwice);
        }
        core.stats.event(Event::KernelBuffers, 1);
    }
}

fn probed_inner(core: &Core, _bh: &LocalBhDisabled, tag: u32, gate: &SpinLock<()>) {
    let mut held = [None; INNER_SKBS];
    if let Some(cache) = core.resource::<NapiDevice>().filter(|_| core.stats.clean()) {
        for (i, slot) in held.iter_mut().enumerate() {
            *slot = cache.alloc(Kind::NapiSkb, SMALL);
            if let Some(buffer) = slot {
                buffer.mark(buffer_tag(tag, i));
            }
        }
    }
    // Keeps the skbs until the outer thread's probed call is over and its heads are marked.
    drop(gate.lock());
    check_and_free(core, Context::Forced, &held);
    core.stats.op(Context::Forced);
}
