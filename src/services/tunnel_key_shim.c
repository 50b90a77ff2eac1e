// SPDX-License-Identifier: GPL-2.0
/*
 * The tunnel-key probe's device: a net device of bhlock's own, with a tc
 * program on its egress (tcx) that calls bpf_skb_set_tunnel_key() with a key
 * taken from the packet, and a transmit that checks the tunnel key the packet
 * arrives with against the one it carries. bpf_skb_set_tunnel_key() fills a
 * per-CPU metadata dst (md_dst in net/core/filter.c) and attaches it to the
 * skb by reference: the key is read from per-CPU memory at the device's
 * transmit, later in the sender's BH section, as a collect_md tunnel (vxlan,
 * geneve) reads it.
 *
 * C, not Rust: the kernel has no Rust binding for a net device's ops, for
 * struct bpf_insn or union bpf_attr. The program is loaded and attached the
 * way the kernel's light skeletons load theirs at module load
 * (kern_sys_bpf(), tools/lib/bpf/skel_internal.h), so that a run needs no
 * userspace and ends with nothing attached. Its C equivalent:
 *
 *	int set_key(struct __sk_buff *skb)
 *	{
 *		struct bpf_tunnel_key key = {};
 *		__u32 id;
 *
 *		if (bpf_skb_load_bytes(skb, ETH_HLEN, &id, sizeof(id)))
 *			return TCX_PASS;
 *		key.tunnel_id = id;
 *		key.remote_ipv4 = id;
 *		bpf_skb_set_tunnel_key(skb, &key, sizeof(key), 0);
 *		return TCX_PASS;
 *	}
 */
#include <linux/bpf.h>
#include <linux/etherdevice.h>
#include <linux/fdtable.h>
#include <linux/filter.h>
#include <linux/netdevice.h>
#include <linux/percpu.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/unaligned.h>
#include <net/dst_metadata.h>

#include "netdev_shim.h"
#include "tunnel_key_shim.h"

#if IS_ENABLED(CONFIG_BPF_SYSCALL) && IS_ENABLED(CONFIG_NET_XGRESS)
MODULE_IMPORT_NS("BPF_INTERNAL");

/* The program's struct bpf_tunnel_key, on its stack below the 4-byte key. */
#define KEY_OFF (-48)

static const struct bpf_insn bhlock_set_key_insns[] = {
	BPF_MOV64_REG(BPF_REG_6, BPF_REG_1),
	/* bpf_skb_load_bytes(skb, ETH_HLEN, fp - 4, 4) */
	BPF_MOV64_IMM(BPF_REG_2, ETH_HLEN),
	BPF_MOV64_REG(BPF_REG_3, BPF_REG_10),
	BPF_ALU64_IMM(BPF_ADD, BPF_REG_3, -4),
	BPF_MOV64_IMM(BPF_REG_4, 4),
	BPF_RAW_INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_skb_load_bytes),
	BPF_JMP_IMM(BPF_JNE, BPF_REG_0, 0, 14),
	/* key = { .tunnel_id = id, .remote_ipv4 = id }, the rest zero */
	BPF_LDX_MEM(BPF_W, BPF_REG_1, BPF_REG_10, -4),
	BPF_STX_MEM(BPF_W, BPF_REG_10, BPF_REG_1, KEY_OFF),
	BPF_STX_MEM(BPF_W, BPF_REG_10, BPF_REG_1, KEY_OFF + 4),
	BPF_ST_MEM(BPF_DW, BPF_REG_10, KEY_OFF + 8, 0),
	BPF_ST_MEM(BPF_DW, BPF_REG_10, KEY_OFF + 16, 0),
	BPF_ST_MEM(BPF_DW, BPF_REG_10, KEY_OFF + 24, 0),
	BPF_ST_MEM(BPF_DW, BPF_REG_10, KEY_OFF + 32, 0),
	BPF_ST_MEM(BPF_W, BPF_REG_10, KEY_OFF + 40, 0),
	/* bpf_skb_set_tunnel_key(skb, &key, sizeof(key), 0) */
	BPF_MOV64_REG(BPF_REG_1, BPF_REG_6),
	BPF_MOV64_REG(BPF_REG_2, BPF_REG_10),
	BPF_ALU64_IMM(BPF_ADD, BPF_REG_2, KEY_OFF),
	BPF_MOV64_IMM(BPF_REG_3, sizeof(struct bpf_tunnel_key)),
	BPF_MOV64_IMM(BPF_REG_4, 0),
	BPF_RAW_INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_skb_set_tunnel_key),
	/* the jump above lands here */
	BPF_MOV64_IMM(BPF_REG_0, TCX_PASS),
	BPF_EXIT_INSN(),
};

