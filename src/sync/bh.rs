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
    // `in_hardirq()` is true in NMI too.
    if raw::irqs_disabled() || raw::in_hardirq() {
        return Err(EINVAL);
    }
    // SAFETY: Not hard-irq, not NMI, interrupts on: the matching `local_bh_enable()`, in
    // `Drop`, is allowed here.
    unsafe { raw::local_bh_disable() };
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
        if kernel::warn_on!(raw::irqs_disabled()) {
            return;
        }
        // SAFETY: By the type invariants this object started a BH-disabled section in this task
        // (it is not `Send`), nothing borrows it any more, and interrupts are on.
        unsafe { raw::local_bh_enable() };
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

/// The context checks and the section's two ends, each as C compiles it where that is inline.
///
/// Where C inlines them (x86-64 SMP, not UML: the interrupt flag unless paravirt ops read it,
/// the preempt count, and, without lockdep's irq-flag tracing, `DEBUG_PREEMPT` or
/// `TRACE_PREEMPT_TOGGLE` and off PREEMPT_RT, `local_bh_disable()`'s preempt-count add), a
/// helper call would cost a BH section more calls than C makes; so they are read and written
/// inline here, as `arch/x86/include/asm/irqflags.h` and `asm/preempt.h` do. Where C calls out
/// (`__local_bh_disable_ip()` on PREEMPT_RT or with `CONFIG_TRACE_IRQFLAGS`,
/// `__local_bh_enable_ip()` always), the same exported function is called. Everywhere else the
/// helpers are (with `DEBUG_PREEMPT` or `TRACE_PREEMPT_TOGGLE` that is one call more than C,
/// whose `preempt_count_add()` is out of line there). The KUnit suite below checks the inline
/// reads against the helpers; the inline add is compiled only where lockdep is off (the
/// `perf` kernel).
mod raw {
    use super::bindings;

    /// `_THIS_IP_`: an address in the caller, for lockdep's and the tracers' records of where
    /// a section began or ended.
    #[cfg(all(CONFIG_X86_64, not(CONFIG_UML)))]
    #[inline(always)]
    fn this_ip() -> kernel::ffi::c_ulong {
        let ip: kernel::ffi::c_ulong;
        // SAFETY: Computes the address of the next instruction; reads and writes nothing else.
        unsafe {
            core::arch::asm!(
                "lea {ip}, [rip]",
                ip = out(reg) ip,
                options(nomem, nostack, preserves_flags),
            )
        };
        ip
    }

    /// `irqs_disabled()`.
    #[inline(always)]
    pub(super) fn irqs_disabled() -> bool {
        #[cfg(all(CONFIG_X86_64, not(CONFIG_UML), not(CONFIG_PARAVIRT_XXL)))]
        {
            let flags: usize;
            // SAFETY: `native_save_fl()`: pushes the flags register and pops it into `flags`,
            // leaving the stack as it was. No memory operand: like C's `"memory"` clobber, the
            // compiler keeps memory accesses on their side of it.
            unsafe {
                core::arch::asm!(
                    "pushfq",
                    "pop {flags}",
                    flags = out(reg) flags,
                    options(preserves_flags),
                )
            };
            flags & (1 << bindings::X86_EFLAGS_IF_BIT) == 0
        }
        #[cfg(not(all(CONFIG_X86_64, not(CONFIG_UML), not(CONFIG_PARAVIRT_XXL))))]
        {
            // SAFETY: Only reads the CPU's interrupt state; always safe to call.
            unsafe { bindings::irqs_disabled() }
        }
    }

    /// The low 32 bits of the per-CPU `__preempt_count`, which hold the count on x86-64 SMP:
    /// what C's `int preempt_count()` returns (the inverted need-resched flag is bit 63 of the
    /// `unsigned long`).
    #[cfg(all(CONFIG_X86_64, not(CONFIG_UML), CONFIG_SMP))]
    #[inline(always)]
    pub(super) fn preempt_count() -> u32 {
        let count: u32;
        // SAFETY: `__preempt_count` is an exported per-CPU variable; a `%gs`-relative load of
        // its low 32 bits reads this CPU's count, as `raw_cpu_read_4(__preempt_count)` does. It
        // writes nothing.
        unsafe {
            core::arch::asm!(
                "mov {count:e}, dword ptr gs:[rip + {pc}]",
                count = out(reg) count,
                pc = sym bindings::__preempt_count,
                options(nostack, preserves_flags, readonly),
            )
        };
        count
    }

