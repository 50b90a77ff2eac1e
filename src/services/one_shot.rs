// SPDX-License-Identifier: GPL-2.0

//! Running a function once in a given interrupt context, softirq or hard-irq, through a
//! one-shot hrtimer of that mode on the local CPU, and waiting for it.

use core::marker::PhantomData;
use kernel::{
    impl_has_hr_timer,
    prelude::*,
    sync::{Arc, ArcBorrow, Completion},
    time::{
        hrtimer::{
            HasHrTimer, HrTimer, HrTimerCallback, HrTimerCallbackContext, HrTimerPointer,
            HrTimerRestart, RelativeHardMode, RelativeSoftMode,
        },
        Delta, Monotonic,
    },
};

/// How soon the timer fires.
const DELAY: Delta = Delta::from_micros(100);

/// A one-shot hrtimer in mode `M` that calls `job(data)` from its callback.
#[pin_data]
pub(crate) struct OneShot<M, T: Send + Sync + 'static> {
    #[pin]
    timer: HrTimer<Self>,
    #[pin]
    done: Completion,
    data: Arc<T>,
    job: fn(&T),
    _mode: PhantomData<M>,
}

/// The job runs in HRTIMER_SOFTIRQ, with BH disabled.
pub(crate) type SoftOneShot<T> = OneShot<RelativeSoftMode<Monotonic>, T>;
/// The job runs in hard-irq, on PREEMPT_RT too.
pub(crate) type HardOneShot<T> = OneShot<RelativeHardMode<Monotonic>, T>;

impl_has_hr_timer! {
    impl{T: Send + Sync + 'static} HasHrTimer<Self> for SoftOneShot<T> {
        mode: RelativeSoftMode<Monotonic>,
        field: self.timer
    }
}

impl_has_hr_timer! {
    impl{T: Send + Sync + 'static} HasHrTimer<Self> for HardOneShot<T> {
        mode: RelativeHardMode<Monotonic>,
        field: self.timer
    }
}

impl<M: Send + Sync + 'static, T: Send + Sync + 'static> HrTimerCallback for OneShot<M, T>
where
    Self: HasHrTimer<Self>,
{
    type Pointer<'a> = Arc<Self>;

    fn run(this: ArcBorrow<'_, Self>, _ctx: HrTimerCallbackContext<'_, Self>) -> HrTimerRestart {
        (this.job)(&this.data);
        this.done.complete_all();
        HrTimerRestart::NoRestart
    }
}

impl<M: Send + Sync + 'static, T: Send + Sync + 'static> OneShot<M, T>
where
    Self: HasHrTimer<Self, TimerMode: kernel::time::hrtimer::HrTimerMode<Expires = Delta>>,
{
    /// Calls `job(data)` once from the timer's callback, and returns when it has.
    pub(crate) fn run(data: &Arc<T>, job: fn(&T)) -> Result {
        let this = Arc::pin_init(
            pin_init!(Self {
                timer <- HrTimer::new(),
                done <- Completion::new(),
                data: data.clone(),
                job,
                _mode: PhantomData,
            }),
            GFP_KERNEL,
        )?;
        let handle = this.clone().start(DELAY);
        this.done.wait_for_completion();
        drop(handle);
        Ok(())
    }
}
