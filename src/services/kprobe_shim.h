/* SPDX-License-Identifier: GPL-2.0 */
/* A kprobe that wakes a task; declared in Rust in src/services/kprobe.rs. */
#ifndef BHLOCK_KPROBE_SHIM_H
#define BHLOCK_KPROBE_SHIM_H

#include <linux/types.h>

struct bhlock_kprobe;
struct task_struct;

struct bhlock_kprobe *bhlock_kprobe_new(const char *symbol);
void bhlock_kprobe_free(struct bhlock_kprobe *p);
void bhlock_kprobe_arm(struct bhlock_kprobe *p, struct task_struct *wake);
bool bhlock_kprobe_disarm(struct bhlock_kprobe *p);

#endif /* BHLOCK_KPROBE_SHIM_H */