    /// `in_hardirq()`: true in NMI too (`nmi_enter()` adds `HARDIRQ_OFFSET` as well).
    #[inline(always)]
    pub(super) fn in_hardirq() -> bool {
        #[cfg(all(CONFIG_X86_64, not(CONFIG_UML), CONFIG_SMP))]
        {
            const HARDIRQ_MASK: u32 =
                ((1 << bindings::HARDIRQ_BITS) - 1) << bindings::HARDIRQ_SHIFT;
            preempt_count() & HARDIRQ_MASK != 0
        }
        #[cfg(not(all(CONFIG_X86_64, not(CONFIG_UML), CONFIG_SMP)))]
        {
            // SAFETY: Only reads the context; always safe to call.
            unsafe { bindings::in_hardirq() }
        }
    }

    /// `local_bh_disable()`.
    ///
    /// # Safety
    ///
    /// Not in hard-irq or NMI context, and interrupts on (so that the matching
    /// [`local_bh_enable`] is allowed).
    #[inline(always)]
    pub(super) unsafe fn local_bh_disable() {
        #[cfg(all(
            CONFIG_X86_64,
            not(CONFIG_UML),
            CONFIG_SMP,
            not(CONFIG_PREEMPT_RT),
            not(CONFIG_TRACE_IRQFLAGS),
            not(CONFIG_DEBUG_PREEMPT),
            not(CONFIG_TRACE_PREEMPT_TOGGLE)
        ))]
        {
            // SAFETY: `__preempt_count_add(SOFTIRQ_DISABLE_OFFSET)`: a `%gs`-relative add to this
            // CPU's count, one instruction, so an interrupt sees it before or after. Without
            // `nomem`, also the `barrier()` that follows it in C.
            unsafe {
                core::arch::asm!(
                    "add dword ptr gs:[rip + {pc}], {cnt}",
                    pc = sym bindings::__preempt_count,
                    cnt = const bindings::SOFTIRQ_DISABLE_OFFSET,
                    options(nostack),
                )
            };
        }
        #[cfg(all(
            CONFIG_X86_64,
            not(CONFIG_UML),
            any(CONFIG_PREEMPT_RT, CONFIG_TRACE_IRQFLAGS),
        ))]
        {
            // SAFETY: The caller's context allows it; this is what `local_bh_disable()` calls.
            unsafe { bindings::__local_bh_disable_ip(this_ip(), bindings::SOFTIRQ_DISABLE_OFFSET) };
        }
        #[cfg(not(any(
            all(
                CONFIG_X86_64,
                not(CONFIG_UML),
                CONFIG_SMP,
                not(CONFIG_PREEMPT_RT),
                not(CONFIG_TRACE_IRQFLAGS),
                not(CONFIG_DEBUG_PREEMPT),
                not(CONFIG_TRACE_PREEMPT_TOGGLE)
            ),
            all(
                CONFIG_X86_64,
                not(CONFIG_UML),
                any(CONFIG_PREEMPT_RT, CONFIG_TRACE_IRQFLAGS)
            ),
        )))]
        {
            // SAFETY: The caller's context allows it.
            unsafe { bindings::local_bh_disable() };
        }
    }

    /// `local_bh_enable()`.
    ///
    /// # Safety
    ///
    /// Ends a section that this task began with [`local_bh_disable`]; interrupts on.
    #[inline(always)]
    pub(super) unsafe fn local_bh_enable() {
        #[cfg(all(CONFIG_X86_64, not(CONFIG_UML)))]
        {
            // SAFETY: As the caller promises; this is what `local_bh_enable()` calls.
            unsafe { bindings::__local_bh_enable_ip(this_ip(), bindings::SOFTIRQ_DISABLE_OFFSET) };
        }
        #[cfg(not(all(CONFIG_X86_64, not(CONFIG_UML))))]
        {
            // SAFETY: As the caller promises.
            unsafe { bindings::local_bh_enable() };
        }
    }
}

