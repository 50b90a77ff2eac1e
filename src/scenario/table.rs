// SPDX-License-Identifier: GPL-2.0

//! The scenario table: lockdep release-path cases and probes of the kernel's own per-CPU
//! resources, each with the contexts and locks it uses and its expected outcome as a function
//! of what the kernel is ([`Kernel`]: PREEMPT_RT or not, BH sections serialised or not, the
//! probed resource's lock present or not), never of a kernel's name. It is the single source
//! of what a case expects: the module judges each case by it ([`Expect::judge`]), and the
//! shell reads it from `/sys/kernel/debug/bhlock/scenarios`.
//!
//! A `scenario` case is expected clean (or, for `busted`, caught by the module's own checks);
//! a `splat` case must make the kernel print particular reports, and needs a boot of its own
//! because lockdep turns itself off after its first report; a `kernel` case works on a
//! resource of the kernel, and is caught in a boot of the must-fail kernel that removed that
//! resource's protection.

use core::fmt;
use kernel::{prelude::*, sync::Arc};

use super::{
    expect::Expect,
    kernel::Kernel,
    lock_classes::{self, Classes},
    selfcheck,
    splat::{self, SplatLocks},
};
use crate::{
    services::health::Baseline,
    torture::{
        dst_cache, kernel_napi_cache, ops, page_pool,
        plan::Plan,
        resource::KernelResource,
        stats::Context::{Forced, HardIrq, Napi, SoftTimer, Threads},
        stats::CONTEXTS,
        tunnel_key, xmit_lock_owner,
    },
};

/// How a case runs.
pub(crate) enum How {
    /// A run of `seconds` with `plan`.
    Run { plan: Plan, seconds: u32 },
    /// One action in process context; returns whether the module's own checks saw a problem.
    Once(fn(&Arc<SplatLocks>) -> Result<bool>),
}

/// The family of a case, the first part of its KTAP name `<class>.<name>.<kernel>`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// bhlock's own locks and contexts, expected clean (or caught by the module).
    Scenario,
    /// An expected-splat case: it needs a boot of its own.
    Splat,
    /// A probe of a per-CPU resource of the kernel itself.
    Kernel,
}

impl Class {
    /// The name in KTAP lines and in the table.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Scenario => "scenario",
            Self::Splat => "splat",
            Self::Kernel => "kernel",
        }
    }
}

/// One case of the table.
pub(crate) struct Scenario {
    /// The name in `<class>.<name>.<kernel>`.
    pub(crate) name: &'static str,
    pub(crate) class: Class,
    /// The contexts involved, for the table.
    pub(crate) contexts: &'static str,
    /// The locks involved, for the table.
    pub(crate) locks: &'static str,
    pub(crate) how: How,
    /// What it must produce on a kernel with these properties.
    pub(crate) expect: fn(Kernel) -> Expect,
}

impl Scenario {
    /// The kernel resource a `kernel` case works on.
    pub(crate) fn resource(&self) -> Option<&'static KernelResource> {
        match self.how {
            How::Run { plan, .. } => plan.ops.resource,
            How::Once(_) => None,
        }
    }
}

/// Clean on every kernel.
fn clean(_: Kernel) -> Expect {
    Expect::Clean
}

/// What a `kernel` case on `resource` must produce: the probe catches corruption where two BH
/// users of a CPU can both be inside the resource (BH sections interleave and its protection
/// is gone), and nothing elsewhere.
fn probed(k: Kernel, resource: &KernelResource) -> Expect {
    if k.shares(resource) {
        Expect::Caught
    } else {
        Expect::Clean
    }
}

