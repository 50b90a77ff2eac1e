/* SPDX-License-Identifier: GPL-2.0 */
/* A dst_cache of bhlock's own; declared in Rust in src/services/dst_cache.rs. */
#ifndef BHLOCK_DST_CACHE_SHIM_H
#define BHLOCK_DST_CACHE_SHIM_H

#include <linux/types.h>

struct dst_cache;
struct dst_entry;

struct dst_cache *bhlock_dst_cache_new(void);
void bhlock_dst_cache_free(struct dst_cache *cache);
void bhlock_dst_cache_set(struct dst_cache *cache, struct dst_entry *dst, u32 saddr);
struct dst_entry *bhlock_dst_cache_get(struct dst_cache *cache, u32 *saddr);
struct dst_entry *bhlock_dst_new(void);
void bhlock_dst_hold(struct dst_entry *dst);
void bhlock_dst_put(struct dst_entry *dst);
unsigned int bhlock_dst_refs(struct dst_entry *dst);

#endif /* BHLOCK_DST_CACHE_SHIM_H */
