#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Every expected-clean case of the module's scenario table (debugfs `scenarios`), one after
# the other in this boot: scenario.NAME.KERNEL. The module runs and judges each case on its
# four signals (its own detection, debug_locks, taint W, the report banners since the case
# began) against what its table expects on this kernel; see run_case in functions.sh. The
# expected-splat cases each need a boot of their own: test-splat.sh.
#
# SCENARIOS: space-separated names, run only these (default: all).
. "$(dirname "$0")/functions.sh"

setup_test
load || ktap_skip_all "insmod failed"
# The host's harness (scripts/check.sh) learns the splat cases from the module's table.
[ -z "${BHLOCK_TABLE_OUT:-}" ] || cp "$debugfs/scenarios" "$BHLOCK_TABLE_OUT"
read -r -a cases <<<"$(scenario_names scenario | paste -sd' ')"
if [ ${#cases[@]} -eq 0 ]; then
	unload
	# A SCENARIOS filter that picks only splat cases leaves this boot nothing to do.
	[ -n "${SCENARIOS:-}" ] || ktap_skip_all "the scenario table has no expected-clean case"
	ktap_plan 0
	ktap_diag "SCENARIOS=$SCENARIOS selects no expected-clean case"
	exit "$KSFT_PASS"
fi

ktap_plan ${#cases[@]}
for name in "${cases[@]}"; do
	run_case scenario "$name"
done
unload
ktap_finished