/// `name` as a `&str`, at compile time: a resource's name is the name of its case.
const fn str_of(name: &'static CStr) -> &'static str {
    match core::str::from_utf8(name.to_bytes()) {
        Ok(s) => s,
        Err(_) => panic!("a resource name must be UTF-8"),
    }
}

/// The table. `scenario=N` and `scenario NAME` pick from it; `scenario all` runs every case
/// that is not a splat.
pub(crate) static SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "lifo_napi",
        class: Class::Scenario,
        contexts: "NAPI poll (NET_RX softirq), scheduled from hard-irq",
        locks: "2 nested-BH, LIFO",
        how: How::Run {
            plan: Plan::new(&[Napi, HardIrq], &ops::LIFO_PAIR),
            seconds: 1,
        },
        expect: clean,
    },
    Scenario {
        name: "lifo_soft_timer",
        class: Class::Scenario,
        contexts: "soft hrtimer (HRTIMER_SOFTIRQ)",
        locks: "2 nested-BH, LIFO",
        how: How::Run {
            plan: Plan::new(&[SoftTimer], &ops::LIFO_PAIR),
            seconds: 1,
        },
        expect: clean,
    },
    Scenario {
        name: "lifo_process",
        class: Class::Scenario,
        contexts: "kthreads under local_bh_disable()",
        locks: "2 nested-BH, LIFO",
        how: How::Run {
            plan: Plan::new(&[Threads], &ops::LIFO_PAIR),
            seconds: 1,
        },
        expect: clean,
    },
    Scenario {
        name: "non_lifo",
        class: Class::Scenario,
        contexts: "NAPI poll, soft hrtimer, kthreads",
        locks: "nested-BH, spinlock_t, raw_spinlock_t; released first-in first-out",
        how: How::Run {
            plan: Plan::new(&[Napi, HardIrq, SoftTimer, Threads], &ops::NON_LIFO),
            seconds: 1,
        },
        expect: clean,
    },
    Scenario {
        name: "hardirq_release",
        class: Class::Scenario,
        contexts: "HARD hrtimer (hard-irq), IRQ-window detector",
        locks: "raw_spinlock_t, lockdep_map; interrupts checked after each release",
        how: How::Run {
            plan: Plan::new(&[HardIrq], &ops::LOCKED),
            seconds: 1,
        },
        expect: clean,
    },
    Scenario {
        name: "in_spin_lock_bh",
        class: Class::Scenario,
        contexts: "kthreads",
        locks: "nested-BH inside spin_lock_bh()",
        how: How::Run {
            plan: Plan::new(&[Threads], &ops::IN_SPIN_LOCK_BH),
            seconds: 1,
        },
        expect: clean,
    },
    Scenario {
        name: "bh_depth2",
        class: Class::Scenario,
        contexts: "kthreads",
        locks: "nested-BH at local_bh_disable() depth 2, then 1",
        how: How::Run {
            plan: Plan::new(&[Threads], &ops::BH_DEPTH2),
            seconds: 1,
        },
        expect: clean,
    },
    Scenario {
        name: "early_return",
        class: Class::Scenario,
        contexts: "NAPI poll, soft hrtimer, kthreads",
        locks: "2 nested-BH held across a `?` return",
        how: How::Run {
            plan: Plan::new(&[Napi, HardIrq, SoftTimer, Threads], &ops::EARLY_RETURN),
            seconds: 1,
        },
        expect: clean,
    },
    Scenario {
        name: "rt_waiter",
        class: Class::Scenario,
        contexts: "BH-disabled kthread holding, FIFO NAPI thread of the same CPU waiting",
        locks: "nested-BH with a waiter (rt_mutex unlock, PI); a waiter required on rt, impossible elsewhere",
        how: How::Run {
            plan: Plan::new(&[Threads, Napi], &ops::HOLD_FOR_WAITER),
            seconds: 1,
        },
        expect: clean,
    },
    Scenario {
        name: "busted",
        class: Class::Scenario,
        contexts: "all, without the nested-BH lock; forced pairs put a BH section inside another every round",
        locks: "none (the race the lock prevents)",
        how: How::Run {
            plan: Plan::new(&CONTEXTS, &ops::BUSTED),
            seconds: 2,
        },
        // Without the lock, two BH sections of a CPU race wherever they interleave.
        expect: |k| {
            if !k.bh_serialised {
                Expect::Caught
            } else {
                Expect::Clean
            }
        },
    },
    Scenario {
        name: "bh_enabled",
        class: Class::Splat,
        contexts: "process, BH enabled",
        locks: "nested-BH",
        how: How::Once(|_| Ok(selfcheck::run(true, &Baseline::now()).is_err())),
        expect: |k| {
            if k.preempt_rt {
                BH_ENABLED_RT
            } else {
                Expect::Splat {
                reports: &[ASSERT_IN_SOFTIRQ, NESTED_BH_ASSERT_NORT],
                allowed: &[],
                lockdep_off: false,
                taint_w: true,
                detects: true,
            }
            }
        },
    },
    Scenario {
        name: "hardirq",
        class: Class::Splat,
        contexts: "process (BH disabled), then HARD hrtimer",
        locks: "nested-BH",
        how: How::Once(|locks| splat::in_hardirq(locks).map(|()| false)),
        expect: |k| {
            if k.preempt_rt {
                HARDIRQ_RT
            } else {
                Expect::Splat {
                reports: &[ASSERT_IN_SOFTIRQ, NESTED_BH_ASSERT_NORT, INVALID_WAIT_CONTEXT],
                allowed: &[],
                lockdep_off: true,
                taint_w: true,
                detects: false,
            }
            }
        },
    },
    Scenario {
        name: "abba",
        class: Class::Splat,
        contexts: "process (BH disabled), then soft hrtimer",
        locks: "2 nested-BH, A then B, then B then A",
        how: How::Once(|locks| splat::abba(locks).map(|()| false)),
        expect: |_| ABBA,
    },
    Scenario {
        name: "unlock_not_held",
        class: Class::Splat,
        contexts: "process (BH disabled)",
        locks: "2 nested-BH: A held, B unlocked",
        how: How::Once(|locks| splat::unlock_not_held(locks).map(|()| false)),
        expect: |k| {
            if k.preempt_rt {
                UNLOCK_NOT_HELD_RT
            } else {
                // local_lock_release()'s DEBUG_LOCKS_WARN_ON(l->owner != current), which
                // turns lockdep off before lock_release() could report.
                Expect::Splat {
                    reports: &[
                        "WARNING: * at bhlock_local_unlock_nested_bh",
                        FORGOTTEN_GUARD_LEAKED,
                    ],
                    allowed: &[],
                    lockdep_off: true,
                    taint_w: true,
                    detects: false,
                }
            }
        },
    },
    Scenario {
        name: "bh_enable_irqs_off",
        class: Class::Splat,
        contexts: "process: a BH section ended inside local_interrupt_disable()",
        locks: "none (the BH token's drop)",
        how: How::Once(|_| splat::bh_section_ends_with_irqs_off()),
        // The drop's own warn_on!(); interrupts must stay off (`detects` would say they came
        // on), and nothing else may report: not local_bh_enable()'s WARN nor lockdep.
        expect: |_| Expect::Splat {
            reports: &[BH_TOKEN_DROP_REFUSED],
            allowed: &[],
            lockdep_off: false,
            taint_w: true,
            detects: false,
        },
    },
    Scenario {
        name: "irqs_on_in_hardirq",
        class: Class::Splat,
        contexts: "HARD hrtimer, interrupts enabled inside",
        locks: "raw_spinlock_t, lockdep_map",
        how: How::Run {
            plan: Plan::new(&[HardIrq], &ops::IRQS_ON_IN_HARDIRQ),
            seconds: 2,
        },
        expect: |_| IRQS_ON_IN_HARDIRQ,
    },
    Scenario {
        name: "unlock_irq_in_hardirq",
        class: Class::Splat,
        contexts: "HARD hrtimer, raw_spin_unlock_irq() inside",
        locks: "raw_spinlock_t, lockdep_map",
        how: How::Run {
            plan: Plan::new(&[HardIrq], &ops::UNLOCK_IRQ_IN_HARDIRQ),
            seconds: 2,
        },
        expect: |_| IRQS_ON_IN_HARDIRQ,
    },
    Scenario {
        name: "recursive_class_per_instance",
        class: Class::Scenario,
        contexts: "softirq (soft hrtimer for a NAPI poll), feeding another device",
        locks: "2 nested-BH of one call site, a dynamic class each, nested",
        how: How::Once(|_| lock_classes::poll_feeds_other_device(Classes::PerInstance)),
        expect: clean,
    },
    Scenario {
        name: "recursive_class_shared",
        class: Class::Splat,
        contexts: "softirq (soft hrtimer for a NAPI poll), feeding another device",
        locks: "2 nested-BH of one call site and class, nested",
        how: How::Once(|_| lock_classes::poll_feeds_other_device(Classes::Shared)),
        // The `gro_cells` report: two different locks, but one class taken twice.
        expect: |_| Expect::Splat {
            reports: &["WARNING: possible recursive locking detected"],
            allowed: &[],
            lockdep_off: true,
            taint_w: false,
            detects: false,
        },
    },
    Scenario {
        name: "forgotten_guard",
        class: Class::Splat,
        contexts: "a kthread: BH disabled, a guard forgotten (core::mem::forget), the lock dropped, then exit",
        locks: "nested-BH",
        how: How::Once(|_| splat::forgotten_guard().map(|()| false)),
        // The guard API's leak of the still-held copies (never a free that lockdep would
        // read after), then the exit of the thread that still holds the lock:
        // kthread_do_exit() takes a mutex, a sleeping lock under the nested-BH one, which
        // lockdep reports (and turns itself off); on PREEMPT_RT the mutex's might_sleep() sees
        // the RCU read-side section and disabled migration of the sleeping spinlock first.
        expect: |k| {
            if k.preempt_rt {
                Expect::Splat {
                    reports: &[
                        FORGOTTEN_GUARD_LEAKED,
                        SLEEPING_IN_INVALID_CONTEXT,
                        INVALID_WAIT_CONTEXT,
                    ],
                    allowed: &[],
                    lockdep_off: true,
                    taint_w: true,
                    detects: false,
                }
            } else {
                Expect::Splat {
                    reports: &[FORGOTTEN_GUARD_LEAKED, INVALID_WAIT_CONTEXT],
                    allowed: &[],
                    lockdep_off: true,
                    taint_w: true,
                    detects: false,
                }
            }
        },
    },
    Scenario {
        name: str_of(kernel_napi_cache::RESOURCE.name),
        class: Class::Kernel,
        contexts: "NAPI poll, kthreads under local_bh_disable(), forced pairs preempted inside napi_skb_cache_get_bulk() at its refill (kprobe)",
        locks: "the kernel's own: napi_alloc_cache's nested-BH lock",
        how: How::Run {
            plan: Plan::new(&[Napi, HardIrq, Threads, Forced], &kernel_napi_cache::OPS),
            seconds: 2,
        },
        expect: |k| probed(k, &kernel_napi_cache::RESOURCE),
    },
    Scenario {
        name: str_of(xmit_lock_owner::RESOURCE.name),
        class: Class::Kernel,
        contexts: "NAPI poll and kthreads sending on a device of the module's own, forced pairs: the inner sends on the same queue from inside the outer's dev_hard_start_xmit() (kprobe)",
        locks: "the kernel's own: the transmit queue's lock, its owner as netif_tx_owned() reads it",
        how: How::Run {
            plan: Plan::new(&[Napi, HardIrq, Threads, Forced], &xmit_lock_owner::OPS),
            seconds: 2,
        },
        expect: |k| probed(k, &xmit_lock_owner::RESOURCE),
    },
    Scenario {
        name: str_of(page_pool::RESOURCE.name),
        class: Class::Kernel,
        contexts: "forced pairs on a page_pool of the module's own per CPU: the outer is its consumer, the inner gives a page back with napi_pp_put_page() inside the outer's refill (kprobe on alloc_pages_bulk_noprof())",
        locks: "the kernel's own: page_pool_napi_local()'s PREEMPT_RT gate (no direct recycling into the lockless alloc cache)",
        how: How::Run {
            plan: Plan::new(&[Forced], &page_pool::OPS),
            seconds: 2,
        },
        expect: |k| probed(k, &page_pool::RESOURCE),
    },
    Scenario {
        name: str_of(tunnel_key::RESOURCE.name),
        class: Class::Kernel,
        contexts: "NAPI poll and kthreads sending on a device of the module's own whose tc egress program calls bpf_skb_set_tunnel_key(), forced pairs: the inner sends from inside the outer's dev_hard_start_xmit() (kprobe), between the outer's helper call and its transmit",
        locks: "none found: only the BH section keeps the per-CPU md_dst of net/core/filter.c from another sender of the CPU",
        how: How::Run {
            plan: Plan::new(&[Napi, HardIrq, Threads, Forced], &tunnel_key::OPS),
            seconds: 2,
        },
        expect: |k| probed(k, &tunnel_key::RESOURCE),
    },
    Scenario {
        name: str_of(dst_cache::RESOURCE.name),
        class: Class::Kernel,
        contexts: "NAPI poll and kthreads storing and reading a dst_cache of the module's own, forced pairs on a second one: the inner stores from inside the outer's dst_cache_set_ip4() (kprobe on its dst_release() of the old entry)",
        locks: "the kernel's own: the dst_cache's per-CPU nested-BH lock",
        how: How::Run {
            plan: Plan::new(&[Napi, HardIrq, Threads, Forced], &dst_cache::OPS),
            seconds: 2,
        },
        expect: |k| probed(k, &dst_cache::RESOURCE),
    },
];

