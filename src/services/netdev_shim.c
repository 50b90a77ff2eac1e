// SPDX-License-Identifier: GPL-2.0
/*
 * NAPI for bhlock's Rust consumer. struct napi_struct is opaque to Rust (its
 * layout is not in the bindings), so its storage lives here; netif_napi_add*(),
 * netif_napi_del() and napi_schedule() are static inlines. The exported
 * functions that need no wrapper (alloc_netdev_dummy(), napi_enable(), ...)
 * are declared in src/napi_sys.rs instead.
 */
#include <linux/netdevice.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "netdev_shim.h"

/* A NAPI context and the Rust object its poll works for. */
struct bhlock_napi {
	struct napi_struct napi;
	void *owner;
};

struct napi_struct *bhlock_napi_add(struct net_device *dev,
				    int (*poll)(struct napi_struct *, int),
				    int weight, void *owner)
{
	struct bhlock_napi *n = kzalloc(sizeof(*n), GFP_KERNEL);

	if (!n)
		return NULL;
	n->owner = owner;
	netif_napi_add_weight(dev, &n->napi, poll, weight);
	return &n->napi;
}

void *bhlock_napi_owner(struct napi_struct *napi)
{
	return container_of(napi, struct bhlock_napi, napi)->owner;
}

void bhlock_napi_del(struct napi_struct *napi)
{
	netif_napi_del(napi);
	kfree(container_of(napi, struct bhlock_napi, napi));
}

bool bhlock_napi_schedule(struct napi_struct *napi)
{
	return napi_schedule(napi);
}

/* dev_set_threaded() takes an enum whose values are not in the bindings. */
int bhlock_netdev_set_threaded(struct net_device *dev, bool threaded)
{
	return dev_set_threaded(dev, threaded ? NETDEV_NAPI_THREADED_ENABLED :
						NETDEV_NAPI_THREADED_DISABLED);
}

/*
 * For the waiter scenario: the NAPI thread of @napi, bound to @cpu and made
 * SCHED_FIFO, so that it preempts a BH-disabled holder there at once.
 * napi->thread is in the opaque struct.
 */
int bhlock_napi_thread_pin_fifo(struct napi_struct *napi, int cpu)
{
	if (!napi->thread)
		return -ENOENT;
	sched_set_fifo_low(napi->thread);
	return set_cpus_allowed_ptr(napi->thread, cpumask_of(cpu));
}
