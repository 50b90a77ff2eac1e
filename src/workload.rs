// SPDX-License-Identifier: GPL-2.0

//! What the contexts of a run do with their locks: the torture's cache rounds, or one of the
//! lock patterns of the scenario table ([`crate::scenario`]).
//!
//! Every workload ends in the same cache round ([`Core::work_on`]), so the cache checks watch
//! each pattern as they watch the torture.

use kernel::{
    bindings, cpu::CpuId, new_spinlock, prelude::*, static_lock_class, sync::SpinLock,
    time::Instant, types::Opaque,
};

use crate::{
    core_state::{Core, BH_SECTIONS_SERIALISED},
    napi::NapiConsumer,
    shim,
    stats::{Context, Event, Violation, CONTEXTS},
    sync::bh::{local_bh_disable, LocalBhDisabled},
};

/// How a context uses its locks on each acquisition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Workload {
    /// One nested-BH guard per cache round: the torture.
    Torture,
    /// The cache guard and a second nested-BH guard (its own BH token, one `local_bh_disable()`
    /// deeper), released in LIFO order.
    LifoPair,
    /// The nested-BH guard, a `spinlock_t` and a raw spinlock, taken in that order and released
    /// first-in first-out: every release but the last is not the innermost lock, which drives
    /// lockdep's non-nested `lock_release()` path.
    NonLifo,
    /// Threads only: the nested-BH guard inside `spin_lock_bh()` instead of
    /// `local_bh_disable()`.
    InSpinLockBh,
    /// Threads only: the nested-BH guard at `local_bh_disable()` depth 2, then again at depth 1.
    BhDepth2,
    /// Both nested-BH guards held across a `?` that returns early; both must be free after it.
    EarlyReturn,
    /// Threads only, threaded NAPI: hold the cache and schedule this CPU's NAPI thread (FIFO,
    /// bound here) until it is seen blocking on the lock, which on PREEMPT_RT without the BH
    /// lock exercises the rt_mutex unlock and priority-inheritance path.
    HoldForWaiter,
}

/// Which contexts a run starts, and what they do.
#[derive(Clone, Copy)]
pub(crate) struct Plan {
    contexts: [bool; CONTEXTS.len()],
    pub(crate) workload: Workload,
}

impl Plan {
    /// Every context, doing the torture: what `start` and `duration` run.
    pub(crate) const TORTURE: Plan = Plan::new(&CONTEXTS, Workload::Torture);

    /// Runs `contexts` with `workload`. The hard-irq timer is what schedules NAPI, so a plan
    /// with NAPI must name it too.
    pub(crate) const fn new(contexts: &[Context], workload: Workload) -> Self {
        let mut on = [false; CONTEXTS.len()];
        let mut i = 0;
        while i < contexts.len() {
            on[contexts[i] as usize] = true;
            i += 1;
        }
        Self {
            contexts: on,
            workload,
        }
    }

    /// Whether the run starts `context`.
    pub(crate) fn runs(&self, context: Context) -> bool {
        self.contexts[context as usize]
    }
}

/// The C locks of the workloads that Rust has no type for: a raw spinlock, and a `spinlock_t`
/// to take with `spin_lock_bh()`.
#[pin_data]
pub(crate) struct ShimLocks {
    #[pin]
    raw: Opaque<bindings::raw_spinlock>,
    #[pin]
    bh_spin: Opaque<bindings::spinlock_t>,
}

// SAFETY: Both are kernel locks, made to be taken from any task and CPU; they are only used
// through their C functions.
unsafe impl Send for ShimLocks {}
// SAFETY: As above.
unsafe impl Sync for ShimLocks {}

impl ShimLocks {
    /// Both locks, each with a lockdep class of its own.
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            // SAFETY: `slot` is valid for writes and not in use; the name and key are static.
            raw <- Opaque::ffi_init(|slot| unsafe {
                shim::bhlock_raw_spin_lock_init(
                    slot,
                    c"bhlock_nonlifo_raw_lock".as_char_ptr(),
                    static_lock_class!().as_ptr(),
                )
            }),
            // SAFETY: As above.
            bh_spin <- Opaque::ffi_init(|slot| unsafe {
                shim::bhlock_spin_lock_init(
                    slot,
                    c"bhlock_spin_lock_bh".as_char_ptr(),
                    static_lock_class!().as_ptr(),
                )
            }),
        })
    }
}

