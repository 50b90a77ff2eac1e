// SPDX-License-Identifier: GPL-2.0

//! The scenario table: lockdep release-path cases, each with the contexts and locks it uses
//! and its expected outcome on each kernel of the matrix (`nort`, `rt`, `rt-bhlock`).
//!
//! A `scenario` case is expected clean (or, for `busted`, caught by the module's own checks);
//! a `splat` case must make the kernel print one particular report, and needs a boot of its
//! own because lockdep turns itself off after its first report. The module judges what it
//! can see (its counters, `debug_locks`, the taint mask); the selftest adds the console.
//! `/sys/kernel/debug/bhlock/scenarios` prints the table.

use core::fmt;
use kernel::{prelude::*, sync::Arc};

use crate::{
    params::Params,
    selfcheck::{self, Baseline},
    splat::{self, SplatLocks},
    stats::Context::{HardIrq, Napi, SoftTimer, Threads},
    workload::{Plan, Workload},
};

/// What a case must produce on one kernel.
#[derive(Clone, Copy)]
pub(crate) enum Expect {
    /// No violation, lockdep stays on, no new taint, no console report.
    Clean,
    /// The module's own checks fail the run; lockdep stays on and the console stays quiet.
    Caught,
    /// Each of `reports` (extended regular expressions, matched against the console's report
    /// banners) appears, and no other report but those `allowed`. `lockdep_off`: lockdep
    /// turns itself off. `taint_w`: a `WARN()` taints the kernel (a lockdep report alone does
    /// not). `detects`: the module's own checks see it too.
    Splat {
        reports: &'static [&'static str],
        allowed: &'static [&'static str],
        lockdep_off: bool,
        taint_w: bool,
        detects: bool,
    },
}

/// How a case runs.
pub(crate) enum How {
    /// A run of `seconds` with `plan`, with the module's parameters changed by `tweak`.
    Run {
        plan: Plan,
        seconds: u32,
        tweak: fn(&mut Params),
    },
    /// One action in process context; returns whether the module's own checks saw a problem.
    Once(fn(&Arc<SplatLocks>) -> Result<bool>),
}

/// One case of the table.
pub(crate) struct Scenario {
    /// The name in `scenario.<name>.<kernel>` or `splat.<name>.<kernel>`.
    pub(crate) name: &'static str,
    /// Whether it is an expected-splat case.
    pub(crate) splat: bool,
    /// The contexts involved, for the table.
    pub(crate) contexts: &'static str,
    /// The locks involved, for the table.
    pub(crate) locks: &'static str,
    pub(crate) how: How,
    /// On `nort`, `rt` and `rt-bhlock`, in that order.
    pub(crate) expect: [Expect; 3],
}

/// This kernel's column of [`Scenario::expect`].
pub(crate) const KERNEL: usize = if !cfg!(CONFIG_PREEMPT_RT) {
    0
} else if cfg!(CONFIG_PREEMPT_RT_NEEDS_BH_LOCK) {
    2
} else {
    1
};

/// The names of the columns.
pub(crate) const KERNELS: [&str; 3] = ["nort", "rt", "rt-bhlock"];

const ALL: [Expect; 3] = [Expect::Clean; 3];

fn no_tweak(_: &mut Params) {}

fn threaded(p: &mut Params) {
    p.threaded = true;
}

