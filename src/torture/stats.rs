// SPDX-License-Identifier: GPL-2.0

//! Counters of a run, per context and per CPU, and the locktorture-style report built from
//! them.
//!
//! Every context bumps its own CPU's counters with relaxed atomics: a hard-irq callback may
//! interrupt a softirq of the same CPU, and readers run anywhere. Totals are sums over CPUs.

use core::{
    fmt,
    sync::atomic::{AtomicU64, Ordering::Relaxed},
};
use kernel::{cpu::CpuId, prelude::*};

use super::item_cache::CacheFault;
use crate::services::cpus::{is_online, possible_cpus};

/// The contexts that work on the per-CPU cache or check the hard-irq rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Context {
    /// The NAPI poll, in NET_RX softirq or in a NAPI thread.
    Napi = 0,
    /// The HARD-mode hrtimer callback, in hard-irq.
    HardIrq = 1,
    /// The SOFT-mode hrtimer callback, in softirq.
    SoftTimer = 2,
    /// The process-context kthreads, under `local_bh_disable()`.
    Threads = 3,
    /// The forced interleaving's pairs of `SCHED_FIFO` kthreads ([`super::forced`]).
    Forced = 4,
}

/// Every context, in report order.
pub(crate) const CONTEXTS: [Context; 5] = [
    Context::Napi,
    Context::HardIrq,
    Context::SoftTimer,
    Context::Threads,
    Context::Forced,
];

impl Context {
    /// The name used in reports and in the `stats` file.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Napi => "napi",
            Self::HardIrq => "hardirq",
            Self::SoftTimer => "softtimer",
            Self::Threads => "threads",
            Self::Forced => "forced",
        }
    }
}

/// Something a context found wrong; each is counted as a failure of that context.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Violation {
    /// The per-CPU cache was found corrupt.
    Cache(CacheFault),
    /// The guard refused a lock the context did not hold.
    LockRefused,
    /// Another task held this CPU's cache where BH sections are serialised anyway.
    ContendedUnderBhLock,
    /// A NAPI poll or soft-timer callback ran with BH enabled.
    NotInBh,
    /// The soft-timer callback did not run in softirq.
    NotInSoftirq,
    /// The hard callback did not run in hard-irq.
    NotInHardirq,
    /// The hard callback was entered with interrupts enabled (CPU flag).
    IrqsOnAtEntry,
    /// Lockdep believed interrupts were on in the hard callback.
    LockdepIrqsOnAtEntry,
    /// Interrupts were on (CPU flag) right after a `lock_release()` in hard-irq.
    IrqsOnAfterRelease,
    /// Lockdep believed interrupts were on right after a `lock_release()` in hard-irq.
    LockdepIrqsOnAfterRelease,
    /// The IRQ-window detector ran while the hard callback was still running.
    IrqWindow,
    /// A process-context thread could not disable BH.
    BhDisableRefused,
    /// A guard was still held after an early return (`?`) that should have dropped it.
    GuardNotReleased,
    /// PREEMPT_RT without the BH lock, and no holder of the cache was seen boosted by a
    /// NAPI thread waiting for it.
    NoBoostedWaiter,
    /// A forced round in which the woken thread started inside the other's BH section where
    /// BH sections are not preemptible, or did not where they are.
    ForcedScheduleBroken,
    /// A pinned timer's callback ran on another CPU than the one it was started on (a CPU
    /// that went offline had its timers migrated).
    OffItsCpu,
    /// A buffer from a kernel cache no longer carried its owner's tag in its control
    /// buffer: the cache handed it to someone else too.
    KernelBufferHandedTwice,
    /// A buffer from a kernel cache had its data changed while its owner held it: another
    /// buffer overlaps it.
    KernelBufferDataChanged,
    /// A run of a probed entry whose kprobe never fired in a forced round: the pairs never
    /// got inside the kernel function's section, so the run proves nothing about it.
    ProbeNotHit,
    /// A packet the kernel's transmit path refused on a device that takes every packet: it
    /// took the sender for a recursion on the queue's transmit lock ("Dead loop on virtual
    /// device").
    KernelPacketDropped,
    /// A packet reached its device's transmit with another packet's tunnel key: the per-CPU
    /// metadata dst `bpf_skb_set_tunnel_key()` fills was refilled by another sender of the CPU
    /// while the packet was on its way.
    KernelTunnelKeyChanged,
    /// A packet reached its device's transmit with no tunnel key: the tc program did not run.
    KernelTunnelKeyMissing,
    /// The entries a dst_cache held did not keep their references: one lost the cache's
    /// reference twice (two releases of what the cache held once) and another kept one the
    /// cache no longer holds.
    KernelDstReferenceLost,
    /// A dst_cache gave back an entry with another entry's source address: two updates of one
    /// CPU's entry interleaved.
    KernelDstCacheTorn,
}

