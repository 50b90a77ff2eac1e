// SPDX-License-Identifier: GPL-2.0

//! `this_cpu_ptr()` and `current` for the guard's fast path.
//!
//! Both are C macros, which Rust reaches through a helper call (unless
//! `CONFIG_RUST_INLINE_HELPERS` inlines it, which a module's helpers never are). `make bench`
//! showed those two calls to be most of what the guard costs where the C lock itself is empty.
//! On x86-64 SMP each macro is one `%gs`-relative load of an exported per-CPU variable, so that
//! is done inline here, as `arch/x86/include/asm/percpu.h` and `asm/current.h` do.
//!
//! With `CONFIG_DEBUG_PREEMPT`, C's `this_cpu_ptr()` also checks that the caller cannot migrate
//! (`raw_cpu_ptr()` is the unchecked form); the inline load would drop that check exactly on
//! the debug kernels, so there, and on every other architecture, the helper is called. The
//! KUnit case below compares both ways.

use super::bindings;
use kernel::{ffi::c_void, prelude::*};

/// `this_cpu_ptr(ptr)` for a per-CPU pointer `ptr`.
///
/// The result is the copy of the CPU the caller runs on when it reads; it stays that CPU's
/// copy only while the caller cannot migrate (BH or preemption disabled).
#[inline(always)]
pub(crate) fn this_cpu_ptr(ptr: *mut c_void) -> *mut c_void {
    #[cfg(all(CONFIG_X86_64, not(CONFIG_UML), CONFIG_SMP, not(CONFIG_DEBUG_PREEMPT)))]
    {
        let offset: usize;
        // SAFETY: `this_cpu_off` is an exported per-CPU `unsigned long` holding this CPU's
        // per-CPU offset; a `%gs`-relative load reads this CPU's copy, exactly as
        // `raw_cpu_read_long(this_cpu_off)` does in `arch_raw_cpu_ptr()`. It writes nothing.
        unsafe {
            core::arch::asm!(
                "mov {offset}, qword ptr gs:[rip + {this_cpu_off}]",
                offset = out(reg) offset,
                this_cpu_off = sym bindings::this_cpu_off,
                options(nostack, preserves_flags, readonly),
            )
        };
        ptr.wrapping_byte_add(offset)
    }
    #[cfg(not(all(CONFIG_X86_64, not(CONFIG_UML), CONFIG_SMP, not(CONFIG_DEBUG_PREEMPT))))]
    {
        // SAFETY: The pointer is only computed; with `CONFIG_DEBUG_PREEMPT` the helper warns if
        // the caller could migrate.
        unsafe { bindings::this_cpu_ptr(ptr) }
    }
}

/// `current`: the task running this code.
#[inline(always)]
pub(crate) fn current() -> *mut bindings::task_struct {
    #[cfg(all(CONFIG_X86_64, not(CONFIG_UML), CONFIG_SMP))]
    {
        let task: *mut bindings::task_struct;
        // SAFETY: `current_task` is an exported per-CPU pointer to the task running on that CPU;
        // a `%gs`-relative load reads it for the running task, as `get_current()` does. It
        // writes nothing.
        unsafe {
            core::arch::asm!(
                "mov {task}, qword ptr gs:[rip + {current_task}]",
                task = out(reg) task,
                current_task = sym bindings::current_task,
                options(nostack, preserves_flags, readonly),
            )
        };
        task
    }
    #[cfg(not(all(CONFIG_X86_64, not(CONFIG_UML), CONFIG_SMP)))]
    {
        kernel::task::Task::current_raw()
    }
}

#[kunit_tests(bhlock_local_lock_nested_bh_this_cpu)]
mod tests {
    use super::{bindings, current, this_cpu_ptr};
    use kernel::{interrupt::local_interrupt_disable, prelude::*, task::Task};

    /// The inline reads give what the C macros give.
    #[test]
    fn reads_match_the_c_macros() -> Result {
        // SAFETY: A power-of-two alignment; freed below.
        let percpu = unsafe { bindings::__alloc_percpu(8, 8) };
        if percpu.is_null() {
            return Err(ENOMEM);
        }
        {
            // Interrupts off: both reads are of one CPU, and the C macro's preemption check
            // (`CONFIG_DEBUG_PREEMPT`) is satisfied.
            let _irqs = local_interrupt_disable();
            // SAFETY: `percpu` is a live per-CPU allocation; this task cannot migrate.
            let c = unsafe { bindings::this_cpu_ptr(percpu) };
            assert_eq!(this_cpu_ptr(percpu), c);
            assert_eq!(current(), Task::current_raw());
        }
        // SAFETY: Allocated above and no longer used.
        unsafe { bindings::free_percpu(percpu) };
        Ok(())
    }
}
