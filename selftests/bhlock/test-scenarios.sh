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
run_table_cases scenario