const NR_VIOLATIONS: usize = 29;

impl Violation {
    fn index(self) -> usize {
        match self {
            Self::Cache(CacheFault::CountOutOfRange) => 0,
            Self::Cache(CacheFault::CanaryBroken) => 1,
            Self::Cache(CacheFault::StackCorrupt) => 2,
            Self::Cache(CacheFault::OwnedTwice) => 3,
            Self::Cache(CacheFault::CountMismatch) => 4,
            Self::LockRefused => 5,
            Self::ContendedUnderBhLock => 6,
            Self::NotInBh => 7,
            Self::NotInSoftirq => 8,
            Self::NotInHardirq => 9,
            Self::IrqsOnAtEntry => 10,
            Self::LockdepIrqsOnAtEntry => 11,
            Self::IrqsOnAfterRelease => 12,
            Self::LockdepIrqsOnAfterRelease => 13,
            Self::IrqWindow => 14,
            Self::BhDisableRefused => 15,
            Self::GuardNotReleased => 16,
            Self::NoBoostedWaiter => 17,
            Self::Cache(CacheFault::Overlapped) => 18,
            Self::ForcedScheduleBroken => 19,
            Self::OffItsCpu => 20,
            Self::KernelBufferHandedTwice => 21,
            Self::KernelBufferDataChanged => 22,
            Self::ProbeNotHit => 23,
            Self::KernelPacketDropped => 24,
            Self::KernelTunnelKeyChanged => 25,
            Self::KernelTunnelKeyMissing => 26,
            Self::KernelDstReferenceLost => 27,
            Self::KernelDstCacheTorn => 28,
        }
    }

    /// A short name for reports.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Cache(fault) => fault.name(),
            Self::LockRefused => "lock_refused",
            Self::ContendedUnderBhLock => "contended_under_bh_serialisation",
            Self::NotInBh => "bh_enabled_in_bh_context",
            Self::NotInSoftirq => "soft_timer_not_in_softirq",
            Self::NotInHardirq => "hard_timer_not_in_hardirq",
            Self::IrqsOnAtEntry => "irqs_on_at_hard_entry",
            Self::LockdepIrqsOnAtEntry => "lockdep_irqs_on_at_hard_entry",
            Self::IrqsOnAfterRelease => "irqs_on_after_lock_release",
            Self::LockdepIrqsOnAfterRelease => "lockdep_irqs_on_after_lock_release",
            Self::IrqWindow => "irq_window_in_hard_callback",
            Self::BhDisableRefused => "bh_disable_refused",
            Self::GuardNotReleased => "guard_not_released",
            Self::NoBoostedWaiter => "no_boosted_waiter",
            Self::ForcedScheduleBroken => "forced_schedule_broken",
            Self::OffItsCpu => "ran_off_its_cpu",
            Self::KernelBufferHandedTwice => "kernel_buffer_handed_twice",
            Self::KernelBufferDataChanged => "kernel_buffer_data_changed",
            Self::ProbeNotHit => "probe_not_hit",
            Self::KernelPacketDropped => "kernel_packet_dropped",
            Self::KernelTunnelKeyChanged => "kernel_tunnel_key_changed",
            Self::KernelTunnelKeyMissing => "kernel_tunnel_key_missing",
            Self::KernelDstReferenceLost => "kernel_dst_reference_lost",
            Self::KernelDstCacheTorn => "kernel_dst_cache_torn",
        }
    }
}

