/* SPDX-License-Identifier: GPL-2.0 */
/* A page_pool of bhlock's own; declared in Rust in src/services/page_pool.rs. */
#ifndef BHLOCK_PAGE_POOL_SHIM_H
#define BHLOCK_PAGE_POOL_SHIM_H

#include <linux/types.h>

struct page;
struct page_pool;

struct page_pool *bhlock_page_pool_new(int cpu);
void bhlock_page_pool_destroy(struct page_pool *pool);
struct page *bhlock_page_pool_alloc(struct page_pool *pool);
bool bhlock_page_pool_put(struct page *page);

#endif /* BHLOCK_PAGE_POOL_SHIM_H */