#[kunit_tests(bhlock_bh)]
mod tests {
    // No `use core::...`: in the kernel tree `kernel::` becomes `crate::`, which rustfmt
    // orders before `core::`, and the one file must be formatted in both places.
    use super::{bindings, local_bh_disable, raw};
    use kernel::{
        impl_has_hr_timer,
        interrupt::local_interrupt_disable,
        prelude::*,
        sync::{Arc, ArcBorrow},
        time::{
            delay::fsleep,
            hrtimer::{
                HrTimer, HrTimerCallback, HrTimerCallbackContext, HrTimerPointer, HrTimerRestart,
                RelativeHardMode,
            },
            Delta, Monotonic,
        },
    };

    /// The context as the inline reads and the C helpers see it: bit 0 `raw::in_hardirq()`,
    /// bit 1 C's `in_hardirq()`, bit 2 `raw::irqs_disabled()`, bit 3 C's `irqs_disabled()`;
    /// bit 7 is always set, so that 0 means "not read yet".
    fn reads() -> u8 {
        // SAFETY: Both only read the context; always safe to call.
        let (c_hardirq, c_irqs_off) =
            unsafe { (bindings::in_hardirq(), bindings::irqs_disabled()) };
        u8::from(raw::in_hardirq())
            | u8::from(c_hardirq) << 1
            | u8::from(raw::irqs_disabled()) << 2
            | u8::from(c_irqs_off) << 3
            | 0x80
    }

    /// A HARD hrtimer (hard-irq on PREEMPT_RT too) that records [`reads`] in its callback.
    #[pin_data]
    struct InHardirq {
        #[pin]
        timer: HrTimer<Self>,
        seen: core::sync::atomic::AtomicU8,
    }

    impl_has_hr_timer! {
        impl HasHrTimer<Self> for InHardirq {
            mode: RelativeHardMode<Monotonic>,
            field: self.timer
        }
    }

    impl HrTimerCallback for InHardirq {
        type Pointer<'a> = Arc<Self>;

        fn run(
            this: ArcBorrow<'_, Self>,
            _ctx: HrTimerCallbackContext<'_, Self>,
        ) -> HrTimerRestart {
            this.seen
                .store(reads(), core::sync::atomic::Ordering::Release);
            HrTimerRestart::NoRestart
        }
    }

    /// The inline reads give what C's give, in process context, with interrupts off, in a BH
    /// section and in hard-irq; the inline `local_bh_disable()` adds what C's adds.
    #[test]
    fn bh_disable_refused_with_irqs_off() {
        let irqs_off = local_interrupt_disable();
        assert!(local_bh_disable().is_err());
        drop(irqs_off);
        assert!(local_bh_disable().is_ok());
    }

    #[test]
    fn inline_context_matches_the_c_helpers() -> Result {
        assert_eq!(reads(), 0x80);
        {
            let _irqs = local_interrupt_disable();
            assert_eq!(reads(), 0x80 | 0b1100);
        }
        #[cfg(all(CONFIG_X86_64, not(CONFIG_UML), CONFIG_SMP, not(CONFIG_PREEMPT_RT)))]
        let before = raw::preempt_count();
        {
            let _bh = local_bh_disable()?;
            assert_eq!(reads(), 0x80);
            // Off PREEMPT_RT a BH section is SOFTIRQ_DISABLE_OFFSET in the preempt count
            // (PREEMPT_RT counts it in the task).
            #[cfg(all(CONFIG_X86_64, not(CONFIG_UML), CONFIG_SMP, not(CONFIG_PREEMPT_RT)))]
            assert_eq!(
                raw::preempt_count().wrapping_sub(before),
                bindings::SOFTIRQ_DISABLE_OFFSET
            );
        }
        #[cfg(all(CONFIG_X86_64, not(CONFIG_UML), CONFIG_SMP, not(CONFIG_PREEMPT_RT)))]
        assert_eq!(raw::preempt_count(), before);
        let timer = Arc::pin_init(
            pin_init!(InHardirq {
                timer <- HrTimer::new(),
                seen: core::sync::atomic::AtomicU8::new(0),
            }),
            GFP_KERNEL,
        )?;
        let _handle = timer.clone().start(Delta::from_micros(10));
        for _ in 0..1000 {
            if timer.seen.load(core::sync::atomic::Ordering::Acquire) != 0 {
                break;
            }
            fsleep(Delta::from_millis(1));
        }
        assert_eq!(
            timer.seen.load(core::sync::atomic::Ordering::Acquire),
            0x80 | 0b1111
        );
        Ok(())
    }
}
