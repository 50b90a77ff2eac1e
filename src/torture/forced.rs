// SPDX-License-Identifier: GPL-2.0

//! Forced interleaving: on every online CPU a pair of `SCHED_FIFO` kthreads, bound to it,
//! puts one BH section into the middle of another on every round, wherever the kernel lets
//! it, so that no verdict waits for the scheduler to happen to preempt at the right moment.
//!
//! The outer thread (`sched_set_fifo_low()`) disables BH and starts a cache round. With its
//! buffers out and the round counter read, it wakes the inner thread (`SCHED_FIFO` one above
//! `sched_set_fifo()`, the interrupt threads' priority), which disables BH and runs a cache
//! round of its own on the same CPU. What happens then is the kernel's BH model, the same in
//! every round:
//!
//! - !PREEMPT_RT: a BH section is not preemptible; the inner thread runs only after the outer
//!   one's `local_bh_enable()`;
//! - PREEMPT_RT with `PREEMPT_RT_NEEDS_BH_LOCK`: the inner thread preempts the outer one at
//!   once and blocks in its own `local_bh_disable()` on the softirq BH lock;
//! - PREEMPT_RT without it: the inner thread preempts the outer one at once and gets into its
//!   BH section; only the nested-BH lock keeps it out of the cache (it blocks there and
//!   boosts the outer thread). Without the lock (`busted`) its round runs inside the outer
//!   one, and the outer round finds the round counter moved
//!   ([`CacheFault::Overlapped`](super::item_cache::CacheFault::Overlapped)) in the first
//!   round.
//!
//! For an entry of the ops table that works on a resource of the kernel, the inner thread is
//! let in the same way but woken by a kprobe inside the kernel function's own section, at the
//! point the entry's [`ProbePoint`] names, and the two threads' rounds are the probe point's.
//!
//! Every round also checks the schedule itself: the inner thread must have started inside
//! the outer one's BH section exactly on PREEMPT_RT. A round that went otherwise counts as
//! [`Violation::ForcedScheduleBroken`], so a run whose interleaving was not forced cannot
//! pass for one that was; a round during which a CPU was in hotplug transition is only
//! counted ([`Event::ForcedDuringHotplug`]): the kernel moves tasks and stops CPUs then.

use core::{
    ptr,
    sync::atomic::{
        AtomicBool, AtomicPtr, Ordering::Acquire, Ordering::Relaxed, Ordering::Release,
    },
};
use kernel::{
    bindings,
    cpu::CpuId,
    ffi::{c_int, c_void},
    new_condvar, new_spinlock,
    prelude::*,
    sync::{Arc, CondVar, SpinLock},
    task::Task,
    time::{msecs_to_jiffies, Delta},
};

use super::{
    core_state::Core,
    item_cache::MAX_ROUND,
    ops::Ops,
    probe_point::{InnerThread, ProbePoint, BH_SECTIONS_PREEMPTIBLE},
    stats::{Context, Event, Violation},
};
use crate::{
    services::{
        cpus::some_cpu_in_transition,
        kprobe::KProbe,
        kthread::{self, KThread, Policy},
    },
    sync::bh::local_bh_disable,
};

/// The handshake of a pair, under its lock.
#[derive(Default)]
struct Handshake {
    /// The inner thread waits for `go`.
    inner_waiting: bool,
    /// The outer thread, inside its round, lets the inner one start.
    go: bool,
    /// The inner thread's round is over.
    done: bool,
}

/// The two threads of one CPU and what they share.
#[pin_data]
struct Pair {
    core: Arc<Core>,
    ops: &'static Ops,
    #[pin]
    handshake: SpinLock<Handshake>,
    #[pin]
    wake: CondVar,
    /// Set by the inner thread just before its `local_bh_disable()`, cleared by the outer
    /// thread after each round.
    inner_started: AtomicBool,
    /// Held by the outer thread of a probed round from just before its probed call until it
    /// has marked what that call gave it; the inner thread waits for it before its checks.
    #[pin]
    gate: SpinLock<()>,
    /// The inner thread's task, set by the thread before it first waits; null before.
    inner_task: AtomicPtr<bindings::task_struct>,
}

