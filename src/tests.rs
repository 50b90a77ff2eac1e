// SPDX-License-Identifier: GPL-2.0

//! KUnit tests of the harness (the guard types' own are the sync layer's, in `src/sync/`); they
//! run when the module loads (`CONFIG_KUNIT`).

use kernel::prelude::*;

#[kunit_tests(bhlock)]
mod kunit {
    use crate::{
        sync::bh::local_bh_disable,
        torture::{
            item_cache::{CacheFault, ItemCache, MAX_ROUND},
            kernel_buffers::{Kind, NapiDevice},
            stats::Violation,
        },
    };
    use core::sync::atomic::{AtomicUsize, Ordering};
    use kernel::{bindings, prelude::*};

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
