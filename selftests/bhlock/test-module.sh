#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Load bhlock, let it run its load-time checks (its KUnit suite and selfcheck), unload it,
# and judge it by its own report, lockdep's state and the W taint bit.
. "$(dirname "$0")/functions.sh"

setup_test
# Loading and unloading: their threads and locks differ with PREEMPT_RT, not with the BH lock.
gate_skip_file preempt_rt

# The selftests' reader of the kernel log (functions.sh), which every check below relies on:
# a record logged after the marker is found, by logged and by report_banners, and one logged
# before it is not. Both at debug level, off the console, whose report banners the host counts.
echo "<7>$mod: log reader: WARNING: logged before the marker" >/dev/kmsg
set_marker
echo "<7>$mod: log reader: WARNING: logged after the marker" >/dev/kmsg
log_banners=$(report_banners)
[[ $log_banners == *"logged after the marker"* ]] && [[ $log_banners != *"before the marker"* ]] &&
	logged "$mod: log reader: WARNING: logged after" && ! logged "logged before the marker"
check module.log_reader $? "the report banners since the marker: ${log_banners:-none}"

set_marker
save_health
ktap_diag "kernel: $kernel ($(uname -v))" "module: ${ko:-$mod}" "args: ${args:-none}"

param_names | grep -qx lock_with_bh_enabled
check module.params $? "modinfo -p does not list lock_with_bh_enabled"

kunit_at_load=1 load && logged "$mod: Start of test: "
check module.load $?

# The module's KUnit suites ran at load: bhlock's own (its cases are kunit.CASE) and the
# guard API's (kunit.SUITE.CASE); their results vanish with the module. The cases are each
# suite's indented result lines.
if [ -r "/sys/kernel/debug/kunit/$mod/results" ]; then
	for kunit_results in /sys/kernel/debug/kunit/"$mod"*/results; do
		suite=${kunit_results%/results}
		suite=${suite##*/}
		prefix=kunit.
		[ "$suite" = "$mod" ] || prefix=kunit.$suite.
		cases=$(sed -n -E -e 's/^[[:space:]]+ok [0-9]+ ([A-Za-z0-9_]+).*/0 \1/p' \
			-e 's/^[[:space:]]+not ok [0-9]+ ([A-Za-z0-9_]+).*/1 \1/p' "$kunit_results")
		[ -n "$cases" ] ||
			check "${prefix}suite" 1 "the KUnit suite reported no case" "$(cat "$kunit_results")"
		while read -r status test_case && [ -n "$status" ]; do
			check "$prefix$test_case" "$status"
		done <<<"$cases"
	done
elif [ -d /sys/kernel/debug/kunit ]; then
	check kunit.suite 1 "KUnit is on but has no bhlock suite (did the module load?)"
else
	ktap_skip "$(test_name kunit.suite)" "no KUnit results (CONFIG_KUNIT_DEBUGFS, debugfs)"
fi

logged "$mod: selfcheck: ok"
check module.selfcheck $? "$(log_since_marker | grep "$mod: selfcheck" || echo 'no selfcheck line')"

unload && logged "$mod: End of test: SUCCESS"
check module.unload $? "$(log_since_marker | grep -E "$mod: (End of test|since load)" || echo 'no End of test line')"

[ "$(debug_locks)" = 1 ] && [ "${health_before% *}" = 1 ]
check lockdep.debug_locks $? "$(health_diag)"
[ "$(taint_w)" = "${health_before#* }" ]
check kernel.taint_w $? "$(health_diag)"

ktap_finished
