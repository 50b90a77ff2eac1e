// SPDX-License-Identifier: GPL-2.0
/*
 * Every function here exists only because what it calls is a macro or a static
 * inline in C, which bindgen cannot bind. Each is one call and nothing more;
 * the logic lives in Rust.
 */
#include <linux/bottom_half.h>
#include <linux/hardirq.h>
#include <linux/irqflags.h>
#include <linux/local_lock.h>
#include <linux/lockdep.h>
#include <linux/percpu.h>

#include "bhlock_shim.h"

/* local_bh_disable() and local_bh_enable() are static inlines. */
void bhlock_local_bh_disable(void)
{
	local_bh_disable();
}

void bhlock_local_bh_enable(void)
{
	local_bh_enable();
}

/*
 * The contexts local_bh_enable() accepts (it warns in hard-irq and with IRQs
 * off); in_hardirq(), in_nmi() and irqs_disabled() are macros.
 */
bool bhlock_bh_disable_allowed(void)
{
	return !in_hardirq() && !in_nmi() && !irqs_disabled();
}

/* A macro; the _func variant exists only on PREEMPT_RT with PROVE_LOCKING. */
void bhlock_lockdep_assert_in_softirq(void)
{
	lockdep_assert_in_softirq();
}

/* __alloc_percpu() is a macro since memory allocation profiling. */
void __percpu *bhlock_alloc_percpu(size_t size, size_t align)
{
	return __alloc_percpu(size, align);
}

/* this_cpu_ptr() and per_cpu_ptr() are macros. */
void *bhlock_this_cpu_ptr(void __percpu *ptr)
{
	return this_cpu_ptr(ptr);
}

void *bhlock_per_cpu_ptr(void __percpu *ptr, int cpu)
{
	return per_cpu_ptr(ptr, cpu);
}

/*
 * local_lock_init() gives every lock initialised at one call site the same
 * static class; bhlock wants a class per instance, like new_spinlock!().
 */
void bhlock_local_lock_init(local_lock_t *lock, const char *name,
			    struct lock_class_key *key)
{
	local_lock_init(lock);
	lockdep_set_class_and_name(lock, key, name);
}

/*
 * local_lock_nested_bh() resolves this_cpu_ptr() itself; the Rust guard has
 * already resolved it once, so call the macro's body on that pointer.
 */
void bhlock_local_lock_nested_bh(local_lock_t *lock)
{
	__local_lock_nested_bh(lock);
}

void bhlock_local_unlock_nested_bh(local_lock_t *lock)
{
	__local_unlock_nested_bh(lock);
}
