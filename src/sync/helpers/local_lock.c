// SPDX-License-Identifier: GPL-2.0

#include <linux/local_lock.h>
#include <linux/percpu.h>

/*
 * local_lock_init() gives every lock initialised at one call site one static
 * class; a Rust lock takes its class from its caller, as __spin_lock_init()
 * does for spinlock_t.
 */
__rust_helper void rust_helper_local_lock_init_class(local_lock_t *lock,
						     const char *name,
						     struct lock_class_key *key)
{
	local_lock_init(lock);
	lockdep_set_class_and_name(lock, key, name);
}

/*
 * The forms that take a lock already resolved with this_cpu_ptr(): Rust
 * resolves it once, to reach the data next to the lock as well.
 */
__rust_helper void rust_helper___local_lock_nested_bh(local_lock_t *lock)
{
	__local_lock_nested_bh(lock);
}

__rust_helper void rust_helper___local_unlock_nested_bh(local_lock_t *lock)
{
	__local_unlock_nested_bh(lock);
}

/*
 * The per-CPU storage of a nested-BH lock and its data. Kept here, with the
 * lock, rather than in a rust/helpers/percpu.c of their own: the per-CPU
 * series (Mitchell Levy, "rust: Add Per-CPU Variable API") adds that file;
 * whichever lands second drops its copies of these. __alloc_percpu() is a
 * macro since memory allocation profiling (alloc_hooks()).
 */
__rust_helper void __percpu *rust_helper___alloc_percpu(size_t size,
							size_t align)
{
	return __alloc_percpu(size, align);
}

__rust_helper void *rust_helper_per_cpu_ptr(void __percpu *ptr,
					    unsigned int cpu)
{
	return per_cpu_ptr(ptr, cpu);
}

__rust_helper void *rust_helper_this_cpu_ptr(void __percpu *ptr)
{
	return this_cpu_ptr(ptr);
}
