// SPDX-License-Identifier: GPL-2.0

//! bhlock: exercises BH-nested local locking (`local_lock_nested_bh()`) and lockdep's release
//! paths from Rust, on PREEMPT_RT and non-RT kernels.
//!
//! On load it checks its parameters (`EINVAL` for a value out of range), prints a
//! locktorture-style `Start of test` line with every parameter and runs its self-check. A run
//! (the NAPI consumer, the hard- and soft-irq timers and the cache-user threads on every
//! online CPU) starts at load when `duration` is set, or from `/sys/kernel/debug/bhlock/control`.
//! Every run ends with `run N: End of test: SUCCESS|FAILURE`, and unloading with
//! `End of test: SUCCESS|FAILURE` for everything since load.

use kernel::prelude::*;

use crate::{
    scenario::{selfcheck, table::SCENARIOS},
    services::{debugfs::Files, health::Baseline},
    torture::params::{in_range, Params},
};

// The layers, from the bottom up; each imports only those before it.
mod bench;
mod scenario;
mod services;
pub mod sync;
mod torture;
// The top: the control surface and the KUnit suite.
mod control;
mod tests;

module! {
    type: Bhlock,
    name: "bhlock",
    authors: ["bhlock developers"],
    description: "BH-nested local lock and lockdep release-path tests",
    license: "GPL",
    params: {
        duration: u32 {
            default: 0,
            description: "Seconds a run lasts, 0..=86400; a run starts at load if set, else from debugfs control (and lasts until stop)",
        },
        interval_us: u32 {
            default: 1000,
            description: "Period of the hard and soft hrtimers in microseconds, 50..=1000000",
        },
        napi_budget: u32 {
            default: 16,
            description: "NAPI weight, the budget of every poll, 1..=64",
        },
        threaded: bool {
            default: false,
            description: "Run the NAPI polls in NAPI threads instead of NET_RX softirq",
        },
        nr_threads: i32 {
            default: -1,
            description: "Process-context cache-user kthreads, -1..=256; -1 means one per online CPU",
        },
        stat_interval: u32 {
            default: 0,
            description: "Seconds between periodic stats lines, 0..=3600; 0 means only at the end of a run",
        },
        verbose: bool {
            default: false,
            description: "Per-CPU lines in the periodic stats too",
        },
        lock_with_bh_enabled: bool {
            default: false,
            description: "Negative control: take the nested-BH lock with BH enabled (lockdep must warn, the run must end FAILURE)",
        },
        irqs_on_in_hardirq: bool {
            default: false,
            description: "Negative control: enable interrupts briefly in the hard-irq timer callback (the IRQ-window detector must fire, the run must end FAILURE)",
        },
        unlock_irq_in_hardirq: bool {
            default: false,
            description: "Negative control: release the raw spinlock in the hard-irq timer callback with raw_spin_unlock_irq() (the after-release check must fire, the run must end FAILURE)",
        },
        scenario: i32 {
            default: 0,
            description: "Scenario to run at load: N runs the Nth line of /sys/kernel/debug/bhlock/scenarios, -1 every case that is not a splat, 0 none",
        },
        bench: bool {
            default: false,
            description: "Run the benchmarks at load and print their figures (see scripts/bench.sh); not a test",
        },
        bench_loops: u32 {
            default: 20000,
            description: "Lock/unlock iterations per benchmark repetition, 1000..=10000000 (NAPI: a sixteenth as many polls)",
        },
        bench_seconds: u32 {
            default: 5,
            description: "Seconds the hard-irq timer latency benchmark runs, 1..=600, at the period interval_us",
        },
        busted: bool {
            default: false,
            description: "Negative control of the lock itself: every context touches the per-CPU cache without the nested-BH lock (on PREEMPT_RT without the BH lock the cache checks must catch the race)",
        },
        starve_threads: bool {
            default: false,
            description: "Negative control of the progress check: the cache-user threads only sleep (their report line must show ??? and the run must end FAILURE)",
        },
        leak: bool {
            default: false,
            description: "Negative control of the leak check: leak a few 128-byte allocations at load (a kmemleak scan must report them)",
        },
    },
}

/// How many allocations the `leak` control leaks (the log line at load says so, for the test).
const LEAK_CONTROL_OBJECTS: usize = 8;

struct Bhlock {
    baseline: Baseline,
    selfcheck_passed: bool,
    control: Files<control::Control>,
}

impl kernel::Module for Bhlock {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let params = Params::from_module()?;
        in_range("scenario", params.scenario, -1, SCENARIOS.len() as i64)?;
        pr_info!(
            "Start of test: {} (kernel: preempt_rt={} needs_bh_lock={} prove_locking={})\n",
            params,
            u8::from(cfg!(CONFIG_PREEMPT_RT)),
            u8::from(cfg!(CONFIG_PREEMPT_RT_NEEDS_BH_LOCK)),
            u8::from(cfg!(CONFIG_PROVE_LOCKING)),
        );
        let baseline = Baseline::now();
        let selfcheck_passed = match selfcheck::run(params.lock_with_bh_enabled, &baseline) {
            Ok(()) => {
                pr_info!("selfcheck: ok\n");
                true
            }
            Err(why) => {
                pr_err!("selfcheck: FAILED: {}\n", why);
                false
            }
        };
        if params.leak {
            // Each pointer is dropped: nothing refers to the allocations any more. There are
            // several, because kmemleak can miss one for a while: a stale copy of its address
            // in memory it scans (the cached stack of an exited task) makes it look referenced.
            for _ in 0..LEAK_CONTROL_OBJECTS {
                KBox::leak(KBox::new([0xb4u8; 128], GFP_KERNEL)?);
            }
            pr_info!("leak: {LEAK_CONTROL_OBJECTS} allocations of 128 bytes leaked on purpose\n");
        }
        if params.bench {
            bench::run(&params)?;
        }
        let control = control::Control::publish(params)?;
        match params.scenario {
            0 => {}
            -1 => control.run_all_scenarios()?,
            n => control.run_scenario(&SCENARIOS[n as usize - 1])?,
        }
        if params.duration != 0 {
            control.start()?;
        }
        Ok(Bhlock {
            baseline,
            selfcheck_passed,
            control,
        })
    }
}

impl Drop for Bhlock {
    fn drop(&mut self) {
        let runs_passed = self.control.shut_down();
        // Whatever ran while the module was loaded (KUnit, runs) counts too.
        let since_load = self.baseline.check();
        if let Err(why) = since_load {
            pr_err!("since load: {}\n", why);
        }
        let ok = self.selfcheck_passed && runs_passed && since_load.is_ok();
        pr_info!("End of test: {}\n", if ok { "SUCCESS" } else { "FAILURE" });
    }
}
