/* SPDX-License-Identifier: GPL-2.0 */
/* CPU hotplug wrappers for bhlock; declared in Rust in src/services/cpu_hotplug.rs. */
#ifndef BHLOCK_CPU_HOTPLUG_SHIM_H
#define BHLOCK_CPU_HOTPLUG_SHIM_H

#include <linux/types.h>

struct hlist_node;

int bhlock_cpuhp_setup_multi(bool bp, const char *name,
			     int (*startup)(unsigned int cpu, struct hlist_node *node),
			     int (*teardown)(unsigned int cpu, struct hlist_node *node));
int bhlock_cpuhp_add_instance(int state, struct hlist_node *node);
void bhlock_cpuhp_remove_instance(int state, struct hlist_node *node);
void bhlock_cpuhp_remove_multi(int state);

#endif /* BHLOCK_CPU_HOTPLUG_SHIM_H */
