// SPDX-License-Identifier: GPL-2.0

//! Run a splat case's action once in a given context, softirq or hard-irq, through a one-shot
//! hrtimer of that mode on the local CPU, and wait for it.

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

use crate::splat::SplatLocks;

/// How soon the timer fires.
const DELAY: Delta = Delta::from_micros(100);

/// A one-shot hrtimer in mode `M` that calls `job(data)` from its callback.
#[pin_data]
pub(crate) struct OneShot<M> {
    #[pin]
    timer: HrTimer<Self>,
    #[pin]
    done: Completion,
    data: Arc<SplatLocks>,
    job: fn(&SplatLocks),
    _mode: PhantomData<M>,
}

/// The job runs in HRTIMER_SOFTIRQ, with BH disabled.
pub(crate) type SoftOneShot = OneShot<RelativeSoftMode<Monotonic>>;
/// The job runs in hard-irq, on PREEMPT_RT too.
pub(crate) type HardOneShot = OneShot<RelativeHardMode<Monotonic>>;

impl_has_hr_timer! {
    impl HasHrTimer<Self> for SoftOneShot {
        mode: RelativeSoftMode<Monotonic>,
        field: self.timer
    }
}

impl_has_hr_timer! {
    impl HasHrTimer<Self> for HardOneShot {
        mode: RelativeHardMode<Monotonic>,
        field: self.timer
    }
}

impl<M: Send + Sync + 'static> HrTimerCallback for OneShot<M>
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

impl<M: Send + Sync + 'static> OneShot<M>
where
    Self: HasHrTimer<Self, TimerMode: kernel::time::hrtimer::HrTimerMode<Expires = Delta>>,
{
    /// Calls `job(data)` once from the timer's callback, and returns when it has.
    pub(crate) fn run(data: &Arc<SplatLocks>, job: fn(&SplatLocks)) -> Result {
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
