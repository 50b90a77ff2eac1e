#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The deepest kernel stack bhlock's paths reach, measured by the kernel's stack tracer
# (CONFIG_STACK_TRACER): enabled around a load that runs a case at load (`scenario=1`, the
# path that once overflowed the stack), a case through debugfs, a kernel-resource case where
# the table has one, and a run with every context; then stack.max_depth.KERNEL is ok when the
# deepest stack seen stays within half the task stack. The diagnostics give the depth and
# the deepest call chain (/sys/kernel/tracing/stack_trace), whatever the verdict.
#
# The tracer hooks every C function (Rust functions have no hook: their frames count at the
# next C function they call) and costs nothing while it is off.
. "$(dirname "$0")/functions.sh"

# THREAD_SIZE on x86-64 without KASAN.
task_stack=16384
tracing=/sys/kernel/tracing

setup_test
mountpoint -q "$tracing" || mount -t tracefs none "$tracing" 2>/dev/null ||
	ktap_skip_all "cannot mount tracefs"
if [ ! -w /proc/sys/kernel/stack_tracer_enabled ] || [ ! -w "$tracing/stack_max_size" ]; then
	ktap_skip_all "no stack tracer (CONFIG_STACK_TRACER)"
fi
load || ktap_skip_all "insmod failed"
kernel_case=$(scenario_names kernel | head -n 1)
unload
ktap_plan 1

save_health
set_marker
echo 0 >"$tracing/stack_max_size"
echo 1 >/proc/sys/kernel/stack_tracer_enabled
load
echo "scenario $(scenario_table | awk -F '\t' '$2 == "scenario" { print $1; exit }')" >"$debugfs/control"
[ -z "$kernel_case" ] || echo "scenario $kernel_case" >"$debugfs/control"
echo start >"$debugfs/control"
sleep 1
echo stop >"$debugfs/control"
unload
# The load that once overflowed, last: the chain is read while the module is loaded, so that
# its frames have names (a reload of the same module lands at the same addresses, most often).
load scenario=1
echo 0 >/proc/sys/kernel/stack_tracer_enabled
trace=$(sed 's/^/    /' "$tracing/stack_trace")
unload
read -r depth <"$tracing/stack_max_size"
reports=$(report_banners)
[ "$depth" -gt 0 ] && [ "$depth" -le $((task_stack / 2)) ] && [ -z "$reports" ] && health_unchanged
check stack.max_depth $? "$reports" "$(health_diag)"
ktap_diag "stack_max_size: $depth of $task_stack bytes" "$trace"
ktap_finished
