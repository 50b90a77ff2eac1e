// SPDX-License-Identifier: GPL-2.0

//! One run: every context started on every online CPU and kept there as CPUs come and go, a
//! controller thread that prints the periodic report and ends the run after `duration`, and a
//! teardown that is safe at any moment (end of duration, `stop`, `rmmod`) and whatever the CPU
//! set is then.

use core::{
    fmt::{self, Write},
    sync::atomic::{AtomicI64, AtomicU8, Ordering::Relaxed},
};
use kernel::{
    ffi::{c_int, c_void},
    new_mutex,
    prelude::*,
    sync::{Arc, Mutex},
    time::{delay::fsleep, Delta, Instant, Monotonic},
};

use super::{
    core_state::Core,
    cpu_workers::RunCpus,
    napi::NapiConsumer,
    params::Params,
    plan::Plan,
    stats::{Context, CONTEXTS},
};
use crate::services::{
    cpu_hotplug::CpuWatch,
    cpus::online_cpus,
    health::Baseline,
    kthread::{self, KThread, Policy},
    log_writer::LogWriter,
};

/// Everything that generates work: the workers of every online CPU, which dropping the watch
/// stops on each.
type Workers = CpuWatch<RunCpus>;

const RUNNING: u8 = 0;
const SUCCESS: u8 = 1;
const FAILURE: u8 = 2;

/// How much of a run's report to write.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Detail {
    /// The contexts, and the counters that are not zero: the periodic report in the log.
    Summary,
    /// And a line per CPU: the final report, and the periodic one with `verbose`.
    PerCpu,
    /// And every counter, zeros included: the `stats` file, which scripts parse.
    Everything,
}

/// The part of a run its controller thread shares.
#[pin_data]
struct RunState {
    id: u32,
    core: Arc<Core>,
    plan: Plan,
    #[pin]
    workers: Mutex<Option<Workers>>,
    started: Instant<Monotonic>,
    baseline: Baseline,
    verdict: AtomicU8,
    /// How long the run lasted in ms, set once the workers are gone (before the final
    /// report), so that `stats` stops counting when the run stops; -1 while it runs.
    lasted_ms: AtomicI64,
    threads: u32,
}

/// A run; dropping it ends it (if still running) and frees everything.
pub(crate) struct Run {
    // Declared first: the controller stops before the state it borrows can go.
    _controller: Option<KThread>,
    state: Arc<RunState>,
}

impl Run {
    /// Starts run number `id` with `params` on every online CPU, with the contexts and the
    /// ops entry of `plan`.
    pub(crate) fn start(id: u32, params: Params, plan: Plan) -> Result<Self> {
        let baseline = Baseline::now();
        let ops = plan.ops;
        let params = Params {
            threaded: params.threaded || ops.fifo_napi_threads,
            ..params
        };
        let resource_state = ops.resource.map(|r| (r.new_state)()).transpose()?;
        let core = Arc::pin_init(
            Core::new(
                params,
                ops.unlocked,
                resource_state,
                ops.probe().map(|p| p.symbol),
            ),
            GFP_KERNEL,
        )?;
        let napi = NapiConsumer::new(&core, ops)?;
        let run_cpus = RunCpus::new(&core, plan, &napi, &online_cpus()?)?;
        // Starts the workers on every online CPU, and follows CPU hotplug from now on.
        let workers = CpuWatch::new(c"bhlock/run:online", c"bhlock/run:prepare", run_cpus)?;
        workers.follower().count_hotplug(true);
        let cpus = workers.follower().working();
        let threads = workers.follower().threads_now();

        pr_info!(
            "run {}: started on {} CPUs, ops {}: napi {}, {} hard and {} soft timers every {} us, {} cache-user threads, {} forced pairs\n",
            id,
            cpus,
            ops.name,
            if params.threaded { "threaded" } else { "in softirq" },
            if plan.runs(Context::HardIrq) { cpus } else { 0 },
            if plan.runs(Context::SoftTimer) { cpus } else { 0 },
            params.interval_us,
            threads,
            if plan.runs(Context::Forced) { cpus } else { 0 },
        );
        let state = Arc::pin_init(
            pin_init!(RunState {
                id,
                core,
                plan,
                workers <- new_mutex!(Some(workers)),
                started: Instant::now(),
                baseline,
                verdict: AtomicU8::new(RUNNING),
                lasted_ms: AtomicI64::new(-1),
                threads,
            }),
            GFP_KERNEL,
        )?;
        // SAFETY: `Run` keeps `state` alive until its `_controller` field has stopped the
        // thread.
        let controller = unsafe {
            KThread::start_with(
                controller,
                Arc::as_ptr(&state).cast_mut().cast(),
                c"bhlock_run",
                None,
                Policy::FifoLow,
            )
        };
        let controller = match controller {
            Ok(thread) => Some(thread),
            Err(e) => {
                state.finish();
                return Err(e);
            }
        };
        Ok(Self {
            _controller: controller,
            state,
        })
    }