/// The table. `scenario=N` and `scenario NAME` pick from it; `scenario all` runs every case
/// that is not a splat.
pub(crate) static SCENARIOS: [Scenario; 17] = [
    Scenario {
        name: "lifo_napi",
        splat: false,
        contexts: "NAPI poll (NET_RX softirq), scheduled from hard-irq",
        locks: "2 nested-BH, LIFO",
        how: How::Run {
            plan: Plan::new(&[Napi, HardIrq], Workload::LifoPair),
            seconds: 1,
            tweak: no_tweak,
        },
        expect: ALL,
    },
    Scenario {
        name: "lifo_soft_timer",
        splat: false,
        contexts: "soft hrtimer (HRTIMER_SOFTIRQ)",
        locks: "2 nested-BH, LIFO",
        how: How::Run {
            plan: Plan::new(&[SoftTimer], Workload::LifoPair),
            seconds: 1,
            tweak: no_tweak,
        },
        expect: ALL,
    },
    Scenario {
        name: "lifo_process",
        splat: false,
        contexts: "kthreads under local_bh_disable()",
        locks: "2 nested-BH, LIFO",
        how: How::Run {
            plan: Plan::new(&[Threads], Workload::LifoPair),
            seconds: 1,
            tweak: no_tweak,
        },
        expect: ALL,
    },
    Scenario {
        name: "non_lifo",
        splat: false,
        contexts: "NAPI poll, soft hrtimer, kthreads",
        locks: "nested-BH, spinlock_t, raw_spinlock_t; released first-in first-out",
        how: How::Run {
            plan: Plan::new(&[Napi, HardIrq, SoftTimer, Threads], Workload::NonLifo),
            seconds: 1,
            tweak: no_tweak,
        },
        expect: ALL,
    },
    Scenario {
        name: "hardirq_release",
        splat: false,
        contexts: "HARD hrtimer (hard-irq), IRQ-window detector",
        locks: "raw_spinlock_t, lockdep_map; interrupts checked after each release",
        how: How::Run {
            plan: Plan::new(&[HardIrq], Workload::Torture),
            seconds: 1,
            tweak: no_tweak,
        },
        expect: ALL,
    },
    Scenario {
        name: "in_spin_lock_bh",
        splat: false,
        contexts: "kthreads",
        locks: "nested-BH inside spin_lock_bh()",
        how: How::Run {
            plan: Plan::new(&[Threads], Workload::InSpinLockBh),
            seconds: 1,
            tweak: no_tweak,
        },
        expect: ALL,
    },
    Scenario {
        name: "bh_depth2",
        splat: false,
        contexts: "kthreads",
        locks: "nested-BH at local_bh_disable() depth 2, then 1",
        how: How::Run {
            plan: Plan::new(&[Threads], Workload::BhDepth2),
            seconds: 1,
            tweak: no_tweak,
        },
        expect: ALL,
    },
    Scenario {
        name: "early_return",
        splat: false,
        contexts: "NAPI poll, soft hrtimer, kthreads",
        locks: "2 nested-BH held across a `?` return",
        how: How::Run {
            plan: Plan::new(&[Napi, HardIrq, SoftTimer, Threads], Workload::EarlyReturn),
            seconds: 1,
            tweak: no_tweak,
        },
        expect: ALL,
    },
    Scenario {
        name: "rt_waiter",
        splat: false,
        contexts: "BH-disabled kthread holding, FIFO NAPI thread of the same CPU waiting",
        locks: "nested-BH with a waiter (rt_mutex unlock, PI); a waiter required on rt, impossible elsewhere",
        how: How::Run {
            plan: Plan::new(&[Threads, Napi], Workload::HoldForWaiter),
            seconds: 1,
            tweak: threaded,
        },
        expect: ALL,
    },
    Scenario {
        name: "busted",
        splat: false,
        contexts: "all, without the nested-BH lock; forced pairs put a BH section inside another every round",
        locks: "none (the race the lock prevents)",
        how: How::Run {
            plan: Plan::TORTURE,
            seconds: 2,
            tweak: |p| p.busted = true,
        },
        expect: [Expect::Clean, Expect::Caught, Expect::Clean],
    },
    Scenario {
        name: "bh_enabled",
        splat: true,
        contexts: "process, BH enabled",
        locks: "nested-BH",
        how: How::Once(|_| Ok(selfcheck::run(true, &Baseline::now()).is_err())),
        expect: [
            Expect::Splat {
                reports: &[ASSERT_IN_SOFTIRQ, NESTED_BH_ASSERT_NORT],
                allowed: &[],
                lockdep_off: false,
                taint_w: true,
                detects: true,
            },
            BH_ENABLED_RT,
            BH_ENABLED_RT,
        ],
    },
    Scenario {
        name: "hardirq",
        splat: true,
        contexts: "process (BH disabled), then HARD hrtimer",
        locks: "nested-BH",
        how: How::Once(|locks| splat::in_hardirq(locks).map(|()| false)),
        expect: [
            Expect::Splat {
                reports: &[ASSERT_IN_SOFTIRQ, NESTED_BH_ASSERT_NORT, INVALID_WAIT_CONTEXT],
                allowed: &[],
                lockdep_off: true,
                taint_w: true,
                detects: false,
            },
            HARDIRQ_RT,
            HARDIRQ_RT,
        ],
    },
    Scenario {
        name: "abba",
        splat: true,
        contexts: "process (BH disabled), then soft hrtimer",
        locks: "2 nested-BH, A then B, then B then A",
        how: How::Once(|locks| splat::abba(locks).map(|()| false)),
        expect: [ABBA; 3],
    },
    Scenario {
        name: "unlock_not_held",
        splat: true,
        contexts: "process (BH disabled)",
        locks: "2 nested-BH: A held, B unlocked",
        how: How::Once(|locks| splat::unlock_not_held(locks).map(|()| false)),
        expect: [
            // local_lock_release()'s DEBUG_LOCKS_WARN_ON(l->owner != current), which turns
            // lockdep off before lock_release() could report.
            Expect::Splat {
                reports: &["WARNING: .* at rust_helper___local_unlock_nested_bh"],
                allowed: &[],
                lockdep_off: true,
                taint_w: true,
                detects: false,
            },
            UNLOCK_NOT_HELD_RT,
            UNLOCK_NOT_HELD_RT,
        ],
    },
    Scenario {
        name: "bh_enable_irqs_off",
        splat: true,
        contexts: "process: a BH section ended inside local_interrupt_disable()",
        locks: "none (the BH token's drop)",
        how: How::Once(|_| splat::bh_section_ends_with_irqs_off()),
        // The drop's own warn_on!(); interrupts must stay off (`detects` would say they came
        // on), and nothing else may report: not local_bh_enable()'s WARN nor lockdep.
        expect: [Expect::Splat {
            reports: &[BH_TOKEN_DROP_REFUSED],
            allowed: &[],
            lockdep_off: false,
            taint_w: true,
            detects: false,
        }; 3],
    },
    Scenario {
        name: "irqs_on_in_hardirq",
        splat: true,
        contexts: "HARD hrtimer, interrupts enabled inside",
        locks: "raw_spinlock_t, lockdep_map",
        how: How::Run {
            plan: Plan::new(&[HardIrq], Workload::Torture),
            seconds: 2,
            tweak: |p| p.irqs_on_in_hardirq = true,
        },
        expect: [IRQS_ON_IN_HARDIRQ; 3],
    },
    Scenario {
        name: "unlock_irq_in_hardirq",
        splat: true,
        contexts: "HARD hrtimer, raw_spin_unlock_irq() inside",
        locks: "raw_spinlock_t, lockdep_map",
        how: How::Run {
            plan: Plan::new(&[HardIrq], Workload::Torture),
            seconds: 2,
            tweak: |p| p.unlock_irq_in_hardirq = true,
        },
        expect: [IRQS_ON_IN_HARDIRQ; 3],
    },
];

