// SPDX-License-Identifier: GPL-2.0

//! The metadata dst of `bpf_skb_set_tunnel_key()` (`md_dst` in `net/core/filter.c`) as a
//! resource of the kernel: the helper fills this CPU's one per-CPU `metadata_dst` with the
//! program's tunnel key and attaches it to the skb by reference; the key is read from there
//! later, by the transmit of a collect_md device (vxlan, geneve) in the same BH section. Nothing
//! but the BH section keeps a second sender of the CPU from running the helper in between: on
//! PREEMPT_RT without the BH lock, a second task's tc program can refill it, and the first
//! packet leaves with the second one's key and remote. No lock was found for it in 7.3.
//!
//! - **Traffic** ([`RESOURCE`]'s round): every context sends packets on a device of the
//!   module's own ([`TunnelDevice`]) whose tc program sets a key taken from the packet; its
//!   transmit compares the tunnel key the packet arrives with to the one it carries.
//! - **Probe**: the kprobe on `dev_hard_start_xmit()`, which `__dev_queue_xmit()` calls after
//!   the tc egress program and before the device's transmit. The outer thread sends with the
//!   probe armed; the inner thread, woken there, sends its own packet on the same CPU, which
//!   runs the helper again. If it can, the outer packet reaches its transmit with the inner
//!   one's key.

use core::{
    ptr::NonNull,
    sync::atomic::{AtomicU32, Ordering::Relaxed},
};
use kernel::{error::from_err_ptr, prelude::*, sync::SpinLock};

use super::{
    core_state::Core,
    ops::{self, Ops},
    probe_point::{InnerThread, ProbePoint},
    resource::KernelResource,
    stats::{Context, Event, Violation},
};
use crate::{
    services::{kprobe::KProbe, tunnel_key as sys},
    sync::bh::LocalBhDisabled,
};

/// The resource: its name is its case in the scenario table and its switch in the must-fail
/// kernel.
pub(crate) static RESOURCE: KernelResource = KernelResource {
    name: c"tunnel_key",
    new_state: || Ok(KBox::new(TunnelDevice::new()?, GFP_KERNEL)?),
    round: traffic_round,
    probe: ProbePoint {
        symbol: c"dev_hard_start_xmit",
        outer: probed_outer,
        inner: probed_inner,
    },
    // 7.3 has nothing but the BH section for it: see the module documentation.
    protected_in_stock: false,
};

/// Its entry of the ops table.
pub(crate) static OPS: Ops = ops::kernel_resource("kernel_tunnel_key", &RESOURCE);

/// Most packets a traffic round sends.
const MAX_PACKETS: usize = 4;

/// The key of the next packet: every packet of every run carries its own (until the counter
/// wraps, after 2^32 packets). Key 0 is the device's first packet, in `tunnel_key_shim.c`.
static NEXT_KEY: AtomicU32 = AtomicU32::new(1);

/// What a packet's transmit saw of its tunnel key.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Seen {
    /// Its own.
    Own,
    /// Another packet's.
    Other,
    /// None: the tc program did not run for it, or the packet never reached the transmit.
    Missing,
}

/// The probe's device: registered, up, no queue, lockless transmit, with the tc program on
/// its egress; see `tunnel_key_shim.c`.
///
/// # Invariants
///
/// `dev` is from `bhlock_tunnel_dev_new()` and lives until `drop`.
pub(crate) struct TunnelDevice {
    dev: NonNull<sys::TunnelDev>,
}

// SAFETY: Any CPU may send on the device; only `drop` frees it, in process context.
unsafe impl Send for TunnelDevice {}
// SAFETY: As for `Send`: sending is safe from any context that may transmit.
unsafe impl Sync for TunnelDevice {}

impl TunnelDevice {
    /// The device with its program attached; process context, not under RTNL.
    fn new() -> Result<Self> {
        // SAFETY: Process context of the task that starts the run (module init or a debugfs
        // write), which has a file table; not under RTNL. Freed in `drop`.
        let dev = from_err_ptr(unsafe { sys::bhlock_tunnel_dev_new() })?;
        // INVARIANT: From `bhlock_tunnel_dev_new()`, not an error.
        Ok(Self {
            dev: NonNull::new(dev).ok_or(ENOMEM)?,
        })
    }

    /// Sends one packet with a key of its own: what its transmit saw, `None` if it was not
    /// sent (no memory).
    fn send(&self, _bh: &LocalBhDisabled) -> Option<Seen> {
        let key = NEXT_KEY.fetch_add(1, Relaxed);
        // SAFETY: The device lives (type invariant); BH is disabled, interrupts are on.
        match unsafe { sys::bhlock_tunnel_dev_send(self.dev.as_ptr(), key) } {
            sys::OWN_KEY => Some(Seen::Own),
            sys::OTHER_KEY => Some(Seen::Other),
            sys::NO_KEY => Some(Seen::Missing),
            _ => None,
        }
    }
}

impl Drop for TunnelDevice {
    fn drop(&mut self) {
        // SAFETY: From `bhlock_tunnel_dev_new()` (type invariant); the run's contexts are
        // stopped before its state is dropped, in process context.
        unsafe { sys::bhlock_tunnel_dev_free(self.dev.as_ptr()) };
    }
}

/// Counts one packet sent by `context`, and a fault if it did not arrive with its own key
/// (`seen`: what [`TunnelDevice::send`] returned; `None`, no packet, counts nothing).
fn count(core: &Core, context: Context, seen: Option<Seen>) {
    let Some(seen) = seen else { return };
    match seen {
        Seen::Own => {}
        Seen::Other => core.count_kernel_fault(context, Violation::KernelTunnelKeyChanged),
        Seen::Missing => core.count_kernel_fault(context, Violation::KernelTunnelKeyMissing),
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
    // Traffic waits for the probe's first hit, so that where the key can change the first
    // fault is the probe's.
    let probed = core.probe.is_none() || core.stats.event_count(Event::ProbeHits) != 0;
    let device = core
        .resource::<TunnelDevice>()
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
    let Some(device) = core
        .resource::<TunnelDevice>()
        .filter(|_| core.stats.clean())
    else {
        let_in();
        core.stats.op(Context::Forced);
        return;
    };
    let seen = {
        let _gate = inner.gate.lock();
        let_in();
        probe.arm(Some(inner.task));
        let seen = device.send(bh);
        inner.count_probe(core, probe, true);
        seen
    };
    count(core, Context::Forced, seen);
    core.stats.op(Context::Forced);
}

fn probed_inner(core: &Core, bh: &LocalBhDisabled, _tag: u32, gate: &SpinLock<()>) {
    let seen = core
        .resource::<TunnelDevice>()
        .filter(|_| core.stats.clean())
        .and_then(|device| device.send(bh));
    // Checks after the outer thread's transmit is over, as every probe's inner round does.
    drop(gate.lock());
    count(core, Context::Forced, seen);
    core.stats.op(Context::Forced);
}