    /// Whether the run is still going.
    pub(crate) fn is_running(&self) -> bool {
        self.state.verdict.load(Relaxed) == RUNNING
    }

    /// Whether the run ended and failed.
    pub(crate) fn failed(&self) -> bool {
        self.state.verdict.load(Relaxed) == FAILURE
    }

    /// How many violations the run's checks counted.
    pub(crate) fn violations(&self) -> u64 {
        self.state.core.stats.total_violations()
    }

    /// Ends the run now if it is still going, with its final report.
    pub(crate) fn stop(&self) {
        self.state.finish();
    }

    /// Writes the current report, as the `stats` file shows it: with every counter, zeros
    /// included, so that a reader looking for a counter by name never mistakes a renamed or
    /// removed one for a zero.
    pub(crate) fn write_stats(&self, f: &mut impl Write) -> fmt::Result {
        self.state.write_report(f, "", None, Detail::Everything).0
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        // The controller is stopped first (field order), then the run ends here if it has
        // not yet.
        self.state.finish();
    }
}

impl RunState {
    fn enabled(&self, context: Context) -> bool {
        self.plan.runs(context) && (context != Context::Threads || self.threads != 0)
    }

    fn ended(&self) -> bool {
        self.lasted_ms.load(Relaxed) >= 0
    }

    /// Seconds since the run started, or that it lasted once it ended.
    fn elapsed_s(&self) -> i64 {
        match self.lasted_ms.load(Relaxed) {
            ..0 => self.started.elapsed().as_millis() / 1000,
            lasted => lasted / 1000,
        }
    }

    /// Writes the report; `advanced` says per context whether it made progress since the
    /// previous periodic report (`None`: judge only a total of zero as starved).
    ///
    /// Returns the formatter's result and whether everything so far is clean.
    fn write_report(
        &self,
        f: &mut impl Write,
        prefix: &str,
        advanced: Option<[bool; CONTEXTS.len()]>,
        detail: Detail,
    ) -> (fmt::Result, bool) {
        let every_counter = detail == Detail::Everything;
        let stats = &self.core.stats;
        let mut ok = true;
        let mut result = writeln!(
            f,
            "{prefix}run {}: {} s, {}: {}",
            self.id,
            self.elapsed_s(),
            if self.ended() { "ended" } else { "running" },
            self.core.params
        );
        for (i, context) in CONTEXTS.iter().enumerate() {
            let s = stats.summary(*context);
            let enabled = self.enabled(*context);
            let starved = enabled && (s.total == 0 || advanced.is_some_and(|a| !a[i]));
            ok &= s.fail == 0 && !(enabled && s.total == 0);
            result = result.and_then(|()| {
                writeln!(
                    f,
                    "{prefix}{:<9}  Total: {}  Max/Min: {}/{} {} Fail: {} {}",
                    context.name(),
                    s.total,
                    s.max,
                    s.min,
                    if starved { "???" } else { "" },
                    s.fail,
                    if s.fail != 0 { "!!!" } else { "" }
                )
            });
        }
        let lockdep = self.baseline.check();
        ok &= lockdep.is_ok() && stats.clean();
        result = result
            .and_then(|()| stats.write_events(f, prefix, every_counter))
            .and_then(|()| stats.write_violations(f, prefix, every_counter))
            .and_then(|()| writeln!(f, "{prefix}lockdep: {}", lockdep.err().unwrap_or("clean")))
            .and_then(|()| match self.core.first_cache_fault_by() {
                None => Ok(()),
                Some(context) => writeln!(
                    f,
                    "{prefix}first cache fault after {} ms, in forced round {}, found by {}",
                    self.core.first_cache_fault_ms.load(Relaxed),
                    self.core.first_cache_fault_round.load(Relaxed),
                    context.name()
                ),
            });
        if detail != Detail::Summary {
            result = result.and_then(|()| stats.write_per_cpu(f, prefix));
        }
        (result, ok)
    }