/// The locks the workloads take besides the cache.
pub(crate) struct WorkloadLocks {
    /// The second nested-BH lock of [`Workload::LifoPair`] and [`Workload::EarlyReturn`].
    pub(crate) second: crate::sync::local_lock_nested_bh::LocalLockNestedBh<u64>,
    /// The `spinlock_t` of [`Workload::NonLifo`].
    spin: Pin<KBox<SpinLock<u64>>>,
    shim: Pin<KBox<ShimLocks>>,
}

impl WorkloadLocks {
    /// Allocates and initialises them.
    pub(crate) fn new() -> Result<Self> {
        Ok(Self {
            second: crate::new_local_lock_nested_bh!(|_cpu| Ok(0u64), "bhlock_second")?,
            spin: KBox::pin_init(new_spinlock!(0u64, "bhlock_nonlifo_spinlock"), GFP_KERNEL)?,
            shim: KBox::pin_init(ShimLocks::new(), GFP_KERNEL)?,
        })
    }
}

/// Why [`Core::early_return`] left early; it always does.
struct EarlyOut;

/// How long [`Workload::HoldForWaiter`] holds the cache waiting for the NAPI thread.
const WAITER_TIMEOUT_US: i64 = 10_000;

impl Core {
    /// One acquisition by a context that already has BH disabled, as the workload says.
    pub(crate) fn round_in_bh(&self, context: Context, bh: &LocalBhDisabled, n: usize, tag: u32) {
        match self.plan.workload {
            Workload::LifoPair => self.lifo_pair(context, bh, n, tag),
            Workload::NonLifo => self.non_lifo(context, bh, n, tag),
            Workload::EarlyReturn => {
                let Ok(inner) = local_bh_disable() else {
                    return self.stats.violation(context, Violation::BhDisableRefused);
                };
                if self.early_return(context, bh, &inner, n, tag).is_err() {
                    self.stats.event(Event::EarlyReturns, 1);
                }
                // Both guards must be gone: locking each again must work.
                let relocked =
                    self.cache.lock(bh).is_some() && self.locks.second.lock(&inner).is_some();
                if !relocked {
                    self.stats.violation(context, Violation::GuardNotReleased);
                }
            }
            _ => self.cache_round(context, bh, n, tag),
        }
    }

    /// One BH section of a process-context thread on `cpu`, as the workload says.
    pub(crate) fn thread_section(&self, napi: &NapiConsumer, cpu: CpuId, section: u32) {
        const ROUNDS: u32 = 8;
        const ITEMS: usize = 16;
        let tag = 0x7000_0000 | (section << 4);
        match self.plan.workload {
            Workload::InSpinLockBh => {
                let lock = self.locks.shim.bh_spin.get();
                // SAFETY: The lock is initialised and released below, in this task.
                unsafe { shim::bhlock_spin_lock_bh(lock) };
                {
                    // SAFETY: `spin_lock_bh()` disabled BH, and it stays disabled until the
                    // unlock below, after the last use of the token.
                    let bh = unsafe { LocalBhDisabled::assume_disabled() };
                    self.cache_round(Context::Threads, bh, ITEMS, tag);
                }
                self.stats.event(Event::SpinLockBhSections, 1);
                // SAFETY: Taken above; the token's last use is over.
                unsafe { shim::bhlock_spin_unlock_bh(lock) };
            }
            Workload::BhDepth2 => {
                let (Ok(outer), Ok(inner)) = (local_bh_disable(), local_bh_disable()) else {
                    return self
                        .stats
                        .violation(Context::Threads, Violation::BhDisableRefused);
                };
                self.cache_round(Context::Threads, &inner, ITEMS, tag);
                drop(inner);
                self.cache_round(Context::Threads, &outer, ITEMS, tag | 1);
                self.stats.event(Event::Depth2Sections, 1);
            }
            Workload::HoldForWaiter => self.hold_for_waiter(napi, cpu, tag),
            _ => {
                let Ok(bh) = local_bh_disable() else {
                    return self
                        .stats
                        .violation(Context::Threads, Violation::BhDisableRefused);
                };
                for round in 0..ROUNDS {
                    self.round_in_bh(Context::Threads, &bh, ITEMS, tag | round);
                }
            }
        }
    }

    fn lifo_pair(&self, context: Context, bh: &LocalBhDisabled, n: usize, tag: u32) {
        let Ok(inner) = local_bh_disable() else {
            return self.stats.violation(context, Violation::BhDisableRefused);
        };
        let (Some(cache), Some(mut second)) = (self.cache.lock(bh), self.locks.second.lock(&inner))
        else {
            return self.stats.violation(context, Violation::LockRefused);
        };
        *second += 1;
        self.work_on(&cache, context, n, tag);
        // LIFO: the inner lock first, then the outer, then the inner BH section.
        drop(second);
        drop(cache);
        drop(inner);
        self.stats.event(Event::LifoPairs, 1);
    }