// The report banners, as the console shows them. A WARN() banner names the function.

/// `LocalBhDisabled::assume_disabled()`'s own `lockdep_assert_in_softirq()`.
const ASSERT_IN_SOFTIRQ: &str = "WARNING: .* at rust_helper_lockdep_assert_in_softirq";
/// The `lockdep_assert_in_softirq()` inside `local_lock_nested_bh()` on !PREEMPT_RT.
const NESTED_BH_ASSERT_NORT: &str = "WARNING: .* at rust_helper___local_lock_nested_bh";
/// Its out-of-line PREEMPT_RT version.
const NESTED_BH_ASSERT_RT: &str = "WARNING: .* at lockdep_assert_in_softirq_func";
/// `LocalBhDisabled`'s drop refusing to end a section with interrupts off: a Rust `warn_on!()`,
/// whose banner names its source line (the function is whichever the drop was inlined into).
const BH_TOKEN_DROP_REFUSED: &str = "WARNING: .*/src/sync/bh[.]rs:[0-9]+ at ";
/// Lockdep's wait-type check: a lock of a sleeping type (`{3:3}`) in hard-irq (`{2:2}`).
const INVALID_WAIT_CONTEXT: &str = "BUG: Invalid wait context";

const BH_ENABLED_RT: Expect = Expect::Splat {
    reports: &[ASSERT_IN_SOFTIRQ, NESTED_BH_ASSERT_RT],
    allowed: &[],
    lockdep_off: false,
    taint_w: true,
    detects: true,
};

/// On PREEMPT_RT the nested-BH lock is a sleeping spinlock, so `DEBUG_ATOMIC_SLEEP` reports
/// it too.
const HARDIRQ_RT: Expect = Expect::Splat {
    reports: &[
        ASSERT_IN_SOFTIRQ,
        NESTED_BH_ASSERT_RT,
        INVALID_WAIT_CONTEXT,
        "BUG: sleeping function called from invalid context at kernel/locking/spinlock_rt.c",
    ],
    allowed: &[],
    lockdep_off: true,
    taint_w: true,
    detects: false,
};

const ABBA: Expect = Expect::Splat {
    reports: &["WARNING: possible circular locking dependency detected"],
    allowed: &[],
    lockdep_off: true,
    taint_w: false,
    detects: false,
};

/// `spin_release()` in `rt_spin_unlock()`: lockdep's own report.
const UNLOCK_NOT_HELD_RT: Expect = Expect::Splat {
    reports: &["WARNING: bad unlock balance detected!"],
    allowed: &[],
    lockdep_off: true,
    taint_w: false,
    detects: false,
};

/// Interrupts enabled in hard-irq: lockdep's `DEBUG_LOCKS_WARN_ON(lockdep_hardirq_context())`
/// in `lockdep_hardirqs_on_prepare()`, and the module's own checks. A timer interrupt that
/// nests in the window may also trip the hrtimer core's `WARN_ON_ONCE(base->running !=
/// timer)` (seen once on rt): a real consequence, allowed but not required.
const IRQS_ON_IN_HARDIRQ: Expect = Expect::Splat {
    reports: &["WARNING: .* at lockdep_hardirqs_on_prepare"],
    allowed: &["WARNING: .* at __hrtimer_run_queues"],
    lockdep_off: true,
    taint_w: true,
    detects: true,
};

