// SPDX-License-Identifier: GPL-2.0

//! The rounds of a kernel resource that is probed by sending packets on a device of the
//! module's own ([`PacketDevice`]): the transmit lock owner and the tunnel key. Every context
//! sends a few packets per round; a forced pair's outer thread sends one with the kprobe armed
//! and its inner thread, woken inside that send, sends one of its own. What a packet's send
//! says, and which fault it is, is the device's.

use core::any::Any;
use kernel::sync::SpinLock;

use super::{
    core_state::Core,
    probe_point::InnerThread,
    stats::{Context, Event},
};
use crate::{services::kprobe::KProbe, sync::bh::LocalBhDisabled};

/// Most packets a traffic round sends.
const MAX_PACKETS: usize = 4;

/// A device of the module's own that a run's contexts send packets on: the state of its
/// resource ([`super::resource::KernelResource::new_state`]).
pub(crate) trait PacketDevice: Any + Send + Sync {
    /// What a send says of its packet.
    type Sent;

    /// Sends one packet; `None` if there was none to send (no memory).
    fn send(&self, bh: &LocalBhDisabled) -> Option<Self::Sent>;

    /// Counts a packet sent by `context`, and its fault if `sent` is one.
    fn count(core: &Core, context: Context, sent: Self::Sent);
}

/// Counts what a send said, if it sent anything.
fn count<D: PacketDevice>(core: &Core, context: Context, sent: Option<D::Sent>) {
    if let Some(sent) = sent {
        D::count(core, context, sent);
        core.stats.event(Event::KernelPackets, 1);
    }
}

/// One traffic round: up to [`MAX_PACKETS`] packets, `inside` run between them. Traffic waits
/// for the probe's first hit, so that where the resource can be corrupted the first fault is
/// the probe's, and stops at the first fault.
pub(crate) fn traffic_round<D: PacketDevice>(
    core: &Core,
    context: Context,
    bh: &LocalBhDisabled,
    n: usize,
    _tag: u32,
    inside: &mut dyn FnMut(),
) {
    let probed = core.probe.is_none() || core.stats.event_count(Event::ProbeHits) != 0;
    let device = core
        .resource::<D>()
        .filter(|_| probed && core.stats.clean());
    let packets = n.min(MAX_PACKETS);
    for i in 0..packets {
        if i == packets / 2 {
            inside();
        }
        if let Some(device) = device {
            count::<D>(core, context, device.send(bh));
        }
    }
    if packets == 0 {
        inside();
    }
    core.stats.op(context);
}

/// The outer thread's forced round: one packet sent with the probe armed, the inner thread's
/// gate held until it is counted.
pub(crate) fn probed_outer<D: PacketDevice>(
    core: &Core,
    bh: &LocalBhDisabled,
    _tag: u32,
    probe: &KProbe,
    inner: &InnerThread<'_>,
    let_in: &mut dyn FnMut(),
) {
    let Some(device) = core.resource::<D>().filter(|_| core.stats.clean()) else {
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
    count::<D>(core, Context::Forced, sent);
    core.stats.op(Context::Forced);
}

/// The inner thread's forced round: one packet of its own, counted after the outer thread's
/// send is over, as every probe's inner round does.
pub(crate) fn probed_inner<D: PacketDevice>(
    core: &Core,
    bh: &LocalBhDisabled,
    _tag: u32,
    gate: &SpinLock<()>,
) {
    let sent = core
        .resource::<D>()
        .filter(|_| core.stats.clean())
        .and_then(|device| device.send(bh));
    drop(gate.lock());
    count::<D>(core, Context::Forced, sent);
    core.stats.op(Context::Forced);
}