    fn non_lifo(&self, context: Context, bh: &LocalBhDisabled, n: usize, tag: u32) {
        let Some(cache) = self.cache.lock(bh) else {
            return self.stats.violation(context, Violation::LockRefused);
        };
        let mut spin = self.locks.spin.lock();
        let raw = self.locks.shim.raw.get();
        // SAFETY: The lock is initialised, never taken in hard-irq (its class is its own), and
        // released below in this context.
        unsafe { shim::bhlock_raw_spin_lock(raw) };
        *spin += 1;
        self.work_on(&cache, context, n, tag);
        // First in, first out: the nested-BH lock while two locks sit above it, then the
        // spinlock_t under the raw spinlock, then the raw spinlock.
        drop(cache);
        drop(spin);
        // SAFETY: Taken above.
        unsafe { shim::bhlock_raw_spin_unlock(raw) };
        self.stats.event(Event::NonLifoReleases, 2);
    }

    /// Takes both nested-BH guards and leaves through `?` with both held.
    fn early_return(
        &self,
        context: Context,
        outer: &LocalBhDisabled,
        inner: &LocalBhDisabled,
        n: usize,
        tag: u32,
    ) -> Result<(), EarlyOut> {
        let cache = self.cache.lock(outer).ok_or(EarlyOut)?;
        let mut second = self.locks.second.lock(inner).ok_or(EarlyOut)?;
        *second += 1;
        self.work_on(&cache, context, n, tag);
        leave_early(tag)?;
        *second += 1;
        Ok(())
    }

    /// Holds this CPU's cache, schedules the NAPI poll of this CPU and waits, still holding,
    /// until the poll has started (and so blocks on the cache) or the timeout passes.
    fn hold_for_waiter(&self, napi: &NapiConsumer, cpu: CpuId, tag: u32) {
        let Ok(bh) = local_bh_disable() else {
            return self
                .stats
                .violation(Context::Threads, Violation::BhDisableRefused);
        };
        let Some(cache) = self.cache.lock(&bh) else {
            return self
                .stats
                .violation(Context::Threads, Violation::LockRefused);
        };
        self.work_on(&cache, Context::Threads, 16, tag);
        let before = napi.polls_started(cpu);
        napi.schedule(cpu, self.params.napi_budget);
        let start = Instant::<kernel::time::Monotonic>::now();
        let mut seen = false;
        while start.elapsed().as_micros_ceil() < WAITER_TIMEOUT_US {
            if napi.polls_started(cpu) != before {
                seen = true;
                break;
            }
            core::hint::spin_loop();
        }
        if seen {
            self.stats.event(Event::WaiterSeen, 1);
        }
        // Boosted by whatever the NAPI thread waits on: this lock on PREEMPT_RT, the BH lock
        // with PREEMPT_RT_NEEDS_BH_LOCK (where its poll never starts), nothing on !RT.
        // SAFETY: Always safe to call.
        if unsafe { shim::bhlock_current_boosted() } {
            self.stats.event(Event::HolderBoosted, 1);
        }
        // With a waiter, this is the rt_mutex slow unlock: wake the waiter, undo the boost.
        drop(cache);
    }

    /// The checks only the end of a run can make.
    pub(crate) fn final_checks(&self) {
        // Where BH sections are serialised, the poll cannot get into its section while the
        // thread holds BH, and if it ever found the cache held, `cache_round` has counted that
        // as a violation already. Without serialisation a waiter must have been seen, made
        // the holder inherit its priority, and found the cache held.
        let seen = |event| self.stats.event_count(event) != 0;
        if self.plan.workload == Workload::HoldForWaiter
            && !BH_SECTIONS_SERIALISED
            && !(seen(Event::WaiterSeen) && seen(Event::HolderBoosted) && seen(Event::Contended))
        {
            self.stats
                .violation(Context::Threads, Violation::NoBoostedWaiter);
        }
    }
}

/// Three rounds in four leave early (through `?`, with both guards held), the fourth runs to
/// the end, so both ways out of [`Core::early_return`] are taken.
fn leave_early(tag: u32) -> Result<(), EarlyOut> {
    if tag % 4 == 3 {
        Ok(())
    } else {
        Err(EarlyOut)
    }
}
