// SPDX-License-Identifier: GPL-2.0

//! Process-context users of the per-CPU cache: kthreads, each bound to a CPU, that take it
//! under `local_bh_disable()` plus the guard.
//!
//! On PREEMPT_RT a BH-disabled section is preemptible, so a thread can be preempted while it
//! holds this CPU's cache and the NAPI poll (in ksoftirqd or a NAPI thread) must wait for it
//! on the nested-BH lock: the contention `local_lock_nested_bh()` exists for.

use core::ptr;
use kernel::{
    cpu::CpuId,
    ffi::{c_int, c_void},
    prelude::*,
    sync::Arc,
    time::{delay::fsleep, Delta},
};

use crate::{
    bh::LocalBhDisable,
    core_state::Core,
    kthread::{self, KThread},
    stats::{Context, Violation},
};

/// Acquisitions per BH section, and buffers per acquisition: long enough sections for the
/// NAPI poll to run into on PREEMPT_RT.
const ROUNDS_PER_SECTION: usize = 8;
const ITEMS_PER_ROUND: usize = 16;

/// Running cache-user threads; stopped when dropped.
pub(crate) struct CacheUsers {
    // Declared first so the threads stop before the `Core` they borrow can go.
    threads: KVec<KThread>,
    _core: Arc<Core>,
}

impl CacheUsers {
    /// Starts `n` threads, spread over `cpus` in turn.
    pub(crate) fn start(core: &Arc<Core>, n: u32, cpus: &[CpuId]) -> Result<Self> {
        let mut this = Self {
            threads: KVec::with_capacity(n as usize, GFP_KERNEL)?,
            _core: core.clone(),
        };
        if cpus.is_empty() {
            return Ok(this);
        }
        for i in 0..n as usize {
            let cpu = cpus[i % cpus.len()];
            // SAFETY: `user_thread` returns only once told to stop; the `Core` it borrows is
            // kept alive by `this`, whose `threads` stop before `_core` is dropped.
            let thread = unsafe {
                KThread::start(
                    user_thread,
                    ptr::from_ref::<Core>(core).cast_mut().cast(),
                    c"bhlock_cache_user",
                    Some(cpu),
                )
            }?;
            this.threads.push(thread, GFP_KERNEL)?;
        }
        Ok(this)
    }
}

/// The body of a cache-user thread.
///
/// # Safety
///
/// `data` must point to a [`Core`] that outlives the thread.
unsafe extern "C" fn user_thread(data: *mut c_void) -> c_int {
    // SAFETY: The caller keeps the `Core` alive until this thread is stopped.
    let core = unsafe { &*data.cast::<Core>().cast_const() };
    let pause = Delta::from_micros(i64::from(core.params.interval_us));
    let mut sections = 0u32;
    while !kthread::should_stop() {
        match LocalBhDisable::new() {
            Ok(mut bh) => {
                for round in 0..ROUNDS_PER_SECTION {
                    core.cache_round(
                        Context::Threads,
                        bh.token(),
                        ITEMS_PER_ROUND,
                        0x7000_0000 | (sections << 4) | round as u32,
                    );
                }
            }
            Err(_) => core
                .stats
                .violation(Context::Threads, Violation::BhDisableRefused),
        }
        sections = sections.wrapping_add(1);
        fsleep(pause);
    }
    0
}
