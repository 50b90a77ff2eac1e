// SPDX-License-Identifier: GPL-2.0

//! The benchmarks (`bench=1`): the Rust guard and consumer timed against their C references
//! in `c_ref.c`, interleaved in one boot, and the lateness of a hard-irq hrtimer.
//!
//! Every figure is printed as a `bench:` line of `key=value` pairs that `scripts/bench.sh`
//! turns into a table. A benchmark is not a test: the only verdict is whether every figure
//! exists, is positive, and comes from work that was really done (the counters add up).

use core::{cell::Cell, fmt, ptr::NonNull};
use kernel::{
    cpu::CpuId,
    ffi::c_int,
    prelude::*,
    static_lock_class,
    sync::Arc,
    time::{delay::fsleep, Delta, Instant, Monotonic},
};

mod c_ref;
mod latency;

use self::c_ref::{self as c, RefCounter, RefNapi};
use crate::{
    new_local_lock_nested_bh,
    services::{cpus::online_cpus, netdev as sys},
    sync::bh::{local_bh_disable, LocalBhDisabled},
    sync::local_lock_nested_bh::LocalLockNestedBh,
    torture::{core_state::Core, napi::NapiConsumer, ops, params::Params, stats::Event},
};

/// Repetitions of every measurement; the Rust and C runs of one repetition are adjacent, and
/// which goes first alternates.
const REPS: usize = 15;

/// NAPI budget of the throughput benchmark: `NAPI_POLL_WEIGHT`, what most drivers use.
const NAPI_BUDGET: u32 = 64;

/// How long the throughput benchmark waits for its last poll.
const DRAIN_TIMEOUT: Delta = Delta::from_secs(5);

/// One measurement of the Rust code and of the C reference per repetition, in nanoseconds.
struct Pairs {
    rust: [i64; REPS],
    c: [i64; REPS],
}

/// The median of `v`, which it sorts (by insertion: fifteen values, and no panic path).
fn median(v: &mut [i64; REPS]) -> i64 {
    for i in 1..REPS {
        let mut j = i;
        while j > 0 && v[j - 1] > v[j] {
            v.swap(j - 1, j);
            j -= 1;
        }
    }
    v[REPS / 2]
}

/// A fixed-point figure in units of 10^-`DIGITS`, printed with `DIGITS` decimals: one argument
/// of a report line instead of two (each costs stack in the caller's frame).
struct Fixed<const DIGITS: u32>(i64);

// The kernel's `pr_info!` formats through `kernel::fmt::Display`.
impl<const DIGITS: u32> kernel::fmt::Display for Fixed<DIGITS> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scale = 10i64.pow(DIGITS);
        write!(
            f,
            "{}.{:0width$}",
            self.0 / scale,
            (self.0 % scale).abs(),
            width = DIGITS as usize
        )
    }
}

/// `a / b` in thousandths, or 0 if `b` is 0.
fn milli(a: i64, b: i64) -> i64 {
    a.saturating_mul(1000).checked_div(b).unwrap_or(0)
}

// The benchmarks call these one after the other; not inlined, the arrays of each take stack
// only while it runs (the kernel's `noinline_for_stack`).
impl Pairs {
    /// Runs `rust` and `c` `REPS` times each, interleaved; each returns its elapsed time.
    #[inline(never)]
    fn measure(
        mut rust: impl FnMut() -> Result<i64>,
        mut c: impl FnMut() -> Result<i64>,
    ) -> Result<Self> {
        let mut this = Self {
            rust: [0; REPS],
            c: [0; REPS],
        };
        for rep in 0..REPS {
            if rep % 2 == 0 {
                this.rust[rep] = rust()?;
                this.c[rep] = c()?;
            } else {
                this.c[rep] = c()?;
                this.rust[rep] = rust()?;
            }
        }
        Ok(this)
    }

    /// Whether every measurement took time.
    fn positive(&self) -> bool {
        self.rust.iter().all(|&ns| ns > 0) && self.c.iter().all(|&ns| ns > 0)
    }

