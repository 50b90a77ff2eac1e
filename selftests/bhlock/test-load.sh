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
declare -A index class
for name in "${cases[@]}"; do
	index[$name]=$(scenario_index "$name")
	class[$name]=$(scenario_table | awk -F '\t' -v n="$name" '$1 == n { print $2 }')
done
unload
ktap_plan $((${#cases[@]} + 1))

# scenario=-1: every case that is not a splat, in table order, in one load.
set_marker
load scenario=-1 && unload
all_log=$(log_since_marker)
missing=
for name in "${cases[@]}"; do
	grep -q "$mod: scenario $name: End of test: SUCCESS" <<<"$all_log" || missing+=" $name"
done
[ -z "$missing" ] && [ ${#cases[@]} -gt 0 ]
check load.scenario_all $? "cases without an End of test: SUCCESS line:${missing:- none}" \
	"$(grep -o "$mod: scenario [a-z_0-9]*: End of test: .*" <<<"$all_log")"

first=${cases[0]:-}
last=${cases[-1]:-}
for name in "${cases[@]}"; do
	if [ "$scale" = soak ] || [ "$name" = "$first" ] || [ "$name" = "$last" ]; then
		run_case "load.${class[$name]}" "$name" "${index[$name]}"
	else
		case_result "load.${class[$name]}" "$name" \
			"$(sed -n "/$mod: scenario $name: Start of test/,/$mod: scenario $name: End of test/p" <<<"$all_log")"
	fi
done
ktap_finished
