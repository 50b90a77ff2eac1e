// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: the control of the harness's CPU hotplug, debugfs and kprobe types. A
//! follower that is `Send + Sync + 'static` builds into a `CpuWatch` that may be shared and
//! moved to the task that drops it, as `torture::run` does, `'static` data is served by
//! debugfs `Files`, and a `KProbe` on a static symbol name is shared by a forced pair's two
//! threads; the failures of the `cpu_watch_*`, `debugfs_*` and `kprobe_*`
//! cases prove nothing without it.
//!
//! expect: none

#[path = "../../src/services/cpu_hotplug.rs"]
mod cpu_hotplug;
#[path = "../../src/services/debugfs.rs"]
mod debugfs;
#[path = "../../src/services/kprobe.rs"]
mod kprobe;

include!("layer.inc");

use core::sync::atomic::{AtomicU32, Ordering};
use cpu_hotplug::{CpuFollower, CpuWatch};
use kernel::cpu::CpuId;

struct Counter(AtomicU32);

impl CpuFollower for Counter {
    fn online(&self, _cpu: CpuId) -> Result {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn offline(&self, _cpu: CpuId) {}
}

fn require_send<T: Send>() {}
fn require_sync<T: Sync>() {}

/// A follower reached through the watch, then the watch dropped in another function.
fn watch_and_read() -> Result<u32> {
    let watch = CpuWatch::new(c"case:online", c"case:prepare", Counter(AtomicU32::new(0)))?;
    let onlined = watch.follower().0.load(Ordering::Relaxed);
    drop(watch);
    Ok(onlined)
}

/// A counter served by a debugfs file.
fn publish() -> Result<debugfs::Files<AtomicU32>> {
    debugfs::Files::new(c"case", KBox::pin(AtomicU32::new(0), GFP_KERNEL)?)?
        .show(c"n", |n, f| writeln!(f, "{}", n.load(Ordering::Relaxed)))
}

/// A probe on a static symbol name, armed to wake `wake`.
fn probe(wake: &kernel::task::Task) -> Result<kprobe::KProbe> {
    let probe = kprobe::KProbe::new(c"kmem_cache_alloc_bulk_noprof")?;
    probe.arm(Some(wake));
    probe.disarm();
    Ok(probe)
}

pub fn uses() {
    require_send::<kprobe::KProbe>();
    require_sync::<kprobe::KProbe>();
    require_send::<CpuWatch<Counter>>();
    require_sync::<CpuWatch<Counter>>();
    let _ = watch_and_read;
    let _ = publish;
    let _ = probe;
}
