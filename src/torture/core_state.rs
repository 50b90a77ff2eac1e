// SPDX-License-Identifier: GPL-2.0

//! What every context of a run shares: the parameters, the per-CPU cache behind its
//! nested-BH lock, the other locks, the counters; and one checked round on one cache, which
//! every entry of the ops table ends in.

use core::{
    any::Any,
    sync::atomic::{AtomicI64, AtomicU64, AtomicU8, Ordering::Relaxed},
};
use kernel::{
    prelude::*,
    time::{Instant, Monotonic},
};

use super::{
    item_cache::{CacheFault, ItemCache},
    params::Params,
    pattern_locks::PatternLocks,
    stats::{Context, Event, Stats, Violation, CONTEXTS},
    unlocked_cache::UnlockedCaches,
};
use crate::{
    new_local_lock_nested_bh,
    services::kprobe::KProbe,
    sync::{
        bh::LocalBhDisabled,
        local_lock_nested_bh::{LocalLockNestedBh, LocalLockNestedBhGuard},
    },
};

/// One round by a context that has BH disabled: `n` buffers with `tag`; `inside` runs once in
/// the middle of the round, with the cache held and buffers out.
pub(crate) type RoundFn = fn(&Core, Context, &LocalBhDisabled, usize, u32, &mut dyn FnMut());

/// Whether the kernel serialises all BH-disabled sections of a CPU by itself: always on
/// !PREEMPT_RT (they are not preemptible), on PREEMPT_RT only with the softirq BH lock.
pub(crate) const BH_SECTIONS_SERIALISED: bool =
    !cfg!(CONFIG_PREEMPT_RT) || cfg!(CONFIG_PREEMPT_RT_NEEDS_BH_LOCK);

/// The state shared by the contexts of one run.
#[pin_data]
pub(crate) struct Core {
    pub(crate) params: Params,
    pub(crate) cache: LocalLockNestedBh<ItemCache>,
    /// The caches without a lock that the `busted` entry of the ops table works on.
    pub(crate) unlocked: Option<UnlockedCaches>,
    /// What the rounds on a resource of the kernel work with, for the entries of the ops table
    /// that work on one (`KernelResource::new_state`); see [`Core::resource`].
    resource_state: Option<KBox<dyn Any + Send + Sync>>,
    /// The kprobe the forced pairs of a probed entry get inside the kernel's section with: one
    /// for the run, made here because registering takes the CPU hotplug lock, which the
    /// callbacks that start the pairs hold.
    pub(crate) probe: Option<KProbe>,
    /// The other locks of the lock patterns.
    pub(crate) locks: PatternLocks,
    pub(crate) stats: Stats,
    pub(crate) started: Instant<Monotonic>,
    /// Milliseconds from the start to the first cache fault, or -1.
    pub(crate) first_cache_fault_ms: AtomicI64,
    /// The forced round ([`super::forced`]) that was under way at the first cache fault,
    /// counting from 1.
    pub(crate) first_cache_fault_round: AtomicU64,
    /// The context that found the first cache fault.
    first_cache_fault_by: AtomicU8,
    /// Counts the starts and ends of CPU hotplug transitions during the run: odd while a CPU
    /// is between going offline and dead, or between coming up and online. Whatever the
    /// kernel does to the other CPUs meanwhile (stop_machine, migration) is not the
    /// schedule a context arranged.
    pub(crate) hotplug_transitions: AtomicU64,
}

