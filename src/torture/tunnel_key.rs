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
use kernel::{error::from_err_ptr, prelude::*};

use super::{
    core_state::Core,
    ops::{self, Ops},
    packet_probe::{self, PacketDevice},
    probe_point::ProbePoint,
    resource::KernelResource,
    stats::{Context, Violation},
};
use crate::{services::tunnel_key as sys, sync::bh::LocalBhDisabled};

/// The resource: its name is its case in the scenario table and its switch in the must-fail
/// kernel.
pub(crate) static RESOURCE: KernelResource = KernelResource {
    name: c"tunnel_key",
    new_state: || Ok(KBox::new(TunnelDevice::new()?, GFP_KERNEL)?),
    round: packet_probe::traffic_round::<TunnelDevice>,
    probe: ProbePoint {
        symbol: c"dev_hard_start_xmit",
        outer: packet_probe::probed_outer::<TunnelDevice>,
        inner: packet_probe::probed_inner::<TunnelDevice>,
    },
    // 7.3 has nothing but the BH section for it: see the module documentation.
    protected_in_stock: false,
};

/// Its entry of the ops table.
pub(crate) static OPS: Ops = ops::kernel_resource("kernel_tunnel_key", &RESOURCE);

/// The key of the next packet: every packet of every run carries its own (until the counter
/// wraps, after 2^32 packets). Key 0 is the device's first packet, in `tunnel_key_shim.c`.
static NEXT_KEY: AtomicU32 = AtomicU32::new(1);

/// What a packet's transmit saw of its tunnel key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Seen {
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
}

impl PacketDevice for TunnelDevice {
    /// What the packet's transmit saw of its key.
    type Sent = Seen;

    /// Sends one packet with a key of its own.
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

    fn count(core: &Core, context: Context, seen: Seen) {
        match seen {
            Seen::Own => {}
            Seen::Other => core.count_kernel_fault(context, Violation::KernelTunnelKeyChanged),
            Seen::Missing => core.count_kernel_fault(context, Violation::KernelTunnelKeyMissing),
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
