#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Minimal KTAP output, in the shape of tools/testing/selftests/kselftest/ktap_helpers.sh,
# carried here so the tests run on a box without a kernel tree.

KSFT_PASS=0
KSFT_FAIL=1
KSFT_SKIP=4

ktap_pass=0
ktap_fail=0
ktap_skip=0
ktap_count=0

ktap_header() {
	echo "TAP version 13"
}

ktap_planned=0

# ktap_plan N: the plan up front. Without it, ktap_finished prints it at the end (TAP 13
# allows a trailing plan), for files whose number of tests is known only as they run.
ktap_plan() {
	ktap_planned=1
	echo "1..$1"
}

ktap_ok() {
	ktap_count=$((ktap_count + 1))
	ktap_pass=$((ktap_pass + 1))
	echo "ok $ktap_count $1"
}

ktap_not_ok() {
	ktap_count=$((ktap_count + 1))
	ktap_fail=$((ktap_fail + 1))
	echo "not ok $ktap_count $1"
}

ktap_skip() {
	ktap_count=$((ktap_count + 1))
	ktap_skip=$((ktap_skip + 1))
	echo "ok $ktap_count $1 # SKIP $2"
}

# ktap_skip_all REASON: the whole file cannot run here.
ktap_skip_all() {
	ktap_plan 0
	echo "# SKIP $1"
	exit $KSFT_SKIP
}

# ktap_diag LINES...: each line of each argument as a "# " diagnostic; an empty argument prints
# nothing. Builtins only: under TCG a fork costs a lot, and diagnostics are printed often.
ktap_diag() {
	local arg line
	for arg in "$@"; do
		[ -n "$arg" ] || continue
		while IFS= read -r line; do
			echo "# $line"
		done <<<"$arg"
	done
}

ktap_finished() {
	[ "$ktap_planned" -eq 1 ] || echo "1..$ktap_count"
	# The host's timing table reads this line.
	echo "# time: $SECONDS s"
	echo "# Totals: pass:$ktap_pass fail:$ktap_fail xfail:0 xpass:0 skip:$ktap_skip error:0"
	[ "$ktap_fail" -eq 0 ] && exit $KSFT_PASS
	exit $KSFT_FAIL
}