    /// The periodic report, to the kernel log.
    fn report(&self) {
        let advanced = self.core.stats.advanced_since_last();
        let mut log = LogWriter::new();
        let detail = if self.core.params.verbose {
            Detail::PerCpu
        } else {
            Detail::Summary
        };
        let _ = self.write_report(&mut log, "", Some(advanced), detail);
    }

    /// Tears the workers down if they still run, prints the final report and the verdict.
    fn finish(&self) {
        let Some(workers) = self.workers.lock().take() else {
            return;
        };
        // The end stops the workers on every CPU: not a hotplug event.
        workers.follower().count_hotplug(false);
        drop(workers);
        (self.plan.ops.final_check)(&self.core);
        self.lasted_ms
            .store(self.started.elapsed().as_millis(), Relaxed);
        let mut log = LogWriter::new();
        let (_, ok) = self.write_report(&mut log, "", None, Detail::PerCpu);
        drop(log);
        self.verdict
            .store(if ok { SUCCESS } else { FAILURE }, Relaxed);
        pr_info!(
            "run {}: End of test: {}\n",
            self.id,
            if ok { "SUCCESS" } else { "FAILURE" }
        );
    }
}

/// How often the controller looks at the time. Below the 16 ms from which `fsleep()` uses
/// the timer wheel: its wake-up is then an hrtimer's, which PREEMPT_RT expires in hard-irq for
/// a real-time sleeper. The timer wheel's softirq, and a normal task's hrtimer, wait on
/// PREEMPT_RT_NEEDS_BH_LOCK for the BH sections a run keeps busy: a 2 s run then ended after
/// up to 6 s on `rt-bhlock`.
const CONTROLLER_TICK: Delta = Delta::from_millis(10);

/// The controller thread of a run: periodic reports, and the end after `duration`. It runs
/// as `SCHED_FIFO` (lowest priority), so that the run's own threads cannot delay its end
/// (see [`CONTROLLER_TICK`]); it sleeps all but a few microseconds of every tick.
///
/// # Safety
///
/// `data` must point to a [`RunState`] that outlives the thread.
unsafe extern "C" fn controller(data: *mut c_void) -> c_int {
    // SAFETY: `Run` keeps the state alive until this thread is stopped.
    let state = unsafe { &*data.cast::<RunState>().cast_const() };
    let params = state.core.params;
    let mut last_report = 0;
    while !kthread::should_stop() {
        fsleep(CONTROLLER_TICK);
        if state.verdict.load(Relaxed) != RUNNING {
            continue;
        }
        let elapsed = state.elapsed_s();
        if params.stat_interval != 0 && elapsed >= last_report + i64::from(params.stat_interval) {
            last_report = elapsed;
            state.report();
        }
        if params.duration != 0 && elapsed >= i64::from(params.duration) {
            state.finish();
        }
    }
    0
}
