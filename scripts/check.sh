#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# check.sh: the test matrix behind `make check`.
#
# For every kernel of the matrix (nort, rt, rt-bhlock; BHLOCK_KERNELS_ONLY="rt" picks a subset,
# SCENARIOS="abba lifo_napi" a subset of the scenario table):
# build it (or take it from the cache), build bhlock.ko against it with no warnings, then boot
# it under virtme-ng once per boot plan below, running a kselftest script inside. Every
# result is a KTAP line named <area>.<case>.<kernel>; each boot's console, the guest's KTAP and
# the build logs go to $BHLOCK_RESULTS/<kernel>/. Then a table of where the time went
# (also $BHLOCK_RESULTS/timings.txt): setup, each kernel build or cache hit, module build,
# compile-fail, and each boot's guest time by phase (scripts/vng-run.sh). The results are also
# in $BHLOCK_RESULTS/junit.xml. With nort, also the guard API as an upstream patch series
# (scripts/upstream.sh, upstream.*). The last line is "N passed, N failed".
set -uo pipefail
. "$(dirname "$0")/lib.sh"

read -r -a kernels <<<"${BHLOCK_KERNELS_ONLY:-${BHLOCK_KERNELS[*]}}"
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
pass=0
fail=0
skip=0
n=0

# record ok|not-ok|skip NAME [DIAGNOSTIC_FILE]
record() {
	n=$((n + 1))
	case $1 in
	ok) pass=$((pass + 1)); line="ok $n $2";;
	skip) skip=$((skip + 1)); line="ok $n $2 # SKIP";;
	*) fail=$((fail + 1)); line="not ok $n $2";;
	esac
	echo "$line" | tee -a "$all_ktap"
	if [ "$1" != ok ] && [ -s "${3:-}" ]; then
		sed 's/^/# /' "$3" | tee -a "$all_ktap"
	fi
}

# import_ktap FILE: records FILE's results, renumbered into the matrix, and keeps the
# diagnostics that follow a failure.
import_ktap() {
	local line t in_failure=0
	while IFS= read -r line; do
		case "$line" in
		"ok "*"# SKIP"*) t=${line#ok * }; record skip "${t%% # SKIP*}"; in_failure=0;;
		"ok "*) t=${line#ok * }; record ok "$t"; in_failure=0;;
		"not ok "*) t=${line#not ok * }; record not-ok "$t"; in_failure=1;;
		"# "*) [ $in_failure -eq 1 ] && echo "$line" | tee -a "$all_ktap";;
		esac
	done <"$1"
}

# The boots of one kernel: a name, then the kselftest scripts it runs, one after the other,
# separated by ";". Everything expected clean shares one boot, as kselftest's run_tests would
# run it. An expected-splat case needs a boot of its own (lockdep and WARN_ON_ONCE() report
# only once); its guest writes the reports it expects to a file that the console scan then
# allows.
selftests=$BHLOCK_ROOT/selftests/bhlock
splats=(bh_enabled hardirq abba unlock_not_held bh_enable_irqs_off irqs_on_in_hardirq unlock_irq_in_hardirq)
clean="bhlock.sh; torture.sh; scenario.sh"
# busted five more times with every CPU busy: its verdict must not depend on the load.
if [ -z "${SCENARIOS:-}" ] || grep -qw -- busted <<<"$SCENARIOS"; then
	clean+="; repeat.sh busted 5 busyall"
fi
boots=("clean|$clean")
for s in "${splats[@]}"; do
	# SCENARIOS="a b" runs only those cases, and only the splat boots among them.
	if [ -z "${SCENARIOS:-}" ] || grep -qw -- "$s" <<<"$SCENARIOS"; then
		boots+=("splat-$s|scenario.sh splat $s")
	fi
done