    /// Median, smallest and largest per-repetition ratio Rust/C of `f(ns)`, in thousandths.
    #[inline(never)]
    fn ratios(&self, f: impl Fn(i64) -> i64) -> [i64; 3] {
        let mut r = [0i64; REPS];
        for (i, ratio) in r.iter_mut().enumerate() {
            *ratio = milli(f(self.rust[i]), f(self.c[i]));
        }
        let med = median(&mut r);
        [med, r[0], r[REPS - 1]]
    }

    /// Median over the repetitions of `f(ns)`, for Rust and for C.
    #[inline(never)]
    fn medians(&self, f: impl Fn(i64) -> i64) -> [i64; 2] {
        let (mut rust, mut c) = (self.rust.map(&f), self.c.map(&f));
        [median(&mut rust), median(&mut c)]
    }
}

/// Nanoseconds `f` takes.
fn timed(f: impl FnOnce() -> Result) -> Result<i64> {
    let start = Instant::<Monotonic>::now();
    f()?;
    Ok(start.elapsed().as_nanos())
}

/// The Rust fast path, compared with `bhlock_ref_lock_touch_unlock()` in time and, by
/// `scripts/bench.sh`, instruction by instruction.
#[inline(never)]
fn lock_touch_unlock(lock: &LocalLockNestedBh<u64>, bh: &LocalBhDisabled) {
    if let Some(mut count) = lock.lock(bh) {
        *count = count.wrapping_add(1);
    }
}

/// `n` times [`lock_touch_unlock`] in one BH-disabled section.
#[inline(never)]
fn loop_one_bh(lock: &LocalLockNestedBh<u64>, n: u32) -> Result {
    let bh = local_bh_disable()?;
    for _ in 0..n {
        lock_touch_unlock(lock, &bh);
    }
    Ok(())
}

/// `n` BH-disabled sections of one [`lock_touch_unlock`] each.
#[inline(never)]
fn loop_each_bh(lock: &LocalLockNestedBh<u64>, n: u32) -> Result {
    for _ in 0..n {
        let bh = local_bh_disable()?;
        lock_touch_unlock(lock, &bh);
    }
    Ok(())
}

/// The C reference's per-CPU counters.
struct CCounter(NonNull<RefCounter>);

impl CCounter {
    fn new() -> Result<Self> {
        // SAFETY: Process context; the name and the key are static; freed by `drop`.
        let c = unsafe {
            c::bhlock_ref_counter_alloc(
                c"bhlock_bench_c_lock".as_char_ptr(),
                static_lock_class!().as_ptr(),
            )
        };
        Ok(Self(NonNull::new(c).ok_or(ENOMEM)?))
    }
}

impl Drop for CCounter {
    fn drop(&mut self) {
        // SAFETY: Allocated by `new`, and no loop runs on it any more.
        unsafe { c::bhlock_ref_counter_free(self.0.as_ptr()) };
    }
}

/// Prints the figures of one lock benchmark and says whether they are sane.
#[inline(never)]
fn report_lock(name: &str, p: &Pairs, loops: u32, done_rust: u64, done_c: u64) -> bool {
    let per_op = |ns: i64| {
        ns.saturating_mul(100)
            .checked_div(i64::from(loops))
            .unwrap_or(0)
    };
    let [rust, c] = p.medians(per_op);
    let [ratio, min, max] = p.ratios(|ns| ns);
    let expected = (REPS as u64) * u64::from(loops);
    pr_info!(
        "bench: {} rust_ns_per_op={} c_ns_per_op={} ratio={} ratio_min={} ratio_max={} reps={} loops={} ops_rust={} ops_c={}\n",
        name,
        Fixed::<2>(rust),
        Fixed::<2>(c),
        Fixed::<3>(ratio),
        Fixed::<3>(min),
        Fixed::<3>(max),
        REPS,
        loops,
        done_rust,
        done_c,
    );
    p.positive() && rust > 0 && c > 0 && done_rust == expected && done_c == expected
}