// The reports, as globs over their banner lines (see `expect`). A WARN() banner names the
// function.

/// `LocalBhDisabled::assume_disabled()`'s own `lockdep_assert_in_softirq()`.
const ASSERT_IN_SOFTIRQ: &str = "WARNING: * at rust_helper_lockdep_assert_in_softirq";
/// The `lockdep_assert_in_softirq()` inside `local_lock_nested_bh()` on !PREEMPT_RT.
const NESTED_BH_ASSERT_NORT: &str = "WARNING: * at rust_helper___local_lock_nested_bh";
/// Its out-of-line PREEMPT_RT version.
const NESTED_BH_ASSERT_RT: &str = "WARNING: * at lockdep_assert_in_softirq_func";
/// `LocalLockNestedBh`'s drop finding a copy still held by a forgotten guard, and leaking the
/// copies: a Rust `warn_on!()`, whose banner names its source line.
const FORGOTTEN_GUARD_LEAKED: &str = "WARNING: */src/sync/local_lock_nested_bh.rs:* at ";
/// `LocalBhDisabled`'s drop refusing to end a section with interrupts off: a Rust `warn_on!()`,
/// whose banner names its source line (the function is whichever the drop was inlined into).
const BH_TOKEN_DROP_REFUSED: &str = "WARNING: */src/sync/bh.rs:* at ";
/// Lockdep's wait-type check: a lock taken where its wait type may not be (the nested-BH lock,
/// `{3:3}`, in hard-irq, `{2:2}`; a mutex, `{4:4}`, under the nested-BH lock).
const INVALID_WAIT_CONTEXT: &str = "BUG: Invalid wait context";
/// `might_sleep()` (`DEBUG_ATOMIC_SLEEP`) where the task may not sleep: on PREEMPT_RT, inside
/// the RCU read-side section and disabled migration of a held sleeping spinlock.
const SLEEPING_IN_INVALID_CONTEXT: &str = "BUG: sleeping function called from invalid context";

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
    reports: &[
        "WARNING: bad unlock balance detected!",
        FORGOTTEN_GUARD_LEAKED,
    ],
    allowed: &[],
    lockdep_off: true,
    taint_w: true,
    detects: false,
};

