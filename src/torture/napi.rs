// SPDX-License-Identifier: GPL-2.0

//! The NAPI consumer: a dummy `net_device` with one NAPI context per possible CPU, whose poll
//! works on the per-CPU cache under the nested-BH guard, as drivers' polls work on
//! `napi_alloc_cache` through `napi_alloc_skb()` and `napi_consume_skb()`.
//!
//! The hard-irq timer plays the device interrupt: it adds pending items for its CPU and calls
//! `napi_schedule()`. Each poll takes at most its budget, completes only below it, and leaves
//! the rest for the next poll, as the NAPI rules ask.

use core::{
    ptr::{self, NonNull},
    sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, Ordering::Relaxed},
};
use kernel::{bindings, cpu::CpuId, ffi::c_int, prelude::*, sync::Arc};

use super::{
    core_state::Core,
    item_cache::MAX_ROUND,
    ops::{Ops, PollKick},
    stats::{Context, Event, Violation},
};
use crate::{
    services::{cpus::possible_cpus, netdev as sys, shim},
    sync::bh::LocalBhDisabled,
};

/// The NAPI context of one CPU and the work queued for it.
struct NapiSlot {
    /// Null for CPUs that are not possible.
    napi: AtomicPtr<bindings::napi_struct>,
    /// Whether a [`NapiCpuEnabled`] has enabled `napi`.
    enabled: AtomicBool,
    /// Items the "interrupt" queued and no poll took yet.
    pending: AtomicU32,
    /// Polls that have begun, counted before the poll takes any lock.
    polls_started: AtomicU64,
    core: Arc<Core>,
    ops: &'static Ops,
}

/// A dummy device and its per-CPU NAPI contexts, each disabled until
/// [`NapiConsumer::enable_cpu`].
///
/// # Invariants
///
/// `dev` is a live dummy device owned by this object. Every non-null `napi` of `slots` is a
/// live NAPI context on `dev` whose owner is its slot; `slots` never reallocates, so those
/// owner pointers stay valid until `drop` deletes the contexts.
pub(crate) struct NapiConsumer {
    dev: NonNull<bindings::net_device>,
    /// Indexed by CPU number, `nr_cpu_ids` entries.
    slots: KVec<NapiSlot>,
}

// SAFETY: The device and the NAPI contexts are used through the kernel's own thread-safe
// NAPI API; the rest is atomics and an `Arc<Core>`, which is `Sync`.
unsafe impl Send for NapiConsumer {}
// SAFETY: As above.
unsafe impl Sync for NapiConsumer {}

impl NapiConsumer {
    /// Allocates the device and a NAPI context for every possible CPU, in threaded mode if the
    /// run asks for it; every poll works as `ops` says.
    pub(crate) fn new(core: &Arc<Core>, ops: &'static Ops) -> Result<Arc<Self>> {
        let n = kernel::cpu::nr_cpu_ids() as usize;
        let mut slots = KVec::with_capacity(n, GFP_KERNEL)?;
        for _ in 0..n {
            slots.push(
                NapiSlot {
                    napi: AtomicPtr::new(ptr::null_mut()),
                    enabled: AtomicBool::new(false),
                    pending: AtomicU32::new(0),
                    polls_started: AtomicU64::new(0),
                    core: core.clone(),
                    ops,
                },
                GFP_KERNEL,
            )?;
        }
        // SAFETY: Process context; freed by `drop`.
        let dev = NonNull::new(unsafe { sys::alloc_netdev_dummy(0) }).ok_or(ENOMEM)?;
        // INVARIANT: No NAPI context exists yet; `slots` is full and never pushed to again. If
        // this allocation fails, dropping the object frees `dev`.
        let this = Arc::new(Self { dev, slots }, GFP_KERNEL)?;
        let weight = this.slots[0].core.params.napi_budget as c_int;
        for cpu in possible_cpus() {
            let slot = &this.slots[cpu.as_u32() as usize];
            // SAFETY: `dev` is live; `drop` deletes the context before freeing `dev` and
            // `slots`, and `slots` never moves its elements.
            let napi = unsafe {
                sys::bhlock_napi_add(
                    this.dev.as_ptr(),
                    poll,
                    weight,
                    ptr::from_ref(slot).cast_mut().cast(),
                )
            };
            if napi.is_null() {
                return Err(ENOMEM);
            }
            slot.napi.store(napi, Relaxed);
        }
        if this.slots[0].core.params.threaded {
            // SAFETY: `dev` is live and every context is still disabled.
            kernel::error::to_result(unsafe {
                sys::bhlock_netdev_set_threaded(this.dev.as_ptr(), true)
            })?;
        }
        Ok(this)
    }

