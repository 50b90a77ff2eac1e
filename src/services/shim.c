// SPDX-License-Identifier: GPL-2.0
/*
 * Every function here exists only because what it calls is a macro or a static
 * inline in C, which bindgen cannot bind, for the harness. Each is one call
 * and nothing more; the logic lives in Rust. The guard API has its own
 * helpers, in src/sync/helpers/.
 */
#include <linux/hardirq.h>
#include <linux/irq_work.h>
#include <linux/irqflags.h>
#include <linux/local_lock.h>
#include <linux/lockdep.h>
#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <net/hotdata.h>
#include <uapi/linux/sched/types.h>

#include "shim.h"

/*
 * Context queries for the hard-irq and softirq callbacks; all macros.
 * bhlock_irqs_disabled() reads the CPU's flag, bhlock_lockdep_irqs_enabled()
 * lockdep's shadow of it (always false without CONFIG_TRACE_IRQFLAGS).
 */
bool bhlock_in_serving_softirq(void)
{
	return in_serving_softirq();
}

bool bhlock_in_hardirq(void)
{
	return in_hardirq();
}

bool bhlock_bh_disabled(void)
{
	return softirq_count();
}

bool bhlock_irqs_disabled(void)
{
	return raw_irqs_disabled();
}

bool bhlock_lockdep_irqs_enabled(void)
{
	return lockdep_hardirqs_enabled();
}

/* The negative control's interrupt window; both macros. */
void bhlock_local_irq_enable(void)
{
	local_irq_enable();
}

void bhlock_local_irq_disable(void)
{
	local_irq_disable();
}

/*
 * raw_spinlock_t: raw_spin_lock_init(), raw_spin_lock() and raw_spin_unlock()
 * are macros whose targets depend on the configuration. Each lock gets the
 * caller's class: one static class for all would mix the hard-irq lock with
 * the process-context ones and make lockdep report a false inversion.
 */
void bhlock_raw_spin_lock_init(raw_spinlock_t *lock, const char *name,
			       struct lock_class_key *key)
{
	raw_spin_lock_init(lock);
	lockdep_set_class_and_name(lock, key, name);
}

void bhlock_raw_spin_lock(raw_spinlock_t *lock)
{
	raw_spin_lock(lock);
}

void bhlock_raw_spin_unlock(raw_spinlock_t *lock)
{
	raw_spin_unlock(lock);
}

/* The negative control of the after-release checks: a release that enables. */
void bhlock_raw_spin_unlock_irq(raw_spinlock_t *lock)
{
	raw_spin_unlock_irq(lock);
}

/*
 * A bare lockdep_map, as lock_map_acquire() users keep one: lockdep_init_map(),
 * lock_map_acquire() and lock_map_release() are macros, and compile to nothing
 * without CONFIG_LOCKDEP.
 */
void bhlock_lock_map_init(struct lockdep_map *map, const char *name,
			  struct lock_class_key *key)
{
	lockdep_init_map(map, name, key, 0);
}

void bhlock_lock_map_acquire(struct lockdep_map *map)
{
	lock_map_acquire(map);
}

void bhlock_lock_map_release(struct lockdep_map *map)
{
	lock_map_release(map);
}

/*
 * spinlock_t taken with spin_lock_bh(), which kernel::sync has no variant for;
 * spin_lock_init() and the _bh calls are macros.
 */
void bhlock_spin_lock_init(spinlock_t *lock, const char *name,
			   struct lock_class_key *key)
{
	spin_lock_init(lock);
	lockdep_set_class_and_name(lock, key, name);
}

void bhlock_spin_lock_bh(spinlock_t *lock)
{
	spin_lock_bh(lock);
}

void bhlock_spin_unlock_bh(spinlock_t *lock)
{
	spin_unlock_bh(lock);
}

/* Whether priority inheritance has boosted current; task_struct is opaque. */
bool bhlock_current_boosted(void)
{
	return current->prio < current->normal_prio;
}

/*
 * SCHED_FIFO one above the threaded interrupt handlers (MAX_RT_PRIO / 2, as
 * sched_set_fifo() gives): an interrupt thread that blocks on a lock of a
 * lower thread boosts that one to its own priority, still below this.
 * struct sched_attr (uapi) has no Rust binding.
 */
void bhlock_sched_set_fifo_above_irq_threads(struct task_struct *p)
{
	struct sched_attr attr = {
		.sched_policy = SCHED_FIFO,
		.sched_priority = MAX_RT_PRIO / 2 + 1,
	};

	WARN_ON_ONCE(sched_setattr_nocheck(p, &attr));
}

/* IRQ_WORK_INIT_HARD() is a macro; a HARD work runs in hard-irq on RT too. */
void bhlock_irq_work_init_hard(struct irq_work *work,
			       void (*func)(struct irq_work *))
{
	*work = IRQ_WORK_INIT_HARD(func);
}

/*
 * Frees an skb head from napi_skb_cache_get_bulk() that was never built into an
 * skb; net_hotdata is not in the Rust bindings.
 */
void bhlock_skb_head_free(void *head)
{
	kmem_cache_free(net_hotdata.skbuff_cache, head);
}

#ifdef CONFIG_BHLOCK_MUST_FAIL
bool bhlock_unlocked(const char *name);
#endif

/*
 * Whether resource @name has no protection in this boot: on bhlock's
 * must-fail kernel (configs/rt-nolock.patch, which protects every resource
 * bhlock probes) whether this boot removed it (bhlock_unlocked=); on every
 * other kernel, which has no such function to call, @unprotected_in_stock.
 */
bool bhlock_resource_unlocked(const char *name, bool unprotected_in_stock)
{
#ifdef CONFIG_BHLOCK_MUST_FAIL
	return bhlock_unlocked(name);
#else
	return unprotected_in_stock;
#endif
}

/*
 * Per-CPU memory of the harness's own (the busted control's unlocked caches,
 * the KUnit suite): the guard API's helpers are its own, and the harness reaches
 * nothing below that API.
 */
void __percpu *bhlock_alloc_percpu(size_t size, size_t align)
{
	return __alloc_percpu(size, align);
}

void *bhlock_per_cpu_ptr(void __percpu *ptr, unsigned int cpu)
{
	return per_cpu_ptr(ptr, cpu);
}

void *bhlock_this_cpu_ptr(void __percpu *ptr)
{
	return this_cpu_ptr(ptr);
}

/*
 * A raw local_lock_t of the harness's own (not per-CPU: the form that takes a
 * resolved lock), for the splat cases that misuse one on purpose, which the
 * guard API does not allow. Its class and name come from the caller.
 */
void bhlock_local_lock_init(local_lock_t *lock, const char *name,
			    struct lock_class_key *key)
{
	local_lock_init(lock);
	lockdep_set_class_and_name(lock, key, name);
}

void bhlock_local_unlock_nested_bh(local_lock_t *lock)
{
	__local_unlock_nested_bh(lock);
}

/* Ends a BH section that the guard API's token refused to end. */
void bhlock_local_bh_enable(void)
{
	local_bh_enable();
}
