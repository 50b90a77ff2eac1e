// SPDX-License-Identifier: GPL-2.0
/*
 * The C references of bhlock's benchmarks. Unlike src/services/shim.c this is not a
 * wrapper: it is the code a C user of local_lock_nested_bh() would write, doing
 * what the Rust side does, so that src/bench/mod.rs can time both in one boot.
 *
 * - bhlock_ref_lock_touch_unlock() is the fast path the Rust guard is compared
 *   with, instruction for instruction (scripts/bench.sh disassembles both);
 * - bhlock_ref_napi_poll() is the Rust consumer's poll (src/torture/napi.rs) in C: the
 *   same per-CPU cache (src/torture/item_cache.rs), checked and sent round in batches
 *   of at most 16 under the nested-BH lock, with the same counters;
 *   bhlock_ref_napi_poll_empty() is that poll without the rounds: what a poll costs
 *   in the NAPI core and in its own bookkeeping.
 */
#include <linux/atomic.h>
#include <linux/bottom_half.h>
#include <linux/local_lock.h>
#include <linux/lockdep.h>
#include <linux/minmax.h>
#include <linux/netdevice.h>
#include <linux/percpu.h>
#include <linux/preempt.h>
#include <linux/slab.h>

#include "c_ref.h"
#include "../services/netdev_shim.h"

struct bhlock_ref_counter {
	local_lock_t lock;
	u64 touched;
};

struct bhlock_ref_counter __percpu *
bhlock_ref_counter_alloc(const char *name, struct lock_class_key *key)
{
	struct bhlock_ref_counter __percpu *c = alloc_percpu(typeof(*c));
	int cpu;

	if (!c)
		return NULL;
	for_each_possible_cpu(cpu) {
		local_lock_init(per_cpu_ptr(&c->lock, cpu));
		lockdep_set_class_and_name(per_cpu_ptr(&c->lock, cpu), key, name);
	}
	return c;
}

void bhlock_ref_counter_free(struct bhlock_ref_counter __percpu *c)
{
	free_percpu(c);
}

u64 bhlock_ref_counter_sum(struct bhlock_ref_counter __percpu *c)
{
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += per_cpu_ptr(c, cpu)->touched;
	return sum;
}

/* Out of line, as the Rust one, so that both can be timed and disassembled. */
noinline void bhlock_ref_lock_touch_unlock(struct bhlock_ref_counter __percpu *c)
{
	local_lock_nested_bh(&c->lock);
	this_cpu_ptr(c)->touched++;
	local_unlock_nested_bh(&c->lock);
}

void bhlock_ref_loop_one_bh(struct bhlock_ref_counter __percpu *c, u32 n)
{
	local_bh_disable();
	while (n--)
		bhlock_ref_lock_touch_unlock(c);
	local_bh_enable();
}

void bhlock_ref_loop_each_bh(struct bhlock_ref_counter __percpu *c, u32 n)
{
	while (n--) {
		local_bh_disable();
		bhlock_ref_lock_touch_unlock(c);
		local_bh_enable();
	}
}

/* src/torture/item_cache.rs, field for field. */
#define REF_CACHE_SIZE 64
#define REF_MAX_ROUND 16
#define REF_HEAD_CANARY 0xb41c0c4c4e5a11feULL
#define REF_TAIL_CANARY 0x7a110c4c4e5a11feULL
#define REF_BUFFER_CANARY 0x0b0ffe70ca4a4b1eULL

struct ref_buffer {
	u64 canary;
	u32 owner;
	u64 payload;
};

struct ref_cache {
	u64 head_canary;
	size_t count;
	u64 rounds;
	u8 stack[REF_CACHE_SIZE];
	struct ref_buffer buffers[REF_CACHE_SIZE];
	u64 tail_canary;
};

struct ref_cache_pcpu {
	local_lock_t lock;
	struct ref_cache cache;
};

struct bhlock_ref_napi {
	struct ref_cache_pcpu __percpu *caches;
	atomic_t pending;
	atomic64_t polls_started;
	atomic64_t softirq_polls;
	atomic64_t thread_polls;
	atomic64_t not_in_bh;
	atomic64_t ops;
	atomic64_t items;
	atomic64_t budget_exhausted;
	atomic64_t faults;
};

static void ref_cache_init(struct ref_cache *c)
{
	int i;

	c->head_canary = REF_HEAD_CANARY;
	c->tail_canary = REF_TAIL_CANARY;
	c->count = REF_CACHE_SIZE;
	c->rounds = 0;
	for (i = 0; i < REF_CACHE_SIZE; i++) {
		c->stack[i] = i;
		c->buffers[i].canary = REF_BUFFER_CANARY;
		c->buffers[i].owner = 0;
		c->buffers[i].payload = 0;
	}
}

