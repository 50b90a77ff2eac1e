// SPDX-License-Identifier: GPL-2.0

//! Running a closure on a given CPU, from an IPI (the kernel crate of 7.3 has no binding of
//! `smp_call_function_single()`), and starting a pinned hrtimer there.
//!
//! It imports only the kernel crate, so that `tests/compile-fail` can build it with the guard
//! API alone and check its `Send` bound.

use kernel::{
    cpu::CpuId,
    ffi::c_int,
    ffi::c_void,
    prelude::*,
    time::{
        hrtimer::{
            HrTimerMode, HrTimerPointer, RelativePinnedHardMode, RelativePinnedMode,
            RelativePinnedSoftMode,
        },
        ClockSource, Delta,
    },
};

/// Runs `f` on `cpu`, from an IPI (interrupts disabled), and waits for it.
///
/// `f` runs in the hard-irq of whatever task `cpu` was running (or, if `cpu` is this CPU, in
/// this task with interrupts off), so it must be [`Send`]: a BH token or a guard moved into it
/// would be released in that other task. Process context with interrupts on only, as for
/// `smp_call_function_single()`.
pub(crate) fn run_on_cpu<F: FnOnce() + Send>(cpu: CpuId, f: F) -> Result {
    /// # Safety
    ///
    /// `info` must point to an `Option<F>` that is valid and not otherwise used for the call.
    unsafe extern "C" fn trampoline<F: FnOnce() + Send>(info: *mut c_void) {
        // SAFETY: `info` is the caller's `Option<F>`, which it does not touch until
        // `smp_call_function_single()` returns.
        if let Some(f) = unsafe { (*info.cast::<Option<F>>()).take() } {
            f();
        }
    }
    let mut f = Some(f);
    // SAFETY: With `wait` set, `f` outlives the call; the trampoline matches its type.
    kernel::error::to_result(unsafe {
        kernel::bindings::smp_call_function_single(
            cpu.as_u32() as c_int,
            Some(trampoline::<F>),
            (&raw mut f).cast(),
            true,
        )
    })
}

/// The hrtimer modes that keep a timer on the CPU that starts it, relative to now. Any other
/// may be moved to a busier CPU when started (`get_nohz_timer_target()`).
pub(crate) trait RelativePinned: HrTimerMode<Expires = Delta> {}

impl<C: ClockSource> RelativePinned for RelativePinnedMode<C> {}
impl<C: ClockSource> RelativePinned for RelativePinnedSoftMode<C> {}
impl<C: ClockSource> RelativePinned for RelativePinnedHardMode<C> {}

/// Starts `timer` on `cpu`, pinned there: a pinned hrtimer stays on the CPU that started it.
pub(crate) fn start_pinned<T>(cpu: CpuId, timer: T, expires: Delta) -> Result<T::TimerHandle>
where
    T: HrTimerPointer<TimerMode: RelativePinned> + Send,
    T::TimerHandle: Send,
{
    let mut handle = None;
    run_on_cpu(cpu, || handle = Some(timer.start(expires)))?;
    handle.ok_or(EINVAL)
}
