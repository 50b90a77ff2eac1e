#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Every case of the module's scenario table that probes a per-CPU resource of the kernel
# itself (class `kernel`), one after the other in this boot: kernel.NAME.KERNEL. The module
# runs and judges each as it does the scenarios (run_case in functions.sh): on the kernels
# whose resource has its lock the run must stay clean; on the must-fail kernel booted with
# the resource's protection removed (rt-nolock, bhlock_unlocked=NAME), the module's buffer
# checks must catch the corruption. The diagnostics give the time and forced
# round of the first fault.
#
# SCENARIOS: space-separated names, run only these (default: all).
. "$(dirname "$0")/functions.sh"

setup_test
run_table_cases kernel
