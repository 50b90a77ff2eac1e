// SPDX-License-Identifier: GPL-2.0

//! KUnit tests of the guard types; they run when the module loads (`CONFIG_KUNIT`).

use kernel::prelude::*;

#[kunit_tests(bhlock)]
mod kunit {
    use crate::{
        new_local_lock_nested_bh,
        services::{cpu_hotplug::CpusHeld, cpus::possible_cpus},
        sync::bh::local_bh_disable,
        sync::local_lock_nested_bh::LocalLockNestedBh,
        torture::{
            item_cache::{CacheFault, ItemCache, MAX_ROUND},
            kernel_buffers::{Kind, NapiDevice},
            stats::Violation,
        },
    };
    use core::sync::atomic::{AtomicUsize, Ordering};
    use kernel::{
        bindings, cpu::CpuId, cpumask::CpumaskVar, error::to_result,
        interrupt::local_interrupt_disable, prelude::*, task::Task,
    };

    /// Moves the current task to `cpu` (or to every possible CPU with `None`).
    fn pin_to(cpu: Option<CpuId>) -> Result {
        let mut mask = CpumaskVar::new_zero(GFP_KERNEL)?;
        match cpu {
            Some(cpu) => mask.set(cpu),
            None => mask.setall(),
        }
        // SAFETY: The current task is alive and `mask` is a valid cpumask.
        to_result(unsafe { bindings::set_cpus_allowed_ptr(Task::current_raw(), mask.as_raw()) })
    }

    #[test]
    fn lock_unlock_under_token() -> Result {
        let lock = new_local_lock_nested_bh!(|_| Ok(0u32))?;
        let bh = local_bh_disable()?;
        *lock.lock(&bh).ok_or(EBUSY)? = 42;
        // The first guard is gone, so the same token locks again and sees the write.
        assert_eq!(*lock.lock(&bh).ok_or(EBUSY)?, 42);
        Ok(())
    }

    #[test]
    fn reentry_on_same_cpu_refused() -> Result {
        let lock = new_local_lock_nested_bh!(|_| Ok(0u32))?;
        let outer = local_bh_disable()?;
        let inner = local_bh_disable()?;
        let held = lock.lock(&outer).ok_or(EBUSY)?;
        // Refused with the same token and with another one: the owner check, not the token,
        // is what keeps a second `&mut` to one copy out.
        assert!(lock.lock(&outer).is_none());
        assert!(lock.lock(&inner).is_none());
        drop(held);
        assert!(lock.lock(&inner).is_some());
        Ok(())
    }

    #[test]
    fn two_instances_nest_with_two_tokens() -> Result {
        let a = new_local_lock_nested_bh!(|_| Ok(1u32))?;
        let b = new_local_lock_nested_bh!(|_| Ok(2u32))?;
        let bh_a = local_bh_disable()?;
        let bh_b = local_bh_disable()?;
        let ga = a.lock(&bh_a).ok_or(EBUSY)?;
        let gb = b.lock(&bh_b).ok_or(EBUSY)?;
        assert_eq!(*ga + *gb, 3);
        Ok(())
    }

    #[test]
    fn each_cpu_sees_its_own_copy() -> Result {
        let lock = new_local_lock_nested_bh!(|cpu: CpuId| Ok(cpu.as_u32()))?;
        let mut visited = 0;
        // No CPU goes offline under a task pinned to it (which would move it off that CPU).
        let _cpus = CpusHeld::new();
        for cpu in possible_cpus() {
            if pin_to(Some(cpu)).is_err() {
                // An offline CPU cannot run us; its copy is checked by the teardown test.
                continue;
            }
            let bh = local_bh_disable()?;
            let guard = lock.lock(&bh).ok_or(EBUSY)?;
            assert_eq!(CpuId::current(), cpu);
            assert_eq!(*guard, cpu.as_u32());
            visited += 1;
        }
        pin_to(None)?;
        assert!(visited > 0);
        Ok(())
    }

    #[test]
    fn exclusive_access_visits_every_cpu() -> Result {
        let mut lock = new_local_lock_nested_bh!(|cpu: CpuId| Ok(cpu.as_u32()))?;
        let mut visits = 0;
        lock.for_each_cpu_mut(|cpu, mut value| {
            assert_eq!(*value, cpu.as_u32());
            *value += 1000;
            visits += 1;
        });
        assert_eq!(visits, possible_cpus().count());
        let bh = local_bh_disable()?;
        assert_eq!(
            *lock.lock(&bh).ok_or(EBUSY)?,
            CpuId::current().as_u32() + 1000
        );
        Ok(())
    }

    static DROPS: AtomicUsize = AtomicUsize::new(0);

    struct CountsDrops;

