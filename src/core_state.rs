// SPDX-License-Identifier: GPL-2.0

//! What every context of a run shares: the parameters, the per-CPU cache behind its
//! nested-BH lock, and the counters.

use core::sync::atomic::{AtomicI64, AtomicU64, AtomicU8, Ordering::Relaxed};
use kernel::{
    prelude::*,
    time::{Instant, Monotonic},
};

use crate::{
    item_cache::{CacheFault, ItemCache},
    new_local_lock_nested_bh,
    params::Params,
    stats::{Context, Event, Stats, Violation, CONTEXTS},
    sync::bh::LocalBhDisabled,
    sync::local_lock_nested_bh::LocalLockNestedBh,
    unlocked_cache::UnlockedCaches,
    workload::{Plan, WorkloadLocks},
};

/// Whether the kernel serialises all BH-disabled sections of a CPU by itself: always on
/// !PREEMPT_RT (they are not preemptible), on PREEMPT_RT only with the softirq BH lock.
pub(crate) const BH_SECTIONS_SERIALISED: bool =
    !cfg!(CONFIG_PREEMPT_RT) || cfg!(CONFIG_PREEMPT_RT_NEEDS_BH_LOCK);

/// The state shared by the contexts of one run.
pub(crate) struct Core {
    pub(crate) params: Params,
    /// Which contexts run and what they do.
    pub(crate) plan: Plan,
    pub(crate) cache: LocalLockNestedBh<ItemCache>,
    /// The `busted` control's caches, which every cache round uses instead of `cache`.
    unlocked: Option<UnlockedCaches>,
    /// The other locks of the workloads.
    pub(crate) locks: WorkloadLocks,
    pub(crate) stats: Stats,
    pub(crate) started: Instant<Monotonic>,
    /// Milliseconds from the start to the first cache fault, or -1.
    pub(crate) first_cache_fault_ms: AtomicI64,
    /// The forced round ([`crate::forced`]) that was under way at the first cache fault,
    /// counting from 1.
    pub(crate) first_cache_fault_round: AtomicU64,
    /// The context that found the first cache fault.
    first_cache_fault_by: AtomicU8,
}

impl Core {
    /// A full cache on every possible CPU and zeroed counters.
    pub(crate) fn new(params: Params, plan: Plan) -> Result<Self> {
        Ok(Self {
            params,
            plan,
            cache: new_local_lock_nested_bh!(|_cpu| Ok(ItemCache::new()), "bhlock_item_cache")?,
            unlocked: if params.busted {
                Some(UnlockedCaches::new()?)
            } else {
                None
            },
            locks: WorkloadLocks::new()?,
            stats: Stats::new()?,
            started: Instant::now(),
            first_cache_fault_ms: AtomicI64::new(-1),
            first_cache_fault_round: AtomicU64::new(0),
            first_cache_fault_by: AtomicU8::new(0),
        })
    }

    /// The context that found the first cache fault, if there was one.
    pub(crate) fn first_cache_fault_by(&self) -> Option<Context> {
        if self.first_cache_fault_ms.load(Relaxed) < 0 {
            return None;
        }
        CONTEXTS
            .get(usize::from(self.first_cache_fault_by.load(Relaxed)))
            .copied()
    }

    /// One acquisition of this CPU's cache by `context`: check every invariant, send `n`
    /// buffers round, count the operation and anything found wrong.
    pub(crate) fn cache_round(&self, context: Context, bh: &LocalBhDisabled, n: usize, tag: u32) {
        self.cache_round_with(context, bh, n, tag, || ())
    }

    /// [`Core::cache_round`], calling `inside` in the middle of the round, with the cache
    /// held and buffers out.
    ///
    /// With `busted`, the same round runs on the unlocked caches instead: what the nested-BH
    /// lock prevents.
    pub(crate) fn cache_round_with(
        &self,
        context: Context,
        bh: &LocalBhDisabled,
        n: usize,
        tag: u32,
        inside: impl FnOnce(),
    ) {
        if let Some(unlocked) = &self.unlocked {
            return self.work_on_with(unlocked.this_cpu(), context, n, tag, inside);
        }
        let contended = self.cache.held_by_other_task(bh);
        let Some(cache) = self.cache.lock(bh) else {
            self.stats.violation(context, Violation::LockRefused);
            return;
        };
        if contended {
            self.stats.event(Event::Contended, 1);
            if BH_SECTIONS_SERIALISED {
                self.stats
                    .violation(context, Violation::ContendedUnderBhLock);
            }
        }
        self.work_on_with(&cache, context, n, tag, inside);
    }

    /// One acquisition's work on `cache`: check every invariant, send `n` buffers round,
    /// count the operation and any fault.
    pub(crate) fn work_on(&self, cache: &ItemCache, context: Context, n: usize, tag: u32) {
        self.work_on_with(cache, context, n, tag, || ())
    }

    /// [`Core::work_on`], calling `inside` in the middle of the round: exactly once, even
    /// when the check before the round finds the cache corrupt (the forced interleaving waits
    /// for what `inside` starts).
    ///
    /// A corrupt cache is rebuilt after it is counted, so one fault is not counted again by
    /// every later acquisition.
    fn work_on_with(
        &self,
        cache: &ItemCache,
        context: Context,
        n: usize,
        tag: u32,
        inside: impl FnOnce(),
    ) {
        let result = match cache.check() {
            Ok(()) => cache.round_with(n, tag, inside),
            Err(fault) => {
                inside();
                Err(fault)
            }
        };
        if let Err(fault) = result {
            let ms = self.started.elapsed().as_millis();
            if self
                .first_cache_fault_ms
                .compare_exchange(-1, ms, Relaxed, Relaxed)
                .is_ok()
            {
                let round = self.stats.event_count(Event::ForcedRounds) + 1;
                self.first_cache_fault_round.store(round, Relaxed);
                self.first_cache_fault_by.store(context as u8, Relaxed);
            }
            if fault == CacheFault::Overlapped {
                // This round wrote back its own count over the one inside it.
                self.stats.event(Event::LostUpdates, 1);
            }
            self.stats.violation(context, Violation::Cache(fault));
            cache.reset();
        }
        self.stats.op(context);
    }
}
