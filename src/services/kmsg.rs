// SPDX-License-Identifier: GPL-2.0

//! The kernel log since a point, and the kernel reports in it: what a scenario case's judge
//! reads instead of the console. The kernel crate of 7.3 has no binding of the kmsg dump
//! iterator, so its two exported functions are declared here, as in `linux/kmsg_dump.h`.
//!
//! Which lines open a report is one list, `selftests/bhlock/report-banners`, included here at
//! build time and read by the shell scripts at run time.

use kernel::{ffi::c_char, prelude::*};

/// The longest line [`KmsgCursor::for_each_report`] reads whole: `PRINTKRB_RECORD_MAX` (1024)
/// in `kernel/printk/internal.h`; the rest of a longer line is cut.
const LINE_MAX: usize = 1024;

/// The list of report banners, one literal string per line, `#` comments.
const REPORT_BANNERS: &str = include_str!("../../selftests/bhlock/report-banners");

/// `struct kmsg_dump_iter`: a position in the printk ring buffer.
#[repr(C)]
struct KmsgDumpIter {
    cur_seq: u64,
    next_seq: u64,
}

unsafe extern "C" {
    /// Sets `iter` to the oldest and the next record to come.
    safe fn kmsg_dump_rewind(iter: &mut KmsgDumpIter);
    /// Copies the record at `iter` into `line` as the console prints it and moves on.
    ///
    /// # Safety
    ///
    /// `line` must be valid for writes of `size` bytes.
    fn kmsg_dump_get_line(
        iter: &mut KmsgDumpIter,
        syslog: bool,
        line: *mut c_char,
        size: usize,
        len: &mut usize,
    ) -> bool;
}

/// Every report banner of the list.
pub(crate) fn report_banners() -> impl Iterator<Item = &'static str> {
    REPORT_BANNERS
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
}

/// Whether `line` opens a report, by the list.
fn is_banner(line: &str) -> bool {
    report_banners().any(|banner| line.contains(banner))
}

/// A point in the kernel log; what is printed after it can be read back.
pub(crate) struct KmsgCursor(KmsgDumpIter);

impl KmsgCursor {
    /// The end of the log now: only what is printed from here on will be read.
    pub(crate) fn now() -> Self {
        let mut iter = KmsgDumpIter {
            cur_seq: 0,
            next_seq: 0,
        };
        kmsg_dump_rewind(&mut iter);
        iter.cur_seq = iter.next_seq;
        Self(iter)
    }

    /// Calls `f` with every report banner printed since the cursor, in order, and moves the
    /// cursor past them. A "Call Trace:" counts only where no report is open (see the list).
    /// Process context: the line buffer is allocated (a kernel log line would take 1 KiB of
    /// the stack frame).
    pub(crate) fn for_each_report(&mut self, mut f: impl FnMut(&str)) -> Result {
        let mut buf = KBox::<[u8; LINE_MAX]>::init(pin_init::init_zeroed(), GFP_KERNEL)?;
        let mut len = 0;
        let mut in_report = false;
        // SAFETY: `buf` is valid for writes of its length.
        while unsafe {
            kmsg_dump_get_line(
                &mut self.0,
                false,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut len,
            )
        } {
            let record = &buf[..len.min(buf.len())];
            // A record may hold several lines, each with its own timestamp; a line cut at the
            // buffer's end still starts right.
            for line in record.split(|b| *b == b'\n') {
                let text = core::str::from_utf8(line).unwrap_or("");
                let text = match text.find("] ") {
                    Some(i) if text.starts_with('[') => &text[i + 2..],
                    _ => text,
                };
                if text.contains("---[ end trace") || text.contains("</TASK>") {
                    in_report = false;
                } else if text.contains("Call Trace:") {
                    if !in_report {
                        f(text);
                    }
                } else if is_banner(text) {
                    in_report = true;
                    f(text);
                }
            }
        }
        Ok(())
    }
}
