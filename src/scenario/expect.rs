// SPDX-License-Identifier: GPL-2.0

//! What a case of the scenario table must produce, and **the judge**: the one piece of code
//! that turns the four signals of a finished case into its verdict.
//!
//! The signals: whether the module's own checks saw a problem, `debug_locks` after the case,
//! whether the case set the W taint bit, and the kernel reports printed while it ran (read
//! back from the kernel log, [`KmsgCursor`]). Report patterns are globs (`*` matches any
//! text) matched anywhere in a report's banner line, the same way in the shell
//! (`[[ $line == *$pattern* ]]`).

use core::fmt;
use kernel::prelude::*;

use crate::services::kmsg::KmsgCursor;

/// What a case must produce on one kernel.
#[derive(Clone, Copy)]
pub(crate) enum Expect {
    /// No violation, lockdep stays on, no new taint, no kernel report.
    Clean,
    /// The module's own checks fail the run; lockdep stays on and no kernel report.
    Caught,
    /// Each of `reports` appears, and no other report but those `allowed`. `lockdep_off`:
    /// lockdep turns itself off. `taint_w`: a `WARN()` taints the kernel (a lockdep report
    /// alone does not). `detects`: the module's own checks see it too.
    Splat {
        reports: &'static [&'static str],
        allowed: &'static [&'static str],
        lockdep_off: bool,
        taint_w: bool,
        detects: bool,
    },
}

/// Most patterns a case may require.
pub(crate) const MAX_REPORTS: usize = 8;

/// The signals of one finished case.
pub(crate) struct Signals {
    /// Whether the module's own checks saw a problem.
    pub(crate) module_detects: bool,
    /// `debug_locks` after the case.
    pub(crate) lockdep_on: bool,
    /// Whether the case set the W taint bit.
    pub(crate) new_taint_w: bool,
    /// The reports printed during the case, as counted against the expectation.
    pub(crate) reports: Reports,
}

/// The kernel reports of a case, sorted by the expectation's patterns.
pub(crate) struct Reports {
    /// All of them.
    pub(crate) total: u32,
    /// Per required pattern, whether a report matched it.
    pub(crate) matched: [bool; MAX_REPORTS],
    /// Reports that matched no required and no allowed pattern.
    pub(crate) unexpected: u32,
}

/// Whether `text` matches the glob `pattern` (only `*` is special) anywhere in it.
pub(crate) fn glob_contains(pattern: &str, text: &str) -> bool {
    /// Whether `p` matches the start of `t`.
    fn prefix(p: &[u8], t: &[u8]) -> bool {
        match p.split_first() {
            None => true,
            Some((b'*', rest)) => (0..=t.len()).any(|i| prefix(rest, &t[i..])),
            Some((c, rest)) => t.first() == Some(c) && prefix(rest, &t[1..]),
        }
    }
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    (0..=t.len()).any(|i| prefix(p, &t[i..]))
}

impl Expect {
    /// The patterns a report must match, and those it may.
    fn patterns(&self) -> (&'static [&'static str], &'static [&'static str]) {
        match self {
            Self::Splat {
                reports, allowed, ..
            } => (reports, allowed),
            _ => (&[], &[]),
        }
    }

    /// How many patterns a report must match.
    pub(crate) fn required(&self) -> usize {
        self.patterns().0.len()
    }

    /// Reads the reports printed since `cursor` and sorts them by this expectation.
    pub(crate) fn read_reports(&self, cursor: &mut KmsgCursor) -> Result<Reports> {
        let (required, allowed) = self.patterns();
        let mut reports = Reports {
            total: 0,
            matched: [false; MAX_REPORTS],
            unexpected: 0,
        };
        cursor.for_each_report(|line| {
            reports.total += 1;
            let mut expected = false;
            for (i, pattern) in required.iter().enumerate().take(MAX_REPORTS) {
                if glob_contains(pattern, line) {
                    reports.matched[i] = true;
                    expected = true;
                }
            }
            if !expected && !allowed.iter().any(|pattern| glob_contains(pattern, line)) {
                reports.unexpected += 1;
            }
        })?;
        Ok(reports)
    }

    /// The verdict: `Ok` when the signals are what this expectation says, else the first
    /// reason they are not.
    pub(crate) fn judge(&self, s: &Signals) -> Result<(), &'static str> {
        let (detects, lockdep_on, taint_w) = match *self {
            Self::Clean => (false, true, false),
            Self::Caught => (true, true, false),
            Self::Splat {
                lockdep_off,
                taint_w,
                detects,
                ..
            } => (detects, !lockdep_off, taint_w),
        };
        let (required, _) = self.patterns();
        if s.module_detects != detects {
            return Err(if detects {
                "the module's checks saw nothing"
            } else {
                "the module's checks saw a problem"
            });
        }
        if s.lockdep_on != lockdep_on {
            return Err(if lockdep_on {
                "lockdep turned itself off"
            } else {
                "lockdep stayed on"
            });
        }
        if s.new_taint_w != taint_w {
            return Err(if taint_w {
                "no new taint W"
            } else {
                "new taint W"
            });
        }
        if s.reports.unexpected != 0 {
            return Err("unexpected failure: a kernel report that was not expected");
        }
        if required
            .iter()
            .enumerate()
            .any(|(i, _)| !s.reports.matched.get(i).copied().unwrap_or(false))
        {
            return Err("unexpected success: an expected kernel report is missing");
        }
        Ok(())
    }
}

// `pr_info!` formats through the kernel's own `Display`. The report patterns are left out: a
// pattern holds a report banner, which a console scan would take for a report.
impl kernel::fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Clean => f.write_str("clean"),
            Self::Caught => f.write_str("caught by the module"),
            Self::Splat {
                reports,
                lockdep_off,
                taint_w,
                detects,
                ..
            } => {
                write!(f, "splat ({} expected reports)", reports.len())?;
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
