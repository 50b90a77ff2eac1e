// SPDX-License-Identifier: GPL-2.0

//! The hard-irq side: a HARD-mode hrtimer per CPU, pinned, that checks lockdep's release path
//! in hard-irq and plays the device interrupt for the NAPI consumer.
//!
//! HARD mode keeps the callback in hard-irq on PREEMPT_RT too, where other hrtimers run in
//! softirq. There, on every tick, it:
//!
//! - checks that it runs in hard-irq with interrupts disabled, by the CPU's flag and by
//!   lockdep's shadow of it, on the CPU it was started on;
//! - takes a raw spinlock and a private `lockdep_map`, and after each `lock_release()` checks
//!   both views of the interrupt flag again: the release path must not restore interrupts in
//!   hard-irq (the LKML thread "skip irq save/restore in hardirq context");
//! - arms the IRQ-window detector: it marks itself running and queues a HARD `irq_work` on
//!   this CPU. That work can only run once interrupts are enabled; if it finds the mark set,
//!   they were enabled inside the callback;
//! - schedules this CPU's NAPI poll with a batch of items.

use core::sync::atomic::{AtomicBool, Ordering::Relaxed};
use kernel::{
    bindings, container_of,
    cpu::CpuId,
    impl_has_hr_timer,
    prelude::*,
    static_lock_class,
    sync::{Arc, ArcBorrow},
    time::{
        hrtimer::{
            HrTimer, HrTimerCallback, HrTimerCallbackContext, HrTimerRestart,
            RelativePinnedHardMode,
        },
        Delta, Instant, Monotonic,
    },
    types::Opaque,
};

use super::{
    core_state::Core,
    napi::NapiConsumer,
    ops::HardRelease,
    plan::Plan,
    stats::{Context, Event, Violation},
};
use crate::services::{health, shim};

/// How long the negative control keeps interrupts enabled at most, waiting for the detector.
const IRQ_WINDOW: Delta = Delta::from_micros(200);

/// Whether lockdep's shadow of the interrupt flag says "on". Only while lockdep is on: once it
/// has turned itself off it stops tracking, and the shadow goes stale.
fn lockdep_says_irqs_on() -> bool {
    health::debug_locks() && shim::bhlock_lockdep_irqs_enabled()
}

/// One CPU's hard-irq timer and what its callback works with.
#[pin_data(PinnedDrop)]
pub(crate) struct HardTick {
    #[pin]
    timer: HrTimer<Self>,
    #[pin]
    detector: Opaque<bindings::irq_work>,
    #[pin]
    raw_lock: Opaque<bindings::raw_spinlock>,
    #[pin]
    map: Opaque<bindings::lockdep_map>,
    /// Set for the whole callback; the detector's work must never see it.
    in_callback: AtomicBool,
    cpu: CpuId,
    interval: Delta,
    napi: Arc<NapiConsumer>,
    core: Arc<Core>,
    plan: Plan,
}

// SAFETY: The C objects are only used through their kernel APIs, which are safe from any CPU
// and context they are used in here (irq_work, raw spinlock, lockdep map); the rest is atomics
// and `Arc`s of `Sync` types.
unsafe impl Send for HardTick {}
// SAFETY: As above.
unsafe impl Sync for HardTick {}

impl_has_hr_timer! {
    impl HasHrTimer<Self> for HardTick {
        mode: RelativePinnedHardMode<Monotonic>,
        field: self.timer
    }
}

impl HardTick {
    /// The timer, detector, raw spinlock and lockdep map of `cpu`.
    /// The callback schedules NAPI if `plan` runs it, and releases as its ops entry says.
    pub(crate) fn new(
        cpu: CpuId,
        core: &Arc<Core>,
        plan: Plan,
        napi: &Arc<NapiConsumer>,
    ) -> Result<Arc<Self>> {
        let interval = Delta::from_micros(i64::from(core.params.interval_us));
        Arc::pin_init(
            pin_init!(Self {
                timer <- HrTimer::new(),
                // SAFETY: `slot` is valid for writes and nothing can queue it yet.
                detector <- Opaque::ffi_init(|slot| unsafe {
                    shim::bhlock_irq_work_init_hard(slot, detector_fired)
                }),
                // SAFETY: `slot` is valid for writes and not in use yet; the name and the key
                // are static.
                raw_lock <- Opaque::ffi_init(|slot| unsafe {
                    shim::bhlock_raw_spin_lock_init(
                        slot,
                        c"bhlock_hardirq_raw_lock".as_char_ptr(),
                        static_lock_class!().as_ptr(),
                    )
                }),
                // SAFETY: `slot` is valid for writes; the name and the key are static.
                map <- Opaque::ffi_init(|slot| unsafe {
                    shim::bhlock_lock_map_init(
                        slot,
                        c"bhlock_hardirq_map".as_char_ptr(),
                        static_lock_class!().as_ptr(),
                    )
                }),
                in_callback: AtomicBool::new(false),
                cpu,
                interval,
                napi: napi.clone(),
                core: core.clone(),
                plan,
            }),
            GFP_KERNEL,
        )
    }

    /// The interval the timer re-arms at.
    pub(crate) fn interval(&self) -> Delta {
        self.interval
    }

