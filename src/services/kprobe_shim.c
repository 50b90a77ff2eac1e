// SPDX-License-Identifier: GPL-2.0
/*
 * A kprobe that wakes a task, for the kernel-resource probe: the way into the
 * middle of a kernel function's BH section. Linux 7.3 has no Rust binding for
 * kprobes, and struct kprobe is not in the Rust bindings.
 *
 * A task arms the probe on its CPU; its next hit there fires it, once, and
 * may wake another task. The pre-handler runs in the int3 exception (which
 * x86 enters like an NMI) or, once the probe is optimised, with preemption
 * disabled: no place to wake a task. It queues a hard irq_work instead, whose
 * interrupt follows as soon as the probed code runs with interrupts on again,
 * and that wakes the task.
 *
 * Registration takes the CPU hotplug lock after kprobe_mutex, so a probe is
 * made and freed outside CPU hotplug callbacks.
 */
#include <linux/irq_work.h>
#include <linux/kprobes.h>
#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/slab.h>

#include "kprobe_shim.h"

/* One CPU's arming. */
struct bhlock_kprobe_slot {
	struct irq_work wake_work;
	/* The task whose next hit on this CPU fires the probe, NULL once it has. */
	struct task_struct *armed_for;
	/* Woken after that hit, if set; a reference is held until then. */
	struct task_struct *wake;
	/* Set by that hit, for the disarm. */
	bool fired;
};

struct bhlock_kprobe {
	struct kprobe kp;
	struct bhlock_kprobe_slot __percpu *slots;
};

static void bhlock_kprobe_wake(struct irq_work *work)
{
	struct bhlock_kprobe_slot *slot =
		container_of(work, struct bhlock_kprobe_slot, wake_work);
	struct task_struct *wake = xchg(&slot->wake, NULL);

	if (wake) {
		wake_up_process(wake);
		put_task_struct(wake);
	}
}

static int bhlock_kprobe_pre(struct kprobe *kp, struct pt_regs *regs)
{
	struct bhlock_kprobe *p = container_of(kp, struct bhlock_kprobe, kp);
	struct bhlock_kprobe_slot *slot = this_cpu_ptr(p->slots);

	if (READ_ONCE(slot->armed_for) != current ||
	    cmpxchg(&slot->armed_for, current, NULL) != current)
		return 0;
	WRITE_ONCE(slot->fired, true);
	if (READ_ONCE(slot->wake))
		irq_work_queue(&slot->wake_work);
	return 0;
}

/* A disarmed probe on @symbol; an ERR_PTR if it cannot be registered. */
struct bhlock_kprobe *bhlock_kprobe_new(const char *symbol)
{
	struct bhlock_kprobe *p = kzalloc(sizeof(*p), GFP_KERNEL);
	int cpu, ret;

	if (!p)
		return ERR_PTR(-ENOMEM);
	p->slots = alloc_percpu(struct bhlock_kprobe_slot);
	if (!p->slots) {
		kfree(p);
		return ERR_PTR(-ENOMEM);
	}
	for_each_possible_cpu(cpu)
		per_cpu_ptr(p->slots, cpu)->wake_work =
			IRQ_WORK_INIT_HARD(bhlock_kprobe_wake);
	p->kp.symbol_name = symbol;
	p->kp.pre_handler = bhlock_kprobe_pre;
	ret = register_kprobe(&p->kp);
	if (ret) {
		free_percpu(p->slots);
		kfree(p);
		return ERR_PTR(ret);
	}
	return p;
}

/* Unregisters the probe (which waits for running handlers) and frees it. */
void bhlock_kprobe_free(struct bhlock_kprobe *p)
{
	int cpu;

	unregister_kprobe(&p->kp);
	for_each_possible_cpu(cpu) {
		struct bhlock_kprobe_slot *slot = per_cpu_ptr(p->slots, cpu);

		irq_work_sync(&slot->wake_work);
		if (slot->wake)
			put_task_struct(slot->wake);
	}
	free_percpu(p->slots);
	kfree(p);
}

/*
 * The current task's next hit on this CPU fires the probe, and wakes @wake
 * unless it is NULL. The task must stay on this CPU until it disarms.
 */
void bhlock_kprobe_arm(struct bhlock_kprobe *p, struct task_struct *wake)
{
	/* raw: the caller stays on this CPU, though it may be preemptible. */
	struct bhlock_kprobe_slot *slot = raw_cpu_ptr(p->slots);
	struct task_struct *old;

	old = xchg(&slot->wake, wake ? get_task_struct(wake) : NULL);
	if (old)
		put_task_struct(old);
	WRITE_ONCE(slot->fired, false);
	/* The wake and fired before the arming: the handler reads them after it. */
	smp_store_release(&slot->armed_for, current);
}

/*
 * Disarms the probe on this CPU; returns whether the current task's arming on
 * this CPU fired.
 */
bool bhlock_kprobe_disarm(struct bhlock_kprobe *p)
{
	struct bhlock_kprobe_slot *slot = raw_cpu_ptr(p->slots);
	struct task_struct *wake;

	if (xchg(&slot->armed_for, NULL) == current) {
		/* Not hit: nothing will wake the task. */
		wake = xchg(&slot->wake, NULL);
		if (wake)
			put_task_struct(wake);
		return false;
	}
	return READ_ONCE(slot->fired);
}
