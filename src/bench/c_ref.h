/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The C references of bhlock's benchmarks (src/bench.rs): what a C user of
 * local_lock_nested_bh() writes, timed against the Rust guard in the same boot.
 */
#ifndef BHLOCK_BENCH_C_REF_H
#define BHLOCK_BENCH_C_REF_H

#include <linux/types.h>

struct lock_class_key;
struct napi_struct;
struct bhlock_ref_counter;
struct bhlock_ref_napi;

struct bhlock_ref_counter __percpu *
bhlock_ref_counter_alloc(const char *name, struct lock_class_key *key);
void bhlock_ref_counter_free(struct bhlock_ref_counter __percpu *c);
u64 bhlock_ref_counter_sum(struct bhlock_ref_counter __percpu *c);
void bhlock_ref_lock_touch_unlock(struct bhlock_ref_counter __percpu *c);
void bhlock_ref_loop_one_bh(struct bhlock_ref_counter __percpu *c, u32 n);
void bhlock_ref_loop_each_bh(struct bhlock_ref_counter __percpu *c, u32 n);

struct bhlock_ref_napi *bhlock_ref_napi_alloc(const char *name,
					      struct lock_class_key *key);
void bhlock_ref_napi_free(struct bhlock_ref_napi *ref);
int bhlock_ref_napi_poll(struct napi_struct *napi, int budget);
int bhlock_ref_napi_poll_empty(struct napi_struct *napi, int budget);
void bhlock_ref_napi_queue(struct bhlock_ref_napi *ref,
			   struct napi_struct *napi, u32 items);
u64 bhlock_ref_napi_items(struct bhlock_ref_napi *ref);
u64 bhlock_ref_napi_faults(struct bhlock_ref_napi *ref);

#endif /* BHLOCK_BENCH_C_REF_H */