/* Per CPU: what the device's transmit saw. */
struct bhlock_tunnel_counts {
	unsigned long transmitted;
	unsigned long other_key;
	unsigned long no_key;
};

struct bhlock_tunnel_dev {
	struct net_device *dev;
	struct bpf_link *link;
};

static struct bhlock_tunnel_counts __percpu **counts_of(struct net_device *dev)
{
	return netdev_priv(dev);
}

static netdev_tx_t bhlock_tunnel_dev_start_xmit(struct sk_buff *skb,
						struct net_device *dev)
{
	struct bhlock_tunnel_counts __percpu *counts = *counts_of(dev);
	const struct ip_tunnel_info *info = skb_tunnel_info(skb);
	u32 key;

	this_cpu_inc(counts->transmitted);
	if (skb_copy_bits(skb, ETH_HLEN, &key, sizeof(key)) || !info)
		this_cpu_inc(counts->no_key);
	else if (be64_to_cpu(info->key.tun_id) != key ||
		 be32_to_cpu(info->key.u.ipv4.dst) != key)
		this_cpu_inc(counts->other_key);
	dev_consume_skb_any(skb);
	return NETDEV_TX_OK;
}

static const struct net_device_ops bhlock_tunnel_dev_ops = {
	.ndo_start_xmit = bhlock_tunnel_dev_start_xmit,
};

/* Loads the program and attaches it to @dev's egress; a link or an ERR_PTR. */
static struct bpf_link *bhlock_tunnel_prog_attach(struct net_device *dev)
{
	union bpf_attr attr = {};
	struct bpf_link *link;
	int prog_fd, link_fd;

	BUILD_BUG_ON(sizeof(struct bpf_tunnel_key) > -KEY_OFF - 4);
	attr.prog_type = BPF_PROG_TYPE_SCHED_CLS;
	attr.insns = (unsigned long)bhlock_set_key_insns;
	attr.insn_cnt = ARRAY_SIZE(bhlock_set_key_insns);
	attr.license = (unsigned long)"GPL";
	strscpy(attr.prog_name, "bhlock_tun_key");
	prog_fd = kern_sys_bpf(BPF_PROG_LOAD, &attr, sizeof(attr));
	if (prog_fd < 0)
		return ERR_PTR(prog_fd);

	memset(&attr, 0, sizeof(attr));
	attr.link_create.prog_fd = prog_fd;
	attr.link_create.target_ifindex = dev->ifindex;
	attr.link_create.attach_type = BPF_TCX_EGRESS;
	link_fd = kern_sys_bpf(BPF_LINK_CREATE, &attr, sizeof(attr));
	close_fd(prog_fd);
	if (link_fd < 0)
		return ERR_PTR(link_fd);
	/* The link, not its fd in the current task, keeps the program attached. */
	link = bpf_link_get_from_fd(link_fd);
	close_fd(link_fd);
	return link;
}
#else
static struct bpf_link *bhlock_tunnel_prog_attach(struct net_device *dev)
{
	pr_err("bhlock: the tunnel-key probe needs CONFIG_BPF_SYSCALL and CONFIG_NET_XGRESS\n");
	return ERR_PTR(-EOPNOTSUPP);
}
#endif

/*
 * The device, registered and up, with the program on its egress: no queue,
 * lockless transmit (several senders of one CPU get to the transmit at once),
 * and the skb's dst kept for the transmit (netif_keep_dst(), as vxlan keeps
 * it). One packet is sent first: a device whose transmit does not see the
 * key is an error. Process context, not under RTNL; an ERR_PTR on failure.
 */
