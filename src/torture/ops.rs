// SPDX-License-Identifier: GPL-2.0

//! The ops table: every way a run's contexts may work on the per-CPU cache, one entry each, in
//! the shape of locktorture's `struct lock_torture_ops` and `torture_ops[]`
//! (`kernel/locking/locktorture.c`).
//!
//! An entry says how one round takes this CPU's cache ([`Ops::round`]: under the nested-BH
//! lock, without it for the `busted` control, or inside one of the scenario table's lock
//! patterns), what a process-context thread's BH section does ([`Ops::thread_section`]), how
//! the hard-irq callback releases its raw spinlock ([`Ops::hard_release`], the two hard-irq
//! controls included) and what only the end of a run can check. Every round ends in the same
//! checked round ([`Core::work_on`]), so the cache checks watch each pattern as they watch the
//! torture. The contexts only ever call through an entry; none of them knows which it runs.

use kernel::{cpu::CpuId, prelude::*, time::Instant};

use super::{
    core_state::{Core, RoundFn, BH_SECTIONS_SERIALISED},
    probe_point::ProbePoint,
    resource::KernelResource,
    stats::{Context, Event, Violation},
};
use crate::{
    services::shim,
    sync::bh::{local_bh_disable, LocalBhDisabled},
};

/// What a thread section may ask of the NAPI consumer: schedule this CPU's poll, and see
/// whether it has begun. Implemented by the consumer, which sits above this table.
pub(crate) trait PollKick {
    /// How many polls have begun on `cpu`.
    fn polls_started(&self, cpu: CpuId) -> u64;
    /// Queues `items` for `cpu` and schedules its poll.
    fn schedule(&self, cpu: CpuId, items: u32);
}

/// One BH section of a process-context thread bound to `cpu`; the `u32` numbers the section.
pub(crate) type ThreadSectionFn = fn(&Ops, &Core, &dyn PollKick, CpuId, u32);

/// How the hard-irq callback releases the raw spinlock it takes (its `lockdep_map` is always
/// released properly).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum HardRelease {
    /// `raw_spin_unlock()`: interrupts must stay off across every release.
    Proper,
    /// Negative control: `raw_spin_unlock_irq()`, which enables interrupts; the check after
    /// the release must see it.
    UnlockIrq,
    /// Negative control: a proper release, then interrupts enabled for a moment inside the
    /// callback; the IRQ-window detector must see it.
    ThenIrqWindow,
}

/// One entry of the table.
pub(crate) struct Ops {
    /// The name in reports.
    pub(crate) name: &'static str,
    /// How one round takes the cache.
    pub(crate) round: RoundFn,
    /// What a process-context thread's BH section does.
    pub(crate) thread_section: ThreadSectionFn,
    /// How the hard-irq callback releases its raw spinlock.
    pub(crate) hard_release: HardRelease,
    /// The checks only the end of a run can make.
    pub(crate) final_check: fn(&Core),
    /// Whether the rounds work on the unlocked caches ([`Core::unlocked`]).
    pub(crate) unlocked: bool,
    /// Whether the NAPI polls must run in `SCHED_FIFO` NAPI threads bound to their CPU.
    pub(crate) fifo_napi_threads: bool,
    /// The resource of the kernel the rounds work on instead of bhlock's cache, if any: its
    /// state is made for the run ([`Core::resource`]), and the forced pairs get inside its BH
    /// section through its probe point instead of running [`Ops::round`].
    pub(crate) resource: Option<&'static KernelResource>,
}

/// The torture: every round under the nested-BH lock.
pub(crate) static LOCKED: Ops = Ops {
    name: "locked",
    round: locked_round,
    thread_section: bh_section,
    hard_release: HardRelease::Proper,
    final_check: |_| (),
    unlocked: false,
    fifo_napi_threads: false,
    resource: None,
};

/// Negative control of the lock itself: every round without it (locktorture's
/// `lock_busted_ops`). On PREEMPT_RT without the BH lock the cache checks must catch the race.
pub(crate) static BUSTED: Ops = Ops {
    name: "busted",
    round: busted_round,
    unlocked: true,
    ..LOCKED
};

/// Negative control of the hard-irq rules: interrupts enabled inside the callback.
pub(crate) static IRQS_ON_IN_HARDIRQ: Ops = Ops {
    name: "irqs_on_in_hardirq",
    hard_release: HardRelease::ThenIrqWindow,
    ..LOCKED
};

