#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# test-repeat.sh [CASE [N [LOAD...]]]: runs the scenario table's case CASE (default busted) N
# times (default 2 at gate scale, 20 at soak scale) in this boot under each LOAD (default
# idle, then busyall; at soak scale idle, busy1, busyall), to show that
# its verdict does not depend on luck or on how busy the CPUs are: repeat.CASE.LOAD.KERNEL,
# ok when all N runs got the module's verdict SUCCESS, with one diagnostic line per run (the
# verdict, the forced rounds, the lost updates, for a kernel case the probe's hits and misses
# and the buffers and packets checked, and, where the race was caught, the time and forced
# round of the first fault).
#
# LOAD: idle (nothing else runs), busy1 (a CPU hog on the last online CPU), busyall (a hog
# on every online CPU). The hogs are SCHED_OTHER shell loops, pinned with taskset.
. "$(dirname "$0")/functions.sh"

case_name=${1:-busted}
runs=${2:-$(scaled 2 20)}
shift $(($# < 2 ? $# : 2))
# shellcheck disable=SC2046 # the loads are words
[ $# -gt 0 ] || set -- $(scaled "idle busyall" "idle busy1 busyall")

# hogs LOAD: starts LOAD's CPU hogs; their PIDs in $hogs.
hogs() {
	local last_cpu=$(($(nproc) - 1)) c
	hogs=()
	case $1 in
	idle) ;;
	busy1) taskset -c "$last_cpu" sh -c 'while :; do :; done' & hogs+=($!);;
	busyall)
		for ((c = 0; c <= last_cpu; c++)); do
			taskset -c "$c" sh -c 'while :; do :; done' &
			hogs+=($!)
		done;;
	*) return 1;;
	esac
}

setup_test
[ -z "${SCENARIOS:-}" ] || [[ " $SCENARIOS " == *" $case_name "* ]] ||
	ktap_skip_all "SCENARIOS=$SCENARIOS does not select $case_name"
load || ktap_skip_all "insmod failed"
ktap_plan $#
for load in "$@"; do
	hogs "$load" || { check "repeat.$case_name.$load" 1 "unknown load $load"; continue; }
	passed=0 diags=()
	for ((i = 1; i <= runs; i++)); do
		set_marker
		echo "scenario $case_name" >"$debugfs/control"
		log=$(log_since_marker)
		verdict=$(sed -n "s/.*$mod: scenario $case_name: End of test: \([A-Z]*\).*/\1/p" <<<"$log")
		read_stats
		fault=$(sed -n "s/.*$mod: \(first cache fault .*\)/\1/p" <<<"$log")
		[ "$verdict" = SUCCESS ] && passed=$((passed + 1))
		probe=
		[ "$(counter probe_hits)$(counter probe_misses)" = 00 ] ||
			probe=" probe_hits=$(counter probe_hits) probe_misses=$(counter probe_misses) kernel_buffers=$(counter kernel_buffers) kernel_packets=$(counter kernel_packets)"
		diags+=("run $i: ${verdict:-no verdict}; forced_rounds=$(counter forced_rounds) forced_inside=$(counter forced_inside) lost_updates=$(counter lost_updates)$probe; ${fault:-no cache fault}")
	done
	[ ${#hogs[@]} -eq 0 ] || kill "${hogs[@]}" 2>/dev/null
	wait 2>/dev/null
	[ $passed -eq "$runs" ]
	check "repeat.$case_name.$load" $?
	ktap_diag "$case_name under $load: $passed of $runs runs as expected" "${diags[@]}"
done
unload
ktap_finished
