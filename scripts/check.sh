#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# check.sh: the test matrix behind `make check`.
#
# For every kernel of the matrix (nort, rt, rt-bhlock; BHLOCK_KERNELS_ONLY="rt" picks a subset,
# SCENARIOS="abba lifo_napi" a subset of the scenario table):
# build it (or take it from the cache), build bhlock.ko against it with no warnings, then boot
# it under virtme-ng: once for the kselftest scripts of selftests/bhlock (everything expected
# clean, as kselftest's run_tests would run it), then once for each expected-splat case of the
# module's scenario table (lockdep and WARN_ON_ONCE() report only once). Then the probe's
# must-fail kernel (rt-nolock): built from a copy of rt, booted once for test-kernel.sh alone,
# whose cases must catch the corruption there. Every result is a KTAP
# line named <area>.<case>.<kernel>; each boot's console, the guest's KTAP and the build logs go
# to $BHLOCK_RESULTS/<kernel>/. Then a table of where the time went (also
# $BHLOCK_RESULTS/timings.txt): setup, each kernel build or cache hit, module build,
# compile-fail, and each boot's guest time by phase (scripts/vng-run.sh). With nort, also the
# guard API as an upstream patch series (scripts/upstream.sh, upstream.*).
#
# $BHLOCK_RESULTS/ktap.txt holds it all as one KTAP v1 document nested per kernel and boot
# (scripts/ktap-tree.sh), which `tools/testing/kunit/kunit.py parse` reads; junit.xml beside
# it. The last line printed is "N passed, N failed, N skipped".
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ktap-tree.sh"

read -r -a kernels <<<"${BHLOCK_KERNELS_ONLY:-${BHLOCK_KERNELS[*]} ${BHLOCK_PROBE_KERNELS[*]}}"
rm -rf "$BHLOCK_RESULTS"
mkdir -p "$BHLOCK_RESULTS"
all_ktap=$BHLOCK_RESULTS/ktap.txt
timings=$BHLOCK_RESULTS/timings.txt

# since T: seconds from $EPOCHREALTIME T until now.
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
# timing PHASE WALL [KERNEL_BOOT USERSPACE TEST POWER_OFF]: a row of the timing table.
timing() { printf '%-42s %7s %7s %7s %7s %7s\n' "$@" >>"$timings"; }
timing phase wall_s boot_s user_s test_s off_s
t=$EPOCHREALTIME
"$BHLOCK_ROOT/scripts/setup.sh" || { echo "0 passed, 1 failed"; exit 1; }
timing setup "$(since "$t")"
# The clean boot runs the kselftest directory's TEST_PROGS, read from its Makefile, in
# order, as run_tests would; its test-scenarios.sh also copies the module's scenario table to
# the host, which then boots once for each of its expected-splat cases (test-splat.sh NAME),
# whose guest writes the reports that case expects to a file the console scan then allows.
selftests=$BHLOCK_ROOT/selftests/bhlock
read -r -a test_progs <<<"$(awk '/^TEST_PROGS/ { on = 1 } on { line = $0; sub(/\\$/, "", line)
	printf "%s ", line; if ($0 !~ /\\$/) exit }' "$selftests/Makefile" | sed 's/^TEST_PROGS *:= *//')"

# guest_command SCRIPT...: the shell command that runs each script (with its arguments) in the
# guest and fails if any of them does.
guest_command() {
	local cmd="cd '$selftests' && rc=0" part
	for part in "$@"; do
		cmd+="; ./$part || rc=1"
	done
	echo "$cmd; exit \$rc"
}

# boot K NAME SCRIPT...: boots kernel K for the scripts; its results go into a subtest NAME.K,
# with the boot's own verdict (vng-run.sh) as its last leaf, vm.NAME.K.
boot() {
	local k=$1 boot=$2 expect_file=$out/$2.expect vm_status kboot user test off wall
	shift 2
	tree_begin "boot.$boot.$k"
	# The clean boot runs every test in TEST_PROGS, about 10 minutes on rt under TCG here (the
	# 100 load/run/unload cycles, the failslab walk and the hotplug runs take half of it):
	# its hang limit leaves room for a machine twice as slow. A splat boot takes seconds.
	BHLOCK_VNG_TIMEOUT=${BHLOCK_VNG_TIMEOUT:-$([ "$boot" = clean ] && echo 1800 || echo 600)} \
	"$BHLOCK_ROOT/scripts/vng-run.sh" --expect-file "$expect_file" "$kdir" "$out/$boot.console.log" -- \
		env BHLOCK_KO="$ko" BHLOCK_KERNEL="$k" BHLOCK_ARGS="${BHLOCK_ARGS:-}" \
		SCENARIOS="${SCENARIOS:-}" BHLOCK_EXPECT_FILE="$expect_file" \
		BHLOCK_TABLE_OUT="$out/scenarios.tsv" \
		bash -c "$(guest_command "$@")" >"$out/$boot.ktap" 2>"$out/$boot.vm.log"
	vm_status=$?
	import_ktap "$out/$boot.ktap"
	read -r kboot user test off wall <"$out/$boot.console.log.phases" ||
		kboot=- user=- test=- off=- wall=-
	timing "boot $k $boot" "$wall" "$kboot" "$user" "$test" "$off"
	if [ $vm_status -eq 0 ]; then
		record ok "vm.$boot.$k"
	else
		record not-ok "vm.$boot.$k" "$out/$boot.vm.log"
	fi
	tree_end
}

