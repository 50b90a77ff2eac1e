// SPDX-License-Identifier: GPL-2.0

//! Kernel threads that run until stopped.
//!
//! The kernel crate of 7.3 has no kthread abstraction; this is the least of one that bhlock
//! needs: create, wake, and `kthread_stop()` on drop.

use super::shim;
use core::ptr::NonNull;
use kernel::{
    bindings,
    cpu::CpuId,
    error::from_err_ptr,
    ffi::{c_int, c_void},
    prelude::*,
    str::CStr,
    task::Task,
    time::{delay::fsleep, Delta},
};

/// The body of a thread: called with the `data` given at creation.
pub(crate) type ThreadFn = unsafe extern "C" fn(*mut c_void) -> c_int;

/// The scheduling policy a thread starts with.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Policy {
    /// `SCHED_NORMAL`, as `kthread_create()` makes it.
    Normal,
    /// `SCHED_FIFO` at the lowest priority (`sched_set_fifo_low()`).
    FifoLow,
    /// `SCHED_FIFO` one above the kernel's default real-time priority (`sched_set_fifo()`),
    /// which threaded interrupt handlers run at: no interrupt thread, nor a thread it boosts
    /// by blocking on its lock, can keep this one from running.
    FifoAboveIrqThreads,
}

/// A running kernel thread, stopped with `kthread_stop_put()` when dropped.
///
/// # Invariants
///
/// `task` is a kthread created by this object and not stopped yet, and this object holds a
/// reference to it: the task struct stays valid until `drop` stops it, even if its function
/// has returned on its own.
pub(crate) struct KThread {
    task: NonNull<bindings::task_struct>,
}

// SAFETY: `kthread_stop()` may be called from any task.
unsafe impl Send for KThread {}
// SAFETY: `KThread` has no `&self` methods that touch the task.
unsafe impl Sync for KThread {}

impl KThread {
    /// Starts a thread named `name` running `f(data)`, bound to `cpu` if given.
    ///
    /// # Safety
    ///
    /// `data` must stay valid for `f` until the returned object is dropped (the thread may
    /// also never run `f`, if it is stopped before it starts).
    pub(crate) unsafe fn start(
        f: ThreadFn,
        data: *mut c_void,
        name: &CStr,
        cpu: Option<CpuId>,
    ) -> Result<Self> {
        // SAFETY: The caller's promises are those of `start_with`.
        unsafe { Self::start_with(f, data, name, cpu, Policy::Normal) }
    }

    /// [`KThread::start`], with the thread's scheduling policy set before it first runs.
    ///
    /// # Safety
    ///
    /// As for [`KThread::start`].
    pub(crate) unsafe fn start_with(
        f: ThreadFn,
        data: *mut c_void,
        name: &CStr,
        cpu: Option<CpuId>,
        policy: Policy,
    ) -> Result<Self> {
        // `NUMA_NO_NODE`: a macro; the thread's stack may come from any node.
        let node = -1;
        // SAFETY: `f` and `data` are valid as the caller promises; the format takes `name`.
        let task = from_err_ptr(unsafe {
            bindings::kthread_create_on_node(
                Some(f),
                data,
                node,
                c"%s".as_char_ptr(),
                name.as_char_ptr(),
            )
        })?;
        let task = NonNull::new(task).ok_or(ENOMEM)?;
        // SAFETY: `task` is a live task that has not run yet; the reference is dropped by
        // `kthread_stop_put()` in `drop`.
        unsafe { bindings::get_task_struct(task.as_ptr()) };
        if let Some(cpu) = cpu {
            // SAFETY: `task` is a new kthread that has not run yet.
            unsafe { bindings::kthread_bind(task.as_ptr(), cpu.as_u32()) };
        }
        match policy {
            Policy::Normal => {}
            // SAFETY: `task` is a live task.
            Policy::FifoLow => unsafe { bindings::sched_set_fifo_low(task.as_ptr()) },
            // SAFETY: `task` is a live task.
            Policy::FifoAboveIrqThreads => unsafe {
                shim::bhlock_sched_set_fifo_above_irq_threads(task.as_ptr())
            },
        }
        // SAFETY: `task` is a new kthread, waiting to be woken.
        unsafe { bindings::wake_up_process(task.as_ptr()) };
        // INVARIANT: Created above, with a reference taken.
        Ok(Self { task })
    }
}

impl Drop for KThread {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the task struct is valid (this object's reference,
        // dropped here) and the thread is stopped only here; `kthread_stop()` also handles a
        // thread whose function has returned.
        unsafe { bindings::kthread_stop_put(self.task.as_ptr()) };
    }
}

/// Whether the current task is a kthread that has been asked to stop.
///
/// `kthread_should_stop()` reads the kthread's own data, which only a kthread has (another
/// task gets a WARN and a bad pointer); called elsewhere this returns false instead.
pub(crate) fn should_stop() -> bool {
    // SAFETY: `current` is alive for as long as it runs this code; its `flags` are its own.
    let flags = unsafe { (*Task::current_raw()).flags };
    // SAFETY: The current task is a kthread, the one context where this is allowed.
    flags & bindings::PF_KTHREAD != 0 && unsafe { bindings::kthread_should_stop() }
}

/// The longest a thread's sleep lasts before it asks whether it is told to stop ([`pause`],
/// and the waits of a forced pair): a stop's wake-up can fall between that question and the
/// sleep.
pub(crate) const STOP_CHECK_MS: u32 = 100;

/// Sleeps for `d`, in steps of at most 100 ms, and returns early once `stop()` holds.
///
/// `fsleep()` sleeps to its end whatever wakes the task, so a thread pausing for a second
/// between rounds would hold up its `kthread_stop()` by as much, and a stop of many such
/// threads, one after another, by that many times (256 threads took 17 s).
pub(crate) fn pause(d: Delta, stop: impl Fn() -> bool) {
    let mut left = d.as_micros_ceil();
    while left > 0 && !stop() {
        let step = left.min(i64::from(STOP_CHECK_MS) * 1000);
        fsleep(Delta::from_micros(step));
        left -= step;
    }
}
