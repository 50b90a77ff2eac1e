#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Cycles: CYCLES (default 6 at gate scale, 100 at soak scale) times load -> run -> unload, with random valid parameters and
# the module removed at a random moment of the run (or after a stop). Every cycle must leave
# nothing behind (module, debugfs, threads); over all of them no report, lockdep on, no new
# taint. Lockdep keeps the stack traces of every lock class a load registers, and its store
# does not shrink at unload: the cycles stop short, with a diagnostic, rather than fill it.
. "$(dirname "$0")/functions.sh"

setup_test
# Loads, runs and unloads: their threads and locks differ with PREEMPT_RT, not with the BH
# lock.
gate_skip_file preempt_rt
params_needed
cycles=${CYCLES:-$(scaled 6 100)}

# The parameters a torture run takes, with their ranges: every one but the negative controls,
# the scenario and benchmark ones (which are not runs), read from modinfo once (a program
# started per cycle and parameter would cost seconds per cycle under TCG).
declare -A range_min range_max
run_params=()
for p in $(param_names); do
	param_described "$p" 'Negative control|[Bb]enchmark|[Ss]cenario' && continue
	[ "$p" = duration ] && continue
	run_params+=("$p")
	read -r "range_min[$p]" "range_max[$p]" _ <<<"$(param_range "$p")"
done
# Except the thread count: up to 16. A few hundred threads only repeat the same code path, and
# on rt under TCG such a cycle took up to 156 s (of 700 s for 100 cycles).
((range_max[nr_threads] > 16)) && range_max[nr_threads]=16

# random_value NAME: a random value of NAME's type and range, small values as likely as large
# ones (a random shift of a random number), so both ends of a range are tried; a bool (no
# range) is 0 or 1.
random_value() {
	local min=${range_min[$1]} max=${range_max[$1]}
	if [ -z "$min" ]; then
		value=$((RANDOM % 2))
		return
	fi
	value=$((min + ((RANDOM << 15 | RANDOM) % (max - min + 1) >> (RANDOM % 24))))
}

# stack_traces: lockdep's stack-trace entries in use, and its maximum.
stack_traces() {
	local stats
	read_whole stats /proc/lockdep_stats
	[[ $stats =~ stack-trace\ entries:\ *([0-9]+)\ \[max:\ ([0-9]+)\] ]] &&
		echo "${BASH_REMATCH[1]} ${BASH_REMATCH[2]}"
}

save_health
set_marker
read -r traces_start traces_max <<<"$(stack_traces)"
dirty=
done_cycles=0
for ((c = 1; c <= cycles; c++)); do
	read -r traces _ <<<"$(stack_traces)"
	per_cycle=$(((traces - traces_start) / (done_cycles > 0 ? done_cycles : 1)))
	if ((traces + 2 * per_cycle > traces_max * 9 / 10)); then
		ktap_diag "stopped before cycle $c: lockdep's stack-trace store is at $traces of $traces_max"
		break
	fi
	params=()
	for p in "${run_params[@]}"; do
		random_value "$p"
		params+=("$p=$value")
	done
	if ! load "${params[@]}"; then
		dirty+=" $c(load failed: ${params[*]})"
		continue
	fi
	echo start >"$debugfs/control"
	# A random moment in the first second of the run, where starting and stopping meet.
	sleep "0.$((RANDOM % 10))$((RANDOM % 10))"
	((RANDOM % 2)) && echo stop >"$debugfs/control"
	unload
	left=$(bhlock_kthreads)
	if [ -e "/sys/module/$mod" ] || [ -e "$debugfs" ] || [ -n "$left" ]; then
		dirty+=" $c(left: module=$([ -e /sys/module/$mod ] && echo yes)"
		dirty+=" debugfs=$([ -e "$debugfs" ] && echo yes) threads=${left:-none})"
		unload
	fi
	done_cycles=$c
done
reports=$(report_banners)
[ "$done_cycles" -eq "$cycles" ] && [ -z "$dirty" ] && [ -z "$reports" ] && health_unchanged
check cycles.load_run_unload $? "cycles done: $done_cycles of $cycles" "${dirty:+dirty:$dirty}" \
	"$(health_diag)" "$reports"
read -r traces _ <<<"$(stack_traces)"
ktap_diag "$done_cycles cycles; lockdep stack-trace entries $traces_start -> $traces of $traces_max"

ktap_finished
