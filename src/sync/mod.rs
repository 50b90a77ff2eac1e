// SPDX-License-Identifier: GPL-2.0

//! The guard API: safe Rust for `local_lock_nested_bh()`, written to be lifted into the
//! kernel's `rust/kernel/` as it is.
//!
//! This directory imports nothing from the rest of bhlock, only `kernel` and `core`, and
//! bhlock's tests reach into it through nothing but its public API (`tests/compile-fail`
//! builds against this directory alone, so every build checks that). Its layout is that of
//! its place in the kernel tree, which `make upstream` turns it into:
//!
//! - [`bh`]: BH-disabled sections and their token, `rust/kernel/bh.rs`;
//! - [`local_lock_nested_bh`]: the per-CPU lock and its guard,
//!   `rust/kernel/sync/local_lock_nested_bh.rs` (with `local_lock_nested_bh/this_cpu.rs`);
//! - `helpers/*.c`: the C helpers, `rust/helpers/*.c`;
//! - `bindings`: stands for `kernel::bindings`, and is not part of the patch.

pub mod bh;
pub(in crate::sync) mod bindings;
pub mod local_lock_nested_bh;
