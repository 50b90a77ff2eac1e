// SPDX-License-Identifier: GPL-2.0

//! What a run starts on each CPU, and the hotplug follower that keeps it on every online CPU:
//! started on each CPU online when the run starts and on each that comes online during it,
//! stopped on each that goes offline, before it does, and on every CPU at the end.
//!
//! A CPU's pinned hrtimers would otherwise migrate to another CPU when it goes offline and
//! stay there, its bound threads lose their binding, and a CPU that comes online would get
//! nothing: the run would no longer be "every context on every CPU".

use core::sync::atomic::{AtomicBool, Ordering::Relaxed};
use kernel::{
    cpu::{nr_cpu_ids, CpuId},
    new_mutex,
    prelude::*,
    sync::{Arc, Mutex},
    time::hrtimer::ArcHrTimerHandle,
};

use super::{
    core_state::Core,
    forced::ForcedPair,
    hard_timer::HardTick,
    napi::{NapiConsumer, NapiCpuEnabled},
    plan::Plan,
    soft_timer::SoftTick,
    stats::{Context, Event},
    threads::CacheUsers,
};
use crate::services::{cpu_hotplug::CpuFollower, on_cpu::start_pinned};

/// Everything that works on one CPU; dropped field by field in this order, which is the
/// teardown order: the "interrupt" first, so that nothing schedules a poll any more, then
/// NAPI, then the threads. A thread stopped before NAPI may have to wait for its BH section
/// behind polls that a full queue keeps repeating: with PREEMPT_RT_NEEDS_BH_LOCK that took
/// 0.2-0.9 s per CPU at the end of a run. (A poll a thread schedules after NAPI is disabled
/// is ignored.)
struct CpuWorkers {
    _hard: Option<ArcHrTimerHandle<HardTick>>,
    _soft: Option<ArcHrTimerHandle<SoftTick>>,
    _napi: NapiCpuEnabled,
    _users: CacheUsers,
    _forced: Option<ForcedPair>,
}

/// The workers of a run on every online CPU.
pub(crate) struct RunCpus {
    core: Arc<Core>,
    plan: Plan,
    napi: Arc<NapiConsumer>,
    /// Cache-user threads per CPU, indexed by CPU number.
    threads: KVec<u32>,
    /// Indexed by CPU number; `Some` while that CPU works for the run.
    workers: Pin<KBox<Mutex<KVec<Option<CpuWorkers>>>>>,
    /// Set from the start (every CPU online then has its workers) to the end (which stops them
    /// all): a CPU that comes or goes in between is a hotplug event of the run.
    counting_hotplug: AtomicBool,
}

impl RunCpus {
    /// The workers of a run of `plan` on `core`, with NAPI through `napi`, none started yet;
    /// `online` are the CPUs online now, among which the cache-user threads are shared.
    pub(crate) fn new(
        core: &Arc<Core>,
        plan: Plan,
        napi: &Arc<NapiConsumer>,
        online: &[CpuId],
    ) -> Result<Self> {
        let n = nr_cpu_ids() as usize;
        let mut threads = KVec::from_elem(0u32, n, GFP_KERNEL)?;
        if plan.runs(Context::Threads) && !online.is_empty() {
            let total = core.params.threads(online.len() as u32);
            let k = online.len() as u32;
            // A CPU that comes online later gets the largest share.
            threads.fill(total.div_ceil(k));
            // The remainder goes to the first CPUs, so CPU 0, which x86 cannot take offline,
            // always has a thread when there is one.
            for (position, cpu) in online.iter().enumerate() {
                threads[cpu.as_u32() as usize] =
                    total / k + u32::from((position as u32) < total % k);
            }
        }
        let mut slots = KVec::with_capacity(n, GFP_KERNEL)?;
        for _ in 0..n {
            slots.push(None, GFP_KERNEL)?;
        }
        Ok(Self {
            core: core.clone(),
            plan,
            napi: napi.clone(),
            threads,
            workers: KBox::pin_init(new_mutex!(slots, "bhlock_run_cpus"), GFP_KERNEL)?,
            counting_hotplug: AtomicBool::new(false),
        })
    }

