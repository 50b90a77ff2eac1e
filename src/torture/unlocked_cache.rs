// SPDX-License-Identifier: GPL-2.0

//! The cache of the `busted` negative control: one [`ItemCache`] per possible CPU and no lock
//! at all, so that the contexts of one CPU run the same cache rounds as under the nested-BH
//! lock, but with nothing to keep them apart.
//!
//! It lives here, in the harness, and not behind the guard API, which has no unlocked way in.
//! The contexts share each CPU's copy through `&ItemCache`: every word of the cache is a
//! relaxed atomic, so racing rounds lose updates and corrupt the cache, which is what the
//! control must show, without being undefined behaviour.

use core::{
    mem::{align_of, size_of},
    ptr::NonNull,
};
use kernel::{bindings, ffi::c_void, prelude::*};

use super::item_cache::ItemCache;
use crate::services::{cpus::possible_cpus, shim};

/// An [`ItemCache`] for every possible CPU, without a lock.
///
/// # Invariants
///
/// `caches` is a live per-CPU allocation owned by this object, holding an initialised
/// `ItemCache` on every possible CPU.
pub(crate) struct UnlockedCaches {
    caches: NonNull<c_void>,
}

// SAFETY: The object owns only the per-CPU `ItemCache`s, which are made of atomics.
unsafe impl Send for UnlockedCaches {}
// SAFETY: `&self` hands out only `&ItemCache`, and `ItemCache` is `Sync` (atomics).
unsafe impl Sync for UnlockedCaches {}

impl UnlockedCaches {
    /// A full cache on every possible CPU.
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: The alignment of a type is a power of two; freed by `Drop`.
        let ptr =
            unsafe { shim::bhlock_alloc_percpu(size_of::<ItemCache>(), align_of::<ItemCache>()) };
        let caches = NonNull::new(ptr).ok_or(ENOMEM)?;
        for cpu in possible_cpus() {
            // SAFETY: `caches` is live and `cpu` is possible; the copy is unused and sized and
            // aligned for an `ItemCache`, and per-CPU memory never moves.
            let built = unsafe {
                ItemCache::new()
                    .__init(shim::bhlock_per_cpu_ptr(caches.as_ptr(), cpu.as_u32()).cast())
            };
            if let Err(e) = built {
                // SAFETY: Allocated above and freed once; `ItemCache` has no drop glue to skip.
                unsafe { bindings::free_percpu(caches.as_ptr()) };
                return Err(e);
            }
        }
        // INVARIANT: Allocated and initialised on every possible CPU above.
        Ok(Self { caches })
    }

    /// The copy of the CPU this context runs on when it reads the per-CPU offset.
    ///
    /// Any CPU's copy is a valid `&ItemCache`, so a context that migrated would only work on
    /// another CPU's cache; the control's contexts have BH disabled and do not migrate.
    pub(crate) fn this_cpu(&self) -> &ItemCache {
        // SAFETY: `caches` is live and initialised on every possible CPU (type invariant), the
        // running CPU among them; `ItemCache` is `Sync`, so shared references may race.
        unsafe { &*shim::bhlock_this_cpu_ptr(self.caches.as_ptr()).cast::<ItemCache>() }
    }
}

impl Drop for UnlockedCaches {
    fn drop(&mut self) {
        // SAFETY: `caches` came from `__alloc_percpu` and is freed once, here; an
        // `ItemCache` has nothing to drop.
        unsafe { bindings::free_percpu(self.caches.as_ptr()) };
    }
}