/* ItemCache::check(). */
static bool ref_cache_ok(const struct ref_cache *c)
{
	u64 seen = 0;
	size_t i, free = 0;

	if (c->head_canary != REF_HEAD_CANARY ||
	    c->tail_canary != REF_TAIL_CANARY || c->count > REF_CACHE_SIZE)
		return false;
	for (i = 0; i < c->count; i++) {
		unsigned int index = c->stack[i];

		if (index >= REF_CACHE_SIZE || seen & BIT_ULL(index) ||
		    c->buffers[index].owner)
			return false;
		seen |= BIT_ULL(index);
	}
	for (i = 0; i < REF_CACHE_SIZE; i++) {
		if (c->buffers[i].canary != REF_BUFFER_CANARY)
			return false;
		free += !c->buffers[i].owner;
	}
	return free == c->count;
}

/* ItemCache::round(): pop n, tag and write them, push them back in reverse. */
static bool ref_cache_round(struct ref_cache *c, unsigned int n, u32 tag)
{
	u64 entered = c->rounds;
	u8 held[REF_MAX_ROUND];
	unsigned int taken = 0;
	bool ok = true;

	tag = max(tag, 1U);
	n = min(n, REF_MAX_ROUND);
	while (taken < n) {
		struct ref_buffer *b;
		u8 index;

		if (!c->count || c->count > REF_CACHE_SIZE)
			return false;
		index = c->stack[--c->count];
		if (index >= REF_CACHE_SIZE)
			return false;
		b = &c->buffers[index];
		ok &= !b->owner;
		b->owner = tag;
		b->payload = (u64)tag << 32 | index;
		held[taken++] = index;
	}
	while (taken--) {
		struct ref_buffer *b = &c->buffers[held[taken]];

		ok &= b->owner == tag && b->payload == ((u64)tag << 32 | held[taken]);
		b->owner = 0;
		if (c->count >= REF_CACHE_SIZE) {
			ok = false;
			continue;
		}
		c->stack[c->count++] = held[taken];
	}
	ok &= c->rounds == entered;
	c->rounds = entered + 1;
	return ok;
}

struct bhlock_ref_napi *bhlock_ref_napi_alloc(const char *name,
					      struct lock_class_key *key)
{
	struct bhlock_ref_napi *ref = kzalloc(sizeof(*ref), GFP_KERNEL);
	int cpu;

	if (!ref)
		return NULL;
	ref->caches = alloc_percpu(struct ref_cache_pcpu);
	if (!ref->caches) {
		kfree(ref);
		return NULL;
	}
	for_each_possible_cpu(cpu) {
		struct ref_cache_pcpu *p = per_cpu_ptr(ref->caches, cpu);

		local_lock_init(&p->lock);
		lockdep_set_class_and_name(&p->lock, key, name);
		ref_cache_init(&p->cache);
	}
	return ref;
}

void bhlock_ref_napi_free(struct bhlock_ref_napi *ref)
{
	free_percpu(ref->caches);
	kfree(ref);
}

/*
 * src/torture/napi.rs poll(), with the locked round and Core::work_on() inlined; without
 * the rounds (@rounds false) it is the empty poll, whose cost per item the benchmark
 * subtracts to give each poll's own.
 */
static __always_inline int ref_napi_poll(struct napi_struct *napi, int budget,
					 bool rounds)
{
	struct bhlock_ref_napi *ref = bhlock_napi_owner(napi);
	unsigned int work, done = 0;

	atomic64_inc(&ref->polls_started);
	if (budget < 0)
		return 0;
	atomic64_inc(in_serving_softirq() ? &ref->softirq_polls :
					    &ref->thread_polls);
	if (!softirq_count()) {
		atomic64_inc(&ref->not_in_bh);
		return 0;
	}
	work = min_t(unsigned int, atomic_read(&ref->pending), budget);
	while (rounds && done < work) {
		unsigned int n = min(work - done, REF_MAX_ROUND);
		struct ref_cache *c;

		local_lock_nested_bh(&ref->caches->lock);
		c = &this_cpu_ptr(ref->caches)->cache;
		if (!ref_cache_ok(c) ||
		    !ref_cache_round(c, n, 0x4e000000 | done)) {
			atomic64_inc(&ref->faults);
			ref_cache_init(c);
		}
		atomic64_inc(&ref->ops);
		local_unlock_nested_bh(&ref->caches->lock);
		done += n;
	}
	atomic_sub(work, &ref->pending);
	atomic64_add(work, &ref->items);
	if (work < budget)
		napi_complete_done(napi, work);
	else
		atomic64_inc(&ref->budget_exhausted);
	return work;
}

int bhlock_ref_napi_poll(struct napi_struct *napi, int budget)
{
	return ref_napi_poll(napi, budget, true);
}

int bhlock_ref_napi_poll_empty(struct napi_struct *napi, int budget)
{
	return ref_napi_poll(napi, budget, false);
}

void bhlock_ref_napi_queue(struct bhlock_ref_napi *ref,
			   struct napi_struct *napi, u32 items)
{
	atomic_add(items, &ref->pending);
	napi_schedule(napi);
}

u64 bhlock_ref_napi_items(struct bhlock_ref_napi *ref)
{
	return atomic64_read(&ref->items);
}

u64 bhlock_ref_napi_faults(struct bhlock_ref_napi *ref)
{
	return atomic64_read(&ref->faults);
}
