#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# repeat.sh [CASE [N [LOAD...]]]: runs the scenario table's case CASE (default busted) N
# times (default 5) in this boot under each LOAD (default idle, then busyall), to show that
# its verdict does not depend on luck or on how busy the CPUs are.
# Prints KTAP: one line per LOAD, repeat.<case>.<load>.<kernel>, ok when all N runs got the
# module's verdict SUCCESS (the outcome this kernel's column of the table expects), with one
# diagnostic line per run: the verdict, the forced rounds, the lost updates and, where the
# race was caught, the time and forced round of the first cache fault.
#
# LOAD: idle (nothing else runs), busy1 (a CPU hog on the last online CPU), busyall (a hog
# on every online CPU). The hogs are SCHED_OTHER shell loops, pinned with taskset.
set -u
dir=$(cd "$(dirname "$0")" && pwd)
. "$dir/ktap.sh"
. "$dir/functions.sh"

ko=${BHLOCK_KO:-$dir/bhlock.ko}
debugfs=/sys/kernel/debug/bhlock
case_name=${1:-busted}
runs=${2:-5}
shift $(($# < 2 ? $# : 2))
[ $# -gt 0 ] || set -- idle busyall

ktap_header
require_root_and_lockdep
[ -f "$ko" ] || ktap_skip_all "no bhlock.ko (set BHLOCK_KO)"
unload_if_loaded || ktap_skip_all "bhlock is loaded and cannot be unloaded"
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
insmod "$ko" || ktap_skip_all "insmod failed"
ktap_plan $#

last_cpu=$(($(nproc) - 1))
for load in "$@"; do
	hogs=()
	case $load in
	idle) ;;
	busy1) taskset -c "$last_cpu" sh -c 'while :; do :; done' & hogs+=($!);;
	busyall)
		for ((c = 0; c <= last_cpu; c++)); do
			taskset -c "$c" sh -c 'while :; do :; done' &
			hogs+=($!)
		done;;
	*) ktap_not_ok "$(test_name "repeat.$case_name.$load")"; ktap_diag "unknown load $load"; continue;;
	esac
	passed=0 diags=()
	for ((i = 1; i <= runs; i++)); do
		set_marker
		echo "scenario $case_name" >"$debugfs/control"
		log=$(log_since_marker)
		verdict=$(sed -n "s/.*$mod: scenario $case_name: End of test: \([A-Z]*\).*/\1/p" <<<"$log")
		events=$(sed -n "s/.*$mod: events:.*\( forced_rounds=[0-9]*\).*\( forced_inside=[0-9]*\).*\( lost_updates=[0-9]*\).*/\1\2\3/p" <<<"$log")
		fault=$(sed -n "s/.*$mod: \(first cache fault .*\)/\1/p" <<<"$log")
		[ "$verdict" = SUCCESS ] && passed=$((passed + 1))
		diags+=("run $i: ${verdict:-no verdict};$events; ${fault:-no cache fault}")
	done
	[ ${#hogs[@]} -eq 0 ] || kill "${hogs[@]}" 2>/dev/null
	wait 2>/dev/null
	if [ $passed -eq "$runs" ]; then
		ktap_ok "$(test_name "repeat.$case_name.$load")"
	else
		ktap_not_ok "$(test_name "repeat.$case_name.$load")"
	fi
	ktap_diag "$case_name under $load: $passed of $runs runs as expected" "${diags[@]}"
done
rmmod "$mod"
ktap_finished
