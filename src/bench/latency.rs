// SPDX-License-Identifier: GPL-2.0

//! Lateness of a periodic HARD-mode hrtimer, per CPU, in the manner of cyclictest: how long
//! after its expiry time the callback starts, in hard-irq, on PREEMPT_RT too.

use core::sync::atomic::{AtomicU64, Ordering::Relaxed};
use kernel::{
    cpu::CpuId,
    impl_has_hr_timer,
    prelude::*,
    sync::{Arc, ArcBorrow},
    time::{
        delay::fsleep,
        hrtimer::{
            HrTimer, HrTimerCallback, HrTimerCallbackContext, HrTimerRestart,
            RelativePinnedHardMode,
        },
        Delta, Instant, Monotonic,
    },
};

use crate::services::{cpus::online_cpus, on_cpu::start_pinned};

/// Upper bounds of the histogram's buckets, in microseconds; a last bucket takes the rest.
const BUCKETS_US: [u64; 8] = [5, 10, 20, 50, 100, 200, 500, 1000];

/// One CPU's timer and what its callbacks measured.
#[pin_data]
pub(crate) struct LatencyTimer {
    #[pin]
    timer: HrTimer<Self>,
    interval: Delta,
    samples: AtomicU64,
    sum_ns: AtomicU64,
    min_ns: AtomicU64,
    max_ns: AtomicU64,
    histogram: [AtomicU64; BUCKETS_US.len() + 1],
}

impl_has_hr_timer! {
    impl HasHrTimer<Self> for LatencyTimer {
        mode: RelativePinnedHardMode<Monotonic>,
        field: self.timer
    }
}

impl LatencyTimer {
    fn new(interval: Delta) -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(Self {
                timer <- HrTimer::new(),
                interval,
                samples: AtomicU64::new(0),
                sum_ns: AtomicU64::new(0),
                min_ns: AtomicU64::new(u64::MAX),
                max_ns: AtomicU64::new(0),
                histogram: [const { AtomicU64::new(0) }; BUCKETS_US.len() + 1],
            }),
            GFP_KERNEL,
        )
    }

    /// Records one callback that started `late_ns` after its expiry time. Only this CPU's
    /// callback writes, so plain loads and stores suffice.
    fn record(&self, late_ns: u64) {
        self.samples.store(self.samples.load(Relaxed) + 1, Relaxed);
        self.sum_ns
            .store(self.sum_ns.load(Relaxed) + late_ns, Relaxed);
        if late_ns < self.min_ns.load(Relaxed) {
            self.min_ns.store(late_ns, Relaxed);
        }
        if late_ns > self.max_ns.load(Relaxed) {
            self.max_ns.store(late_ns, Relaxed);
        }
        let bucket = BUCKETS_US
            .iter()
            .position(|&us| late_ns < us * 1000)
            .unwrap_or(BUCKETS_US.len());
        self.histogram[bucket].fetch_add(1, Relaxed);
    }

    /// Prints this CPU's figures; true if there are any and they are consistent.
    fn report(&self, cpu: CpuId) -> bool {
        let samples = self.samples.load(Relaxed);
        let (min, max) = (self.min_ns.load(Relaxed), self.max_ns.load(Relaxed));
        let avg = self.sum_ns.load(Relaxed) / samples.max(1);
        let mut counts = [0u64; BUCKETS_US.len() + 1];
        for (count, bucket) in counts.iter_mut().zip(&self.histogram) {
            *count = bucket.load(Relaxed);
        }
        pr_info!(
            "bench: latency cpu={} samples={} min_ns={} avg_ns={} max_ns={} hist_us=<5:{},<10:{},<20:{},<50:{},<100:{},<200:{},<500:{},<1000:{},>=1000:{}\n",
            cpu.as_u32(),
            samples,
            min,
            avg,
            max,
            counts[0],
            counts[1],
            counts[2],
            counts[3],
            counts[4],
            counts[5],
            counts[6],
            counts[7],
            counts[8],
        );
        // A lateness of 0 ns is possible in principle but means a clock that did not move.
        samples > 0 && min > 0 && min <= avg && avg <= max && counts.iter().sum::<u64>() == samples
    }
}

impl HrTimerCallback for LatencyTimer {
    type Pointer<'a> = Arc<Self>;

    fn run(this: ArcBorrow<'_, Self>, mut ctx: HrTimerCallbackContext<'_, Self>) -> HrTimerRestart {
        let late = Instant::<Monotonic>::now() - this.timer.expires();
        this.record(u64::try_from(late.as_nanos()).unwrap_or(0));
        ctx.forward_now(this.interval);
        HrTimerRestart::Restart
    }
}

/// Runs a timer of period `interval` on every online CPU for `duration`, then prints each
/// CPU's lateness. Returns whether every CPU's figures are sane.
// Not inlined into `super::run()`, which calls the benchmarks one after the other: their locals then
// take stack only while each runs (the kernel's `noinline_for_stack`).
#[inline(never)]
pub(crate) fn run(interval: Delta, duration: Delta) -> Result<bool> {
    let cpus = online_cpus()?;
    let mut timers = KVec::with_capacity(cpus.len(), GFP_KERNEL)?;
    let mut handles = KVec::with_capacity(cpus.len(), GFP_KERNEL)?;
    for &cpu in cpus.iter() {
        let timer = LatencyTimer::new(interval)?;
        handles.push(start_pinned(cpu, timer.clone(), interval)?, GFP_KERNEL)?;
        timers.push(timer, GFP_KERNEL)?;
    }
    fsleep(duration);
    // Dropping a handle cancels its timer and waits for a running callback.
    drop(handles);
    let mut sane = true;
    for (timer, &cpu) in timers.iter().zip(cpus.iter()) {
        sane &= timer.report(cpu);
    }
    Ok(sane)
}