    /// Counts a violation if interrupts are on by either view, right after `lock_release()`.
    fn check_irqs_off_after_release(&self) {
        let stats = &self.core.stats;
        stats.event(Event::HardReleasesChecked, 1);
        if !shim::bhlock_irqs_disabled() {
            stats.violation(Context::HardIrq, Violation::IrqsOnAfterRelease);
        }
        if lockdep_says_irqs_on() {
            stats.violation(Context::HardIrq, Violation::LockdepIrqsOnAfterRelease);
        }
    }

    /// The negative control: enable interrupts until the detector has fired or
    /// [`IRQ_WINDOW`] has passed, then disable them again.
    fn open_irq_window(&self) {
        let stats = &self.core.stats;
        let before = stats.violation_count(Violation::IrqWindow);
        let start = Instant::<Monotonic>::now();
        // SAFETY: Deliberately wrong, on request only; closed again below before returning.
        unsafe { shim::bhlock_local_irq_enable() };
        while stats.violation_count(Violation::IrqWindow) == before && start.elapsed() < IRQ_WINDOW
        {
            core::hint::spin_loop();
        }
        // SAFETY: Closes the window opened above.
        unsafe { shim::bhlock_local_irq_disable() };
    }

    /// The body of the callback.
    fn tick(&self) {
        let stats = &self.core.stats;
        self.in_callback.store(true, Relaxed);
        // SAFETY: `detector` is initialised and lives as long as `self`; `drop` syncs it.
        unsafe { bindings::irq_work_queue(self.detector.get()) };

        if shim::bhlock_in_hardirq() {
            stats.event(Event::HardInHardirq, 1);
        } else {
            stats.violation(Context::HardIrq, Violation::NotInHardirq);
        }
        if !shim::bhlock_irqs_disabled() {
            stats.violation(Context::HardIrq, Violation::IrqsOnAtEntry);
        }
        if CpuId::current() != self.cpu {
            stats.violation(Context::HardIrq, Violation::OffItsCpu);
        }
        if lockdep_says_irqs_on() {
            stats.violation(Context::HardIrq, Violation::LockdepIrqsOnAtEntry);
        }

        // SAFETY: The lock is initialised, private to this CPU's callback, and interrupts are
        // disabled; it is released below in LIFO order with the map.
        unsafe { shim::bhlock_raw_spin_lock(self.raw_lock.get()) };
        // SAFETY: The map is initialised and released just below, in this context.
        unsafe { shim::bhlock_lock_map_acquire(self.map.get()) };
        // SAFETY: Acquired just above.
        unsafe { shim::bhlock_lock_map_release(self.map.get()) };
        self.check_irqs_off_after_release();
        let release = self.plan.ops.hard_release;
        if release == HardRelease::UnlockIrq {
            // SAFETY: Taken above. Deliberately wrong, on request only: this release enables
            // interrupts, which the check must see; they are disabled again right after it.
            unsafe { shim::bhlock_raw_spin_unlock_irq(self.raw_lock.get()) };
            self.check_irqs_off_after_release();
            // SAFETY: Closes the window the release opened.
            unsafe { shim::bhlock_local_irq_disable() };
        } else {
            // SAFETY: Taken above.
            unsafe { shim::bhlock_raw_spin_unlock(self.raw_lock.get()) };
            self.check_irqs_off_after_release();
        }

        if release == HardRelease::ThenIrqWindow {
            self.open_irq_window();
        }

        if self.plan.runs(Context::Napi) {
            self.napi
                .schedule(self.cpu, self.core.params.napi_budget * 3 / 2 + 1);
        }
        stats.op(Context::HardIrq);
        self.in_callback.store(false, Relaxed);
    }
}

impl HrTimerCallback for HardTick {
    type Pointer<'a> = Arc<Self>;

    fn run(this: ArcBorrow<'_, Self>, mut ctx: HrTimerCallbackContext<'_, Self>) -> HrTimerRestart {
        this.tick();
        ctx.forward_now(this.interval);
        HrTimerRestart::Restart
    }
}

#[pinned_drop]
impl PinnedDrop for HardTick {
    fn drop(self: Pin<&mut Self>) {
        // The timer is cancelled (its handle held a reference), but its last tick may have
        // queued the detector.
        // SAFETY: `detector` is initialised; this is process context.
        unsafe { bindings::irq_work_sync(self.detector.get()) };
    }
}

/// The detector's irq_work: runs in hard-irq as soon as interrupts are enabled after the
/// callback queued it.
///
/// # Safety
///
/// Only called by the irq_work core, for the `detector` of a live [`HardTick`].
unsafe extern "C" fn detector_fired(work: *mut bindings::irq_work) {
    // SAFETY: `work` is the `detector` field of a `HardTick`, which `drop` keeps alive until
    // this has run; `Opaque<T>` has the layout of `T`.
    let tick = unsafe {
        &*container_of!(
            work.cast::<Opaque<bindings::irq_work>>(),
            HardTick,
            detector
        )
    };
    let stats = &tick.core.stats;
    stats.event(Event::DetectorRuns, 1);
    if tick.in_callback.load(Relaxed) {
        stats.violation(Context::HardIrq, Violation::IrqWindow);
    }
}