/// Every violation kind, for reports.
const VIOLATIONS: [Violation; NR_VIOLATIONS] = [
    Violation::Cache(CacheFault::CountOutOfRange),
    Violation::Cache(CacheFault::CanaryBroken),
    Violation::Cache(CacheFault::StackCorrupt),
    Violation::Cache(CacheFault::OwnedTwice),
    Violation::Cache(CacheFault::CountMismatch),
    Violation::LockRefused,
    Violation::ContendedUnderBhLock,
    Violation::NotInBh,
    Violation::NotInSoftirq,
    Violation::NotInHardirq,
    Violation::IrqsOnAtEntry,
    Violation::LockdepIrqsOnAtEntry,
    Violation::IrqsOnAfterRelease,
    Violation::LockdepIrqsOnAfterRelease,
    Violation::IrqWindow,
    Violation::BhDisableRefused,
    Violation::GuardNotReleased,
    Violation::NoBoostedWaiter,
    Violation::Cache(CacheFault::Overlapped),
    Violation::ForcedScheduleBroken,
    Violation::OffItsCpu,
    Violation::KernelBufferHandedTwice,
    Violation::KernelBufferDataChanged,
    Violation::ProbeNotHit,
    Violation::KernelPacketDropped,
    Violation::KernelTunnelKeyChanged,
    Violation::KernelTunnelKeyMissing,
    Violation::KernelDstReferenceLost,
    Violation::KernelDstCacheTorn,
];

/// Evidence that each context really ran where it should: counted, never judged here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Event {
    /// NAPI polls that ran in NET_RX softirq (`in_serving_softirq()`).
    NapiSoftirqPolls = 0,
    /// NAPI polls that ran in a NAPI thread (BH disabled, not serving a softirq).
    NapiThreadPolls = 1,
    /// Polls that used their whole budget and left work for the next poll.
    NapiBudgetExhausted = 2,
    /// Items (buffers) processed by NAPI polls.
    NapiItems = 3,
    /// Hard callbacks that saw `in_hardirq()`.
    HardInHardirq = 4,
    /// `lock_release()` calls checked in hard-irq (raw spinlock and lockdep map).
    HardReleasesChecked = 5,
    /// Runs of the IRQ-window detector's irq_work.
    DetectorRuns = 6,
    /// Soft-timer callbacks that saw `in_serving_softirq()`.
    SoftInSoftirq = 7,
    /// Acquisitions that found another task holding this CPU's cache (PREEMPT_RT only).
    Contended = 8,
    /// Rounds of the forced interleaving completed (each by both threads of a pair).
    ForcedRounds = 9,
    /// Forced rounds in which the woken thread started its BH section while the other was
    /// still inside its own: every round on PREEMPT_RT, none elsewhere.
    ForcedInside = 10,
    /// Cache rounds that wrote back the round counter over another round's update.
    LostUpdates = 11,
    /// Two nested-BH guards taken and released in LIFO order.
    LifoPairs = 12,
    /// Releases of a lock that was not the innermost one held.
    NonLifoReleases = 13,
    /// Cache rounds inside `spin_lock_bh()`.
    SpinLockBhSections = 14,
    /// Sections that took the cache at `local_bh_disable()` depth 2 and then 1.
    Depth2Sections = 15,
    /// Returns through `?` with two guards held.
    EarlyReturns = 16,
    /// Holds of the cache during which this CPU's NAPI poll started (and so waited).
    WaiterSeen = 17,
    /// Holds of the cache that ended with the holder boosted by priority inheritance.
    HolderBoosted = 18,
    /// CPUs that went offline during the run (their workers stopped first).
    CpusOfflined = 19,
    /// CPUs that came online during the run (their workers started there).
    CpusOnlined = 20,
    /// Forced rounds during which a CPU was in hotplug transition, whose schedule is not
    /// judged.
    ForcedDuringHotplug = 21,
    /// Buffers from a kernel cache checked before they were freed.
    KernelBuffers = 22,
    /// Probed rounds whose kprobe fired inside the kernel function's section.
    ProbeHits = 23,
    /// Probed rounds whose kprobe did not fire: on PREEMPT_RT another BH section of the CPU
    /// may use the resource between the outer thread's calls and leave it in another state.
    ProbeMisses = 24,
    /// Packets sent on a kernel resource's device and checked.
    KernelPackets = 25,
}

const NR_EVENTS: usize = 26;