    fn napis(&self) -> impl Iterator<Item = *mut bindings::napi_struct> + '_ {
        self.slots
            .iter()
            .map(|slot| slot.napi.load(Relaxed))
            .filter(|napi| !napi.is_null())
    }

    /// Enables the NAPI context of `cpu` until the result is dropped. Fails with `EBUSY` if it
    /// is enabled already, `EINVAL` if `cpu` has none.
    pub(crate) fn enable_cpu(self: &Arc<Self>, cpu: CpuId) -> Result<NapiCpuEnabled> {
        let slot = self.slots.get(cpu.as_u32() as usize).ok_or(EINVAL)?;
        let napi = slot.napi.load(Relaxed);
        if napi.is_null() {
            return Err(EINVAL);
        }
        if slot.enabled.swap(true, Relaxed) {
            return Err(EBUSY);
        }
        // SAFETY: A live context (type invariant), disabled: `enabled` was clear, and only
        // `NapiCpuEnabled` sets and clears it, disabling the context before it clears it.
        unsafe { sys::napi_enable(napi) };
        Ok(NapiCpuEnabled {
            consumer: self.clone(),
            cpu,
        })
    }

    /// Binds the NAPI thread of `cpu` to it and makes it `SCHED_FIFO`, so that scheduling its
    /// poll preempts a lower-priority task there at once. Only in threaded mode, for an
    /// online `cpu` (and again each time it comes back online: going offline unbinds it).
    pub(crate) fn pin_thread_fifo(&self, cpu: CpuId) -> Result {
        let napi = self
            .slots
            .get(cpu.as_u32() as usize)
            .map_or(ptr::null_mut(), |slot| slot.napi.load(Relaxed));
        if napi.is_null() {
            return Err(EINVAL);
        }
        // SAFETY: A live context (type invariant); process context.
        kernel::error::to_result(unsafe {
            sys::bhlock_napi_thread_pin_fifo(napi, cpu.as_u32() as c_int)
        })
    }

    /// Queues `items` for `cpu` and schedules its poll, as a device interrupt would.
    ///
    /// Called from hard-irq, or from process context with BH disabled; a disabled context
    /// ignores the schedule.
    pub(crate) fn schedule(&self, cpu: CpuId, items: u32) {
        let Some(slot) = self.slots.get(cpu.as_u32() as usize) else {
            return;
        };
        let napi = slot.napi.load(Relaxed);
        if napi.is_null() {
            return;
        }
        slot.pending.fetch_add(items, Relaxed);
        // SAFETY: A live context (type invariant); `napi_schedule()` works in any context.
        unsafe { sys::bhlock_napi_schedule(napi) };
    }
}

impl PollKick for NapiConsumer {
    fn polls_started(&self, cpu: CpuId) -> u64 {
        self.slots
            .get(cpu.as_u32() as usize)
            .map_or(0, |slot| slot.polls_started.load(Relaxed))
    }

    fn schedule(&self, cpu: CpuId, items: u32) {
        NapiConsumer::schedule(self, cpu, items)
    }
}

impl Drop for NapiConsumer {
    fn drop(&mut self) {
        for napi in self.napis() {
            // SAFETY: A live context, disabled: every `NapiCpuEnabled` holds a reference to
            // `self`, so they are all gone. Nothing uses the context afterwards.
            unsafe { sys::bhlock_napi_del(napi) };
        }
        // SAFETY: Every context of `dev` was deleted above.
        unsafe { sys::free_netdev(self.dev.as_ptr()) };
    }
}

/// The NAPI context of one CPU, enabled; dropping this disables it, waiting for a poll in
/// progress.
pub(crate) struct NapiCpuEnabled {
    consumer: Arc<NapiConsumer>,
    cpu: CpuId,
}

impl Drop for NapiCpuEnabled {
    fn drop(&mut self) {
        let slot = &self.consumer.slots[self.cpu.as_u32() as usize];
        // SAFETY: Enabled by `NapiConsumer::enable_cpu`, which made this object, and disabled
        // only here.
        unsafe { sys::napi_disable(slot.napi.load(Relaxed)) };
        slot.enabled.store(false, Relaxed);
    }
}

/// The NAPI poll: up to `budget` items through this CPU's cache, a guard acquisition per
/// batch of at most [`MAX_ROUND`].
///
/// # Safety
///
/// Only called by the NAPI core, for a context made by [`NapiConsumer::new`].
unsafe extern "C" fn poll(napi: *mut bindings::napi_struct, budget: c_int) -> c_int {
    // SAFETY: `napi` is one of ours, so its owner is its slot, alive until the context is
    // deleted, which waits for this poll.
    let slot = unsafe { &*sys::bhlock_napi_owner(napi).cast::<NapiSlot>().cast_const() };
    let core = &*slot.core;
    slot.polls_started.fetch_add(1, Relaxed);
    let Ok(budget) = u32::try_from(budget) else {
        return 0;
    };
    if shim::bhlock_in_serving_softirq() {
        core.stats.event(Event::NapiSoftirqPolls, 1);
    } else {
        core.stats.event(Event::NapiThreadPolls, 1);
    }
    if !shim::bhlock_bh_disabled() {
        core.stats.violation(Context::Napi, Violation::NotInBh);
        return 0;
    }
    // SAFETY: A NAPI poll runs with BH disabled for its whole duration, in NET_RX softirq or
    // in the NAPI thread's `local_bh_disable()` section (checked just above), and never in
    // hard-irq.
    let bh: &LocalBhDisabled = unsafe { LocalBhDisabled::assume_disabled() };

    let pending = slot.pending.load(Relaxed);
    let work = pending.min(budget);
    let mut done = 0;
    while done < work {
        let n = (work - done).min(MAX_ROUND as u32);
        // The tag tells this poll's buffers from those of other contexts.
        slot.ops
            .round(core, Context::Napi, bh, n as usize, 0x4e00_0000 | done);
        done += n;
    }
    slot.pending.fetch_sub(work, Relaxed);
    core.stats.event(Event::NapiItems, u64::from(work));
    if work < budget {
        // SAFETY: Our own poll, below its budget.
        unsafe { sys::napi_complete_done(napi, work as c_int) };
    } else {
        core.stats.event(Event::NapiBudgetExhausted, 1);
    }
    work as c_int
}
