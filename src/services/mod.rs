// SPDX-License-Identifier: GPL-2.0

//! Thin wrappers of the kernel services the harness needs and the kernel crate of 7.3 does not
//! offer: CPU sets and CPU hotplug, debugfs files that pin the module, running code on a CPU
//! or once in a given interrupt context, kthreads, kprobes that wake a thread, lockdep's and
//! the taint mask's health, the kernel log, NAPI on a dummy `net_device`, a transmit device, a
//! page_pool, a dst_cache, and the C shim for what is a macro or a static inline in C.
//!
//! This layer knows nothing of the torture or the scenarios: it imports only the kernel crate,
//! so every layer above can use it.

pub(crate) mod cpu_hotplug;
pub(crate) mod cpus;
pub(crate) mod debugfs;
pub(crate) mod dst_cache;
pub(crate) mod health;
pub(crate) mod kmsg;
pub(crate) mod kprobe;
pub(crate) mod kthread;
pub(crate) mod log_writer;
pub(crate) mod netdev;
pub(crate) mod on_cpu;
pub(crate) mod one_shot;
pub(crate) mod page_pool;
pub(crate) mod shim;
pub(crate) mod tunnel_key;
