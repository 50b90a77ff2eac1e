// SPDX-License-Identifier: GPL-2.0

//! Raw functions of a `dst_cache` of bhlock's own and of the dst entries it caches
//! (`dst_cache_shim.c`), for the dst_cache probe. Both are only ever handled by pointer.

use kernel::ffi::c_uint;

/// An opaque `struct dst_cache`.
#[repr(C)]
pub(crate) struct DstCache {
    _private: [u8; 0],
}

/// An opaque `struct dst_entry`.
#[repr(C)]
pub(crate) struct DstEntry {
    _private: [u8; 0],
}

extern "C" {
    /// A `dst_cache` with its per-CPU storage (`dst_cache_init()`), or an `ERR_PTR`.
    ///
    /// # Safety
    ///
    /// Process context; the result, unless an error, must be freed with
    /// [`bhlock_dst_cache_free`] once, or leaked.
    pub(crate) fn bhlock_dst_cache_new() -> *mut DstCache;

    /// `dst_cache_destroy()`, which releases the entry of every CPU, then frees the cache.
    ///
    /// # Safety
    ///
    /// `cache` must come from [`bhlock_dst_cache_new`] and nothing may use it any more; process
    /// context.
    pub(crate) fn bhlock_dst_cache_free(cache: *mut DstCache);

    /// `dst_cache_set_ip4()`: this CPU's entry becomes `dst` (the cache takes a reference and
    /// releases the one it held).
    ///
    /// # Safety
    ///
    /// `cache` must be live, `dst` live or null; BH disabled.
    pub(crate) fn bhlock_dst_cache_set(cache: *mut DstCache, dst: *mut DstEntry, saddr: u32);

    /// `dst_cache_get_ip4()`: this CPU's entry with a reference for the caller, its source
    /// address in `saddr`, or null.
    ///
    /// # Safety
    ///
    /// `cache` must be live, `saddr` valid for a write; BH disabled.
    pub(crate) fn bhlock_dst_cache_get(cache: *mut DstCache, saddr: *mut u32) -> *mut DstEntry;

    /// A metadata dst with one reference, the caller's, or null.
    ///
    /// # Safety
    ///
    /// Process context; each reference must be dropped with [`bhlock_dst_put`] once.
    pub(crate) fn bhlock_dst_new() -> *mut DstEntry;

    /// `dst_hold()`: one more reference for the caller.
    ///
    /// # Safety
    ///
    /// The caller must hold a reference to `dst`.
    pub(crate) fn bhlock_dst_hold(dst: *mut DstEntry);

    /// `dst_release()`: drops one of the caller's references.
    ///
    /// # Safety
    ///
    /// The caller must hold the reference it drops.
    pub(crate) fn bhlock_dst_put(dst: *mut DstEntry);

    /// The references `dst` has now (`rcuref_read()`).
    ///
    /// # Safety
    ///
    /// The caller must hold a reference to `dst`.
    pub(crate) fn bhlock_dst_refs(dst: *mut DstEntry) -> c_uint;
}
