/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The C half of bhlock: wrappers for kernel macros and static inline functions
 * that have no Rust binding. Declared in Rust in src/shim.rs.
 */
#ifndef BHLOCK_SHIM_H
#define BHLOCK_SHIM_H

#include <linux/compiler_types.h>
#include <linux/local_lock.h>
#include <linux/spinlock_types.h>
#include <linux/types.h>

struct irq_work;
struct lock_class_key;
struct lockdep_map;

bool bhlock_in_serving_softirq(void);
bool bhlock_in_hardirq(void);
bool bhlock_bh_disabled(void);
bool bhlock_irqs_disabled(void);
bool bhlock_lockdep_irqs_enabled(void);
void bhlock_local_irq_enable(void);
void bhlock_local_irq_disable(void);

void bhlock_raw_spin_lock_init(raw_spinlock_t *lock, const char *name,
			       struct lock_class_key *key);
void bhlock_raw_spin_lock(raw_spinlock_t *lock);
void bhlock_raw_spin_unlock(raw_spinlock_t *lock);
void bhlock_raw_spin_unlock_irq(raw_spinlock_t *lock);

void bhlock_spin_lock_init(spinlock_t *lock, const char *name,
			   struct lock_class_key *key);
void bhlock_spin_lock_bh(spinlock_t *lock);
void bhlock_spin_unlock_bh(spinlock_t *lock);
bool bhlock_current_boosted(void);
void bhlock_sched_set_fifo_above_irq_threads(struct task_struct *p);

void bhlock_lock_map_init(struct lockdep_map *map, const char *name,
			  struct lock_class_key *key);
void bhlock_lock_map_acquire(struct lockdep_map *map);
void bhlock_lock_map_release(struct lockdep_map *map);

void bhlock_irq_work_init_hard(struct irq_work *work,
			       void (*func)(struct irq_work *));

void bhlock_skb_head_free(void *head);

bool bhlock_resource_unlocked(const char *name, bool unprotected_in_stock);

void __percpu *bhlock_alloc_percpu(size_t size, size_t align);
void *bhlock_per_cpu_ptr(void __percpu *ptr, unsigned int cpu);
void *bhlock_this_cpu_ptr(void __percpu *ptr);

void bhlock_local_lock_init(local_lock_t *lock, const char *name,
			    struct lock_class_key *key);
void bhlock_local_unlock_nested_bh(local_lock_t *lock);
void bhlock_local_bh_enable(void);

#endif /* BHLOCK_SHIM_H */