# splat_cases: the expected-splat cases of the module's table that the clean boot copied out,
# as SCENARIOS selects them.
splat_cases() {
	awk -F '\t' -v only=" ${SCENARIOS:-} " '!/^#/ && $2 == "splat" &&
		(only ~ /^ *$/ || index(only, " " $1 " ")) { print $1 }' "$out/scenarios.tsv"
}

start=$SECONDS
tree_begin lint
"$BHLOCK_ROOT/scripts/lint.sh" >"$BHLOCK_RESULTS/lint.ktap" 2>&1
import_ktap "$BHLOCK_RESULTS/lint.ktap"
tree_end
for k in "${kernels[@]}"; do
	out=$BHLOCK_RESULTS/$k
	mkdir -p "$out"
	t0=$SECONDS
	t=$EPOCHREALTIME
	tree_begin "$k"
	if ! kdir=$("$BHLOCK_ROOT/scripts/build-kernel.sh" "$k" 2>"$out/kernel-build.log"); then
		record not-ok "build.kernel.$k" "$out/kernel-build.log"
		tree_end
		continue
	fi
	record ok "build.kernel.$k"
	if grep -q ': cached in ' "$out/kernel-build.log"; then
		timing "kernel $k (cached)" "$(since "$t")"
	else
		timing "kernel $k (built)" "$(since "$t")"
	fi
	t=$EPOCHREALTIME
	if ! ko=$("$BHLOCK_ROOT/scripts/build-module.sh" "$kdir" "$out/module" 2>"$out/module-build.log"); then
		record not-ok "build.module.$k" "$out/module-build.log"
		tree_end
		continue
	fi
	record ok "build.module.$k"
	timing "module $k" "$(since "$t")"
	if [[ " ${BHLOCK_PROBE_KERNELS[*]} " == *" $k "* ]]; then
		boot "$k" kernel test-kernel.sh
		tree_diag "kernel $k: $((SECONDS - t0)) s"
		tree_end
		continue
	fi
	t=$EPOCHREALTIME
	tree_begin "compile_fail.$k"
	"$BHLOCK_ROOT/scripts/compile-fail.sh" "$kdir" "$k" "$out/compile-fail" >"$out/compile-fail.ktap"
	import_ktap "$out/compile-fail.ktap"
	tree_end
	timing "compile-fail $k" "$(since "$t")"

	rm -f "$out/scenarios.tsv"
	boot "$k" clean "${test_progs[@]}"
	if [ -s "$out/scenarios.tsv" ]; then
		for s in $(splat_cases); do
			boot "$k" "splat-$s" "test-splat.sh $s"
		done
	else
		record not-ok "scenario.table.$k" "$out/clean.vm.log"
	fi
	tree_diag "kernel $k: $((SECONDS - t0)) s"
	tree_end
done

# The guard API as an upstream patch series, built into a copy of the nort kernel and its
# examples run as KUnit doctests (scripts/upstream.sh): with nort, the kernel it builds on.
if [[ " ${kernels[*]} " == *" nort "* ]]; then
	t=$EPOCHREALTIME
	tree_begin upstream
	"$BHLOCK_ROOT/scripts/upstream.sh" "$BHLOCK_RESULTS/upstream" >"$BHLOCK_RESULTS/upstream.ktap" 2>&1
	import_ktap "$BHLOCK_RESULTS/upstream.ktap"
	tree_end
	read -r kboot user test off wall <"$BHLOCK_RESULTS/upstream/console.log.phases" ||
		kboot=- user=- test=- off=- wall=-
	if grep -q '^# kernel cached in ' "$BHLOCK_RESULTS/upstream.ktap"; then
		timing "upstream (kernel cached)" "$(since "$t")" "$kboot" "$user" "$test" "$off"
	else
		timing "upstream (kernel built)" "$(since "$t")" "$kboot" "$user" "$test" "$off"
	fi
fi

tree_diag "matrix: ${kernels[*]} in $((SECONDS - start)) s; results in $BHLOCK_RESULTS"
timing total "$SECONDS"
tree_diag "where the time went (s; boot/user/test/off: guest time by phase, from the console):"
while IFS= read -r line; do
	tree_diag "$line"
done <"$timings"
tree_write "$all_ktap"
"$BHLOCK_ROOT/scripts/junit.sh" "$all_ktap" >"$BHLOCK_RESULTS/junit.xml"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$leaves" -gt 0 ]