# guest_command "A; B ARG": the shell command that runs each script in the guest and fails if
# any of them does.
guest_command() {
	local cmd="cd '$selftests' && rc=0" part
	IFS=';' read -ra parts <<<"$1"
	for part in "${parts[@]}"; do
		cmd+="; ./${part# } || rc=1"
	done
	echo "$cmd; exit \$rc"
}

start=$SECONDS
echo "TAP version 13" >"$all_ktap"
"$BHLOCK_ROOT/scripts/lint.sh" >"$BHLOCK_RESULTS/lint.ktap" 2>&1
import_ktap "$BHLOCK_RESULTS/lint.ktap"
for k in "${kernels[@]}"; do
	out=$BHLOCK_RESULTS/$k
	mkdir -p "$out"
	t0=$SECONDS
	t=$EPOCHREALTIME
	if ! kdir=$("$BHLOCK_ROOT/scripts/build-kernel.sh" "$k" 2>"$out/kernel-build.log"); then
		record not-ok "build.kernel.$k" "$out/kernel-build.log"
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
		continue
	fi
	record ok "build.module.$k"
	timing "module $k" "$(since "$t")"
	t=$EPOCHREALTIME
	"$BHLOCK_ROOT/scripts/compile-fail.sh" "$kdir" "$k" "$out/compile-fail" >"$out/compile-fail.ktap"
	import_ktap "$out/compile-fail.ktap"
	timing "compile-fail $k" "$(since "$t")"

	for b in "${boots[@]}"; do
		IFS='|' read -r boot script <<<"$b"
		expect_file=$out/$boot.expect
		"$BHLOCK_ROOT/scripts/vng-run.sh" --expect-file "$expect_file" "$kdir" "$out/$boot.console.log" -- \
			env BHLOCK_KO="$ko" BHLOCK_KERNEL="$k" BHLOCK_ARGS="${BHLOCK_ARGS:-}" \
			SCENARIOS="${SCENARIOS:-}" BHLOCK_EXPECT_FILE="$expect_file" \
			bash -c "$(guest_command "$script")" >"$out/$boot.ktap" 2>"$out/$boot.vm.log"
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
	done
	echo "# kernel $k: $((SECONDS - t0)) s" | tee -a "$all_ktap"
done

# The guard API as an upstream patch series, built into a copy of the nort kernel and its
# examples run as KUnit doctests (scripts/upstream.sh): with nort, the kernel it builds on.
if [[ " ${kernels[*]} " == *" nort "* ]]; then
	t=$EPOCHREALTIME
	"$BHLOCK_ROOT/scripts/upstream.sh" "$BHLOCK_RESULTS/upstream" >"$BHLOCK_RESULTS/upstream.ktap" 2>&1
	import_ktap "$BHLOCK_RESULTS/upstream.ktap"
	read -r kboot user test off wall <"$BHLOCK_RESULTS/upstream/console.log.phases" ||
		kboot=- user=- test=- off=- wall=-
	if grep -q '^# kernel cached in ' "$BHLOCK_RESULTS/upstream.ktap"; then
		timing "upstream (kernel cached)" "$(since "$t")" "$kboot" "$user" "$test" "$off"
	else
		timing "upstream (kernel built)" "$(since "$t")" "$kboot" "$user" "$test" "$off"
	fi
fi

echo "# matrix: ${kernels[*]} in $((SECONDS - start)) s; results in $BHLOCK_RESULTS" | tee -a "$all_ktap"
timing total "$SECONDS"
echo "# where the time went (s; boot/user/test/off: guest time by phase, from the console):" |
	tee -a "$all_ktap"
sed 's/^/# /' "$timings" | tee -a "$all_ktap"
echo "1..$n" >>"$all_ktap"
"$BHLOCK_ROOT/scripts/junit.sh" "$all_ktap" >"$BHLOCK_RESULTS/junit.xml"
echo "$pass passed, $fail failed, $skip skipped" | tee -a "$all_ktap"
[ $fail -eq 0 ] && [ $n -gt 0 ]