impl Core {
    /// A full cache on every possible CPU, zeroed counters, the unlocked caches if
    /// `unlocked`, the state of a kernel resource's rounds if given, and a kprobe on
    /// `probe_symbol` if given, built where the state will live (it is too big for a stack
    /// frame). Process context, outside CPU hotplug callbacks.
    pub(crate) fn new(
        params: Params,
        unlocked: bool,
        resource_state: Option<KBox<dyn Any + Send + Sync>>,
        probe_symbol: Option<&'static CStr>,
    ) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            params,
            cache: new_local_lock_nested_bh!(|_cpu| ItemCache::new(), "bhlock_item_cache")?,
            unlocked: if unlocked {
                Some(UnlockedCaches::new()?)
            } else {
                None
            },
            resource_state,
            probe: probe_symbol.map(KProbe::new).transpose()?,
            locks: PatternLocks::new()?,
            stats <- Stats::new(),
            started: Instant::now(),
            first_cache_fault_ms: AtomicI64::new(-1),
            first_cache_fault_round: AtomicU64::new(0),
            first_cache_fault_by: AtomicU8::new(0),
            hotplug_transitions: AtomicU64::new(0),
        }? Error)
    }

    /// The state of the run's kernel resource, if the run has one of type `T`.
    pub(crate) fn resource<T: 'static>(&self) -> Option<&T> {
        self.resource_state.as_deref()?.downcast_ref()
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

    /// One acquisition's work on the cache that `guard` holds: check every invariant, send `n`
    /// buffers round with `tag`, count the operation and any fault. `inside` runs in the middle
    /// of the round, with buffers out: exactly once, even when the check before the round finds
    /// the cache corrupt (the forced interleaving waits for what `inside` starts).
    ///
    /// The check reads the cache through `&mut` ([`ItemCache::check_exclusive`]), and that
    /// borrow ends with it: the round, across `inside`, reads it shared and atomically, so that
    /// a guard that failed to exclude another context would give a lost update the round
    /// catches, not two `&mut` at once.
    ///
    /// A corrupt cache is rebuilt after it is counted, so one fault is not counted again by
    /// every later acquisition.
    #[inline]
    pub(crate) fn work_on(
        &self,
        guard: &mut LocalLockNestedBhGuard<'_, ItemCache>,
        context: Context,
        n: usize,
        tag: u32,
        inside: &mut dyn FnMut(),
    ) {
        let checked = guard.check_exclusive();
        self.work_on_checked(checked, guard, context, n, tag, inside);
    }

    /// [`Core::work_on`] for a cache without a lock, which other contexts race for: the
    /// `busted` control's.
    pub(crate) fn work_on_unlocked(
        &self,
        cache: &ItemCache,
        context: Context,
        n: usize,
        tag: u32,
        inside: &mut dyn FnMut(),
    ) {
        self.work_on_checked(cache.check(), cache, context, n, tag, inside);
    }

    /// The rest of [`Core::work_on`] once `checked` says what the check found.
    #[inline(always)]
    fn work_on_checked(
        &self,
        checked: Result<(), CacheFault>,
        cache: &ItemCache,
        context: Context,
        n: usize,
        tag: u32,
        inside: &mut dyn FnMut(),
    ) {
        let result = match checked {
            Ok(()) => cache.round_with(n, tag, inside),
            Err(fault) => {
                inside();
                Err(fault)
            }
        };
        if let Err(fault) = result {
            self.count_fault(context, fault);
            cache.reset();
        }
        self.stats.op(context);
    }

    /// Counts a cache fault found by `context`, and remembers the first one.
    #[cold]
    fn count_fault(&self, context: Context, fault: CacheFault) {
        self.note_first_fault(context);
        if fault == CacheFault::Overlapped {
            // This round wrote back its own count over the one inside it.
            self.stats.event(Event::LostUpdates, 1);
        }
        self.stats.violation(context, Violation::Cache(fault));
    }

    /// Counts a fault `context` found in a buffer of a kernel cache, and remembers the first
    /// fault of either kind.
    #[cold]
    pub(crate) fn count_kernel_fault(&self, context: Context, what: Violation) {
        self.note_first_fault(context);
        self.stats.violation(context, what);
    }

    /// Remembers when, in which forced round and by whom the first fault was found.
    fn note_first_fault(&self, context: Context) {
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
    }
}
