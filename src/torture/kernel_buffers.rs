// SPDX-License-Identifier: GPL-2.0

//! Buffers from the kernel's per-CPU `napi_alloc_cache`, allocated and freed the way drivers
//! do, each with a pattern its owner writes and checks: its tag in the skb's control buffer
//! (checked first: a head handed to someone else has been cleared and rebuilt, and its data
//! may no longer be the owner's) and bytes derived from the tag over its data. A second owner of an skb head, or a
//! fragment that overlaps another, shows as a changed pattern.
//!
//! Every function here needs BH disabled, as the kernel's functions do; the callers hold a
//! `LocalBhDisabled`.

use core::{
    mem::size_of,
    ptr::{self, NonNull},
};
use kernel::{
    bindings,
    ffi::{c_int, c_void},
    prelude::*,
};

use super::stats::Violation;
use crate::services::netdev as sys;

/// A length whose head comes from kmalloc (below `SKB_SMALL_HEAD_CACHE_SIZE`), and one whose
/// data is a page fragment of the cache; `napi_alloc_skb()` takes the skb itself from the
/// cache's heads either way (`netdev_alloc_skb()` from the slab).
pub(crate) const SMALL: u32 = 64;
pub(crate) const LARGE: u32 = 1500;

/// What every context of a run needs to allocate: a dummy device, and a NAPI context on it
/// that is never enabled (`napi_alloc_skb()` only reads its device).
///
/// # Invariants
///
/// `dev` is from `alloc_netdev_dummy()` and `napi` from `bhlock_napi_add()` on it, never
/// enabled; both live until `drop`.
pub(crate) struct NapiDevice {
    dev: NonNull<bindings::net_device>,
    napi: NonNull<bindings::napi_struct>,
}

// SAFETY: The device and NAPI context are only read by the allocation functions, which any
// CPU may call, and freed by `drop` in process context.
unsafe impl Send for NapiDevice {}
// SAFETY: As for `Send`: shared use only reads them.
unsafe impl Sync for NapiDevice {}

/// The poll of the NAPI context that is never scheduled.
unsafe extern "C" fn idle_poll(_napi: *mut bindings::napi_struct, _budget: c_int) -> c_int {
    0
}

impl NapiDevice {
    /// The device and its NAPI context; process context.
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: Process context; the device is freed in `drop` or below.
        let dev = NonNull::new(unsafe { sys::alloc_netdev_dummy(0) }).ok_or(ENOMEM)?;
        // SAFETY: `dev` is live; the context is deleted in `drop`, before `dev` is freed, and
        // has no owner (the poll never runs).
        let napi = unsafe { sys::bhlock_napi_add(dev.as_ptr(), idle_poll, 64, ptr::null_mut()) };
        let Some(napi) = NonNull::new(napi) else {
            // SAFETY: From `alloc_netdev_dummy()` above, with no NAPI context.
            unsafe { sys::free_netdev(dev.as_ptr()) };
            return Err(ENOMEM);
        };
        // INVARIANT: Both allocated above; the context is not enabled.
        Ok(Self { dev, napi })
    }

    /// A buffer of `kind` and `len`, or `None` if the kernel has no memory for it.
    pub(crate) fn alloc(&self, kind: Kind, len: u32) -> Option<Buffer> {
        let (skb, data) = match kind {
            Kind::Frag => {
                // SAFETY: BH is disabled (every caller holds a `LocalBhDisabled`); `!0`: no
                // alignment, as `napi_alloc_frag()` passes.
                let data = unsafe { bindings::__napi_alloc_frag_align(len, !0) };
                (ptr::null_mut(), data)
            }
            _ => {
                let skb = match kind {
                    // SAFETY: BH is disabled; `napi` is live (type invariant).
                    Kind::NapiSkb => unsafe { bindings::napi_alloc_skb(self.napi.as_ptr(), len) },
                    // SAFETY: BH is disabled; `dev` is live (type invariant).
                    Kind::NetdevSkb => unsafe {
                        bindings::__netdev_alloc_skb(self.dev.as_ptr(), len, bindings::GFP_ATOMIC)
                    },
                    _ => bulk_skb(len),
                };
                if skb.is_null() {
                    return None;
                }
                // SAFETY: A new skb of ours, with at least `len` bytes of tailroom.
                (skb, unsafe { bindings::skb_put(skb, len) })
            }
        };
        if data.is_null() {
            return None;
        }
        Some(Buffer {
            skb,
            data: data.cast(),
            len,
            tag: 0,
        })
    }
}

impl Drop for NapiDevice {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the context was added to `dev` and never enabled, and
        // the run's contexts, which used it, have stopped.
        unsafe { sys::bhlock_napi_del(self.napi.as_ptr()) };
        // SAFETY: From `alloc_netdev_dummy()`, its NAPI context gone.
        unsafe { sys::free_netdev(self.dev.as_ptr()) };
    }
}

