// SPDX-License-Identifier: GPL-2.0

//! The control surface: `/sys/kernel/debug/bhlock/`, root-only.
//!
//! - `stats` (0400): the current or last run's report: every context's totals, failures and
//!   per-CPU spread, the evidence counters, the violations by kind and lockdep's state.
//! - `control` (0200): write `start` to start a run with the module's parameters (`EBUSY`
//!   while one runs), `stop` to end it. Anything else is refused with `EINVAL` and changes
//!   nothing.

use core::{
    fmt,
    sync::atomic::{AtomicBool, AtomicU32, Ordering::Relaxed},
};
use kernel::{
    debugfs::{Scope, ScopedDir},
    new_mutex,
    prelude::*,
    sync::Mutex,
    uaccess::UserSliceReader,
};

use crate::{params::Params, run::Run};

/// The run, if any, and the verdicts of the runs that ended.
#[pin_data(PinnedDrop)]
pub(crate) struct Control {
    params: Params,
    #[pin]
    run: Mutex<Option<Run>>,
    runs: AtomicU32,
    any_failed: AtomicBool,
    /// Set at unload: no more runs.
    closed: AtomicBool,
}

/// The commands `control` accepts.
enum Command {
    Start,
    Stop,
}

impl Control {
    /// The debugfs directory `bhlock` with its files, owning the control state.
    pub(crate) fn create(params: Params) -> impl PinInit<Scope<Self>> {
        let control = pin_init!(Self {
            params,
            run <- new_mutex!(None),
            runs: AtomicU32::new(0),
            any_failed: AtomicBool::new(false),
            closed: AtomicBool::new(false),
        });
        Scope::dir(control, c"bhlock", |control, dir: &ScopedDir<'_, '_>| {
            dir.read_callback_file(c"stats", control, &Self::read_stats);
            dir.write_only_callback_file(c"control", control, &Self::write_control);
        })
    }

    /// Starts a run unless one is going.
    pub(crate) fn start(&self) -> Result {
        let mut run = self.run.lock();
        if self.closed.load(Relaxed) {
            return Err(ENODEV);
        }
        if run.as_ref().is_some_and(Run::is_running) {
            return Err(EBUSY);
        }
        self.retire(run.take());
        let id = self.runs.fetch_add(1, Relaxed) + 1;
        *run = Some(Run::start(id, self.params)?);
        Ok(())
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
        let mut buf = [0u8; 16];
        let len = reader.len();
        if len > buf.len() {
            pr_err!("control: write `start` or `stop`\n");
            return Err(EINVAL);
        }
        reader.read_slice(&mut buf[..len])?;
        let command = match core::str::from_utf8(&buf[..len]).map(str::trim) {
            Ok("start") => Command::Start,
            Ok("stop") => Command::Stop,
            _ => {
                pr_err!("control: write `start` or `stop`\n");
                return Err(EINVAL);
            }
        };
        match command {
            Command::Start => self.start(),
            Command::Stop => {
                self.stop();
                Ok(())
            }
        }
    }
}

#[pinned_drop]
impl PinnedDrop for Control {
    fn drop(self: Pin<&mut Self>) {
        self.shut_down();
    }
}