/// Negative control of the hard-irq rules: a release that enables interrupts.
pub(crate) static UNLOCK_IRQ_IN_HARDIRQ: Ops = Ops {
    name: "unlock_irq_in_hardirq",
    hard_release: HardRelease::UnlockIrq,
    ..LOCKED
};

/// The cache and a second nested-BH lock (its own BH token, one `local_bh_disable()` deeper),
/// released in LIFO order.
pub(crate) static LIFO_PAIR: Ops = Ops {
    name: "lifo_pair",
    round: lifo_pair,
    ..LOCKED
};

/// The cache, a `spinlock_t` and a raw spinlock, taken in that order and released first-in
/// first-out: every release but the last is not the innermost lock, which drives lockdep's
/// non-nested `lock_release()` path.
pub(crate) static NON_LIFO: Ops = Ops {
    name: "non_lifo",
    round: non_lifo,
    ..LOCKED
};

/// Both nested-BH guards held across a `?` that returns early; both must be free after it.
pub(crate) static EARLY_RETURN: Ops = Ops {
    name: "early_return",
    round: early_return_round,
    ..LOCKED
};

/// Threads take the cache inside `spin_lock_bh()` instead of `local_bh_disable()`.
pub(crate) static IN_SPIN_LOCK_BH: Ops = Ops {
    name: "in_spin_lock_bh",
    thread_section: in_spin_lock_bh,
    ..LOCKED
};

/// Threads take the cache at `local_bh_disable()` depth 2, then again at depth 1.
pub(crate) static BH_DEPTH2: Ops = Ops {
    name: "bh_depth2",
    thread_section: bh_depth2,
    ..LOCKED
};

/// Threads hold the cache and schedule their CPU's NAPI thread (FIFO, bound there) until it
/// is seen blocking on the lock, which on PREEMPT_RT without the BH lock exercises the
/// rt_mutex unlock and priority-inheritance path.
pub(crate) static HOLD_FOR_WAITER: Ops = Ops {
    name: "hold_for_waiter",
    thread_section: hold_for_waiter,
    final_check: boosted_waiter_seen,
    fifo_napi_threads: true,
    ..LOCKED
};

/// The entry `name` of a resource of the kernel, in place of bhlock's cache: its traffic in
/// every context, and forced pairs inside its BH section through its probe point. A run whose
/// forced pairs never got inside fails. A kernel without the resource's protection must fail
/// it where BH sections of a CPU interleave.
pub(crate) const fn kernel_resource(name: &'static str, resource: &'static KernelResource) -> Ops {
    Ops {
        name,
        round: resource.round,
        final_check: probe_hit,
        resource: Some(resource),
        ..LOCKED
    }
}

impl Ops {
    /// One round of this entry; see [`RoundFn`].
    #[inline]
    pub(crate) fn round(
        &self,
        core: &Core,
        context: Context,
        bh: &LocalBhDisabled,
        n: usize,
        tag: u32,
    ) {
        (self.round)(core, context, bh, n, tag, &mut || ())
    }

    /// How the forced pairs of this entry get inside a kernel function's BH section, if they do.
    pub(crate) fn probe(&self) -> Option<&'static ProbePoint> {
        self.resource.map(|r| &r.probe)
    }

    /// One thread section of this entry; see [`ThreadSectionFn`].
    pub(crate) fn thread_section(&self, core: &Core, napi: &dyn PollKick, cpu: CpuId, n: u32) {
        (self.thread_section)(self, core, napi, cpu, n)
    }
}

/// This CPU's cache under the nested-BH lock.
fn locked_round(
    core: &Core,
    context: Context,
    bh: &LocalBhDisabled,
    n: usize,
    tag: u32,
    inside: &mut dyn FnMut(),
) {
    let contended = core.cache.held_by_other_task(bh);
    let Some(mut cache) = core.cache.lock(bh) else {
        core.stats.violation(context, Violation::LockRefused);
        return;
    };
    if contended {
        core.stats.event(Event::Contended, 1);
        if BH_SECTIONS_SERIALISED {
            core.stats
                .violation(context, Violation::ContendedUnderBhLock);
        }
    }
    core.work_on(&mut cache, context, n, tag, inside);
}

