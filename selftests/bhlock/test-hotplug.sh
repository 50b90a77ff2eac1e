#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# CPU hotplug during runs. The boot has possible CPUs that never come online; a CPU
# goes offline and comes back again and again in the middle of a run; a run starts with a CPU
# offline that comes online during it; a scenario, an rmmod and load/unload cycles meet CPUs
# going and coming. Every context follows its CPU: stopped before the CPU goes, started again
# on it when it comes back, and never running on another CPU's behalf.
. "$(dirname "$0")/functions.sh"

setup_test
# A CPU leaving and coming back meets the run's contexts, whose threads (threaded timers and
# NAPI) differ with PREEMPT_RT, not with the BH lock.
gate_skip_file preempt_rt

# OFFLINE_ONLINE_CYCLES: offline/online pairs of one CPU in the middle of one run (3 at gate
# scale, a storm of 100 at soak scale).
cycles=${OFFLINE_ONLINE_CYCLES:-$(scaled 3 100)}
events=0

# cpu_list_count LIST: how many CPUs a sysfs list such as "0-3,5" names.
cpu_list_count() {
	local n=0 range
	for range in ${1//,/ }; do
		n=$((n + ${range#*-} - ${range%-*} + 1))
	done
	echo "$n"
}

read -r possible </sys/devices/system/cpu/possible
read -r online </sys/devices/system/cpu/online
[ "$(cpu_list_count "$possible")" -gt "$(cpu_list_count "$online")" ]
check hotplug.possible_cpus_offline $? \
	"possible $possible, online $online: every possible CPU is online (boot with maxcpus=)"

# The CPU to take offline: the last online one that can go (x86 cannot offline CPU 0).
cpu=
for f in /sys/devices/system/cpu/cpu[0-9]*/online; do
	[ "$(cat "$f")" = 1 ] && cpu=${f%/online} && cpu=${cpu##*/cpu}
done
[ -n "$cpu" ] || ktap_skip_all "no CPU can go offline (one vCPU, or no CONFIG_HOTPLUG_CPU)"

# set_cpu STATE: takes $cpu offline (0) or online (1); counts the event, fails if refused.
set_cpu() {
	echo "$1" >"/sys/devices/system/cpu/cpu$cpu/online" && events=$((events + 1))
}

# cpu_did CONTEXT: the count of CONTEXT on $cpu in the last read_stats.
cpu_did() {
	local n=${stat[cpu$cpu.$1]:-0/0}
	echo "${n%%/*}"
}

# all_contexts_advanced_on_cpu: every context on $cpu counted more than in the previous
# read_stats (whose counts are in $prev_counts).
all_contexts_advanced_on_cpu() {
	local context i=0 now
	read -ra prev <<<"$prev_counts"
	for context in napi hardirq softtimer threads forced; do
		now=$(cpu_did "$context")
		[ "$now" -gt "${prev[i]:-0}" ] || return 1
		i=$((i + 1))
	done
}

# advanced_within SECONDS: polls the stats until every context on $cpu has counted more than
# in $prev_counts, for at most SECONDS (a context whose CPU came back starts at once; the
# bound is for a guest slowed down by its host).
advanced_within() {
	local i
	for ((i = 0; i < $1 * 4; i++)); do
		read_stats
		all_contexts_advanced_on_cpu && return 0
		sleep 0.25
	done
	return 1
}

save_cpu_counts() {
	prev_counts="$(cpu_did napi) $(cpu_did hardirq) $(cpu_did softtimer) $(cpu_did threads) $(cpu_did forced)"
}

# run_clean: the run ended SUCCESS, no report banner, lockdep on and no new taint, and
# nothing left behind once unloaded.
run_clean() {
	logged "$mod: run 1: End of test: SUCCESS" && [ -z "$(report_banners)" ] && health_unchanged
}

# A CPU going offline and coming back in the middle of a run, again and again.
save_health
set_marker
load duration=600 nr_threads=4
refused=0
for ((i = 0; i < cycles; i++)); do
	sleep 0.$((RANDOM % 8 + 1))
	set_cpu 0 || refused=$((refused + 1))
	sleep 0.$((RANDOM % 8 + 1))
	set_cpu 1 || refused=$((refused + 1))
done
read_stats
save_cpu_counts
advanced=0
advanced_within 20 || advanced=1
echo stop >"$debugfs/control"
read_stats
[ "$refused" -eq 0 ] && [ "$advanced" -eq 0 ] &&
	[ "$(counter cpus_offlined)" -eq "$cycles" ] && [ "$(counter cpus_onlined)" -eq "$cycles" ] &&
	[ "$(counter ran_off_its_cpu)" -eq 0 ] && run_clean
check hotplug.offline_online_mid_run $? "refused $refused, contexts of cpu$cpu advanced after" \
	"the last online: $([ "$advanced" -eq 0 ] && echo yes || echo no)" "$stats" \
	"$(health_diag)" "$(report_banners)"
unload
[ -z "$(bhlock_kthreads)" ]
check hotplug.nothing_left_after_hotplug_run $? "left: $(bhlock_kthreads)"

# A run that starts with the CPU offline: nothing of the run on it until it comes online, then
# every context there.
save_health
set_cpu 0
set_marker
load duration=600
sleep 1
read_stats
save_cpu_counts
state=${stat[cpu$cpu.state]:-absent}
set_cpu 1
advanced=0
advanced_within 20 || advanced=1
echo stop >"$debugfs/control"
[ "$prev_counts" = "0 0 0 0 0" ] && [ "$state" = absent ] && [ "$advanced" -eq 0 ] &&
	[ "$(counter cpus_onlined)" -eq 1 ] && run_clean
check hotplug.cpu_onlined_mid_run $? "cpu$cpu before online: '$prev_counts', line: $state," \
	"advanced after: $advanced" "$stats" "$(health_diag)" "$(report_banners)"
unload

# A scenario with a CPU offline: every scenario case walks the CPUs that are online.
save_health
load
set_cpu 0
set_marker
refused=0
echo "scenario rt_waiter" >"$debugfs/control" || refused=1
set_cpu 1
[ "$refused" -eq 0 ] && logged "$mod: scenario rt_waiter: End of test: SUCCESS" &&
	[ -z "$(report_banners)" ] && health_unchanged
check hotplug.scenario_with_cpu_offline $? "write refused: $refused" \
	"$(log_since_marker | grep "$mod: scenario")" "$(health_diag)" "$(report_banners)"
unload

# rmmod in the middle of a run with the CPU offline, and the CPU back afterwards.
save_health
set_marker
load duration=600
sleep 1
set_cpu 0
sleep 1
unload
status=$?
set_cpu 1
[ "$status" -eq 0 ] && [ -z "$(bhlock_kthreads)" ] && [ ! -e "$debugfs" ] && run_clean
check hotplug.rmmod_with_cpu_offline $? "rmmod status $status, left: $(bhlock_kthreads)" \
	"$(health_diag)" "$(report_banners)"

# Loads, runs and unloads while the CPU goes and comes as fast as it can: a run's start and
# end race the hotplug callbacks (2 loads at gate scale, 20 at soak scale). Each load's run
# is judged from the log since its own marker: the toggling logs a few lines per event, and
# at soak scale it filled the 128 KiB log buffer past a marker set before all the loads.
save_health
toggles=$(mktemp)
(
	n=0
	while [ ! -e "$toggles.stop" ]; do
		echo 0 >"/sys/devices/system/cpu/cpu$cpu/online" && n=$((n + 1))
		echo 1 >"/sys/devices/system/cpu/cpu$cpu/online" && n=$((n + 1))
	done
	echo "$n" >"$toggles"
) &
failed=0
succeeded=0
reports=
toggled_loads=$(scaled 2 20)
for ((i = 0; i < toggled_loads; i++)); do
	set_marker
	load duration=600 || failed=$((failed + 1))
	sleep 0.$((RANDOM % 9 + 1))
	unload || failed=$((failed + 1))
	! logged "$mod: run 1: End of test: SUCCESS" || succeeded=$((succeeded + 1))
	reports+=$(report_banners)
done
touch "$toggles.stop"
wait
toggled=$(cat "$toggles")
rm -f "$toggles" "$toggles.stop"
events=$((events + toggled))
left=$(bhlock_kthreads)
[ "$failed" -eq 0 ] && [ "$toggled" -gt 0 ] && [ -z "$left" ] &&
	[ "$succeeded" -eq "$toggled_loads" ] && [ -z "$reports" ] && health_unchanged
check hotplug.load_unload_while_toggling $? "failed load/unload: $failed, hotplug events: $toggled" \
	"runs ended with SUCCESS: $succeeded of $toggled_loads, threads left: ${left:-none}" \
	"$(health_diag)" "$reports"

ktap_diag "hotplug events survived: $events (cpu$cpu; possible $possible, online at start $online)"
ktap_finished
