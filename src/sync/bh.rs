// SPDX-License-Identifier: GPL-2.0

//! Bottom-half (softirq) disabled sections.
//!
//! A [`LocalBhDisabled`] is proof that bottom halves are disabled on the local CPU, or that a
//! softirq handler runs there: the context `local_lock_nested_bh()` requires. On every
//! configuration that context also keeps the task on its CPU: a BH-disabled section disables
//! preemption on !PREEMPT_RT and migration on PREEMPT_RT.
//!
//! The shape is that of [`kernel::interrupt`]: [`local_bh_disable`] returns an owned token that
//! ends the section when dropped, and [`LocalBhDisabled::assume_disabled`] lends one to code
//! that already runs in softirq context. Functions that need the context take the token by
//! shared reference, so one section can back several nested-BH locks at once, as in C.
//!
//! C reference: [`include/linux/bottom_half.h`](srctree/include/linux/bottom_half.h)

use super::bindings;
use kernel::{prelude::*, types::NotThreadSafe};

/// A token that bottom halves are disabled on the local CPU.
///
/// Owned, it is a BH-disabled section that [`local_bh_disable`] started and that ends
/// (`local_bh_enable()`) when it is dropped. Borrowed from
/// [`LocalBhDisabled::assume_disabled`], it stands for a section the caller is already in.
///
/// It is neither [`Send`] nor [`Sync`]: a section belongs to the task that started it.
///
/// # Invariants
///
/// For as long as the object exists (or, for one from [`LocalBhDisabled::assume_disabled`],
/// the reference), bottom halves are disabled on the CPU that created it, or a softirq handler
/// runs there, and the current task runs on that CPU.
///
/// # Examples
///
/// A function that may run only with bottom halves disabled asks for the token:
///
/// ```
/// use kernel::bh::{local_bh_disable, LocalBhDisabled};
///
/// fn bump_softirq_stats(_bh: &LocalBhDisabled, count: &mut u64) {
///     *count += 1;
/// }
///
/// let mut count = 0;
/// let bh = local_bh_disable()?;
/// bump_softirq_stats(&bh, &mut count);
/// drop(bh);
/// assert_eq!(count, 1);
/// # Ok::<(), Error>(())
/// ```
pub struct LocalBhDisabled(NotThreadSafe);

/// Disables bottom halves on the local CPU.
///
/// Returns the section's token; dropping it calls `local_bh_enable()`, which may run pending
/// softirqs. Sections nest, as in C.
///
/// Fails with `EINVAL` where `local_bh_enable()` is not allowed: in hard-irq or NMI context,
/// or with interrupts disabled.
///
/// # Examples
///
/// ```
/// use kernel::bh::local_bh_disable;
/// use kernel::interrupt::local_interrupt_disable;
///
/// let bh = local_bh_disable()?;
/// drop(bh);
/// let irqs_off = local_interrupt_disable();
/// assert!(local_bh_disable().is_err());
/// drop(irqs_off);
/// # Ok::<(), Error>(())
/// ```
#[inline]
pub fn local_bh_disable() -> Result<LocalBhDisabled> {
    // SAFETY: Both only read the context; always safe to call. `in_hardirq()` is true in NMI
    // too.
    if unsafe { bindings::irqs_disabled() || bindings::in_hardirq() } {
        return Err(EINVAL);
    }
    // SAFETY: Not hard-irq, not NMI, interrupts on: the matching `local_bh_enable()`, in
    // `Drop`, is allowed here.
    unsafe { bindings::local_bh_disable() };
    // INVARIANT: Bottom halves were just disabled, and stay so until `Drop`.
    Ok(LocalBhDisabled(NotThreadSafe))
}

impl Drop for LocalBhDisabled {
    #[inline]
    fn drop(&mut self) {
        // With interrupts disabled (say, by a `LocalInterruptDisabled` made inside the section)
        // `local_bh_enable()` is a bug: it may run softirqs, which enable interrupts, and with
        // `CONFIG_TRACE_IRQFLAGS` it enables them unconditionally on its way out, breaking the
        // interrupt token's promise from safe code. On PREEMPT_RT it cannot end the section
        // properly at all. Leave the section open then, as `core::mem::forget()` would: bottom
        // halves stay disabled in this task, which is a bug that the warning names, but not
        // unsound.
        //
        // SAFETY: Only reads the CPU's interrupt state; always safe to call.
        let irqs_off = unsafe { bindings::irqs_disabled() };
        if kernel::warn_on!(irqs_off) {
            return;
        }
        // SAFETY: By the type invariants this object started a BH-disabled section in this task
        // (it is not `Send`), nothing borrows it any more, and interrupts are on.
        unsafe { bindings::local_bh_enable() };
    }
}

impl LocalBhDisabled {
    /// Assumes that bottom halves are disabled on the local CPU, and returns a token for it.
    ///
    /// For code that runs in a softirq handler (a NAPI poll, a soft hrtimer callback) or in a
    /// BH-disabled section it did not start. Nothing is changed; with `CONFIG_PROVE_LOCKING`
    /// the assumption is checked by `lockdep_assert_in_softirq()`, which warns once.
    ///
    /// # Safety
    ///
    /// For the whole lifetime `'a`, the current task must be in a BH-disabled section or a
    /// softirq handler that outlives `'a` (on PREEMPT_RT that state belongs to the task), must
    /// not migrate to another CPU, and must not be in hard-irq or NMI context.
    #[inline]
    pub unsafe fn assume_disabled<'a>() -> &'a LocalBhDisabled {
        // A constant, whose reference lives for `'static`: never dropped, so no
        // `local_bh_enable()` comes from it.
        const ASSUME_DISABLED: &LocalBhDisabled = &LocalBhDisabled(NotThreadSafe);
        // Without PROVE_LOCKING the assertion is empty: skip the call.
        if cfg!(CONFIG_PROVE_LOCKING) {
            // SAFETY: Only reads the context; always safe to call.
            unsafe { bindings::lockdep_assert_in_softirq() };
        }
        // INVARIANT: The caller promises the section for `'a`.
        ASSUME_DISABLED
    }
}
