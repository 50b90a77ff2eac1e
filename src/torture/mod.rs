// SPDX-License-Identifier: GPL-2.0

//! The torture: every context of a run working on one per-CPU cache behind the nested-BH
//! lock, in the shape of `kernel/locking/locktorture.c`.
//!
//! Files, from the bottom up (each imports only those above it in this list, the guard API
//! and the services):
//!
//! - `params`: the module parameters, checked against their ranges;
//! - `item_cache`, `unlocked_cache`: the per-CPU cache whose invariants every round checks,
//!   and the `busted` control's copies of it without a lock;
//! - `stats`: the counters and the report lines built from them;
//! - `kernel_buffers`: buffers from the kernel's own `napi_alloc_cache`, each with a pattern;
//! - `pattern_locks`: the locks the lock patterns take besides the cache;
//! - `core_state`: what every context of a run shares, and one checked round on one cache;
//! - `probe_point`: how a forced pair gets inside a kernel function's BH section;
//! - `resource`: a per-CPU resource of the kernel as one value: name, state, traffic, probe
//!   point;
//! - `ops`: **the ops table**: how a round takes the cache (locked, busted, each lock pattern of
//!   the scenario table, a kernel resource) and what the hard-irq callback releases, one entry
//!   each;
//! - `packet_probe`: the rounds of a resource probed by sending packets on a device;
//! - the kernel resources, one file each (its `KernelResource` and its ops entry):
//!   `kernel_napi_cache`, `xmit_lock_owner`, `page_pool`, `tunnel_key`, `dst_cache`;
//! - `plan`: which contexts a run starts and which ops entry they use;
//! - the contexts, one file each: `napi`, `hard_timer`, `soft_timer`, `threads`, `forced`;
//! - `cpu_workers`: what a run starts on one CPU, kept on every online CPU through hotplug;
//! - `run`: the driver: starts a run, reports it, ends it and tears it down.

pub(crate) mod core_state;
pub(crate) mod cpu_workers;
pub(crate) mod dst_cache;
pub(crate) mod forced;
pub(crate) mod hard_timer;
pub(crate) mod item_cache;
pub(crate) mod kernel_buffers;
pub(crate) mod kernel_napi_cache;
pub(crate) mod napi;
pub(crate) mod ops;
pub(crate) mod packet_probe;
pub(crate) mod page_pool;
pub(crate) mod params;
pub(crate) mod pattern_locks;
pub(crate) mod plan;
pub(crate) mod probe_point;
pub(crate) mod resource;
pub(crate) mod run;
pub(crate) mod soft_timer;
pub(crate) mod stats;
pub(crate) mod threads;
pub(crate) mod tunnel_key;
pub(crate) mod unlocked_cache;
pub(crate) mod xmit_lock_owner;
