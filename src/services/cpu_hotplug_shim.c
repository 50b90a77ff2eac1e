// SPDX-License-Identifier: GPL-2.0
/*
 * CPU hotplug for bhlock's runs. The multi-instance API is static inlines over
 * __cpuhp_setup_state() and friends, and cpuhp_setup_state_multi() casts its
 * two-argument callbacks to the one-argument type __cpuhp_setup_state()
 * declares: a cast Rust should not repeat. Each function is one call.
 */
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>

#include "cpu_hotplug_shim.h"

/*
 * A dynamic state: among the AP online states (@bp false), whose callbacks run
 * on the CPU concerned, in its hotplug thread, after it came online and before
 * it goes offline; or among the BP prepare states (@bp true), whose callbacks
 * run on the CPU driving the hotplug, before the CPU comes up and after it is
 * dead. Returns the state or an error.
 */
int bhlock_cpuhp_setup_multi(bool bp, const char *name,
			     int (*startup)(unsigned int cpu, struct hlist_node *node),
			     int (*teardown)(unsigned int cpu, struct hlist_node *node))
{
	return cpuhp_setup_state_multi(bp ? CPUHP_BP_PREPARE_DYN : CPUHP_AP_ONLINE_DYN,
				       name, startup, teardown);
}

/* Adds @node and calls the startup callback for it for every online CPU. */
int bhlock_cpuhp_add_instance(int state, struct hlist_node *node)
{
	return cpuhp_state_add_instance(state, node);
}

/* Calls the teardown callback for @node for every online CPU and removes it. */
void bhlock_cpuhp_remove_instance(int state, struct hlist_node *node)
{
	cpuhp_state_remove_instance(state, node);
}

void bhlock_cpuhp_remove_multi(int state)
{
	cpuhp_remove_multi_state(state);
}
