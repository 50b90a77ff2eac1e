// SPDX-License-Identifier: GPL-2.0

//! Raw functions of a page_pool of bhlock's own (`page_pool_shim.c`), for the page_pool probe.
//! `page_pool` and `page` are only ever handled by pointer.

use kernel::bindings::page;
use kernel::ffi::c_int;

/// An opaque `struct page_pool`.
#[repr(C)]
pub(crate) struct PagePool {
    _private: [u8; 0],
}

// `page` is only ever passed by pointer, but the lint walks into it and, depending on the
// config, finds empty structs there.
#[allow(improper_ctypes)]
extern "C" {
    /// A pool of order-0 pages without DMA mapping, whose consumer runs on `cpu`
    /// (`page_pool_create_percpu()`). An `ERR_PTR` on failure.
    ///
    /// # Safety
    ///
    /// Process context; `cpu` must be a possible CPU; the result, unless an error, must be
    /// destroyed with [`bhlock_page_pool_destroy`] once, or leaked.
    pub(crate) fn bhlock_page_pool_new(cpu: c_int) -> *mut PagePool;

    /// `page_pool_destroy(pool)`: frees it once its pages are back.
    ///
    /// # Safety
    ///
    /// `pool` must come from [`bhlock_page_pool_new`], nothing may allocate from it any more,
    /// and it is not used afterwards; process context.
    pub(crate) fn bhlock_page_pool_destroy(pool: *mut PagePool);

    /// One page from `pool`, or null.
    ///
    /// # Safety
    ///
    /// `pool` must be live, and the caller its only consumer: on its CPU, with BH disabled.
    pub(crate) fn bhlock_page_pool_alloc(pool: *mut PagePool) -> *mut page;

    /// Returns `page` to its pool through `napi_pp_put_page()`.
    ///
    /// # Safety
    ///
    /// `page` must come from [`bhlock_page_pool_alloc`] of a live pool, be the caller's, and not
    /// be used afterwards; BH disabled, interrupts on.
    pub(crate) fn bhlock_page_pool_put(page: *mut page) -> bool;
}
