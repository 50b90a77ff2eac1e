// SPDX-License-Identifier: GPL-2.0

//! What every context of a run shares: the parameters, the per-CPU cache behind its
//! nested-BH lock, and the counters.

use kernel::prelude::*;

use crate::{
    bh::BhDisabled,
    item_cache::ItemCache,
    local_lock_nested_bh::LocalLockNestedBh,
    new_local_lock_nested_bh,
    params::Params,
    stats::{Context, Event, Stats, Violation},
};

/// Whether the kernel serialises all BH-disabled sections of a CPU by itself: always on
/// !PREEMPT_RT (they are not preemptible), on PREEMPT_RT only with the softirq BH lock.
pub(crate) const BH_SECTIONS_SERIALISED: bool =
    !cfg!(CONFIG_PREEMPT_RT) || cfg!(CONFIG_PREEMPT_RT_NEEDS_BH_LOCK);

/// The state shared by the contexts of one run.
pub(crate) struct Core {
    pub(crate) params: Params,
    pub(crate) cache: LocalLockNestedBh<ItemCache>,
    pub(crate) stats: Stats,
}

impl Core {
    /// A full cache on every possible CPU and zeroed counters.
    pub(crate) fn new(params: Params) -> Result<Self> {
        Ok(Self {
            params,
            cache: new_local_lock_nested_bh!(|_cpu| Ok(ItemCache::new()), "bhlock_item_cache")?,
            stats: Stats::new()?,
        })
    }

    /// One acquisition of this CPU's cache by `context`: check every invariant, send `n`
    /// buffers round, count the operation and anything found wrong.
    ///
    /// A corrupt cache is rebuilt after it is counted, so one fault is not counted again by
    /// every later acquisition.
    pub(crate) fn cache_round(&self, context: Context, bh: &mut BhDisabled, n: usize, tag: u32) {
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
        let result = cache.check().and_then(|()| cache.round(n, tag));
        if let Err(fault) = result {
            self.stats.violation(context, Violation::Cache(fault));
            *cache = ItemCache::new();
        }
        drop(cache);
        self.stats.op(context);
    }
}