/// How a buffer is allocated.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    /// `napi_alloc_skb()`.
    NapiSkb,
    /// `netdev_alloc_skb()`.
    NetdevSkb,
    /// A head from `napi_skb_cache_get_bulk()` built around a fragment (`build_skb_around()`).
    BulkSkb,
    /// `napi_alloc_frag()`.
    Frag,
}

/// The size of the fragment a bulk head is built around: `len` and room for the
/// `skb_shared_info` at its end, aligned as `SKB_DATA_ALIGN()` does for any cache line up to
/// 256 bytes.
const fn bulk_frag_size(len: u32) -> u32 {
    let shinfo = size_of::<bindings::skb_shared_info>() as u32;
    len.next_multiple_of(64) + shinfo.next_multiple_of(256)
}

/// A head from `napi_skb_cache_get_bulk()` built around a new fragment, or null.
fn bulk_skb(len: u32) -> *mut bindings::sk_buff {
    let size = bulk_frag_size(len);
    // SAFETY: BH is disabled (the callers hold a `LocalBhDisabled`).
    let data = unsafe { bindings::__napi_alloc_frag_align(size, !0) };
    if data.is_null() {
        return ptr::null_mut();
    }
    let mut head: *mut c_void = ptr::null_mut();
    // SAFETY: BH is disabled; room for one pointer.
    if unsafe { bindings::napi_skb_cache_get_bulk(&mut head, 1) } != 1 {
        // SAFETY: The fragment from above, unused.
        unsafe { bindings::page_frag_free(data) };
        return ptr::null_mut();
    }
    // SAFETY: `head` is a zeroed skb head of ours and `data` a fragment of `size` bytes.
    unsafe { bindings::build_skb_around(head.cast(), data, size) }
}

/// One buffer a round holds.
#[derive(Clone, Copy)]
pub(crate) struct Buffer {
    /// The skb, or null for a fragment.
    skb: *mut bindings::sk_buff,
    /// Its data, `len` bytes.
    pub(crate) data: *mut u8,
    len: u32,
    tag: u32,
}

/// The byte at `i` of a buffer with `tag`.
fn pattern(tag: u32, i: u32) -> u8 {
    (tag.rotate_left(i % 32) ^ i) as u8
}

/// The tag word of an skb's control buffer (`skb->cb`, the owner's to use).
pub(crate) fn cb_tag(skb: *mut bindings::sk_buff) -> *mut u32 {
    // SAFETY: `skb` is a live skb head; `cb` is 48 bytes, 8-aligned.
    unsafe { ptr::addr_of_mut!((*skb).cb).cast::<u32>() }
}

impl Buffer {
    /// The tag word of its control buffer, if it is an skb.
    pub(crate) fn cb_tag(&self) -> Option<*mut u32> {
        (!self.skb.is_null()).then(|| cb_tag(self.skb))
    }

    /// Writes the pattern of `tag`.
    pub(crate) fn mark(&mut self, tag: u32) {
        self.tag = tag;
        if !self.skb.is_null() {
            // SAFETY: Our skb.
            unsafe { ptr::write_volatile(cb_tag(self.skb), tag) };
        }
        for i in 0..self.len {
            // SAFETY: `data` has `len` bytes of ours.
            unsafe { ptr::write_volatile(self.data.add(i as usize), pattern(tag, i)) };
        }
    }

    /// Checks the pattern, the control buffer first: a head handed to someone else may have
    /// been cleared, data pointer included.
    pub(crate) fn check(&self) -> Result<(), Violation> {
        // SAFETY: The head stays allocated while anyone holds it; we still do.
        if !self.skb.is_null() && unsafe { ptr::read_volatile(cb_tag(self.skb)) } != self.tag {
            return Err(Violation::KernelBufferHandedTwice);
        }
        for i in 0..self.len {
            // SAFETY: `data` has `len` bytes, ours unless the check fails.
            if unsafe { ptr::read_volatile(self.data.add(i as usize)) } != pattern(self.tag, i) {
                return Err(Violation::KernelBufferDataChanged);
            }
        }
        Ok(())
    }

    /// Frees the buffer: an skb with a budget, into this CPU's cache.
    pub(crate) fn free(self) {
        if self.skb.is_null() {
            // SAFETY: Our fragment, not used afterwards.
            unsafe { bindings::page_frag_free(self.data.cast()) };
        } else {
            // SAFETY: Our skb, BH disabled (a budget is allowed wherever it is), not used
            // afterwards.
            unsafe { bindings::napi_consume_skb(self.skb, 1) };
        }
    }
}
