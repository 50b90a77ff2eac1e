// SPDX-License-Identifier: GPL-2.0

//! The softirq side besides NAPI: a SOFT-mode hrtimer per CPU, pinned, whose callback runs in
//! softirq (HRTIMER_SOFTIRQ) and takes the nested-BH guard with its softirq token.

use kernel::{
    cpu::CpuId,
    impl_has_hr_timer,
    prelude::*,
    sync::{Arc, ArcBorrow},
    time::{
        hrtimer::{
            HrTimer, HrTimerCallback, HrTimerCallbackContext, HrTimerRestart,
            RelativePinnedSoftMode,
        },
        Delta, Monotonic,
    },
};

use super::{
    core_state::Core,
    ops::Ops,
    stats::{Context, Event, Violation},
};
use crate::{services::shim, sync::bh::LocalBhDisabled};

/// Buffers one soft-timer callback sends round.
const ITEMS_PER_TICK: usize = 8;

/// One CPU's soft-mode timer.
#[pin_data]
pub(crate) struct SoftTick {
    #[pin]
    timer: HrTimer<Self>,
    cpu: CpuId,
    interval: Delta,
    core: Arc<Core>,
    ops: &'static Ops,
}

impl_has_hr_timer! {
    impl HasHrTimer<Self> for SoftTick {
        mode: RelativePinnedSoftMode<Monotonic>,
        field: self.timer
    }
}

impl SoftTick {
    /// The soft timer of `cpu`, whose callback works as `ops` says.
    pub(crate) fn new(cpu: CpuId, core: &Arc<Core>, ops: &'static Ops) -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(Self {
                timer <- HrTimer::new(),
                cpu,
                interval: Delta::from_micros(i64::from(core.params.interval_us)),
                core: core.clone(),
                ops,
            }),
            GFP_KERNEL,
        )
    }

    /// The interval the timer re-arms at.
    pub(crate) fn interval(&self) -> Delta {
        self.interval
    }

    fn tick(&self) {
        let stats = &self.core.stats;
        if shim::bhlock_in_serving_softirq() {
            stats.event(Event::SoftInSoftirq, 1);
        } else {
            stats.violation(Context::SoftTimer, Violation::NotInSoftirq);
            return;
        }
        if CpuId::current() != self.cpu {
            stats.violation(Context::SoftTimer, Violation::OffItsCpu);
        }
        // SAFETY: A SOFT hrtimer callback runs in HRTIMER_SOFTIRQ (checked just above), so BH
        // stays disabled until it returns, and it is not hard-irq.
        let bh: &LocalBhDisabled = unsafe { LocalBhDisabled::assume_disabled() };
        self.ops.round(
            &self.core,
            Context::SoftTimer,
            bh,
            ITEMS_PER_TICK,
            0x5000_0000 | self.cpu.as_u32(),
        );
    }
}

impl HrTimerCallback for SoftTick {
    type Pointer<'a> = Arc<Self>;

    fn run(this: ArcBorrow<'_, Self>, mut ctx: HrTimerCallbackContext<'_, Self>) -> HrTimerRestart {
        this.tick();
        ctx.forward_now(this.interval);
        HrTimerRestart::Restart
    }
}