const EVENTS: [(Event, &str); NR_EVENTS] = [
    (Event::NapiSoftirqPolls, "napi_softirq_polls"),
    (Event::NapiThreadPolls, "napi_thread_polls"),
    (Event::NapiBudgetExhausted, "napi_budget_exhausted"),
    (Event::NapiItems, "napi_items"),
    (Event::HardInHardirq, "hard_in_hardirq"),
    (Event::HardReleasesChecked, "hard_releases_checked"),
    (Event::DetectorRuns, "detector_runs"),
    (Event::SoftInSoftirq, "soft_in_softirq"),
    (Event::Contended, "contended"),
    (Event::ForcedRounds, "forced_rounds"),
    (Event::ForcedInside, "forced_inside"),
    (Event::LostUpdates, "lost_updates"),
    (Event::LifoPairs, "lifo_pairs"),
    (Event::NonLifoReleases, "non_lifo_releases"),
    (Event::SpinLockBhSections, "spin_lock_bh_sections"),
    (Event::Depth2Sections, "bh_depth2_sections"),
    (Event::EarlyReturns, "early_returns"),
    (Event::WaiterSeen, "waiter_seen"),
    (Event::HolderBoosted, "holder_boosted"),
    (Event::CpusOfflined, "cpus_offlined"),
    (Event::CpusOnlined, "cpus_onlined"),
    (Event::ForcedDuringHotplug, "forced_during_hotplug"),
    (Event::KernelBuffers, "kernel_buffers"),
    (Event::ProbeHits, "probe_hits"),
    (Event::ProbeMisses, "probe_misses"),
    (Event::KernelPackets, "kernel_packets"),
];

/// How many violations are logged one by one before the rest are only counted.
const LOGGED_VIOLATIONS: u64 = 10;

/// One CPU's counters.
struct CpuCounters {
    ops: [AtomicU64; CONTEXTS.len()],
    fails: [AtomicU64; CONTEXTS.len()],
    /// Times the CPU went offline and came online during the run.
    offlined: AtomicU64,
    onlined: AtomicU64,
}

impl CpuCounters {
    /// Whether the CPU took part in the run: it is online or it counted anything.
    fn took_part(&self, cpu: CpuId) -> bool {
        is_online(cpu)
            || self.offlined.load(Relaxed) != 0
            || self.ops.iter().any(|n| n.load(Relaxed) != 0)
    }
}

/// The counters of one run.
#[pin_data]
pub(crate) struct Stats {
    /// Indexed by CPU number, `nr_cpu_ids` entries.
    cpus: KVec<CpuCounters>,
    violations: [AtomicU64; NR_VIOLATIONS],
    events: [AtomicU64; NR_EVENTS],
    /// Totals at the previous report, to tell a starved context.
    last_totals: [AtomicU64; CONTEXTS.len()],
}

fn zeroed<const N: usize>() -> [AtomicU64; N] {
    [const { AtomicU64::new(0) }; N]
}

/// One context's figures, summed over CPUs.
pub(crate) struct Summary {
    /// Operations: guard acquisitions, or hard callbacks.
    pub(crate) total: u64,
    /// Violations counted by this context.
    pub(crate) fail: u64,
    /// The busiest and the idlest CPU.
    pub(crate) max: u64,
    pub(crate) min: u64,
}

impl Stats {
    /// Zeroed counters for every possible CPU, built in place.
    pub(crate) fn new() -> impl Init<Self, Error> {
        try_init!(Self {
            cpus: {
                let n = kernel::cpu::nr_cpu_ids() as usize;
                let mut cpus = KVec::with_capacity(n, GFP_KERNEL)?;
                for _ in 0..n {
                    cpus.push(
                        CpuCounters {
                            ops: zeroed(),
                            fails: zeroed(),
                            offlined: AtomicU64::new(0),
                            onlined: AtomicU64::new(0),
                        },
                        GFP_KERNEL,
                    )?;
                }
                cpus
            },
            violations: zeroed(),
            events: zeroed(),
            last_totals: zeroed(),
        }? Error)
    }

    fn this_cpu(&self) -> &CpuCounters {
        // A stale CPU number only misattributes one count; every index is in range.
        &self.cpus[CpuId::current().as_u32() as usize]
    }

    /// Counts one operation of `context` on this CPU.
    pub(crate) fn op(&self, context: Context) {
        self.this_cpu().ops[context as usize].fetch_add(1, Relaxed);
    }

    /// Counts `cpu` going offline.
    pub(crate) fn cpu_went_offline(&self, cpu: CpuId) {
        self.cpus[cpu.as_u32() as usize]
            .offlined
            .fetch_add(1, Relaxed);
    }

    /// Counts `cpu` coming online.
    pub(crate) fn cpu_came_online(&self, cpu: CpuId) {
        self.cpus[cpu.as_u32() as usize]
            .onlined
            .fetch_add(1, Relaxed);
    }

    /// The CPUs that took part in the run, with their counters.
    fn taking_part(&self) -> impl Iterator<Item = (CpuId, &CpuCounters)> {
        possible_cpus()
            .map(|cpu| (cpu, &self.cpus[cpu.as_u32() as usize]))
            .filter(|(cpu, c)| c.took_part(*cpu))
    }

