#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The module's parameters: modinfo lists every one the module reports, and each value just
# outside a parameter's range is refused at load with EINVAL and a pr_err naming the value and
# the range. The names and ranges are read from the module (`modinfo -p`, the scenario table),
# never repeated here.
. "$(dirname "$0")/functions.sh"

setup_test

# Every parameter of the module's own report ("no run yet: name=value ...") is in modinfo.
load
read_stats
unload
listed=" $(param_names | paste -sd' ') "
missing=
for pair in ${stats#no run yet: }; do
	[[ $listed == *" ${pair%%=*} "* ]] || missing+=" ${pair%%=*}"
done
[ -n "$stats" ] && [ -z "$missing" ]
check control.modinfo_lists_parameters $? "report: ${stats:-none}" "missing:$missing"

# The scenario parameter's range is the table's length: -1..=N.
load && nr_scenarios=$(scenario_table | wc -l) && unload
[ "${nr_scenarios:-0}" -gt 0 ]
check control.scenarios_listed $? "no scenario table"

# bad_values: "name=value" just below and just above each stated range; below only where the
# type can hold it (a negative value for a u32 is the kernel parser's to refuse).
bad_values() {
	local p min max type
	for p in $(param_names); do
		read -r min max type <<<"$(param_range "$p")"
		[ "$p" != scenario ] || read -r min max type <<<"-1 $nr_scenarios i32"
		[ -n "$min" ] || continue
		[ "$min" -eq 0 ] && [[ $type != i* ]] || echo "$p=$((min - 1))"
		echo "$p=$((max + 1))"
	done
}
for bad in $(bad_values); do
	set_marker
	if load "$bad" 2>/dev/null; then
		unload
		check "control.bad_param.$bad" 1 "insmod $bad succeeded"
		continue
	fi
	logged "$mod: $bad is out of range: valid values are "
	check "control.bad_param.$bad" $? "no pr_err naming $bad and its range:" "$(log_since_marker | grep "$mod")"
done

# Not a number at all: the kernel's parameter parser refuses it before bhlock runs.
! { load interval_us=fast 2>/dev/null && unload; }
check control.bad_param.not_a_number $? "insmod interval_us=fast succeeded"

ktap_finished
