// SPDX-License-Identifier: GPL-2.0

//! Raw functions of the tunnel-key probe's device (`tunnel_key_shim.c`): a net device of
//! bhlock's own with a tc program on its egress that calls `bpf_skb_set_tunnel_key()`, and a
//! transmit that checks the tunnel key each packet arrives with. The device is only ever
//! handled by pointer.

use kernel::ffi::c_int;

/// An opaque `struct bhlock_tunnel_dev`.
#[repr(C)]
pub(crate) struct TunnelDev {
    _private: [u8; 0],
}

/// [`bhlock_tunnel_dev_send`]: the transmit saw the packet's own key.
pub(crate) const OWN_KEY: c_int = 0;
/// [`bhlock_tunnel_dev_send`]: the transmit saw another packet's key.
pub(crate) const OTHER_KEY: c_int = 1;
/// [`bhlock_tunnel_dev_send`]: the packet reached the transmit without a tunnel key, or never
/// reached it.
pub(crate) const NO_KEY: c_int = 2;

extern "C" {
    /// The device, registered and up, with the program attached and checked with one packet.
    /// An `ERR_PTR` on failure.
    ///
    /// # Safety
    ///
    /// Process context of a task with a file table (the program is loaded through file
    /// descriptors, closed before it returns), not under RTNL; the result, unless an error, must
    /// be freed with [`bhlock_tunnel_dev_free`] once.
    pub(crate) fn bhlock_tunnel_dev_new() -> *mut TunnelDev;

    /// Detaches the program, unregisters and frees the device.
    ///
    /// # Safety
    ///
    /// `tdev` must come from [`bhlock_tunnel_dev_new`], nothing may send on it any more, and it
    /// is not used afterwards; process context, not under RTNL.
    pub(crate) fn bhlock_tunnel_dev_free(tdev: *mut TunnelDev);

    /// Sends one packet carrying `key` and returns what its transmit saw ([`OWN_KEY`],
    /// [`OTHER_KEY`], [`NO_KEY`]), or a negative errno.
    ///
    /// # Safety
    ///
    /// `tdev` must come from [`bhlock_tunnel_dev_new`] and not be freed; BH disabled,
    /// interrupts on.
    pub(crate) fn bhlock_tunnel_dev_send(tdev: *mut TunnelDev, key: u32) -> c_int;
}
