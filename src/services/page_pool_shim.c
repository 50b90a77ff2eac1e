// SPDX-License-Identifier: GPL-2.0
/*
 * A page_pool of bhlock's own, for the page_pool probe: struct
 * page_pool_params is not in the Rust bindings, and page_pool_alloc_pages()
 * and page_to_netmem() are static inlines or take a netmem_ref.
 */
#include <linux/skbuff_ref.h>
#include <net/page_pool/helpers.h>

#include "page_pool_shim.h"

/*
 * A pool of order-0 pages, without DMA mapping, with a ring of 64, whose
 * consumer runs on @cpu (page_pool_create_percpu()): a page returned on that CPU in a BH-disabled
 * section goes straight into its lockless alloc cache where
 * page_pool_napi_local() allows it. Process context; an ERR_PTR on failure.
 */
struct page_pool *bhlock_page_pool_new(int cpu)
{
	struct page_pool_params params = {
		.order = 0,
		.pool_size = 64,
		.nid = NUMA_NO_NODE,
	};

	return page_pool_create_percpu(&params, cpu);
}

void bhlock_page_pool_destroy(struct page_pool *pool)
{
	page_pool_destroy(pool);
}

/* One page from @pool: its consumer, on its CPU, with BH disabled. */
struct page *bhlock_page_pool_alloc(struct page_pool *pool)
{
	return page_pool_alloc_pages(pool, GFP_ATOMIC | __GFP_NOWARN);
}

/*
 * Returns @page to its pool as a NAPI user frees an skb's page:
 * napi_pp_put_page(), which recycles it into the pool's alloc cache where
 * page_pool_napi_local() allows it, else into its ptr_ring.
 */
bool bhlock_page_pool_put(struct page *page)
{
	return napi_pp_put_page(page_to_netmem(page));
}