impl Pair {
    /// Waits until `ready` says so (it may update the handshake) or the thread is told to
    /// stop; returns `false` for the stop.
    fn wait_until(&self, mut ready: impl FnMut(&mut Handshake) -> bool) -> bool {
        let mut handshake = self.handshake.lock();
        loop {
            if ready(&mut handshake) {
                return true;
            }
            if kthread::should_stop() {
                return false;
            }
            let _ = self.wake.wait_interruptible_timeout(
                &mut handshake,
                msecs_to_jiffies(kthread::STOP_CHECK_MS),
            );
        }
    }

    /// Lets the inner thread start its round; `notify`: wakes it now, otherwise a kprobe will.
    fn let_in(&self, notify: bool) {
        let mut handshake = self.handshake.lock();
        handshake.inner_waiting = false;
        handshake.go = true;
        if notify {
            self.wake.notify_all();
        }
    }

    /// The probe point and kprobe of a probed entry, and the inner thread's task.
    fn probe(&self) -> Option<(&'static ProbePoint, &KProbe, &Task)> {
        let task = self.inner_task.load(Acquire);
        // SAFETY: Set by the inner thread to itself; the outer thread, the only caller, reads
        // it once the inner thread waits, and the inner thread's `KThread` keeps a reference
        // to the task until after the outer thread has stopped (`ForcedPair::drop`). `Task`
        // is a transparent wrapper of `task_struct`.
        let task = unsafe { task.cast::<Task>().as_ref() }?;
        Some((self.ops.probe()?, self.core.probe.as_ref()?, task))
    }

    /// One round of the outer thread. Returns `false` if the thread was told to stop.
    fn outer_round(&self, round: u32) -> bool {
        let stats = &self.core.stats;
        let tag = 0x6f00_0000 | (round << 4);
        let transitions = self.core.hotplug_transitions.load(Relaxed);
        let in_transition = some_cpu_in_transition();
        let Ok(bh) = local_bh_disable() else {
            stats.violation(Context::Forced, Violation::BhDisableRefused);
            return true;
        };
        if let Some((point, kprobe, task)) = self.probe() {
            let inner = InnerThread {
                task,
                started: &self.inner_started,
                gate: &self.gate,
            };
            (point.outer)(&self.core, &bh, tag, kprobe, &inner, &mut || {
                self.let_in(false)
            });
            // In case the probe did not fire; otherwise the inner thread has run already.
            self.wake.notify_all();
        } else {
            // Where BH sections are preemptible, the inner thread runs from the wake-up (or the
            // unlock after it) until it blocks or, unlocked, ends its round.
            (self.ops.round)(
                &self.core,
                Context::Forced,
                &bh,
                MAX_ROUND,
                tag,
                &mut || self.let_in(true),
            );
        }
        // Read where the BH section ends, which is what the model speaks of. On PREEMPT_RT the
        // inner thread, woken inside the round and above anything that could boost this one
        // (interrupt threads included), has run by now; elsewhere it cannot have.
        let inner_inside = self.inner_started.load(Relaxed);
        drop(bh);
        if !self.wait_until(|h| core::mem::take(&mut h.done)) {
            return false;
        }
        self.inner_started.store(false, Relaxed);
        stats.event(Event::ForcedRounds, 1);
        if inner_inside {
            stats.event(Event::ForcedInside, 1);
        }
        // A CPU in hotplug transition during the round may have run anything in between (the
        // scheduler pushes even bound kthreads off a deactivated CPU, stop_machine stops every
        // CPU): not the schedule this round forced. The run's own count covers the time its
        // callbacks see, the active mask the scheduler's part before and after them.
        if in_transition
            || some_cpu_in_transition()
            || transitions % 2 == 1
            || self.core.hotplug_transitions.load(Relaxed) != transitions
        {
            stats.event(Event::ForcedDuringHotplug, 1);
        } else if inner_inside != BH_SECTIONS_PREEMPTIBLE {
            stats.violation(Context::Forced, Violation::ForcedScheduleBroken);
        }
        true
    }

