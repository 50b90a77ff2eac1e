/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The C half of bhlock: wrappers for kernel macros and static inline functions
 * that have no Rust binding. Declared in Rust in src/shim.rs.
 */
#ifndef BHLOCK_SHIM_H
#define BHLOCK_SHIM_H

#include <linux/compiler_types.h>
#include <linux/local_lock.h>
#include <linux/types.h>

struct lock_class_key;

void bhlock_local_bh_disable(void);
void bhlock_local_bh_enable(void);
bool bhlock_bh_disable_allowed(void);
void bhlock_lockdep_assert_in_softirq(void);

void __percpu *bhlock_alloc_percpu(size_t size, size_t align);
void *bhlock_this_cpu_ptr(void __percpu *ptr);
void *bhlock_per_cpu_ptr(void __percpu *ptr, int cpu);

void bhlock_local_lock_init(local_lock_t *lock, const char *name,
			    struct lock_class_key *key);
void bhlock_local_lock_nested_bh(local_lock_t *lock);
void bhlock_local_unlock_nested_bh(local_lock_t *lock);

#endif /* BHLOCK_SHIM_H */