/// The lock/unlock benchmarks: one BH section around all iterations, and one per iteration.
// Not inlined into `run()`, which calls the benchmarks one after the other: their locals then
// take stack only while each runs (the kernel's `noinline_for_stack`).
#[inline(never)]
fn bench_lock(loops: u32) -> Result<bool> {
    let mut rust = new_local_lock_nested_bh!(|_cpu| Ok(0u64), "bhlock_bench_rust_lock")?;
    let c = CCounter::new()?;
    let mut sane = true;
    type Loop = (
        &'static str,
        fn(&LocalLockNestedBh<u64>, u32) -> Result,
        unsafe extern "C" fn(*mut RefCounter, u32),
    );
    let loops_of: [Loop; 2] = [
        ("lock_one_bh", loop_one_bh, c::bhlock_ref_loop_one_bh),
        ("lock_each_bh", loop_each_bh, c::bhlock_ref_loop_each_bh),
    ];
    for (name, rust_loop, c_loop) in loops_of {
        let before_rust = sum(&mut rust);
        // SAFETY: Live until `c` is dropped; no loop runs now.
        let before_c = unsafe { c::bhlock_ref_counter_sum(c.0.as_ptr()) };
        let pairs = Pairs::measure(
            || timed(|| rust_loop(&rust, loops)),
            // SAFETY: `c` is live; process context with interrupts on.
            || timed(|| Ok(unsafe { c_loop(c.0.as_ptr(), loops) })),
        )?;
        let done_rust = sum(&mut rust) - before_rust;
        // SAFETY: As above.
        let done_c = unsafe { c::bhlock_ref_counter_sum(c.0.as_ptr()) } - before_c;
        sane &= report_lock(name, &pairs, loops, done_rust, done_c);
    }
    Ok(sane)
}

/// The sum of every CPU's counter.
fn sum(lock: &mut LocalLockNestedBh<u64>) -> u64 {
    let mut total = 0;
    lock.for_each_cpu_mut(|_, count| total += *count);
    total
}

/// A poll of the C reference, as the NAPI core calls it.
type RefPoll = unsafe extern "C" fn(*mut kernel::bindings::napi_struct, c_int) -> c_int;

/// A C reference consumer on a NAPI context of its own.
///
/// # Invariants
///
/// `dev` is a live dummy device, `napi` a live, enabled NAPI context on it whose poll is
/// `bhlock_ref_napi_poll()` or `bhlock_ref_napi_poll_empty()` and whose owner is the live `r`.
struct CConsumer {
    dev: NonNull<kernel::bindings::net_device>,
    napi: NonNull<kernel::bindings::napi_struct>,
    r: NonNull<RefNapi>,
}

impl CConsumer {
    /// A consumer polled by `poll`, one of `c_ref.c`'s.
    fn new(poll: RefPoll) -> Result<Self> {
        // SAFETY: Process context; the name and the key are static; freed below or by `drop`.
        let r = unsafe {
            c::bhlock_ref_napi_alloc(
                c"bhlock_bench_c_cache".as_char_ptr(),
                static_lock_class!().as_ptr(),
            )
        };
        let r = NonNull::new(r).ok_or(ENOMEM)?;
        // SAFETY: Process context; freed below or by `drop`.
        let Some(dev) = NonNull::new(unsafe { sys::alloc_netdev_dummy(0) }) else {
            // SAFETY: Allocated above, no NAPI context polls for it.
            unsafe { c::bhlock_ref_napi_free(r.as_ptr()) };
            return Err(ENOMEM);
        };
        // SAFETY: `dev` is live; the context is deleted before `r` and `dev` are freed.
        let napi = unsafe {
            sys::bhlock_napi_add(dev.as_ptr(), poll, NAPI_BUDGET as i32, r.as_ptr().cast())
        };
        let Some(napi) = NonNull::new(napi) else {
            // SAFETY: Both allocated above, and nothing uses them.
            unsafe {
                sys::free_netdev(dev.as_ptr());
                c::bhlock_ref_napi_free(r.as_ptr());
            }
            return Err(ENOMEM);
        };
        // SAFETY: A fresh, disabled context.
        unsafe { sys::napi_enable(napi.as_ptr()) };
        // INVARIANT: All three are live and the context is enabled.
        Ok(Self { dev, napi, r })
    }
}