struct bhlock_tunnel_dev *bhlock_tunnel_dev_new(void)
{
	struct bhlock_tunnel_counts __percpu *counts;
	struct bhlock_tunnel_dev *tdev;
	struct net_device *dev;
	int err = -ENOMEM;

	tdev = kzalloc_obj(*tdev);
	if (!tdev)
		return ERR_PTR(-ENOMEM);
	counts = alloc_percpu(struct bhlock_tunnel_counts);
	dev = alloc_netdev(sizeof(counts), "bhlock_tk%d", NET_NAME_ENUM,
			   ether_setup);
	if (!counts || !dev)
		goto free;
	*counts_of(dev) = counts;
	dev->netdev_ops = &bhlock_tunnel_dev_ops;
	dev->priv_flags |= IFF_NO_QUEUE;
	/* No neighbour discovery of its own on the device (IPv6 DAD). */
	dev->flags |= IFF_NOARP;
	dev->lltx = true;
	netif_keep_dst(dev);
	eth_hw_addr_random(dev);
	err = bhlock_netdev_register_up(dev);
	if (err)
		goto free;
	tdev->dev = dev;
	tdev->link = bhlock_tunnel_prog_attach(dev);
	if (IS_ERR(tdev->link)) {
		err = PTR_ERR(tdev->link);
		pr_err("bhlock: tunnel-key program not attached: %d\n", err);
		tdev->link = NULL;
		goto unregister;
	}
	/* Key 0: no packet of a run carries it (src/torture/tunnel_key.rs). */
	local_bh_disable();
	err = bhlock_tunnel_dev_send(tdev, 0);
	local_bh_enable();
	if (err != BHLOCK_TUNNEL_OWN_KEY) {
		pr_err("bhlock: tunnel-key device: a first packet gave %d, not its key\n",
		       err);
		err = -EIO;
		goto unregister;
	}
	return tdev;

unregister:
	bhlock_tunnel_dev_free(tdev);
	return ERR_PTR(err);
free:
	if (dev)
		free_netdev(dev);
	free_percpu(counts);
	kfree(tdev);
	return ERR_PTR(err);
}

void bhlock_tunnel_dev_free(struct bhlock_tunnel_dev *tdev)
{
	struct bhlock_tunnel_counts __percpu *counts = *counts_of(tdev->dev);

	if (tdev->link)
		bpf_link_put(tdev->link);
	/* Detaches the program if the link's release has not yet. */
	unregister_netdev(tdev->dev);
	free_netdev(tdev->dev);
	free_percpu(counts);
	kfree(tdev);
}

/*
 * Sends one packet carrying @key on @tdev's device and says what its transmit
 * saw (enum bhlock_tunnel_seen), or a negative errno. BH disabled: the
 * counters read are this CPU's, which is where the device transmits. A packet
 * that never reached the transmit (taken by something on the way) counts as
 * one without its key.
 */
int bhlock_tunnel_dev_send(struct bhlock_tunnel_dev *tdev, u32 key)
{
	struct bhlock_tunnel_counts __percpu *counts = *counts_of(tdev->dev);
	unsigned long transmitted = this_cpu_read(counts->transmitted);
	unsigned long other_key = this_cpu_read(counts->other_key);
	unsigned long no_key = this_cpu_read(counts->no_key);
	struct sk_buff *skb = alloc_skb(ETH_ZLEN, GFP_ATOMIC);
	int rc;

	if (!skb)
		return -ENOMEM;
	skb_put_zero(skb, ETH_ZLEN);
	put_unaligned(key, (u32 *)(skb->data + ETH_HLEN));
	skb->dev = tdev->dev;
	skb->protocol = htons(ETH_P_IP);
	rc = dev_queue_xmit(skb);
	if (rc)
		return rc < 0 ? rc : -EIO;
	if (this_cpu_read(counts->other_key) != other_key)
		return BHLOCK_TUNNEL_OTHER_KEY;
	if (this_cpu_read(counts->no_key) != no_key ||
	    this_cpu_read(counts->transmitted) == transmitted)
		return BHLOCK_TUNNEL_NO_KEY;
	return BHLOCK_TUNNEL_OWN_KEY;
}
