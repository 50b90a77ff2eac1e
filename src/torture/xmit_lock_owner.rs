// SPDX-License-Identifier: GPL-2.0

//! The owner of a transmit queue's lock (`netif_tx_owned()` in `include/linux/netdevice.h`)
//! as a resource of the kernel: how `__dev_queue_xmit()` tells a recursion on a queue-less
//! device (a packet sent from inside that device's own transmit) from another sender.
//!
//! Before the BH lock became optional, the owner was a CPU number: no other sender could run on
//! the CPU that held the lock. On PREEMPT_RT without the BH lock a second task of that CPU can,
//! and a CPU check takes it for a recursion: "Dead loop on virtual device", the packet dropped.
//! 7.3 compares the lock's `rt_mutex_owner()` with `current` instead (a fix of 2026, `Fixes:
//! 3253cb49cbad`), so the second sender waits for the lock and its packet goes out.
//!
//! - **Traffic** ([`RESOURCE`]'s round): every context sends packets on a device of the
//!   module's own ([`XmitDevice`]), which takes every packet; a packet refused is a fault.
//! - **Probe**: the kprobe on `dev_hard_start_xmit()`, which `__dev_queue_xmit()` calls with
//!   the queue's lock held. The outer thread sends with the probe armed; the inner thread,
//!   woken there, sends on the same queue of the same device. With the owner check it waits
//!   for the lock and its packet is taken; with the CPU check its packet is dropped.
//!
//! The must-fail kernel's `bhlock_unlocked=xmit_lock_owner` puts the CPU check back.

use core::ptr::NonNull;
use kernel::{bindings, error::from_err_ptr, prelude::*};

use super::{
    core_state::Core,
    ops::{self, Ops},
    packet_probe::{self, PacketDevice},
    probe_point::ProbePoint,
    resource::KernelResource,
    stats::{Context, Violation},
};
use crate::{services::netdev as sys, sync::bh::LocalBhDisabled};

/// The resource: its name is its case in the scenario table and its switch in the must-fail
/// kernel.
pub(crate) static RESOURCE: KernelResource = KernelResource {
    name: c"xmit_lock_owner",
    new_state: || Ok(KBox::new(XmitDevice::new()?, GFP_KERNEL)?),
    round: packet_probe::traffic_round::<XmitDevice>,
    probe: ProbePoint {
        symbol: c"dev_hard_start_xmit",
        outer: packet_probe::probed_outer::<XmitDevice>,
        inner: packet_probe::probed_inner::<XmitDevice>,
    },
    protected_in_stock: true,
};

/// Its entry of the ops table.
pub(crate) static OPS: Ops = ops::kernel_resource("kernel_xmit_lock_owner", &RESOURCE);

/// A net device of the module's own that every sender of a run transmits on: registered, up,
/// no queue, its transmit queue's lock taken around each packet, every packet taken.
///
/// # Invariants
///
/// `dev` is from `bhlock_xmit_dev_new()` and lives until `drop`.
pub(crate) struct XmitDevice {
    dev: NonNull<bindings::net_device>,
}

// SAFETY: Any CPU may send on the device; only `drop` frees it, in process context.
unsafe impl Send for XmitDevice {}
// SAFETY: As for `Send`: sending and reading its count are safe from any context.
unsafe impl Sync for XmitDevice {}

impl XmitDevice {
    /// The device; process context, not under RTNL.
    fn new() -> Result<Self> {
        // SAFETY: Process context, not under RTNL (a run starts from module init or debugfs);
        // freed in `drop`.
        let dev = from_err_ptr(unsafe { sys::bhlock_xmit_dev_new() })?;
        // INVARIANT: From `bhlock_xmit_dev_new()`, not an error.
        Ok(Self {
            dev: NonNull::new(dev).ok_or(ENOMEM)?,
        })
    }
}

impl PacketDevice for XmitDevice {
    /// Whether the device took the packet (false: the transmit path refused it as a recursion
    /// on the queue's lock).
    type Sent = bool;

    fn send(&self, _bh: &LocalBhDisabled) -> Option<bool> {
        // SAFETY: The device lives (type invariant); BH is disabled, interrupts are on.
        let rc = unsafe { sys::bhlock_xmit_dev_send(self.dev.as_ptr()) };
        match rc {
            0 => Some(true),
            // What `__dev_queue_xmit()` returns for a recursion; on a queue-less device it
            // also means NETDEV_TX_BUSY or a stopped queue, which this device, taking every
            // packet and never stopping its queue, does not give.
            rc if rc == ENETDOWN.to_errno() => Some(false),
            _ => None,
        }
    }

    fn count(core: &Core, context: Context, taken: bool) {
        if !taken {
            core.count_kernel_fault(context, Violation::KernelPacketDropped);
        }
    }
}

impl Drop for XmitDevice {
    fn drop(&mut self) {
        // SAFETY: From `bhlock_xmit_dev_new()` (type invariant); the run's contexts are
        // stopped before its state is dropped, in process context.
        unsafe { sys::bhlock_xmit_dev_free(self.dev.as_ptr()) };
    }
}
