#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# test-splat.sh NAME: the expected-splat case NAME of the module's scenario table:
# splat.NAME.KERNEL. It needs a fresh boot, because lockdep reports only once and turns itself
# off, and WARN_ON_ONCE() warns once; so it is not in TEST_PROGS (scripts/check.sh boots one
# kernel per case). The case runs at load, `insmod bhlock.ko scenario=N`, as a user runs one
# (the other cases run both ways, test-scenarios.sh and test-load.sh). The module judges
# the case; see run_case in functions.sh.
#
# BHLOCK_EXPECT_FILE: where to write the reports (globs) the case expects or allows, for the
# console scan of the host (scripts/vng-run.sh --expect-file). BHLOCK_TABLE_IN: see
# functions.sh.
. "$(dirname "$0")/functions.sh"

name=${1:-}
setup_test
[ -n "$name" ] || ktap_skip_all "usage: test-splat.sh NAME"
if [ "$(taint_w)" -ne 0 ] || [ "$(debug_locks)" -ne 1 ]; then
	ktap_skip_all "lockdep off or taint W set already: a splat case needs a fresh boot"
fi
# The case from the module's table: from the copy an earlier boot of this module wrote out, if
# there is one (BHLOCK_TABLE_IN), else from a load of its own.
if [ -s "${BHLOCK_TABLE_IN:-}" ]; then
	scenario_table_file=$BHLOCK_TABLE_IN
else
	load || ktap_skip_all "insmod failed"
fi
scenario_cases
if [ "${case_class[$name]:-}" != splat ]; then
	unload
	ktap_skip_all "no splat case $name in the module's table"
fi
[ -z "${BHLOCK_EXPECT_FILE:-}" ] || write_expected_reports "$name" "$BHLOCK_EXPECT_FILE"
index=${case_index[$name]}
unload
ktap_plan 1
run_case splat "$name" "$index"
ktap_finished
