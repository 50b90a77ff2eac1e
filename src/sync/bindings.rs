// SPDX-License-Identifier: GPL-2.0

//! What the layer's code calls `bindings`: in the kernel tree, `kernel::bindings`, where
//! bindgen declares the helpers of `helpers/*.c` next to the kernel's own functions. Here the
//! kernel's bindings are re-exported and the helpers, built into the module from `helpers.c`,
//! are declared by hand, under the names bindgen gives them (`rust_helper_foo` is `foo`).
//!
//! `make upstream` leaves this file out of the patch series.

pub(crate) use kernel::bindings::*;

use kernel::ffi::{c_char, c_uint, c_void};

// `local_lock_t` is only passed by pointer, but the lint walks into it (through `lockdep_map`
// and `task_struct`) and, depending on the config, finds empty structs there.
#[allow(improper_ctypes)]
extern "C" {
    // Called only where `bh.rs` cannot do what C inlines or calls (its `raw` module).
    #[allow(dead_code)]
    #[link_name = "rust_helper_local_bh_disable"]
    pub(crate) fn local_bh_disable();
    #[allow(dead_code)]
    #[link_name = "rust_helper_local_bh_enable"]
    pub(crate) fn local_bh_enable();
    #[link_name = "rust_helper_in_hardirq"]
    pub(crate) fn in_hardirq() -> bool;
    #[link_name = "rust_helper_irqs_disabled"]
    pub(crate) fn irqs_disabled() -> bool;
    #[link_name = "rust_helper_lockdep_assert_in_softirq"]
    pub(crate) fn lockdep_assert_in_softirq();

    #[link_name = "rust_helper_local_lock_init_class"]
    pub(crate) fn local_lock_init_class(
        lock: *mut local_lock_t,
        name: *const c_char,
        key: *mut lock_class_key,
    );
    #[link_name = "rust_helper___local_lock_nested_bh"]
    pub(crate) fn __local_lock_nested_bh(lock: *mut local_lock_t);
    #[link_name = "rust_helper___local_unlock_nested_bh"]
    pub(crate) fn __local_unlock_nested_bh(lock: *mut local_lock_t);

    #[link_name = "rust_helper___alloc_percpu"]
    pub(crate) fn __alloc_percpu(size: usize, align: usize) -> *mut c_void;
    #[link_name = "rust_helper_per_cpu_ptr"]
    pub(crate) fn per_cpu_ptr(ptr: *mut c_void, cpu: c_uint) -> *mut c_void;
    #[link_name = "rust_helper_this_cpu_ptr"]
    pub(crate) fn this_cpu_ptr(ptr: *mut c_void) -> *mut c_void;
}
