// SPDX-License-Identifier: GPL-2.0
/*
 * A dst_cache of bhlock's own and the dst entries it caches, for the
 * dst_cache probe: struct dst_cache and the dst_cache functions have no Rust
 * binding, metadata_dst_alloc() returns a struct the bindings do not have, and
 * rcuref_read() is a static inline.
 */
#include <linux/err.h>
#include <linux/slab.h>
#include <net/dst_cache.h>
#include <net/dst_metadata.h>
#include <net/route.h>

#include "dst_cache_shim.h"

/*
 * The test kernels have it through NET_IPIP (NET_IP_TUNNEL selects it); a
 * kernel without it has no dst_cache to probe.
 */
#if !IS_ENABLED(CONFIG_DST_CACHE)
#error "bhlock's dst_cache probe needs CONFIG_DST_CACHE"
#endif

/* A struct dst_cache with its per-CPU storage; process context. */
struct dst_cache *bhlock_dst_cache_new(void)
{
	struct dst_cache *cache = kzalloc(sizeof(*cache), GFP_KERNEL);
	int err;

	if (!cache)
		return ERR_PTR(-ENOMEM);
	err = dst_cache_init(cache, GFP_KERNEL);
	if (err) {
		kfree(cache);
		return ERR_PTR(err);
	}
	return cache;
}

/* Releases what @cache holds on every CPU and frees it; process context. */
void bhlock_dst_cache_free(struct dst_cache *cache)
{
	dst_cache_destroy(cache);
	kfree(cache);
}

/* dst_cache_set_ip4(): this CPU's entry becomes @dst; BH disabled. */
void bhlock_dst_cache_set(struct dst_cache *cache, struct dst_entry *dst, u32 saddr)
{
	dst_cache_set_ip4(cache, dst, (__force __be32)saddr);
}

/*
 * dst_cache_get_ip4(): this CPU's entry with a reference for the caller, and
 * its source address in @saddr, or NULL; BH disabled.
 */
struct dst_entry *bhlock_dst_cache_get(struct dst_cache *cache, u32 *saddr)
{
	__be32 addr = 0;
	struct rtable *rt = dst_cache_get_ip4(cache, &addr);

	*saddr = (__force u32)addr;
	return rt ? &rt->dst : NULL;
}

/*
 * A metadata dst (no route, no device: dst_cache only counts and stores it)
 * with one reference, the caller's; process context. NULL on failure.
 */
struct dst_entry *bhlock_dst_new(void)
{
	struct metadata_dst *md = metadata_dst_alloc(0, METADATA_IP_TUNNEL, GFP_KERNEL);

	return md ? &md->dst : NULL;
}

/* dst_hold(): takes one more reference. */
void bhlock_dst_hold(struct dst_entry *dst)
{
	dst_hold(dst);
}

/* dst_release(): drops one reference. */
void bhlock_dst_put(struct dst_entry *dst)
{
	dst_release(dst);
}

/* The references @dst has now (rcuref_read()). */
unsigned int bhlock_dst_refs(struct dst_entry *dst)
{
	return rcuref_read(&dst->__rcuref);
}
