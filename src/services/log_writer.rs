// SPDX-License-Identifier: GPL-2.0

//! A [`core::fmt::Write`] sink that prints each finished line with `pr_info!`, so that the
//! periodic report and the `stats` file share one formatter.

use core::fmt;
use kernel::prelude::*;

/// Buffers one line and prints it at `'\n'`; a longer line is printed in pieces.
pub(crate) struct LogWriter {
    buf: [u8; 480],
    len: usize,
}

impl LogWriter {
    /// An empty line buffer.
    pub(crate) fn new() -> Self {
        Self {
            buf: [0; 480],
            len: 0,
        }
    }

    fn flush(&mut self) {
        if self.len != 0 {
            // Only whole `&str`s are copied in, cut at char boundaries below.
            let line = core::str::from_utf8(&self.buf[..self.len]).unwrap_or("<bad utf-8>");
            pr_info!("{}\n", line);
            self.len = 0;
        }
    }
}

impl fmt::Write for LogWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            if c == '\n' {
                self.flush();
                continue;
            }
            let mut utf8 = [0; 4];
            let bytes = c.encode_utf8(&mut utf8).as_bytes();
            if self.len + bytes.len() > self.buf.len() {
                self.flush();
            }
            self.buf[self.len..self.len + bytes.len()].copy_from_slice(bytes);
            self.len += bytes.len();
        }
        Ok(())
    }
}

impl Drop for LogWriter {
    fn drop(&mut self) {
        self.flush();
    }
}