impl Drop for CConsumer {
    fn drop(&mut self) {
        // SAFETY: Live and enabled (type invariant); disabled, deleted and freed once, in the
        // order the NAPI core needs, and the poll's owner `r` goes last.
        unsafe {
            sys::napi_disable(self.napi.as_ptr());
            sys::bhlock_napi_del(self.napi.as_ptr());
            sys::free_netdev(self.dev.as_ptr());
            c::bhlock_ref_napi_free(self.r.as_ptr());
        }
    }
}

/// Waits until `polled()` reaches `target`; the last polls may have gone to ksoftirqd. Counts
/// each wait in `waits`: in the `-icount` boot a wait is idle time that the clock counts as
/// instructions (`scripts/bench.sh` refuses its figures then).
fn drain(polled: impl Fn() -> u64, target: u64, waits: &Cell<u32>) -> Result {
    let start = Instant::<Monotonic>::now();
    while polled() < target {
        if start.elapsed() > DRAIN_TIMEOUT {
            pr_err!("bench: napi: {} of {} items polled\n", polled(), target);
            return Err(ETIMEDOUT);
        }
        waits.set(waits.get().saturating_add(1));
        fsleep(Delta::from_micros(100));
    }
    Ok(())
}

/// Queues a budget of items and schedules `consumer`'s poll `kicks` times, each with BH
/// disabled so that `local_bh_enable()` runs the poll; returns the nanoseconds until every item
/// was polled.
fn kick_c(consumer: &CConsumer, kicks: u32, waits: &Cell<u32>) -> Result<i64> {
    // SAFETY: `consumer.r` is live (type invariant).
    let polled = || unsafe { c::bhlock_ref_napi_items(consumer.r.as_ptr()) };
    let target = polled() + u64::from(kicks) * u64::from(NAPI_BUDGET);
    timed(|| {
        for _ in 0..kicks {
            let _bh = local_bh_disable()?;
            // SAFETY: Live, and `consumer.napi`'s owner is `consumer.r` (type invariant).
            unsafe {
                c::bhlock_ref_napi_queue(consumer.r.as_ptr(), consumer.napi.as_ptr(), NAPI_BUDGET)
            };
        }
        drain(polled, target, waits)
    })
}

/// The median of `REPS` runs of `f`.
#[inline(never)]
fn median_of(mut f: impl FnMut() -> Result<i64>) -> Result<i64> {
    let mut runs = [0; REPS];
    for run in runs.iter_mut() {
        *run = f()?;
    }
    Ok(median(&mut runs))
}

/// NAPI throughput: `kicks` times, queue a budget of items and schedule the poll with BH
/// disabled, so that `local_bh_enable()` runs it; the clock stops when every item is polled.
/// The Rust consumer against the C one, then the empty C poll alone: the part of each
/// figure that is the NAPI core's and the polls' bookkeeping, not their work.
// Not inlined into `run()`, which calls the benchmarks one after the other: their locals then
// take stack only while each runs (the kernel's `noinline_for_stack`).
#[inline(never)]
fn bench_napi(params: &Params, kicks: u32) -> Result<bool> {
    let mut napi_params = *params;
    napi_params.napi_budget = NAPI_BUDGET;
    napi_params.threaded = false;
    let core = Arc::pin_init(Core::new(napi_params, false, None, None), GFP_KERNEL)?;
    let rust = NapiConsumer::new(&core, &ops::LOCKED)?;
    let cpus = online_cpus()?;
    let mut enabled = KVec::with_capacity(cpus.len(), GFP_KERNEL)?;
    for &cpu in cpus.iter() {
        enabled.push(rust.enable_cpu(cpu)?, GFP_KERNEL)?;
    }
    let c = CConsumer::new(c::bhlock_ref_napi_poll)?;
    let empty = CConsumer::new(c::bhlock_ref_napi_poll_empty)?;
    let items_per_rep = u64::from(kicks) * u64::from(NAPI_BUDGET);

    let rust_items = || core.stats.event_count(Event::NapiItems);
    let waits = Cell::new(0);
    let pairs = Pairs::measure(
        || {
            let target = rust_items() + items_per_rep;
            timed(|| {
                for _ in 0..kicks {
                    let _bh = local_bh_disable()?;
                    rust.schedule(CpuId::current(), NAPI_BUDGET);
                }
                drain(rust_items, target, &waits)
            })
        },
        || kick_c(&c, kicks, &waits),
    )?;
    let empty_ns = median_of(|| kick_c(&empty, kicks, &waits))?;
    // SAFETY: `c.r` and `empty.r` are live (type invariant).
    let (c_items, c_faults, empty_items) = unsafe {
        (
            c::bhlock_ref_napi_items(c.r.as_ptr()),
            c::bhlock_ref_napi_faults(c.r.as_ptr()),
            c::bhlock_ref_napi_items(empty.r.as_ptr()),
        )
    };
    Ok(report_napi(
        &pairs,
        items_per_rep as i64,
        empty_ns,
        kicks,
        [rust_items(), c_items, empty_items],
        [core.stats.total_violations(), c_faults],
        waits.get(),
    ))
}

