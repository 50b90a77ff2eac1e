// SPDX-License-Identifier: GPL-2.0

//! Process-context users of the per-CPU cache: kthreads, each bound to a CPU, that take it
//! in BH-disabled sections, as their entry of the ops table says ([`Ops::thread_section`]).
//!
//! On PREEMPT_RT a BH-disabled section is preemptible, so a thread can be preempted while it
//! holds this CPU's cache and the NAPI poll (in ksoftirqd or a NAPI thread) must wait for it
//! on the nested-BH lock: the contention `local_lock_nested_bh()` exists for.

use core::{
    ptr,
    sync::atomic::{AtomicBool, Ordering::Relaxed},
};
use kernel::{
    cpu::CpuId,
    ffi::{c_int, c_void},
    prelude::*,
    sync::Arc,
    time::Delta,
};

use super::{core_state::Core, napi::NapiConsumer, ops::Ops};
use crate::services::kthread::{self, KThread};

/// What one thread works with.
struct User {
    core: Arc<Core>,
    napi: Arc<NapiConsumer>,
    cpu: CpuId,
    ops: &'static Ops,
    /// Set when the threads of this [`CacheUsers`] are about to be stopped.
    stopping: Arc<AtomicBool>,
}

/// The running threads; dropping this stops them.
pub(crate) struct CacheUsers {
    // Declared first: the threads stop before the data they borrow goes.
    threads: KVec<KThread>,
    _users: KVec<KBox<User>>,
    stopping: Arc<AtomicBool>,
}

impl Drop for CacheUsers {
    fn drop(&mut self) {
        // Every thread leaves its loop at once, so that the stops that follow, one thread at
        // a time, do not each wait out a pause: 256 threads pausing 1 s took 17 s to stop.
        self.stopping.store(true, Relaxed);
    }
}

impl CacheUsers {
    /// Starts `n` threads, bound to `cpu`, working as `ops` says.
    pub(crate) fn start(
        core: &Arc<Core>,
        ops: &'static Ops,
        napi: &Arc<NapiConsumer>,
        n: u32,
        cpu: CpuId,
    ) -> Result<Self> {
        let mut this = Self {
            threads: KVec::with_capacity(n as usize, GFP_KERNEL)?,
            _users: KVec::with_capacity(n as usize, GFP_KERNEL)?,
            stopping: Arc::new(AtomicBool::new(false), GFP_KERNEL)?,
        };
        for _ in 0..n {
            let user = KBox::new(
                User {
                    core: core.clone(),
                    napi: napi.clone(),
                    cpu,
                    ops,
                    stopping: this.stopping.clone(),
                },
                GFP_KERNEL,
            )?;
            let data = ptr::from_ref::<User>(&user).cast_mut().cast();
            this._users.push(user, GFP_KERNEL)?;
            // SAFETY: `this` keeps the `User` (in a box, which does not move) until its
            // `threads` are stopped.
            let thread =
                unsafe { KThread::start(user_thread, data, c"bhlock_cache_user", Some(cpu)) }?;
            this.threads.push(thread, GFP_KERNEL)?;
        }
        Ok(this)
    }
}

impl User {
    /// Whether the thread is to leave its loop.
    fn stopping(&self) -> bool {
        self.stopping.load(Relaxed) || kthread::should_stop()
    }
}

/// The loop of one thread: a BH section of cache work, then a pause of `interval_us` (only
/// the pause for the negative control `starve_threads`). The thread may return before it is
/// stopped (`KThread` stops a thread that has returned).
///
/// # Safety
///
/// `data` must point to a [`User`] that outlives the thread.
unsafe extern "C" fn user_thread(data: *mut c_void) -> c_int {
    // SAFETY: `CacheUsers` keeps the `User` alive until this thread is stopped.
    let user = unsafe { &*data.cast::<User>().cast_const() };
    let pause = Delta::from_micros(i64::from(user.core.params.interval_us));
    let mut sections = 0u32;
    let starve = user.core.params.starve_threads;
    while !user.stopping() {
        if !starve {
            user.ops
                .thread_section(&user.core, &*user.napi, user.cpu, sections);
            sections = sections.wrapping_add(1);
        }
        kthread::pause(pause, || user.stopping());
    }
    0
}