    impl Drop for CountsDrops {
        fn drop(&mut self) {
            DROPS.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn teardown_drops_every_cpu_copy() -> Result {
        DROPS.store(0, Ordering::Relaxed);
        let lock: LocalLockNestedBh<CountsDrops> = new_local_lock_nested_bh!(|_| Ok(CountsDrops))?;
        drop(lock);
        assert_eq!(DROPS.load(Ordering::Relaxed), possible_cpus().count());
        Ok(())
    }

    #[test]
    fn failed_init_drops_what_it_built() {
        DROPS.store(0, Ordering::Relaxed);
        let mut built = 0;
        let result: Result<LocalLockNestedBh<CountsDrops>> = new_local_lock_nested_bh!(|_| {
            built += 1;
            if built == 2 {
                Err(ENOMEM)
            } else {
                Ok(CountsDrops)
            }
        });
        // With one possible CPU nothing fails; either way exactly one copy was built.
        assert!(result.is_err() == (possible_cpus().count() >= 2));
        drop(result);
        assert_eq!(DROPS.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn bh_disable_refused_with_irqs_off() {
        let irqs_off = local_interrupt_disable();
        assert!(local_bh_disable().is_err());
        drop(irqs_off);
        assert!(local_bh_disable().is_ok());
    }

    #[test]
    fn lockdep_still_on() {
        // SAFETY: `debug_locks` is an `int` that lock debugging only ever clears.
        assert_eq!(
            unsafe { core::ptr::read_volatile(&raw const bindings::debug_locks) },
            1
        );
    }

    #[test]
    fn item_cache_round_keeps_invariants() -> Result {
        let mut cache = KBox::init(ItemCache::new(), GFP_KERNEL)?;
        assert_eq!(cache.check(), Ok(()));
        assert_eq!(cache.round(MAX_ROUND + 5, 7), Ok(MAX_ROUND));
        assert_eq!(cache.check(), Ok(()));
        assert_eq!(cache.check_exclusive(), Ok(()));
        Ok(())
    }

    #[test]
    fn item_cache_check_catches_each_fault() -> Result {
        // The negative controls of the invariant checks every acquisition makes.
        for fault in [
            CacheFault::CountOutOfRange,
            CacheFault::CanaryBroken,
            CacheFault::StackCorrupt,
            CacheFault::OwnedTwice,
        ] {
            let mut cache = KBox::init(ItemCache::new(), GFP_KERNEL)?;
            cache.inject(fault);
            assert_eq!(cache.check(), Err(fault));
            // The same check with plain loads, as the locked rounds make it.
            assert_eq!(cache.check_exclusive(), Err(fault));
        }
        let cache = KBox::init(ItemCache::new(), GFP_KERNEL)?;
        cache.inject(CacheFault::CountMismatch);
        assert_eq!(cache.round(1, 7), Err(CacheFault::CountMismatch));
        // A whole round inside another, as the forced interleaving makes one without the
        // lock: the inner round is consistent, the outer one finds the counter moved.
        let cache = KBox::init(ItemCache::new(), GFP_KERNEL)?;
        let mut inner = None;
        let outer = cache.round_with(MAX_ROUND, 7, || inner = Some(cache.round(MAX_ROUND, 9)));
        assert_eq!(inner, Some(Ok(MAX_ROUND)));
        assert_eq!(outer, Err(CacheFault::Overlapped));
        // The same fault, injected where the other round would run.
        let cache = KBox::init(ItemCache::new(), GFP_KERNEL)?;
        let outer = cache.round_with(1, 7, || cache.inject(CacheFault::Overlapped));
        assert_eq!(outer, Err(CacheFault::Overlapped));
        // And none when the rounds follow each other.
        assert_eq!(cache.round(MAX_ROUND, 7), Ok(MAX_ROUND));
        Ok(())
    }

    /// The kernel-resource probe's buffer check sees a changed data byte and a changed
    /// control-buffer tag, in an skb and in a fragment of the kernel's `napi_alloc_cache`.
    #[test]
    fn kernel_buffer_check_catches_each_fault() -> Result {
        let cache = NapiDevice::new()?;
        let bh = local_bh_disable()?;
        for kind in [Kind::NetdevSkb, Kind::Frag] {
            let mut buffer = cache.alloc(kind, 1500).ok_or(ENOMEM)?;
            buffer.mark(0x6b6c_0001);
            assert!(buffer.check().is_ok());
            // SAFETY: The buffer is ours and has 1500 bytes.
            unsafe { *buffer.data.add(700) ^= 1 };
            assert!(buffer.check() == Err(Violation::KernelBufferDataChanged));
            // SAFETY: As above: the byte back.
            unsafe { *buffer.data.add(700) ^= 1 };
            if let Some(tag) = buffer.cb_tag() {
                // SAFETY: The buffer is our skb.
                unsafe { *tag ^= 1 };
                assert!(buffer.check() == Err(Violation::KernelBufferHandedTwice));
                // SAFETY: As above: the tag back.
                unsafe { *tag ^= 1 };
            }
            assert!(buffer.check().is_ok());
            buffer.free();
        }
        drop(bh);
        Ok(())
    }

    #[test]
    fn scenario_table_is_consistent() {
        use crate::scenario::{
            expect::{Expect, MAX_REPORTS},
            kernel::Kernel,
            table::{Class, SCENARIOS},
        };
        for (i, s) in SCENARIOS.iter().enumerate() {
            // Names are what `scenario NAME` and the selftests select by.
            assert!(SCENARIOS[..i].iter().all(|t| t.name != s.name));
            // A kernel case works on a kernel resource, whose name (its switch in the
            // must-fail kernel) is the case's.
            assert!((s.class == Class::Kernel) == s.resource().is_some());
            if let Some(resource) = s.resource() {
                assert!(resource.name.to_bytes() == s.name.as_bytes());
            }
            // Every kernel the properties can describe, not only those of the matrix.
            for bits in 0..8u8 {
                let k = Kernel {
                    preempt_rt: bits & 1 != 0,
                    bh_serialised: bits & 2 != 0,
                    unlocked: if bits & 4 != 0 { |_| true } else { |_| false },
                };
                match (s.expect)(k) {
                    // A splat case that expects no report could never fail as "unexpected
                    // success"; a clean case that expects one belongs with the splats.
                    Expect::Splat { reports, .. } => {
                        assert!(s.class == Class::Splat && !reports.is_empty());
                        // The judge tracks this many required reports.
                        assert!(reports.len() <= MAX_REPORTS);
                    }
                    Expect::Clean | Expect::Caught => assert!(s.class != Class::Splat),
                }
            }
        }
    }

    #[test]
    fn report_patterns_match_as_the_shell_does() {
        use crate::scenario::expect::glob_contains;
        let banner = "WARNING: rust/helpers/foo.c:12 at rust_helper_lockdep_assert_in_softirq+0x1c/0x30, CPU#0: insmod/97";
        assert!(glob_contains(
            "WARNING: * at rust_helper_lockdep_assert_in_softirq",
            banner
        ));
        assert!(glob_contains("at rust_helper_", banner));
        assert!(glob_contains("*", ""));
        assert!(!glob_contains(
            "WARNING: * at lockdep_assert_in_softirq_func",
            banner
        ));
        assert!(!glob_contains("BUG: *", banner));
        // `*` may match nothing, but the rest must match in order.
        assert!(glob_contains("WARNING:* at *insmod", banner));
        assert!(!glob_contains("insmod* at ", banner));
    }

    /// Opens `name` on a mount of debugfs of the test's own: a KUnit case runs in a kthread,
    /// whose root need not be the one debugfs is mounted in.
    fn open_debugfs_file(name: &CStr) -> Result<(*mut bindings::vfsmount, *mut bindings::file)> {
        use kernel::error::from_err_ptr;

        // SAFETY: A C string.
        let fs = unsafe { bindings::get_fs_type(c"debugfs".as_char_ptr()) };
        if fs.is_null() {
            return Err(ENODEV);
        }
        // SAFETY: `fs` is a registered filesystem type, whose reference is dropped after.
        let mnt = from_err_ptr(unsafe { bindings::kern_mount(fs) });
        // SAFETY: `get_fs_type` took a reference to the module of `fs` (none: built in), which
        // `put_filesystem()`, not exported, would drop this way.
        unsafe { bindings::module_put((*fs).owner) };
        let mnt = mnt?;
        let root = bindings::path {
            mnt,
            // SAFETY: `mnt` is a live mount.
            dentry: unsafe { (*mnt).mnt_root },
        };
        // SAFETY: `root` is a live path and `name` a C string.
        match from_err_ptr(unsafe {
            bindings::file_open_root(&root, name.as_char_ptr(), bindings::O_RDONLY as i32, 0)
        }) {
            Ok(file) => Ok((mnt, file)),
            Err(e) => {
                // SAFETY: Mounted above, unused.
                unsafe { bindings::kern_unmount(mnt) };
                Err(e)
            }
        }
    }

    /// A debugfs file closed after its `Files` is gone: debugfs's proxy then calls `release`
    /// through the operations with nothing to stop the removal, and the static operations must
    /// still count the close.
    #[test]
    fn debugfs_file_closed_after_its_files_are_dropped() -> Result {
        use crate::services::debugfs::{open_files, Files};

        let files = Files::new(c"bhlock_kunit", KBox::pin(AtomicUsize::new(7), GFP_KERNEL)?)?
            .show(c"n", |n, f| writeln!(f, "{}", n.load(Ordering::Relaxed)))?;
        let before = open_files();
        let (mnt, file) = open_debugfs_file(c"bhlock_kunit/n")?;
        let opened = open_files();
        drop(files);
        // SAFETY: `file` was opened above and this is its one reference; `__fput_sync()`
        // releases it now (a kthread's `fput()` would defer it). Then its mount goes.
        unsafe {
            bindings::__fput_sync(file);
            bindings::kern_unmount(mnt);
        }
        assert_eq!((opened, open_files()), (before + 1, before));
        Ok(())
    }

    #[test]
    fn every_report_banner_is_one() {
        use crate::services::kmsg::report_banners;
        let banners = || report_banners();
        assert!(banners().count() > 10);
        assert!(banners().any(|b| b == "WARNING:") && banners().any(|b| b == "BUG:"));
        // Comments and blank lines are not banners: an empty one would match every line.
        assert!(banners().all(|b| !b.is_empty() && !b.starts_with('#')));
    }
}
