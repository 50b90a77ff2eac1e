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
use kernel::{bindings, error::from_err_ptr, prelude::*, sync::SpinLock};

use super::{
    core_state::Core,
    ops::{self, Ops},
    probe_point::{InnerThread, ProbePoint},
    resource::KernelResource,
    stats::{Context, Event, Violation},
};
use crate::{
    services::{kprobe::KProbe, netdev as sys},
    sync::bh::LocalBhDisabled,
};

/// The resource: its name is its case in the scenario table and its switch in the must-fail
/// kernel.
pub(crate) static RESOURCE: KernelResource = KernelResource {
    name: c"xmit_lock_owner",
    new_state: || Ok(KBox::new(XmitDevice::new()?, GFP_KERNEL)?),
    round: traffic_round,
    probe: ProbePoint {
        symbol: c"dev_hard_start_xmit",
        outer: probed_outer,
        inner: probed_inner,
    },
    protected_in_stock: true,
};

/// Its entry of the ops table.
pub(crate) static OPS: Ops = ops::kernel_resource("kernel_xmit_lock_owner", &RESOURCE);

/// Most packets a traffic round sends.
const MAX_PACKETS: usize = 4;

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

    /// Sends one packet: whether the device took it (`Some(false)`: the transmit path
    /// refused it as a recursion on the queue's lock), `None` if there was no memory for it.
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
}

impl Drop for XmitDevice {
    fn drop(&mut self) {
        // SAFETY: From `bhlock_xmit_dev_new()` (type invariant); the run's contexts are
        // stopped before its state is dropped, in process context.
        unsafe { sys::bhlock_xmit_dev_free(self.dev.as_ptr()) };
    }
}

/// Counts one packet sent by `context`, and a fault if the transmit path refused it (`sent`:
/// what [`XmitDevice::send`] returned; `None`, no packet, counts nothing).
fn count(core: &Core, context: Context, sent: Option<bool>) {
    let Some(taken) = sent else { return };
    if !taken {
        core.count_kernel_fault(context, Violation::KernelPacketDropped);
    }
    core.stats.event(Event::KernelPackets, 1);
}

/// One traffic round: up to [`MAX_PACKETS`] packets, `inside` run between them.
fn traffic_round(
    core: &Core,
    context: Context,
    bh: &LocalBhDisabled,
    n: usize,
    _tag: u32,
    inside: &mut dyn FnMut(),
) {
    // Traffic waits for the probe's first hit, so that on a kernel without the owner check the
    // first fault is the probe's.
    let probed = core.probe.is_none() || core.stats.event_count(Event::ProbeHits) != 0;
    let device = core
        .resource::<XmitDevice>()
        .filter(|_| probed && core.stats.clean());
    let packets = n.min(MAX_PACKETS);
    for i in 0..packets {
        if i == packets / 2 {
            inside();
        }
        if let Some(device) = device {
            count(core, context, device.send(bh));
        }
    }
    if packets == 0 {
        inside();
    }
    core.stats.op(context);
}

fn probed_outer(
    core: &Core,
    bh: &LocalBhDisabled,
    _tag: u32,
    probe: &KProbe,
    inner: &InnerThread<'_>,
    let_in: &mut dyn FnMut(),
) {
    let Some(device) = core.resource::<XmitDevice>().filter(|_| core.stats.clean()) else {
        let_in();
        core.stats.op(Context::Forced);
        return;
    };
    let sent = {
        let _gate = inner.gate.lock();
        let_in();
        probe.arm(Some(inner.task));
        let sent = device.send(bh);
        inner.count_probe(core, probe, true);
        sent
    };
    count(core, Context::Forced, sent);
    core.stats.op(Context::Forced);
}

fn probed_inner(core: &Core, bh: &LocalBhDisabled, _tag: u32, gate: &SpinLock<()>) {
    let sent = core
        .resource::<XmitDevice>()
        .filter(|_| core.stats.clean())
        .and_then(|device| device.send(bh));
    // Checks after the outer thread's transmit is over, as every probe's inner round does.
    drop(gate.lock());
    count(core, Context::Forced, sent);
    core.stats.op(Context::Forced);
}
