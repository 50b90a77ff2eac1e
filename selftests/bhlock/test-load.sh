#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Every case of the module's scenario table that is not a splat, run at load the two ways a
# user runs cases at load: all of them at once, `insmod bhlock.ko scenario=-1`
# (load.scenario_all.KERNEL), and one at a time, `insmod bhlock.ko scenario=N`
# (load.CLASS.NAME.KERNEL). The module judges each case as it does through debugfs (run_case
# in functions.sh); the splat cases are run at load by test-splat.sh, each in a boot of its
# own.
#
# The two ways differ only in how the load picks its cases, so at gate size a load of its own
# is given to the first and the last case of the table (the ends of N's range) and every other
# case's result is its verdict in the scenario=-1 load; at soak size every case has a load of
# its own. And at gate size this file runs on one kernel of the matrix only: each case's
# verdict on every kernel comes from test-scenarios.sh and test-kernel.sh, which run every
# case of the table through debugfs in the same boot, and what this file adds, the way a load
# picks and runs its cases, depends on no property of the kernel.
#
# SCENARIOS: space-separated names, run only these (default: all).
. "$(dirname "$0")/functions.sh"

setup_test
gate_skip_file "" "each case's verdict on this kernel comes from test-scenarios.sh and test-kernel.sh; what this file adds is the way a load picks and runs its cases"
load || ktap_skip_all "insmod failed"
mapfile -t cases < <(scenario_names scenario; scenario_names kernel)
# Each case's line in the table (its scenario=N) and class, in one pass (an awk and two forks
# per case had cost about half a second each under TCG).
scenario_cases
unload
ktap_plan $((${#cases[@]} + 1))

# scenario=-1: every case that is not a splat, in table order, in one load.
set_marker
load scenario=-1 && unload
all_log=$(log_since_marker)
# Each case's lines of that load, from its Start of test to its End of test.
declare -A case_log
current=
while IFS= read -r line; do
	[[ $line =~ $mod:\ scenario\ ([a-z_0-9]+):\ Start\ of\ test ]] && current=${BASH_REMATCH[1]}
	[ -z "$current" ] || case_log[$current]+=$line$'\n'
	[[ -z $current || $line != *"$mod: scenario $current: End of test"* ]] || current=
done <<<"$all_log"
missing=
for name in "${cases[@]}"; do
	[[ ${case_log[$name]:-} == *"$mod: scenario $name: End of test: SUCCESS"* ]] || missing+=" $name"
done
[ -z "$missing" ] && [ ${#cases[@]} -gt 0 ]
check load.scenario_all $? "cases without an End of test: SUCCESS line:${missing:- none}" \
	"$(grep -o "$mod: scenario [a-z_0-9]*: End of test: .*" <<<"$all_log")"

first=${cases[0]:-}
last=${cases[-1]:-}
for name in "${cases[@]}"; do
	if [ "$scale" = soak ] || [ "$name" = "$first" ] || [ "$name" = "$last" ]; then
		run_case "load.${case_class[$name]}" "$name" "${case_index[$name]}"
	else
		case_result "load.${case_class[$name]}" "$name" "${case_log[$name]:-}"
	fi
done
ktap_finished
