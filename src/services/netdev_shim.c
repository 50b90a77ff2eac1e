// SPDX-License-Identifier: GPL-2.0
/*
 * NAPI for bhlock's Rust consumer. struct napi_struct is opaque to Rust (its
 * layout is not in the bindings), so its storage lives here; netif_napi_add*(),
 * netif_napi_del() and napi_schedule() are static inlines. The exported
 * functions that need no wrapper (alloc_netdev_dummy(), napi_enable(), ...)
 * are declared in src/services/netdev.rs instead.
 *
 * And a transmit device for the transmit-lock probe: the kernel has no Rust
 * binding for a net device's ops, and struct net_device is opaque to Rust.
 */
#include <linux/etherdevice.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/skbuff.h>
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

static netdev_tx_t bhlock_xmit_dev_start_xmit(struct sk_buff *skb,
					      struct net_device *dev)
{
	dev_consume_skb_any(skb);
	return NETDEV_TX_OK;
}

static const struct net_device_ops bhlock_xmit_dev_ops = {
	.ndo_start_xmit = bhlock_xmit_dev_start_xmit,
};

/*
 * Registers @dev and brings it up, or undoes the registration: 0 or an
 * errno. Process context, not under RTNL.
 */
int bhlock_netdev_register_up(struct net_device *dev)
{
	int err;

	rtnl_lock();
	err = register_netdevice(dev);
	if (!err) {
		err = dev_open(dev, NULL);
		if (err)
			unregister_netdevice(dev);
	}
	rtnl_unlock();
	return err;
}

/*
 * A registered net device that is up, has no queue (noqueue: IFF_NO_QUEUE)
 * and takes its transmit queue's lock around ndo_start_xmit (not LLTX), so
 * that __dev_queue_xmit() checks netif_tx_owned() for every packet sent on it.
 * It takes every packet. Process context; an ERR_PTR on failure.
 */
struct net_device *bhlock_xmit_dev_new(void)
{
	struct net_device *dev;
	int err;

	dev = alloc_netdev(0, "bhlock%d",
			   NET_NAME_ENUM, ether_setup);
	if (!dev)
		return ERR_PTR(-ENOMEM);
	dev->netdev_ops = &bhlock_xmit_dev_ops;
	dev->priv_flags |= IFF_NO_QUEUE;
	eth_hw_addr_random(dev);
	err = bhlock_netdev_register_up(dev);
	if (err) {
		free_netdev(dev);
		return ERR_PTR(err);
	}
	return dev;
}

void bhlock_xmit_dev_free(struct net_device *dev)
{
	unregister_netdev(dev);
	free_netdev(dev);
}

/*
 * Sends one minimal packet on @dev: dev_queue_xmit()'s result, 0 when the
 * device took it. Any context that may transmit (BH may be disabled).
 */
int bhlock_xmit_dev_send(struct net_device *dev)
{
	struct sk_buff *skb = alloc_skb(ETH_ZLEN, GFP_ATOMIC);

	if (!skb)
		return -ENOMEM;
	skb_put_zero(skb, ETH_ZLEN);
	skb->dev = dev;
	skb->protocol = htons(ETH_P_IP);
	return dev_queue_xmit(skb);
}