    /// Whether the follower's calls from now on are hotplug events of the run.
    pub(crate) fn count_hotplug(&self, on: bool) {
        self.counting_hotplug.store(on, Relaxed);
    }

    /// The CPUs working for the run now.
    pub(crate) fn working(&self) -> usize {
        self.workers.lock().iter().filter(|w| w.is_some()).count()
    }

    /// Cache-user threads in all, on the CPUs working now.
    pub(crate) fn threads_now(&self) -> u32 {
        let workers = self.workers.lock();
        workers
            .iter()
            .zip(self.threads.iter())
            .filter(|(w, _)| w.is_some())
            .map(|(_, &n)| n)
            .sum()
    }

    /// Starts everything the plan runs on `cpu`, which must be the current CPU or online.
    fn start_on(&self, cpu: CpuId) -> Result<CpuWorkers> {
        let core = &self.core;
        let ops = self.plan.ops;
        // Enabled first, so that no worker schedules a poll of a context not yet enabled.
        let napi = self.napi.enable_cpu(cpu)?;
        if ops.fifo_napi_threads {
            self.napi.pin_thread_fifo(cpu)?;
        }
        let hard = if self.plan.runs(Context::HardIrq) {
            let tick = HardTick::new(cpu, core, self.plan, &self.napi)?;
            let interval = tick.interval();
            Some(start_pinned(cpu, tick, interval)?)
        } else {
            None
        };
        let soft = if self.plan.runs(Context::SoftTimer) {
            let tick = SoftTick::new(cpu, core, ops)?;
            let interval = tick.interval();
            Some(start_pinned(cpu, tick, interval)?)
        } else {
            None
        };
        let users = CacheUsers::start(
            core,
            ops,
            &self.napi,
            self.threads[cpu.as_u32() as usize],
            cpu,
        )?;
        let forced = if self.plan.runs(Context::Forced) {
            Some(ForcedPair::start(core, ops, cpu)?)
        } else {
            None
        };
        Ok(CpuWorkers {
            _hard: hard,
            _soft: soft,
            _napi: napi,
            _users: users,
            _forced: forced,
        })
    }

    /// Starts `cpu`'s workers unless it has them.
    fn start(&self, cpu: CpuId) -> Result {
        let mut workers = self.workers.lock();
        let slot = workers.get_mut(cpu.as_u32() as usize).ok_or(EINVAL)?;
        if slot.is_some() {
            return Ok(());
        }
        *slot = Some(self.start_on(cpu).inspect_err(|e| {
            pr_err!(
                "cannot start the run's workers on CPU {}: {:?}\n",
                cpu.as_u32(),
                e
            );
        })?);
        if self.counting_hotplug.load(Relaxed) {
            self.core.stats.event(Event::CpusOnlined, 1);
            self.core.stats.cpu_came_online(cpu);
        }
        Ok(())
    }

    /// Marks the start or the end of a hotplug transition, during the run.
    fn transition(&self) {
        if self.counting_hotplug.load(Relaxed) {
            self.core.hotplug_transitions.fetch_add(1, Relaxed);
        }
    }
}

impl CpuFollower for RunCpus {
    fn coming(&self, _cpu: CpuId) {
        self.transition();
    }

    fn gone(&self, _cpu: CpuId) {
        self.transition();
    }

    fn online(&self, cpu: CpuId) -> Result {
        self.start(cpu)?;
        self.transition();
        Ok(())
    }

    fn offline(&self, cpu: CpuId) {
        self.transition();
        let Some(workers) = self
            .workers
            .lock()
            .get_mut(cpu.as_u32() as usize)
            .and_then(Option::take)
        else {
            return;
        };
        drop(workers);
        if self.counting_hotplug.load(Relaxed) {
            self.core.stats.event(Event::CpusOfflined, 1);
            self.core.stats.cpu_went_offline(cpu);
        }
    }
}
