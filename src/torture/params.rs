// SPDX-License-Identifier: GPL-2.0

//! The module parameters of a run, read once at load and checked against their ranges.

use core::fmt;
use kernel::prelude::*;

use crate::module_parameters as mp;

/// Validated parameters; see `modinfo bhlock.ko` for what each one does.
#[derive(Clone, Copy)]
pub(crate) struct Params {
    /// Seconds a run lasts; 0 means until `stop` or `rmmod`, and no run at load.
    pub(crate) duration: u32,
    /// Period of the hrtimers, in microseconds.
    pub(crate) interval_us: u32,
    /// The NAPI weight, which is the budget every poll gets.
    pub(crate) napi_budget: u32,
    /// Whether the NAPI instances run in threaded mode.
    pub(crate) threaded: bool,
    /// Process-context cache users; -1 means one per online CPU.
    pub(crate) nr_threads: i32,
    /// Seconds between periodic stats lines; 0 means only at the end.
    pub(crate) stat_interval: u32,
    /// Per-CPU lines in the periodic reports too.
    pub(crate) verbose: bool,
    /// Negative control: take the self-check's lock with BH enabled.
    pub(crate) lock_with_bh_enabled: bool,
    /// Negative control: open an interrupt window in the hard-irq callback.
    pub(crate) irqs_on_in_hardirq: bool,
    /// Negative control: release the raw spinlock in hard-irq with `raw_spin_unlock_irq()`.
    pub(crate) unlock_irq_in_hardirq: bool,
    /// Negative control of the lock itself: the cache users skip the nested-BH lock.
    pub(crate) busted: bool,
    /// Negative control of the progress check: the cache-user threads only sleep.
    pub(crate) starve_threads: bool,
    /// Negative control of the leak check: leak one allocation at load.
    pub(crate) leak: bool,
    /// The scenario to run at load: 1-based index into the table, -1 all but splats, 0 none.
    pub(crate) scenario: i32,
    pub(crate) bench: bool,
    pub(crate) bench_loops: u32,
    pub(crate) bench_seconds: u32,
}

/// Fails with `EINVAL` and a `pr_err` naming `name` and its range unless `value` is in it.
pub(crate) fn in_range(name: &str, value: impl Into<i64>, min: i64, max: i64) -> Result {
    let value = value.into();
    if value < min || value > max {
        pr_err!(
            "{}={} is out of range: valid values are {}..={}\n",
            name,
            value,
            min,
            max
        );
        return Err(EINVAL);
    }
    Ok(())
}

impl Params {
    /// Reads the module parameters and checks each against its range.
    pub(crate) fn from_module() -> Result<Self> {
        let p = Self {
            duration: mp::duration.value(),
            interval_us: mp::interval_us.value(),
            napi_budget: mp::napi_budget.value(),
            threaded: mp::threaded.value(),
            nr_threads: mp::nr_threads.value(),
            stat_interval: mp::stat_interval.value(),
            verbose: mp::verbose.value(),
            lock_with_bh_enabled: mp::lock_with_bh_enabled.value(),
            irqs_on_in_hardirq: mp::irqs_on_in_hardirq.value(),
            unlock_irq_in_hardirq: mp::unlock_irq_in_hardirq.value(),
            busted: mp::busted.value(),
            starve_threads: mp::starve_threads.value(),
            leak: mp::leak.value(),
            scenario: mp::scenario.value(),
            bench: mp::bench.value(),
            bench_loops: mp::bench_loops.value(),
            bench_seconds: mp::bench_seconds.value(),
        };
        in_range("duration", p.duration, 0, 86400)?;
        in_range("interval_us", p.interval_us, 50, 1_000_000)?;
        // Above NAPI_POLL_WEIGHT, netif_napi_add_weight() complains.
        in_range("napi_budget", p.napi_budget, 1, 64)?;
        in_range("nr_threads", p.nr_threads, -1, 256)?;
        in_range("stat_interval", p.stat_interval, 0, 3600)?;
        in_range("bench_loops", p.bench_loops, 1000, 10_000_000)?;
        in_range("bench_seconds", p.bench_seconds, 1, 600)?;
        // Each picks the ops entry of a run (`Plan::torture`): one at a time.
        let controls = [p.busted, p.irqs_on_in_hardirq, p.unlock_irq_in_hardirq];
        if controls.iter().filter(|on| **on).count() > 1 {
            pr_err!(
                "busted={} irqs_on_in_hardirq={} unlock_irq_in_hardirq={}: at most one of these negative controls at a time\n",
                u8::from(p.busted),
                u8::from(p.irqs_on_in_hardirq),
                u8::from(p.unlock_irq_in_hardirq)
            );
            return Err(EINVAL);
        }
        // The range of `scenario` is the scenario table's, checked where the table is known.
        Ok(p)
    }

    /// How many process-context threads a run starts.
    pub(crate) fn threads(&self, online_cpus: u32) -> u32 {
        match u32::try_from(self.nr_threads) {
            Ok(n) => n,
            Err(_) => online_cpus,
        }
    }
}

// `pr_info!` formats through the kernel's own `Display`.
impl kernel::fmt::Display for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "duration={} interval_us={} napi_budget={} threaded={} nr_threads={} \
             stat_interval={} verbose={} lock_with_bh_enabled={} irqs_on_in_hardirq={} \
             unlock_irq_in_hardirq={} busted={} starve_threads={} leak={} scenario={} bench={} bench_loops={} \
             bench_seconds={}",
            self.duration,
            self.interval_us,
            self.napi_budget,
            u8::from(self.threaded),
            self.nr_threads,
            self.stat_interval,
            u8::from(self.verbose),
            u8::from(self.lock_with_bh_enabled),
            u8::from(self.irqs_on_in_hardirq),
            u8::from(self.unlock_irq_in_hardirq),
            u8::from(self.busted),
            u8::from(self.starve_threads),
            u8::from(self.leak),
            self.scenario,
            u8::from(self.bench),
            self.bench_loops,
            self.bench_seconds,
        )
    }
}
