// SPDX-License-Identifier: GPL-2.0

//! The control surface: `/sys/kernel/debug/bhlock/`, root-only.
//!
//! - `stats` (0400): the current or last run's report: every context's totals, failures and
//!   per-CPU spread, the evidence counters, the violations by kind and lockdep's state.
//! - `control` (0200): write `start` to start a run with the module's parameters (`EBUSY`
//!   while one runs), `stop` to end it, `scenario NAME` to run one case of the scenario table
//!   to its end, `scenario all` for every case that is not a splat. Anything else is refused
//!   with `EINVAL` and changes nothing.
//! - `scenarios` (0400): the scenario table, with this kernel's expectations.

use core::{
    fmt,
    sync::atomic::{AtomicBool, AtomicU32, Ordering::Relaxed},
};
use kernel::{
    new_mutex,
    prelude::*,
    sync::{Mutex, MutexGuard},
    time::{delay::fsleep, Delta},
    uaccess::UserSliceReader,
};

use crate::{
    scenario::{
        expect::Signals,
        kernel::Kernel,
        splat::SplatLocks,
        table::{self, Class, How, Scenario, SCENARIOS},
    },
    services::{
        debugfs::Files,
        health::{debug_locks, warn_taint},
        kmsg::KmsgCursor,
    },
    torture::{params::Params, plan::Plan, run::Run},
};

/// The run, if any, and the verdicts of the runs that ended.
#[pin_data(PinnedDrop)]
pub(crate) struct Control {
    params: Params,
    #[pin]
    run: Mutex<Option<Run>>,
    /// Held by a command that starts something (`start`, `scenario`) for as long as it runs,
    /// so that a second one is refused with `EBUSY` before it prints anything.
    #[pin]
    busy: Mutex<()>,
    runs: AtomicU32,
    any_failed: AtomicBool,
    /// Set at unload: no more runs.
    closed: AtomicBool,
}

/// The commands `control` accepts.
enum Command {
    Start,
    Stop,
    Scenario(&'static Scenario),
    AllScenarios,
}

const USAGE: &str = "control: write `start`, `stop`, `scenario NAME` or `scenario all`";

impl Control {
    /// The debugfs directory `bhlock` with its files, owning the control state; an open file
    /// keeps the module loaded.
    pub(crate) fn publish(params: Params) -> Result<Files<Self>> {
        let control = KBox::pin_init(
            pin_init!(Self {
                params,
                run <- new_mutex!(None),
                busy <- new_mutex!(()),
                runs: AtomicU32::new(0),
                any_failed: AtomicBool::new(false),
                closed: AtomicBool::new(false),
            }),
            GFP_KERNEL,
        )?;
        Files::new(c"bhlock", control)?
            .show(c"stats", Self::read_stats)?
            .store(c"control", Self::write_control)?
            .show(c"scenarios", |_, f| table::write_table(f))
    }

    /// Starts a run unless one is going.
    pub(crate) fn start(&self) -> Result {
        let _busy = self.claim("start")?;
        self.start_with(self.params, Plan::torture(&self.params))
    }

    /// Claims the control for `command`, or refuses it (`EBUSY`) while a run, or another
    /// command that starts one, is going.
    fn claim(&self, command: &str) -> Result<MutexGuard<'_, ()>> {
        match self.busy.try_lock() {
            Some(busy) if !self.run.lock().as_ref().is_some_and(Run::is_running) => Ok(busy),
            _ => {
                pr_err!("control: `{command}` refused: a run is going (`stop` ends it)\n");
                Err(EBUSY)
            }
        }
    }

    fn start_with(&self, params: Params, plan: Plan) -> Result {
        let mut run = self.run.lock();
        if self.closed.load(Relaxed) {
            return Err(ENODEV);
        }
        if run.as_ref().is_some_and(Run::is_running) {
            return Err(EBUSY);
        }
        self.retire(run.take());
        let id = self.runs.fetch_add(1, Relaxed) + 1;
        *run = Some(Run::start(id, params, plan)?);
        Ok(())
    }

    /// Runs scenario `s` to its end, judges its four signals by the table
    /// ([`Expect::judge`](crate::scenario::expect::Expect::judge)) and prints them and the
    /// verdict: `scenario NAME: End of test: SUCCESS` when they are what the table expects on
    /// this kernel. A run-based case stays readable in `stats` afterwards.
    pub(crate) fn run_scenario(&self, s: &'static Scenario) -> Result {
        let _busy = self.claim("scenario")?;
        self.judge_scenario(s)
    }

    /// Runs every case of the table that is not a splat, in table order.
    pub(crate) fn run_all_scenarios(&self) -> Result {
        let _busy = self.claim("scenario all")?;
        for s in SCENARIOS.iter().filter(|s| s.class != Class::Splat) {
            self.judge_scenario(s)?;
        }
        Ok(())
    }