impl Scenario {
    /// The case called `name`.
    pub(crate) fn find(name: &str) -> Option<&'static Scenario> {
        SCENARIOS.iter().find(|s| s.name == name)
    }

    /// What it must produce on this kernel.
    pub(crate) fn expected(&self) -> Expect {
        self.expect[KERNEL]
    }

    /// Whether the module's view of a finished case matches [`Scenario::expected`]:
    /// `detected` is whether its own checks saw a problem; `lockdep_on` is `debug_locks`
    /// after it, and `new_taint` whether it set the W taint bit.
    pub(crate) fn judge(&self, detected: bool, lockdep_on: bool, new_taint: bool) -> bool {
        match self.expected() {
            Expect::Clean => !detected && lockdep_on && !new_taint,
            Expect::Caught => detected && lockdep_on && !new_taint,
            Expect::Splat {
                lockdep_off,
                taint_w,
                detects,
                ..
            } => detected == detects && lockdep_on != lockdep_off && new_taint == taint_w,
        }
    }
}

// `pr_info!` formats through the kernel's own `Display`.
impl kernel::fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Expect {
    /// Writes the expectation; the report patterns only if `reports`. The console gets it
    /// without them: a pattern is a report banner, which a console scan would take for a
    /// report.
    fn write(&self, f: &mut impl fmt::Write, with_reports: bool) -> fmt::Result {
        match self {
            Self::Clean => f.write_str("clean"),
            Self::Caught => f.write_str("caught by the module"),
            Self::Splat {
                reports,
                allowed,
                lockdep_off,
                taint_w,
                detects,
            } => {
                if with_reports {
                    f.write_str("splat")?;
                    for r in reports.iter() {
                        write!(f, " [{r}]")?;
                    }
                    for r in allowed.iter() {
                        write!(f, " (allowed: [{r}])")?;
                    }
                } else {
                    write!(f, "splat ({} expected reports)", reports.len())?;
                }
                if *lockdep_off {
                    f.write_str(", lockdep off")?;
                }
                if *taint_w {
                    f.write_str(", taint W")?;
                }
                if *detects {
                    f.write_str(", module detects")?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, false)
    }
}

/// Writes `patterns` joined by `;;`, or `-` for none: a field of its own even when empty,
/// because shells split on runs of tabs.
fn write_patterns(f: &mut fmt::Formatter<'_>, patterns: &[&str]) -> fmt::Result {
    if patterns.is_empty() {
        return f.write_str("-");
    }
    for (i, p) in patterns.iter().enumerate() {
        write!(f, "{}{p}", if i == 0 { "" } else { ";;" })?;
    }
    Ok(())
}

/// The table, one tab-separated line per case, for `/sys/kernel/debug/bhlock/scenarios`:
/// name, `scenario` or `splat`, this kernel's expectation (kind, lockdep after, new taint W,
/// whether the module detects it, required reports, allowed reports), then contexts, locks,
/// and the expectation on each kernel.
pub(crate) fn write_table(f: &mut fmt::Formatter<'_>) -> fmt::Result {
    writeln!(
        f,
        "# name\tclass\texpect\tlockdep_after\ttaint_w\tmodule_detects\treports\tallowed\tcontexts\tlocks\t{}\t{}\t{}",
        KERNELS[0], KERNELS[1], KERNELS[2]
    )?;
    for s in SCENARIOS.iter() {
        let yes_no = |b| if b { "yes" } else { "no" };
        let (kind, lockdep, taint, detects, reports, allowed) = match s.expected() {
            Expect::Clean => ("clean", "on", "no", "no", &[][..], &[][..]),
            Expect::Caught => ("caught", "on", "no", "yes", &[][..], &[][..]),
            Expect::Splat {
                reports,
                allowed,
                lockdep_off,
                taint_w,
                detects,
            } => (
                "splat",
                if lockdep_off { "off" } else { "on" },
                yes_no(taint_w),
                yes_no(detects),
                reports,
                allowed,
            ),
        };
        write!(
            f,
            "{}\t{}\t{kind}\t{lockdep}\t{taint}\t{detects}\t",
            s.name,
            if s.splat { "splat" } else { "scenario" }
        )?;
        write_patterns(f, reports)?;
        f.write_str("\t")?;
        write_patterns(f, allowed)?;
        write!(f, "\t{}\t{}", s.contexts, s.locks)?;
        for e in s.expect.iter() {
            f.write_str("\t")?;
            e.write(f, true)?;
        }
        writeln!(f)?;
    }
    Ok(())
}
