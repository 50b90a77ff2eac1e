/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAPI wrappers for bhlock's Rust consumer, and a transmit device for the
 * transmit-lock probe; declared in Rust in src/services/netdev.rs.
 */
#ifndef BHLOCK_NETDEV_SHIM_H
#define BHLOCK_NETDEV_SHIM_H

#include <linux/types.h>

struct napi_struct;
struct net_device;
struct sk_buff;

struct napi_struct *bhlock_napi_add(struct net_device *dev,
				    int (*poll)(struct napi_struct *, int),
				    int weight, void *owner);
void *bhlock_napi_owner(struct napi_struct *napi);
void bhlock_napi_del(struct napi_struct *napi);
bool bhlock_napi_schedule(struct napi_struct *napi);
int bhlock_netdev_set_threaded(struct net_device *dev, bool threaded);
int bhlock_napi_thread_pin_fifo(struct napi_struct *napi, int cpu);

int bhlock_netdev_register_up(struct net_device *dev);
struct net_device *bhlock_xmit_dev_new(void);
void bhlock_xmit_dev_free(struct net_device *dev);
int bhlock_xmit_dev_send(struct net_device *dev);

#endif /* BHLOCK_NETDEV_SHIM_H */
