// SPDX-License-Identifier: GPL-2.0

//! The scenario side: the table of lockdep release-path cases and what each must produce,
//! and the judge of a finished case.
//!
//! Files, from the bottom up: `kernel` (the properties of the running kernel that decide what
//! a case must produce), `expect` (an expectation and the judge of the four signals),
//! `splat` (the cases that are one action rather than a run), `lock_classes` (two instances of
//! one resource that nest, with a shared or a per-instance lock class), `selfcheck` (the
//! load-time check, also the `bh_enabled` case's action), `table` (the table itself, as data).

pub(crate) mod expect;
pub(crate) mod kernel;
pub(crate) mod lock_classes;
pub(crate) mod selfcheck;
pub(crate) mod splat;
pub(crate) mod table;
