// SPDX-License-Identifier: GPL-2.0

//! The scenario side: the table of lockdep release-path cases and what each must produce,
//! and the judge of a finished case.
//!
//! Files, from the bottom up: `expect` (an expectation and the judge of the four signals),
//! `splat` (the cases that are one action rather than a run), `selfcheck` (the load-time
//! check, also the `bh_enabled` case's action), `table` (the table itself, as data).

pub(crate) mod expect;
pub(crate) mod selfcheck;
pub(crate) mod splat;
pub(crate) mod table;