    /// One round of the inner thread, once let in.
    fn inner_round(&self, round: u32) {
        let tag = 0x6900_0000 | (round << 4);
        self.inner_started.store(true, Relaxed);
        match local_bh_disable() {
            Ok(bh) => match self.ops.probe() {
                Some(point) => (point.inner)(&self.core, &bh, tag, &self.gate),
                None => self
                    .ops
                    .round(&self.core, Context::Forced, &bh, MAX_ROUND, tag),
            },
            Err(_) => self
                .core
                .stats
                .violation(Context::Forced, Violation::BhDisableRefused),
        }
        let mut handshake = self.handshake.lock();
        handshake.done = true;
        self.wake.notify_all();
    }
}

/// A running pair; dropping this stops it.
pub(crate) struct ForcedPair {
    // Declared first: the threads stop before the pair they borrow goes.
    threads: KVec<KThread>,
    _pair: Pin<KBox<Pair>>,
}

impl Drop for ForcedPair {
    fn drop(&mut self) {
        // The outer thread (started last) stops first: it may still use the inner one's task.
        while let Some(thread) = self.threads.pop() {
            drop(thread);
        }
    }
}

impl ForcedPair {
    /// Starts a pair on `cpu`, whose rounds work as `ops` says.
    pub(crate) fn start(core: &Arc<Core>, ops: &'static Ops, cpu: CpuId) -> Result<Self> {
        let pair = KBox::pin_init(
            pin_init!(Pair {
                core: core.clone(),
                ops,
                handshake <- new_spinlock!(Handshake::default(), "bhlock_forced_handshake"),
                wake <- new_condvar!("bhlock_forced_wake"),
                inner_started: AtomicBool::new(false),
                gate <- new_spinlock!((), "bhlock_forced_gate"),
                inner_task: AtomicPtr::new(ptr::null_mut()),
            }),
            GFP_KERNEL,
        )?;
        let data = ptr::from_ref::<Pair>(&pair).cast_mut().cast();
        let mut this = Self {
            threads: KVec::with_capacity(2, GFP_KERNEL)?,
            _pair: pair,
        };
        for (f, name, policy) in [
            (
                inner_thread as kthread::ThreadFn,
                c"bhlock_forced_in",
                Policy::FifoAboveIrqThreads,
            ),
            (outer_thread, c"bhlock_forced_out", Policy::FifoLow),
        ] {
            // SAFETY: `this` keeps the pair (boxed, so it does not move) until its `threads`
            // are stopped.
            let thread = unsafe { KThread::start_with(f, data, name, Some(cpu), policy) }?;
            this.threads.push(thread, GFP_KERNEL)?;
        }
        Ok(this)
    }
}

/// The outer thread: a round, then a pause of `interval_us`.
///
/// # Safety
///
/// `data` must point to a [`Pair`] that outlives the thread.
unsafe extern "C" fn outer_thread(data: *mut c_void) -> c_int {
    // SAFETY: `ForcedPair` keeps the pair alive until this thread is stopped.
    let pair = unsafe { &*data.cast::<Pair>().cast_const() };
    let pause = Delta::from_micros(i64::from(pair.core.params.interval_us));
    let mut round = 0u32;
    // The stop is checked on every round: the inner thread may always be waiting already, so
    // `wait_until` alone may never look at it.
    while !kthread::should_stop() && pair.wait_until(|h| h.inner_waiting) && pair.outer_round(round)
    {
        round = round.wrapping_add(1);
        kthread::pause(pause, kthread::should_stop);
    }
    0
}

/// The inner thread: waits to be let in, then a round.
///
/// # Safety
///
/// `data` must point to a [`Pair`] that outlives the thread.
unsafe extern "C" fn inner_thread(data: *mut c_void) -> c_int {
    // SAFETY: `ForcedPair` keeps the pair alive until this thread is stopped.
    let pair = unsafe { &*data.cast::<Pair>().cast_const() };
    pair.inner_task.store(Task::current_raw(), Release);
    let mut round = 0u32;
    let let_in = |h: &mut Handshake| {
        if core::mem::take(&mut h.go) {
            return true;
        }
        if !h.inner_waiting {
            h.inner_waiting = true;
            pair.wake.notify_all();
        }
        false
    };
    while pair.wait_until(let_in) {
        pair.inner_round(round);
        round = round.wrapping_add(1);
    }
    0
}