/// Prints the figures of the NAPI benchmark and says whether they are sane: every item of
/// every repetition polled (`items`: Rust, C, the empty C poll), and no fault (`faults`).
///
/// Beside the rates it prints the median nanoseconds per item of each consumer, and how often
/// the repetitions had to wait for their last polls (`drain_waits`). In a boot whose clock
/// counts instructions (`scripts/bench.sh`'s second boot, QEMU's `-icount shift=0`) the
/// nanoseconds are instructions per item, up to the interrupts that fall into a repetition,
/// if no repetition waited.
#[inline(never)]
fn report_napi(
    pairs: &Pairs,
    items_per_rep: i64,
    empty_ns: i64,
    kicks: u32,
    items: [u64; 3],
    faults: [u64; 2],
    drain_waits: u32,
) -> bool {
    // Items per second, and hundredths of a nanosecond per item, from nanoseconds per
    // repetition.
    let rate = |ns: i64| {
        items_per_rep
            .saturating_mul(1_000_000_000)
            .checked_div(ns)
            .unwrap_or(0)
    };
    let per_item = |ns: i64| {
        ns.saturating_mul(100)
            .checked_div(items_per_rep)
            .unwrap_or(0)
    };
    let [rust_rate, c_rate] = pairs.medians(&rate);
    let [ratio, min, max] = pairs.ratios(&rate);
    let [rust_per_item, c_per_item] = pairs.medians(&per_item);
    pr_info!(
        "bench: napi rust_items_per_s={} c_items_per_s={} ratio={} ratio_min={} ratio_max={} rust_ns_per_item={} c_ns_per_item={} empty_ns_per_item={} drain_waits={} reps={} kicks={} budget={} items_rust={} items_c={} items_empty={} faults_rust={} faults_c={}\n",
        rust_rate,
        c_rate,
        Fixed::<3>(ratio),
        Fixed::<3>(min),
        Fixed::<3>(max),
        Fixed::<2>(rust_per_item),
        Fixed::<2>(c_per_item),
        Fixed::<2>(per_item(empty_ns)),
        drain_waits,
        REPS,
        kicks,
        NAPI_BUDGET,
        items[0],
        items[1],
        items[2],
        faults[0],
        faults[1],
    );
    let expected = REPS as u64 * u64::from(kicks) * u64::from(NAPI_BUDGET);
    pairs.positive()
        && rust_rate > 0
        && c_rate > 0
        && empty_ns > 0
        && items == [expected; 3]
        && faults == [0; 2]
}

/// Runs every benchmark and prints `End of bench: SUCCESS` if each gave a sane figure.
// Not inlined into the module's init, which calls it beside the other load steps: its locals
// then take stack only while it runs (the kernel's `noinline_for_stack`).
#[inline(never)]
pub(crate) fn run(params: &Params) -> Result {
    pr_info!(
        "Start of bench: loops={} seconds={} interval_us={}\n",
        params.bench_loops,
        params.bench_seconds,
        params.interval_us
    );
    let mut sane = bench_lock(params.bench_loops)?;
    sane &= bench_napi(params, (params.bench_loops / 16).max(1))?;
    sane &= latency::run(
        Delta::from_micros(i64::from(params.interval_us)),
        Delta::from_secs(i64::from(params.bench_seconds)),
    )?;
    pr_info!(
        "End of bench: {}\n",
        if sane { "SUCCESS" } else { "FAILURE" }
    );
    Ok(())
}
