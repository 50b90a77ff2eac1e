/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A net device whose transmit reads the tunnel key bpf_skb_set_tunnel_key()
 * gave each packet, with that program attached; declared in Rust in
 * src/services/tunnel_key.rs.
 */
#ifndef BHLOCK_TUNNEL_KEY_SHIM_H
#define BHLOCK_TUNNEL_KEY_SHIM_H

#include <linux/types.h>

struct bhlock_tunnel_dev;
union bpf_attr;

/*
 * The kernel's loader for light skeletons (kernel/bpf/syscall.c), declared
 * only in tools/lib/bpf/skel_internal.h.
 */
int kern_sys_bpf(int cmd, union bpf_attr *attr, unsigned int size);

/* What bhlock_tunnel_dev_send() saw of its packet at the device. */
enum bhlock_tunnel_seen {
	BHLOCK_TUNNEL_OWN_KEY = 0,
	BHLOCK_TUNNEL_OTHER_KEY = 1,
	BHLOCK_TUNNEL_NO_KEY = 2,	/* or the packet never reached it */
};

struct bhlock_tunnel_dev *bhlock_tunnel_dev_new(void);
void bhlock_tunnel_dev_free(struct bhlock_tunnel_dev *tdev);
int bhlock_tunnel_dev_send(struct bhlock_tunnel_dev *tdev, u32 key);

#endif /* BHLOCK_TUNNEL_KEY_SHIM_H */