    /// [`Control::run_scenario`] once the control is claimed. Every `Start of test` line gets
    /// its `End of test` line: a FAILURE with the error if the case could not run.
    fn judge_scenario(&self, s: &'static Scenario) -> Result {
        let (lockdep_before, taint_before) = (debug_locks(), warn_taint());
        let mut console = KmsgCursor::now();
        let kernel = Kernel::this();
        let expect = (s.expect)(kernel);
        pr_info!(
            "scenario {}: Start of test: contexts: {}; locks: {}; expected on this kernel ({}): {}\n",
            s.name,
            s.contexts,
            s.locks,
            kernel,
            expect
        );
        let outcome = self
            .provoke(s)
            .and_then(|detected| Ok((detected, expect.read_reports(&mut console)?)));
        let (detected, reports) = match outcome {
            Ok(outcome) => outcome,
            Err(e) => {
                self.any_failed.store(true, Relaxed);
                pr_info!(
                    "scenario {}: End of test: FAILURE: could not run it: {:?}\n",
                    s.name,
                    e
                );
                return Err(e);
            }
        };
        let (lockdep_after, taint_after) = (debug_locks(), warn_taint());
        let signals = Signals {
            module_detects: detected,
            lockdep_on: lockdep_after,
            new_taint_w: taint_after && !taint_before,
            reports,
        };
        let verdict = expect.judge(&signals);
        if verdict.is_err() {
            self.any_failed.store(true, Relaxed);
        }
        let r = &signals.reports;
        pr_info!(
            "scenario {}: module_detects={} debug_locks={}->{} taint_w={}->{} reports={} expected_seen={}/{} unexpected={}\n",
            s.name,
            u8::from(detected),
            u8::from(lockdep_before),
            u8::from(lockdep_after),
            u8::from(taint_before),
            u8::from(taint_after),
            r.total,
            r.matched.iter().filter(|m| **m).count(),
            expect.required(),
            r.unexpected
        );
        match verdict {
            Ok(()) => pr_info!("scenario {}: End of test: SUCCESS\n", s.name),
            Err(why) => pr_info!("scenario {}: End of test: FAILURE: {}\n", s.name, why),
        }
        Ok(())
    }

    /// Runs or provokes case `s`; returns whether the module's own checks detected it.
    fn provoke(&self, s: &'static Scenario) -> Result<bool> {
        Ok(match &s.how {
            How::Run { plan, seconds } => {
                let params = Params {
                    duration: *seconds,
                    stat_interval: 0,
                    ..self.params
                };
                self.start_with(params, *plan)?;
                while self.run.lock().as_ref().is_some_and(Run::is_running) {
                    fsleep(Delta::from_millis(50));
                }
                self.run
                    .lock()
                    .as_ref()
                    .is_some_and(|run| run.violations() != 0)
            }
            How::Once(action) => action(&SplatLocks::new()?)?,
        })
    }

    /// Ends the run, if one is going; its results stay readable.
    pub(crate) fn stop(&self) {
        if let Some(run) = self.run.lock().as_ref() {
            self.end(run);
        }
    }

    /// Ends the run for good, refuses new ones, and returns whether every run succeeded.
    pub(crate) fn shut_down(&self) -> bool {
        let mut run = self.run.lock();
        self.closed.store(true, Relaxed);
        self.retire(run.take());
        !self.any_failed.load(Relaxed)
    }

    /// Ends `run` if it is going, and records its verdict.
    fn end(&self, run: &Run) {
        run.stop();
        if run.failed() {
            self.any_failed.store(true, Relaxed);
        }
    }

    /// Ends and frees `run`, recording its verdict.
    fn retire(&self, run: Option<Run>) {
        if let Some(run) = run {
            self.end(&run);
        }
    }

    fn read_stats(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.run.lock().as_ref() {
            Some(run) => run.write_stats(f),
            None => writeln!(f, "no run yet: {}", self.params),
        }
    }

    fn write_control(&self, reader: &mut UserSliceReader) -> Result {
        let mut buf = [0u8; 64];
        let len = reader.len();
        if len > buf.len() {
            pr_err!("{}\n", USAGE);
            return Err(EINVAL);
        }
        reader.read_slice(&mut buf[..len])?;
        let command = match core::str::from_utf8(&buf[..len]).map(str::trim) {
            Ok("start") => Command::Start,
            Ok("stop") => Command::Stop,
            Ok("scenario all") => Command::AllScenarios,
            Ok(text) => match text.strip_prefix("scenario ").and_then(Scenario::find) {
                Some(s) => Command::Scenario(s),
                None => {
                    pr_err!("{}; `{}` is none of them\n", USAGE, text);
                    return Err(EINVAL);
                }
            },
            Err(_) => {
                pr_err!("{}\n", USAGE);
                return Err(EINVAL);
            }
        };
        match command {
            Command::Start => self.start(),
            Command::Stop => {
                self.stop();
                Ok(())
            }
            Command::Scenario(s) => self.run_scenario(s),
            Command::AllScenarios => self.run_all_scenarios(),
        }
    }
}

#[pinned_drop]
impl PinnedDrop for Control {
    fn drop(self: Pin<&mut Self>) {
        self.shut_down();
    }
}
