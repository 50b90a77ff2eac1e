// SPDX-License-Identifier: GPL-2.0

//! A kprobe that wakes a thread (`kprobe_shim.c`; 7.3 has no Rust binding for kprobes): the
//! way into the middle of a kernel function's BH section. A task bound to its CPU arms the
//! probe, calls the kernel function, and at the first call of the probed function inside it
//! the probe wakes the thread it was armed with. Where that thread outranks the task on the
//! CPU and BH sections are preemptible, it runs right there, inside the kernel's section.

use core::ptr::{self, NonNull};
use kernel::{error::from_err_ptr, prelude::*, task::Task};

/// The C object, only handled by pointer.
#[repr(C)]
pub(crate) struct BhlockKprobe {
    _opaque: [u8; 0],
}

#[allow(improper_ctypes)]
unsafe extern "C" {
    /// Registers a disarmed probe on `symbol`; an `ERR_PTR` on failure.
    ///
    /// # Safety
    ///
    /// `symbol` must stay valid until the probe is freed; process context, outside CPU
    /// hotplug callbacks.
    fn bhlock_kprobe_new(symbol: *const kernel::ffi::c_char) -> *mut BhlockKprobe;

    /// Unregisters and frees the probe.
    ///
    /// # Safety
    ///
    /// `p` must come from `bhlock_kprobe_new` and not be used afterwards; process context,
    /// outside CPU hotplug callbacks.
    fn bhlock_kprobe_free(p: *mut BhlockKprobe);

    /// The current task's next hit on this CPU fires the probe and wakes `wake` (unless
    /// null), which the probe holds a reference to until then.
    ///
    /// # Safety
    ///
    /// `p` must come from `bhlock_kprobe_new` and not be freed; `wake` must be null or a
    /// live task.
    fn bhlock_kprobe_arm(p: *mut BhlockKprobe, wake: *mut kernel::bindings::task_struct);

    /// Disarms the probe on this CPU; returns whether it fired since it was armed.
    ///
    /// # Safety
    ///
    /// `p` must come from `bhlock_kprobe_new` and not be freed.
    fn bhlock_kprobe_disarm(p: *mut BhlockKprobe) -> bool;
}

/// A registered kprobe on one kernel function, unregistered when dropped.
///
/// It is armed per CPU, by the task that will hit it, and fires at most once per arming,
/// whatever other tasks call the function meanwhile. Making and dropping it takes the CPU
/// hotplug lock: never in a CPU hotplug callback. A probe that is leaked, not dropped, stays
/// registered with its handler in module text, like any registration leaked past `rmmod`.
///
/// A task that re-arms before the irq_work of its last hit has run (it runs on the interrupt
/// that follows the hit, so only where there is no self-IPI) loses that wake-up.
///
/// # Invariants
///
/// `p` is a registered probe from `bhlock_kprobe_new()`, freed only by `drop`.
pub(crate) struct KProbe {
    p: NonNull<BhlockKprobe>,
}

// SAFETY: The probe may be armed, disarmed and freed from any task; its state is atomic and
// per CPU.
unsafe impl Send for KProbe {}
// SAFETY: `arm` and `disarm` are atomic exchanges on the calling CPU's slot in C.
unsafe impl Sync for KProbe {}

impl KProbe {
    /// A disarmed probe on the kernel function `symbol`. Fails if the function cannot be
    /// probed (`-ENOENT` for no such symbol). Process context, outside CPU hotplug callbacks.
    ///
    /// The kprobe keeps a pointer to `symbol` for as long as it is registered, hence
    /// `'static`.
    pub(crate) fn new(symbol: &'static CStr) -> Result<Self> {
        // SAFETY: `symbol` is static.
        let p = from_err_ptr(unsafe { bhlock_kprobe_new(symbol.as_char_ptr()) })?;
        // INVARIANT: Registered above; `from_err_ptr` let no error pointer through.
        Ok(Self {
            p: NonNull::new(p).ok_or(ENOMEM)?,
        })
    }

    /// The current task's next call of the function on this CPU fires the probe, once; with
    /// `wake`, that wakes the task (from a hard irq_work right after the hit), otherwise the
    /// hit is only seen by [`KProbe::disarm`]. The current task must not leave its CPU until
    /// it disarms.
    pub(crate) fn arm(&self, wake: Option<&Task>) {
        let wake = wake.map_or(ptr::null_mut(), Task::as_ptr);
        // SAFETY: By the type invariant `p` is registered and not freed; `wake` is null or a
        // live task (borrowed for this call, the probe takes a reference of its own).
        unsafe { bhlock_kprobe_arm(self.p.as_ptr(), wake) }
    }

    /// Disarms the probe on this CPU; returns whether it fired since the last
    /// [`KProbe::arm`].
    pub(crate) fn disarm(&self) -> bool {
        // SAFETY: By the type invariant `p` is registered and not freed.
        unsafe { bhlock_kprobe_disarm(self.p.as_ptr()) }
    }
}

impl Drop for KProbe {
    fn drop(&mut self) {
        // SAFETY: By the type invariant `p` is registered, and it is freed only here.
        unsafe { bhlock_kprobe_free(self.p.as_ptr()) }
    }
}
