// SPDX-License-Identifier: GPL-2.0

//! What every context of a run shares: the parameters, the per-CPU cache behind its
//! nested-BH lock, and the counters.

use core::sync::atomic::{AtomicI64, Ordering::Relaxed};
use kernel::{
    prelude::*,
    time::{Instant, Monotonic},
};

use crate::{
    bh::BhDisabled,
    item_cache::ItemCache,
    local_lock_nested_bh::LocalLockNestedBh,
    new_local_lock_nested_bh,
    params::Params,
    stats::{Context, Event, Stats, Violation},
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
    /// The other locks of the workloads.
    pub(crate) locks: WorkloadLocks,
    pub(crate) stats: Stats,
    pub(crate) started: Instant<Monotonic>,
    /// Milliseconds from the start to the first cache fault, or -1.
    pub(crate) first_cache_fault_ms: AtomicI64,
}

impl Core {
    /// A full cache on every possible CPU and zeroed counters.
    pub(crate) fn new(params: Params, plan: Plan) -> Result<Self> {
        Ok(Self {
            params,
            plan,
            cache: new_local_lock_nested_bh!(|_cpu| Ok(ItemCache::new()), "bhlock_item_cache")?,
            locks: WorkloadLocks::new()?,
            stats: Stats::new()?,
            started: Instant::now(),
            first_cache_fault_ms: AtomicI64::new(-1),
        })
    }

    /// One acquisition of this CPU's cache by `context`: check every invariant, send `n`
    /// buffers round, count the operation and anything found wrong.
    ///
    /// A corrupt cache is rebuilt after it is counted, so one fault is not counted again by
    /// every later acquisition.
    pub(crate) fn cache_round(&self, context: Context, bh: &mut BhDisabled, n: usize, tag: u32) {
        if self.params.busted {
            return self.cache_round_busted(context, bh, n, tag);
        }
        let contended = self.cache.held_by_other_task(bh);
        let Some(mut cache) = self.cache.lock(bh) else {
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
        self.work_on(&mut cache, context, n, tag);
    }

    /// The `busted` negative control: [`Core::cache_round`] without the nested-BH lock.
    fn cache_round_busted(&self, context: Context, bh: &mut BhDisabled, n: usize, tag: u32) {
        // SAFETY: Deliberately broken, on request only: without the lock, on PREEMPT_RT without
        // the BH lock another context of this CPU can be inside the same cache, which is the
        // race the invariant checks must catch. The cache holds only plain integers, so a torn
        // update corrupts nothing but the cache itself, which is rebuilt on every fault.
        let cache = unsafe { &mut *self.cache.this_cpu_unlocked(bh) };
        self.work_on(cache, context, n, tag);
    }

    /// One acquisition's work on `cache`: check every invariant, send `n` buffers round,
    /// count the operation and any fault.
    pub(crate) fn work_on(&self, cache: &mut ItemCache, context: Context, n: usize, tag: u32) {
        if let Err(fault) = cache.check().and_then(|()| cache.round(n, tag)) {
            let ms = self.started.elapsed().as_millis();
            let _ = self
                .first_cache_fault_ms
                .compare_exchange(-1, ms, Relaxed, Relaxed);
            self.stats.violation(context, Violation::Cache(fault));
            *cache = ItemCache::new();
        }
        self.stats.op(context);
    }
}
