// SPDX-License-Identifier: GPL-2.0

//! The functions of `c_ref.c`: the C references the benchmarks time the Rust code against.
//!
//! `bhlock_ref_counter` and `bhlock_ref_napi` are private to the C file and only handled by
//! pointer here.

use kernel::bindings::{lock_class_key, napi_struct};
use kernel::ffi::{c_char, c_int};

/// A per-CPU `{ local_lock_t, u64 }` that the C loops lock, increment and unlock.
#[repr(C)]
pub(crate) struct RefCounter {
    _opaque: [u8; 0],
}

/// The C reference NAPI consumer: its per-CPU caches, pending items and counters.
#[repr(C)]
pub(crate) struct RefNapi {
    _opaque: [u8; 0],
}

// `lock_class_key` is only passed by pointer, but it is an empty struct without lockdep, and
// the lint flags that.
#[allow(improper_ctypes)]
extern "C" {
    /// Allocates a zeroed counter for every possible CPU, each lock of class `key`.
    ///
    /// # Safety
    ///
    /// Process context; `name` and `key` must be static. The result, unless null, must be
    /// freed with [`bhlock_ref_counter_free`] once.
    pub(crate) fn bhlock_ref_counter_alloc(
        name: *const c_char,
        key: *mut lock_class_key,
    ) -> *mut RefCounter;

    /// Frees what [`bhlock_ref_counter_alloc`] returned.
    ///
    /// # Safety
    ///
    /// `c` must come from [`bhlock_ref_counter_alloc`], be unused, and not be used afterwards.
    pub(crate) fn bhlock_ref_counter_free(c: *mut RefCounter);

    /// The sum of every CPU's counter.
    ///
    /// # Safety
    ///
    /// `c` must be live and no loop may run on it.
    pub(crate) fn bhlock_ref_counter_sum(c: *mut RefCounter) -> u64;

    /// `local_bh_disable()`, then `n` times lock, increment, unlock, then `local_bh_enable()`.
    ///
    /// # Safety
    ///
    /// `c` must be live; a context that may disable BH (process context, IRQs on).
    pub(crate) fn bhlock_ref_loop_one_bh(c: *mut RefCounter, n: u32);

    /// `n` times: `local_bh_disable()`, lock, increment, unlock, `local_bh_enable()`.
    ///
    /// # Safety
    ///
    /// As for [`bhlock_ref_loop_one_bh`].
    pub(crate) fn bhlock_ref_loop_each_bh(c: *mut RefCounter, n: u32);

    /// Allocates the reference consumer, a full cache per possible CPU, locks of class `key`.
    ///
    /// # Safety
    ///
    /// Process context; `name` and `key` must be static. The result, unless null, must be
    /// freed with [`bhlock_ref_napi_free`] once.
    pub(crate) fn bhlock_ref_napi_alloc(
        name: *const c_char,
        key: *mut lock_class_key,
    ) -> *mut RefNapi;

    /// Frees what [`bhlock_ref_napi_alloc`] returned.
    ///
    /// # Safety
    ///
    /// `r` must come from [`bhlock_ref_napi_alloc`], and no NAPI context polling for it may
    /// exist any more.
    pub(crate) fn bhlock_ref_napi_free(r: *mut RefNapi);

    /// The reference poll. Its NAPI context's owner must be a live [`RefNapi`].
    ///
    /// # Safety
    ///
    /// Only called by the NAPI core.
    pub(crate) fn bhlock_ref_napi_poll(napi: *mut napi_struct, budget: c_int) -> c_int;

    /// The reference poll without its rounds: what a poll costs in the NAPI core and in its
    /// own bookkeeping. Its NAPI context's owner must be a live [`RefNapi`].
    ///
    /// # Safety
    ///
    /// Only called by the NAPI core.
    pub(crate) fn bhlock_ref_napi_poll_empty(napi: *mut napi_struct, budget: c_int) -> c_int;

    /// Queues `items` for `r` and schedules `napi`, whose poll is one of the two above.
    ///
    /// # Safety
    ///
    /// `r` and `napi` must be live, `napi`'s owner must be `r`; a context where
    /// `napi_schedule()` may run.
    pub(crate) fn bhlock_ref_napi_queue(r: *mut RefNapi, napi: *mut napi_struct, items: u32);

    /// Items polled so far.
    ///
    /// # Safety
    ///
    /// `r` must be live.
    pub(crate) fn bhlock_ref_napi_items(r: *mut RefNapi) -> u64;

    /// Cache faults found so far (must stay 0).
    ///
    /// # Safety
    ///
    /// `r` must be live.
    pub(crate) fn bhlock_ref_napi_faults(r: *mut RefNapi) -> u64;
}
