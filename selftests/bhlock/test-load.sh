#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Every case of the module's scenario table that is not a splat, run the way a user runs one
# case at load, `insmod bhlock.ko scenario=N` (load.CLASS.NAME.KERNEL), then all of them
# at once with `scenario=-1` (load.scenario_all.KERNEL). The module judges each case as it
# does through debugfs (run_case in functions.sh); the splat cases are run at load by
# test-splat.sh, each in a boot of its own.
#
# SCENARIOS: space-separated names, run only these (default: all).
. "$(dirname "$0")/functions.sh"

setup_test
load || ktap_skip_all "insmod failed"
mapfile -t cases < <(scenario_names scenario; scenario_names kernel)
declare -A index class
for name in "${cases[@]}"; do
	index[$name]=$(scenario_index "$name")
	class[$name]=$(scenario_table | awk -F '\t' -v n="$name" '$1 == n { print $2 }')
done
unload
ktap_plan $((${#cases[@]} + 1))
for name in "${cases[@]}"; do
	run_case "load.${class[$name]}" "$name" "${index[$name]}"
done

# scenario=-1: every case that is not a splat, in table order, in one load.
set_marker
load scenario=-1 && unload
log=$(log_since_marker)
missing=
for name in "${cases[@]}"; do
	grep -q "$mod: scenario $name: End of test: SUCCESS" <<<"$log" || missing+=" $name"
done
[ -z "$missing" ] && [ ${#cases[@]} -gt 0 ]
check load.scenario_all $? "cases without an End of test: SUCCESS line:${missing:- none}" \
	"$(grep -o "$mod: scenario [a-z_0-9]*: End of test: .*" <<<"$log")"
ktap_finished
