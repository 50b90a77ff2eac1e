// SPDX-License-Identifier: GPL-2.0

//! A probe point: how a forced pair ([`super::forced`]) gets inside a kernel function's BH
//! section instead of one of bhlock's own, for an entry of the ops table that works on a
//! per-CPU resource of the kernel.
//!
//! The outer thread disables BH, brings the resource to a state where its next call of the
//! kernel function reaches [`ProbePoint::symbol`] with the resource's lock held, lets the inner
//! thread in, and makes that call with the kprobe armed. The kprobe wakes the inner thread
//! (`SCHED_FIFO`, above the outer one, on the same CPU) right there. What happens next is the
//! kernel's BH model, as for bhlock's own cache: on !PREEMPT_RT the inner thread waits for the
//! outer one's `local_bh_enable()`, with `PREEMPT_RT_NEEDS_BH_LOCK` it blocks on the softirq BH
//! lock, on PREEMPT_RT without it it gets into its own BH section and then only the resource's
//! own lock keeps it out. If that lock is missing, it works on the resource in the middle of
//! the kernel function's update.
//!
//! The inner thread keeps what it took from the resource until the outer thread's call is
//! over and the outer thread has marked what that call gave it ([`ProbePoint::outer`] holds
//! the gate for that long), then checks its own. So a buffer that the interleaving handed to
//! both threads is seen by the first check, in the first round.

use core::sync::atomic::{AtomicBool, Ordering::Relaxed};
use kernel::{prelude::*, sync::SpinLock, task::Task};

use super::{core_state::Core, stats::Event};
use crate::{services::kprobe::KProbe, sync::bh::LocalBhDisabled};

/// Whether a BH-disabled section can be preempted by a higher-priority task of its CPU.
pub(crate) const BH_SECTIONS_PREEMPTIBLE: bool = cfg!(CONFIG_PREEMPT_RT);

/// What the outer thread's round knows of the inner thread of its pair.
pub(crate) struct InnerThread<'a> {
    /// Its task, for the kprobe to wake.
    pub(crate) task: &'a Task,
    /// Set when it starts its round (before its `local_bh_disable()`).
    pub(crate) started: &'a AtomicBool,
    /// The gate it passes between taking from the resource and checking.
    pub(crate) gate: &'a SpinLock<()>,
}

impl InnerThread<'_> {
    /// Disarms `probe` right after the outer thread's probed call, and counts the round a probe
    /// hit if the probe fired, the resource was `ready` (in the state the call needed to reach
    /// the probe point inside the resource's section) and, where BH sections are preemptible,
    /// the inner thread had started by then: inside the call, not woken late after it. A miss
    /// is only counted; a run with no hit fails (`ProbeNotHit`).
    pub(crate) fn count_probe(&self, core: &Core, probe: &KProbe, ready: bool) {
        let inside = !BH_SECTIONS_PREEMPTIBLE || self.started.load(Relaxed);
        if probe.disarm() && ready && inside {
            core.stats.event(Event::ProbeHits, 1);
        } else {
            core.stats.event(Event::ProbeMisses, 1);
        }
    }
}

/// One resource's way in; see the module documentation.
pub(crate) struct ProbePoint {
    /// The kernel function the kprobe goes on: one the resource's code calls inside its BH
    /// section, with its lock held.
    pub(crate) symbol: &'static CStr,
    /// The outer thread's round, with BH disabled and `tag`: it calls `let_in` once, with the
    /// inner thread's gate held, right before the call that reaches [`ProbePoint::symbol`],
    /// which it makes with the probe armed to wake the inner thread; it keeps the gate until it
    /// has marked what that call gave it.
    pub(crate) outer: fn(&Core, &LocalBhDisabled, u32, &KProbe, &InnerThread<'_>, &mut dyn FnMut()),
    /// The inner thread's round, with BH disabled and `tag`: it takes from the resource, passes
    /// the gate, then checks what it took.
    pub(crate) inner: fn(&Core, &LocalBhDisabled, u32, &SpinLock<()>),
}