    /// Counts one piece of evidence.
    pub(crate) fn event(&self, event: Event, n: u64) {
        self.events[event as usize].fetch_add(n, Relaxed);
    }

    /// Reads an event counter.
    pub(crate) fn event_count(&self, event: Event) -> u64 {
        self.events[event as usize].load(Relaxed)
    }

    /// Counts a violation found by `context` on this CPU, and logs the first few.
    pub(crate) fn violation(&self, context: Context, what: Violation) {
        self.this_cpu().fails[context as usize].fetch_add(1, Relaxed);
        let seen = self.violations[what.index()].fetch_add(1, Relaxed);
        if self.total_violations() <= LOGGED_VIOLATIONS {
            pr_err!(
                "!!! {}: {} on CPU {} (#{})\n",
                context.name(),
                what.name(),
                CpuId::current().as_u32(),
                seen + 1
            );
        }
    }

    /// Reads a violation counter.
    pub(crate) fn violation_count(&self, what: Violation) -> u64 {
        self.violations[what.index()].load(Relaxed)
    }

    pub(crate) fn total_violations(&self) -> u64 {
        self.violations.iter().map(|v| v.load(Relaxed)).sum()
    }

    /// One context's figures over the CPUs that took part (possible CPUs that never came
    /// online would make every minimum 0).
    pub(crate) fn summary(&self, context: Context) -> Summary {
        let mut s = Summary {
            total: 0,
            fail: 0,
            max: 0,
            min: u64::MAX,
        };
        for (_, c) in self.taking_part() {
            let ops = c.ops[context as usize].load(Relaxed);
            s.total += ops;
            s.fail += c.fails[context as usize].load(Relaxed);
            s.max = s.max.max(ops);
            s.min = s.min.min(ops);
        }
        if s.min == u64::MAX {
            s.min = 0;
        }
        s
    }

    /// Whether no violation at all was counted.
    pub(crate) fn clean(&self) -> bool {
        self.total_violations() == 0
    }

    /// Records the current totals and returns, per context, whether it advanced since the
    /// previous call.
    pub(crate) fn advanced_since_last(&self) -> [bool; CONTEXTS.len()] {
        let mut advanced = [false; CONTEXTS.len()];
        for (i, context) in CONTEXTS.iter().enumerate() {
            let total = self.summary(*context).total;
            advanced[i] = self.last_totals[i].swap(total, Relaxed) != total;
        }
        advanced
    }

    /// Writes the per-CPU table: one line per CPU that took part, with every context's
    /// operations and failures, whether the CPU is online now and how often it went offline
    /// during the run.
    pub(crate) fn write_per_cpu(&self, f: &mut impl fmt::Write, prefix: &str) -> fmt::Result {
        for (cpu, c) in self.taking_part() {
            write!(f, "{prefix}cpu{}:", cpu.as_u32())?;
            for context in CONTEXTS {
                write!(
                    f,
                    " {}={}/{}",
                    context.name(),
                    c.ops[context as usize].load(Relaxed),
                    c.fails[context as usize].load(Relaxed)
                )?;
            }
            writeln!(
                f,
                " state={} offlined={} onlined={}",
                if is_online(cpu) { "online" } else { "offline" },
                c.offlined.load(Relaxed),
                c.onlined.load(Relaxed)
            )?;
        }
        Ok(())
    }

    /// Writes the event counters on one line.
    pub(crate) fn write_events(
        &self,
        f: &mut impl fmt::Write,
        prefix: &str,
        every_counter: bool,
    ) -> fmt::Result {
        write!(f, "{prefix}events:")?;
        for (event, name) in EVENTS {
            let n = self.event_count(event);
            // Unless asked for all, the workload events only where their workload ran, to
            // keep the line short.
            if every_counter || n != 0 || (event as usize) < Event::LifoPairs as usize {
                write!(f, " {name}={n}")?;
            }
        }
        writeln!(f)
    }

    /// Writes the violation counters on one line: `none` when clean, unless every counter is
    /// asked for.
    pub(crate) fn write_violations(
        &self,
        f: &mut impl fmt::Write,
        prefix: &str,
        every_counter: bool,
    ) -> fmt::Result {
        write!(f, "{prefix}violations:")?;
        if self.clean() && !every_counter {
            write!(f, " none")?;
        }
        for what in VIOLATIONS {
            let n = self.violation_count(what);
            if every_counter || n != 0 {
                write!(f, " {}={n}", what.name())?;
            }
        }
        writeln!(f)
    }
}
