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
#
# Only CPU 0 is online while the tracer is on: turning it on or off rewrites the entry of
# every C function (and a kprobe armed meanwhile rewrites them again), and with the other
# vCPU running that has killed the guest under QEMU's TCG ("Oops: int3" at a function entry
# that had just been patched, in an interrupt on the other CPU: CI's rt boot, and 1 of 2
# boots of rt on the host). Whether QEMU or the kernel is at fault was not found; with one
# CPU online nothing else runs the text being patched (8 of 8 boots of rt clean).
. "$(dirname "$0")/functions.sh"

# THREAD_SIZE on x86-64 without KASAN.
task_stack=16384
tracing=/sys/kernel/tracing

setup_test
# The deepest chains run through PREEMPT_RT's sleeping locks or not, and with the BH lock
# every BH section of them through the softirq's own lock too: each kind of kernel is
# measured.
gate_skip_file "preempt_rt bh_serialised"
is_mounted "$tracing" tracefs || mount -t tracefs none "$tracing" 2>/dev/null ||
	ktap_skip_all "cannot mount tracefs"
if [ ! -w /proc/sys/kernel/stack_tracer_enabled ] || [ ! -w "$tracing/stack_max_size" ]; then
	ktap_skip_all "no stack tracer (CONFIG_STACK_TRACER)"
fi
load || ktap_skip_all "insmod failed"
kernel_case=$(scenario_names kernel | head -n 1)
unload
ktap_plan 1

# others_offline: takes every online CPU but 0 offline, noting each in $offlined.
offlined=()
others_offline() {
	local f
	for f in /sys/devices/system/cpu/cpu[1-9]*/online; do
		[ "$(cat "$f")" = 1 ] || continue
		echo 0 >"$f" && offlined+=("$f")
	done
}
# others_back: brings back what others_offline took offline.
others_back() {
	local f
	for f in "${offlined[@]}"; do
		echo 1 >"$f"
	done
}

save_health
set_marker
others_offline
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
others_back
read -r depth <"$tracing/stack_max_size"
reports=$(report_banners)
[ "$depth" -gt 0 ] && [ "$depth" -le $((task_stack / 2)) ] && [ -z "$reports" ] && health_unchanged
check stack.max_depth $? "$reports" "$(health_diag)"
ktap_diag "stack_max_size: $depth of $task_stack bytes, CPUs taken offline meanwhile: ${#offlined[@]}" "$trace"
ktap_finished