/// This CPU's unlocked cache: what the nested-BH lock prevents.
fn busted_round(
    core: &Core,
    context: Context,
    _bh: &LocalBhDisabled,
    n: usize,
    tag: u32,
    inside: &mut dyn FnMut(),
) {
    match &core.unlocked {
        Some(unlocked) => core.work_on_unlocked(unlocked.this_cpu(), context, n, tag, inside),
        // `Ops::unlocked` makes the run allocate them; without them, say so.
        None => core.stats.violation(context, Violation::LockRefused),
    }
}

fn lifo_pair(
    core: &Core,
    context: Context,
    bh: &LocalBhDisabled,
    n: usize,
    tag: u32,
    inside: &mut dyn FnMut(),
) {
    let Ok(inner) = local_bh_disable() else {
        return core.stats.violation(context, Violation::BhDisableRefused);
    };
    let (Some(mut cache), Some(mut second)) = (core.cache.lock(bh), core.locks.second.lock(&inner))
    else {
        return core.stats.violation(context, Violation::LockRefused);
    };
    *second += 1;
    core.work_on(&mut cache, context, n, tag, inside);
    // LIFO: the inner lock first, then the outer, then the inner BH section.
    drop(second);
    drop(cache);
    drop(inner);
    core.stats.event(Event::LifoPairs, 1);
}

fn non_lifo(
    core: &Core,
    context: Context,
    bh: &LocalBhDisabled,
    n: usize,
    tag: u32,
    inside: &mut dyn FnMut(),
) {
    let Some(mut cache) = core.cache.lock(bh) else {
        return core.stats.violation(context, Violation::LockRefused);
    };
    let mut spin = core.locks.spin.lock();
    let raw = core.locks.shim.raw.get();
    // SAFETY: The lock is initialised, never taken in hard-irq (its class is its own), and
    // released below in this context.
    unsafe { shim::bhlock_raw_spin_lock(raw) };
    *spin += 1;
    core.work_on(&mut cache, context, n, tag, inside);
    // First in, first out: the nested-BH lock while two locks sit above it, then the
    // spinlock_t under the raw spinlock, then the raw spinlock.
    drop(cache);
    drop(spin);
    // SAFETY: Taken above.
    unsafe { shim::bhlock_raw_spin_unlock(raw) };
    core.stats.event(Event::NonLifoReleases, 2);
}

/// Why [`early_return`] left early; it always does.
struct EarlyOut;

fn early_return_round(
    core: &Core,
    context: Context,
    bh: &LocalBhDisabled,
    n: usize,
    tag: u32,
    inside: &mut dyn FnMut(),
) {
    let Ok(inner) = local_bh_disable() else {
        return core.stats.violation(context, Violation::BhDisableRefused);
    };
    if early_return(core, context, bh, &inner, n, tag, inside).is_err() {
        core.stats.event(Event::EarlyReturns, 1);
    }
    // Both guards must be gone: locking each again must work.
    let relocked = core.cache.lock(bh).is_some() && core.locks.second.lock(&inner).is_some();
    if !relocked {
        core.stats.violation(context, Violation::GuardNotReleased);
    }
}

/// Takes both nested-BH guards and leaves through `?` with both held. Three rounds in four
/// leave early, the fourth runs to the end, so both ways out are taken.
fn early_return(
    core: &Core,
    context: Context,
    outer: &LocalBhDisabled,
    inner: &LocalBhDisabled,
    n: usize,
    tag: u32,
    inside: &mut dyn FnMut(),
) -> Result<(), EarlyOut> {
    let mut cache = core.cache.lock(outer).ok_or(EarlyOut)?;
    let mut second = core.locks.second.lock(inner).ok_or(EarlyOut)?;
    *second += 1;
    core.work_on(&mut cache, context, n, tag, inside);
    if tag % 4 != 3 {
        Err(EarlyOut)?;
    }
    *second += 1;
    Ok(())
}

/// Rounds per thread section, and buffers per round.
const THREAD_ROUNDS: u32 = 8;
const THREAD_ITEMS: usize = 16;

/// The tag of a thread section's rounds.
fn thread_tag(section: u32) -> u32 {
    0x7000_0000 | (section << 4)
}

