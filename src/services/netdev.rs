// SPDX-License-Identifier: GPL-2.0

//! Raw NAPI and net_device functions, for the torture's NAPI consumer and the transmit-lock
//! probe.
//!
//! The kernel crate's bindings stop short of `linux/netdevice.h`, so the exported functions
//! are declared here by hand, exactly as in that header, and the static inlines come from
//! `netdev_shim.c`. `napi_struct` and `net_device` are only ever handled by pointer.

use kernel::bindings::{napi_struct, net_device};
use kernel::ffi::{c_int, c_void};

/// A NAPI poll function.
pub(crate) type PollFn = unsafe extern "C" fn(*mut napi_struct, c_int) -> c_int;

// `net_device` and `napi_struct` are only passed by pointer, but the lint walks into them and,
// depending on the config, finds empty structs there.
#[allow(improper_ctypes)]
extern "C" {
    /// `alloc_netdev_dummy(sizeof_priv)`: an unregistered device to hang NAPI contexts on.
    ///
    /// # Safety
    ///
    /// Process context; the result, unless null, must be freed with [`free_netdev`] once.
    pub(crate) fn alloc_netdev_dummy(sizeof_priv: c_int) -> *mut net_device;

    /// `free_netdev(dev)`.
    ///
    /// # Safety
    ///
    /// `dev` must come from [`alloc_netdev_dummy`], have no NAPI context left, and not be
    /// used afterwards.
    pub(crate) fn free_netdev(dev: *mut net_device);

    /// `napi_enable(n)`.
    ///
    /// # Safety
    ///
    /// `n` must be a live NAPI context that is disabled (fresh from [`bhlock_napi_add`] or
    /// after [`napi_disable`]); process context.
    pub(crate) fn napi_enable(n: *mut napi_struct);

    /// `napi_disable(n)`: waits for a running poll and keeps the context from being scheduled.
    ///
    /// # Safety
    ///
    /// `n` must be a live, enabled NAPI context; process context.
    pub(crate) fn napi_disable(n: *mut napi_struct);

    /// `napi_complete_done(n, work_done)`.
    ///
    /// # Safety
    ///
    /// Only from `n`'s own poll, with `work_done` below the budget that poll was given.
    pub(crate) fn napi_complete_done(n: *mut napi_struct, work_done: c_int) -> bool;

    /// Allocates a NAPI context on `dev` with `poll` and `weight`, remembering `owner`.
    ///
    /// # Safety
    ///
    /// `dev` must be live and the context deleted with [`bhlock_napi_del`] before `dev` is
    /// freed; `owner` must stay valid for as long as `poll` can run.
    pub(crate) fn bhlock_napi_add(
        dev: *mut net_device,
        poll: PollFn,
        weight: c_int,
        owner: *mut c_void,
    ) -> *mut napi_struct;

    /// The `owner` given to [`bhlock_napi_add`].
    ///
    /// # Safety
    ///
    /// `napi` must come from [`bhlock_napi_add`] and not be deleted.
    pub(crate) fn bhlock_napi_owner(napi: *mut napi_struct) -> *mut c_void;

    /// `netif_napi_del()` and frees the context.
    ///
    /// # Safety
    ///
    /// `napi` must come from [`bhlock_napi_add`], be disabled (or never enabled), and not be
    /// used afterwards; process context.
    pub(crate) fn bhlock_napi_del(napi: *mut napi_struct);

    /// `napi_schedule(napi)`: queues the poll on this CPU unless already scheduled.
    ///
    /// # Safety
    ///
    /// `napi` must come from [`bhlock_napi_add`] and not be deleted.
    pub(crate) fn bhlock_napi_schedule(napi: *mut napi_struct) -> bool;

    /// `dev_set_threaded(dev, threaded)`: moves all of `dev`'s NAPI polls to threads.
    ///
    /// # Safety
    ///
    /// `dev` must be live; process context.
    pub(crate) fn bhlock_netdev_set_threaded(dev: *mut net_device, threaded: bool) -> c_int;

    /// Binds `napi`'s NAPI thread to `cpu` and makes it `SCHED_FIFO` (`sched_set_fifo_low()`).
    /// Fails with `-ENOENT` when `napi` has no thread.
    ///
    /// # Safety
    ///
    /// `napi` must come from [`bhlock_napi_add`] and not be deleted; `cpu` must be online;
    /// process context.
    pub(crate) fn bhlock_napi_thread_pin_fifo(napi: *mut napi_struct, cpu: c_int) -> c_int;

    /// A registered net device that is up, has no queue, takes its transmit queue's lock
    /// around each packet (so `__dev_queue_xmit()` checks `netif_tx_owned()` on it) and takes
    /// every packet. An `ERR_PTR` on failure.
    ///
    /// # Safety
    ///
    /// Process context, not under RTNL; the result, unless an error, must be freed with
    /// [`bhlock_xmit_dev_free`] once.
    pub(crate) fn bhlock_xmit_dev_new() -> *mut net_device;

    /// Unregisters and frees it.
    ///
    /// # Safety
    ///
    /// `dev` must come from [`bhlock_xmit_dev_new`], nothing may send on it any more, and it
    /// is not used afterwards; process context, not under RTNL.
    pub(crate) fn bhlock_xmit_dev_free(dev: *mut net_device);

    /// Sends one minimal packet on `dev`: `dev_queue_xmit()`'s result, 0 when the device took
    /// it.
    ///
    /// # Safety
    ///
    /// `dev` must come from [`bhlock_xmit_dev_new`] and not be freed; a context that may
    /// transmit (process context or softirq, BH may be disabled, interrupts on).
    pub(crate) fn bhlock_xmit_dev_send(dev: *mut net_device) -> c_int;

}