/// Interrupts enabled in hard-irq: lockdep's `DEBUG_LOCKS_WARN_ON(lockdep_hardirq_context())`
/// in `lockdep_hardirqs_on_prepare()`, and the module's own checks. A timer interrupt that
/// nests in the window may also trip the hrtimer core's `WARN_ON_ONCE(base->running !=
/// timer)` (seen once on rt): a real consequence, allowed but not required.
const IRQS_ON_IN_HARDIRQ: Expect = Expect::Splat {
    reports: &["WARNING: * at lockdep_hardirqs_on_prepare"],
    allowed: &["WARNING: * at __hrtimer_run_queues"],
    lockdep_off: true,
    taint_w: true,
    detects: true,
};

impl Scenario {
    /// The case called `name`.
    pub(crate) fn find(name: &str) -> Option<&'static Scenario> {
        SCENARIOS.iter().find(|s| s.name == name)
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

// The `# kernel:` line of the table and the kernel in each Start line: here, because it names
// the table's kernel resources whose protection is gone. `pr_info!` formats through the
// kernel's own `Display`.
impl kernel::fmt::Display for Kernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.describe(f, SCENARIOS.iter().filter_map(|s| s.resource()))
    }
}

/// The table, for `/sys/kernel/debug/bhlock/scenarios`: a comment line with this kernel's
/// properties ([`Kernel`]), one with the resources the stock kernel leaves unprotected
/// ([`KernelResource::protected_in_stock`]), a header, then one tab-separated line per case: name, class
/// (`scenario`, `splat` or `kernel`), this kernel's expectation (kind, lockdep after, new taint
/// W, whether the module detects it, required reports, allowed reports), contexts and locks.
pub(crate) fn write_table(f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str("# kernel: ")?;
    let kernel = Kernel::this();
    kernel::fmt::Display::fmt(&kernel, f)?;
    // What the must-fail kernel carries a candidate fix for, whichever kernel this is.
    f.write_str("\n# unprotected in stock: ")?;
    let mut sep = "";
    for r in SCENARIOS.iter().filter_map(|s| s.resource()) {
        if !r.protected_in_stock {
            write!(f, "{sep}{}", str_of(r.name))?;
            sep = ",";
        }
    }
    f.write_str(if sep.is_empty() { "-\n" } else { "\n" })?;
    write!(
        f,
        "# name\tclass\texpect\tlockdep_after\ttaint_w\tmodule_detects\treports\tallowed\tcontexts\tlocks"
    )?;
    writeln!(f)?;
    for s in SCENARIOS.iter() {
        let yes_no = |b| if b { "yes" } else { "no" };
        let (kind, lockdep, taint, detects, reports, allowed) = match (s.expect)(kernel) {
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
            s.class.name()
        )?;
        write_patterns(f, reports)?;
        f.write_str("\t")?;
        write_patterns(f, allowed)?;
        writeln!(f, "\t{}\t{}", s.contexts, s.locks)?;
    }
    Ok(())
}