/// `local_bh_disable()`, then [`THREAD_ROUNDS`] rounds of the entry.
fn bh_section(ops: &Ops, core: &Core, _napi: &dyn PollKick, _cpu: CpuId, section: u32) {
    let Ok(bh) = local_bh_disable() else {
        return core
            .stats
            .violation(Context::Threads, Violation::BhDisableRefused);
    };
    for round in 0..THREAD_ROUNDS {
        ops.round(
            core,
            Context::Threads,
            &bh,
            THREAD_ITEMS,
            thread_tag(section) | round,
        );
    }
}

fn in_spin_lock_bh(ops: &Ops, core: &Core, _napi: &dyn PollKick, _cpu: CpuId, section: u32) {
    let lock = core.locks.shim.bh_spin.get();
    // SAFETY: The lock is initialised and released below, in this task.
    unsafe { shim::bhlock_spin_lock_bh(lock) };
    {
        // SAFETY: `spin_lock_bh()` disabled BH, and it stays disabled until the unlock below,
        // after the last use of the token.
        let bh = unsafe { LocalBhDisabled::assume_disabled() };
        ops.round(
            core,
            Context::Threads,
            bh,
            THREAD_ITEMS,
            thread_tag(section),
        );
    }
    core.stats.event(Event::SpinLockBhSections, 1);
    // SAFETY: Taken above; the token's last use is over.
    unsafe { shim::bhlock_spin_unlock_bh(lock) };
}

fn bh_depth2(ops: &Ops, core: &Core, _napi: &dyn PollKick, _cpu: CpuId, section: u32) {
    let (Ok(outer), Ok(inner)) = (local_bh_disable(), local_bh_disable()) else {
        return core
            .stats
            .violation(Context::Threads, Violation::BhDisableRefused);
    };
    let tag = thread_tag(section);
    ops.round(core, Context::Threads, &inner, THREAD_ITEMS, tag);
    drop(inner);
    ops.round(core, Context::Threads, &outer, THREAD_ITEMS, tag | 1);
    core.stats.event(Event::Depth2Sections, 1);
}

/// How long [`hold_for_waiter`] holds the cache waiting for the NAPI thread.
const WAITER_TIMEOUT_US: i64 = 10_000;

/// Holds this CPU's cache, schedules the NAPI poll of this CPU and waits, still holding, until
/// the poll has started (and so blocks on the cache) or the timeout passes.
fn hold_for_waiter(_ops: &Ops, core: &Core, napi: &dyn PollKick, cpu: CpuId, section: u32) {
    let Ok(bh) = local_bh_disable() else {
        return core
            .stats
            .violation(Context::Threads, Violation::BhDisableRefused);
    };
    let Some(mut cache) = core.cache.lock(&bh) else {
        return core
            .stats
            .violation(Context::Threads, Violation::LockRefused);
    };
    core.work_on(
        &mut cache,
        Context::Threads,
        THREAD_ITEMS,
        thread_tag(section),
        &mut || (),
    );
    let before = napi.polls_started(cpu);
    napi.schedule(cpu, core.params.napi_budget);
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
        core.stats.event(Event::WaiterSeen, 1);
    }
    // Boosted by whatever the NAPI thread waits on: this lock on PREEMPT_RT, the BH lock with
    // PREEMPT_RT_NEEDS_BH_LOCK (where its poll never starts), nothing on !RT.
    if shim::bhlock_current_boosted() {
        core.stats.event(Event::HolderBoosted, 1);
    }
    // With a waiter, this is the rt_mutex slow unlock: wake the waiter, undo the boost.
    drop(cache);
}

/// Where BH sections are serialised, the poll cannot get into its section while the thread
/// holds BH, and if it ever found the cache held, the round has counted that as a violation
/// already. Without serialisation a waiter must have been seen, made the holder inherit its
/// priority, and found the cache held.
fn boosted_waiter_seen(core: &Core) {
    let seen = |event| core.stats.event_count(event) != 0;
    if !BH_SECTIONS_SERIALISED
        && !(seen(Event::WaiterSeen) && seen(Event::HolderBoosted) && seen(Event::Contended))
    {
        core.stats
            .violation(Context::Threads, Violation::NoBoostedWaiter);
    }
}

/// A run of a probed entry must have got inside the kernel's section at least once, unless it
/// stopped at a fault first.
fn probe_hit(core: &Core) {
    if core.stats.clean() && core.stats.event_count(Event::ProbeHits) == 0 {
        core.stats
            .violation(Context::Forced, Violation::ProbeNotHit);
    }
}
