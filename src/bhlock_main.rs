// SPDX-License-Identifier: GPL-2.0

//! bhlock: exercises BH-nested local locking (`local_lock_nested_bh()`) and lockdep's release
//! paths from Rust, on PREEMPT_RT and non-RT kernels.
//!
//! On load it prints a locktorture-style `Start of test` line with every parameter, runs its
//! self-check, and on unload prints `End of test: SUCCESS` or `End of test: FAILURE`.

use kernel::prelude::*;

pub mod bh;
pub mod local_lock_nested_bh;
mod selfcheck;
mod shim;
mod tests;

module! {
    type: Bhlock,
    name: "bhlock",
    authors: ["bhlock developers"],
    description: "BH-nested local lock and lockdep release-path tests",
    license: "GPL",
    params: {
        lock_with_bh_enabled: bool {
            default: false,
            description: "Negative control: take the nested-BH lock with BH enabled (lockdep must warn, the run must end FAILURE)",
        },
    },
}

struct Bhlock {
    baseline: selfcheck::Baseline,
    selfcheck_passed: bool,
}

impl kernel::Module for Bhlock {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let lock_with_bh_enabled = module_parameters::lock_with_bh_enabled.value();
        pr_info!(
            "Start of test: lock_with_bh_enabled={} (kernel: preempt_rt={} needs_bh_lock={} prove_locking={})\n",
            u8::from(lock_with_bh_enabled),
            u8::from(cfg!(CONFIG_PREEMPT_RT)),
            u8::from(cfg!(CONFIG_PREEMPT_RT_NEEDS_BH_LOCK)),
            u8::from(cfg!(CONFIG_PROVE_LOCKING)),
        );
        let baseline = selfcheck::Baseline::now();
        let selfcheck_passed = match selfcheck::run(lock_with_bh_enabled, &baseline) {
            Ok(()) => {
                pr_info!("selfcheck: ok\n");
                true
            }
            Err(why) => {
                pr_err!("selfcheck: FAILED: {}\n", why);
                false
            }
        };
        Ok(Bhlock {
            baseline,
            selfcheck_passed,
        })
    }
}

impl Drop for Bhlock {
    fn drop(&mut self) {
        // Whatever ran while the module was loaded (KUnit, later tests) counts too.
        let since_load = self.baseline.check();
        if let Err(why) = since_load {
            pr_err!("since load: {}\n", why);
        }
        let ok = self.selfcheck_passed && since_load.is_ok();
        pr_info!("End of test: {}\n", if ok { "SUCCESS" } else { "FAILURE" });
    }
}
