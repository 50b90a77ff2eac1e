#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The module's parameters: modinfo lists every one the module reports, and each value just
# outside a parameter's range is refused at load with EINVAL and a pr_err naming the value and
# the range. The names and ranges are read from the module (`modinfo -p`, the scenario table),
# never repeated here.
. "$(dirname "$0")/functions.sh"

setup_test
params_needed

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
	gate_skipped "" "control.bad_param.$bad" && continue
	set_marker
	if load "$bad" 2>/dev/null; then
		unload
		check "control.bad_param.$bad" 1 "insmod $bad succeeded"
		continue
	fi
	logged "$mod: $bad is out of range: valid values are "
	check "control.bad_param.$bad" $? "no pr_err naming $bad and its range:" "$(log_since_marker | grep "$mod")"
done

# The ends of each stated range are taken: the module loads with them, a run starts and
# stops, and it unloads, with no kernel report, lockdep on and no new taint. Whether such a
# run is a good one is not asked (a 1 s timer period never fires in a short run). At gate
# size one load has every parameter at its lowest value and one at its highest (their
# combination is the harder case); at soak size each value is also loaded alone. `scenario`
# is loaded at every value by test-load.sh and test-splat.sh; a benchmark parameter without
# `bench` runs nothing. `duration` above 0 starts the run at load, and `start` is then
# refused: that is fine.
# limit_loads: one line per load: its test name, then its "name=value" words.
limit_loads() {
	local p min max _ lows=() highs=()
	for p in $(param_names); do
		[ "$p" != scenario ] || continue
		read -r min max _ <<<"$(param_range "$p")"
		[ -n "$min" ] || continue
		lows+=("$p=$min")
		highs+=("$p=$max")
		[ "$scale" = gate ] || printf '%s %s\n' "$p=$min" "$p=$min" "$p=$max" "$p=$max"
	done
	echo "lowest ${lows[*]}"
	echo "highest ${highs[*]}"
}
save_health
while read -r name limit_words; do
	# A run with every context starts at each limit: its threads and locks differ with
	# PREEMPT_RT.
	gate_skipped preempt_rt "control.param_limit.$name" && continue
	read -r -a limits <<<"$limit_words"
	set_marker
	if ! load "${limits[@]}"; then
		check "control.param_limit.$name" 1 "insmod ${limits[*]} failed" "$(log_since_marker | grep "$mod")"
		continue
	fi
	echo start 2>/dev/null >"$debugfs/control"
	sleep 0.5
	echo stop >"$debugfs/control"
	run=$(log_since_marker | sed -n "s/.*$mod: \(run 1: End of test: .*\)/\1/p")
	unload
	reports=$(report_banners)
	[ -n "$run" ] && [ -z "$reports" ] && [ ! -e "/sys/module/$mod" ] && health_unchanged
	check "control.param_limit.$name" $? "loaded with ${limits[*]}" "run: ${run:-no End of test line}" \
		"$(health_diag)" "$reports"
done < <(limit_loads)

# Not a number at all: the kernel's parameter parser refuses it before bhlock runs.
if ! gate_skipped "" control.bad_param.not_a_number; then
	! { load interval_us=fast 2>/dev/null && unload; }
	check control.bad_param.not_a_number $? "insmod interval_us=fast succeeded"
fi

ktap_finished
