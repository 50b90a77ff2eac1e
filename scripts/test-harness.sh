#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# test-harness.sh: the negative controls of `make check`'s own verdict, as KTAP, on the host
# and without booting a kernel: each feeds the harness's parsers (scripts/ktap-tree.sh, `counter` in
# selftests/bhlock/functions.sh) the output of a stage that went wrong, and is ok when the
# harness counts a failure for it. One positive control shows that a complete stage passes.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
case_no=0
echo "TAP version 13"

# verdict NAME EXPECTED_FAILURES FILE STAGE_COMMAND...: runs STAGE_COMMAND (an import_* call
# on FILE) in a fresh harness and prints NAME ok when it counted EXPECTED_FAILURES failed
# leaves (0 or "some").
verdict() {
	local test=$1 expected=$2 printed=$3 got
	shift 3
	got=$(
		# shellcheck source=scripts/ktap-tree.sh
		. "$BHLOCK_ROOT/scripts/ktap-tree.sh"
		tree_begin stage
		"$@" >/dev/null
		echo "$failed"
	)
		case_no=$((case_no + 1))
	if { [ "$expected" = some ] && [ "${got:-0}" -gt 0 ]; } ||
		{ [ "$expected" = 0 ] && [ "${got:-1}" -eq 0 ]; }; then
		echo "ok $case_no harness.$test"
	else
		echo "not ok $case_no harness.$test"
		echo "# expected $expected failed leaves, counted ${got:-none}; the stage printed:"
		sed 's/^/#   /' "$printed"
	fi
}

# A lint run that passes, as the positive control.
printf 'TAP version 13\nok 1 lint.a\nok 2 lint.b\n1..2\n' >"$tmp/good"
verdict complete_stage_passes 0 "$tmp/good" import_ktap "$tmp/good" lint 0

# A lint stage that exits before printing anything.
: >"$tmp/empty"
verdict stage_without_output_fails some "$tmp/empty" import_ktap "$tmp/empty" lint 1

# A stage that printed a header and no result, and said it passed.
printf 'TAP version 13\n' >"$tmp/header"
verdict stage_without_result_fails some "$tmp/header" import_ktap "$tmp/header" lint 0

# A compile-fail run that crashes after its first case: all it printed passed.
printf 'TAP version 13\n1..3\nok 1 compile_fail.a\n' >"$tmp/crashed"
verdict stage_cut_short_fails some "$tmp/crashed" import_ktap "$tmp/crashed" compile_fail 139

# A stage that printed only passes and a complete plan, but exited with an error.
verdict stage_exit_status_counts some "$tmp/good" import_ktap "$tmp/good" upstream 2

# A whole-file skip is a skip, not a failure.
printf 'TAP version 13\n1..0\n# SKIP no lockdep\n' >"$tmp/skip"
verdict skipped_file_is_no_failure 0 "$tmp/skip" import_ktap "$tmp/skip" kselftest 0

# The kselftest runner: a script that died (exit=1) after two passes, and a script that never
# got a verdict (the guest stopped in it).
cat >"$tmp/runner" <<'KTAP'
TAP version 13
1..3
# timeout set to 300
# selftests: bhlock: test-a.sh
# TAP version 13
# 1..3
# ok 1 a.one.nort
# ok 2 a.two.nort
not ok 1 selftests: bhlock: test-a.sh # exit=1
# timeout set to 300
# selftests: bhlock: test-b.sh
# TAP version 13
# 1..1
# ok 1 b.one.nort
ok 2 selftests: bhlock: test-b.sh
# timeout set to 300
# selftests: bhlock: test-c.sh
# TAP version 13
# 1..2
KTAP
verdict kselftest_script_exit_fails some "$tmp/runner" \
	import_kselftest "$tmp/runner" "$tmp/no-logs" nort test-a.sh test-b.sh
verdict kselftest_missing_verdict_fails some "$tmp/runner" \
	import_kselftest "$tmp/runner" "$tmp/no-logs" nort test-b.sh test-c.sh
sed -n '/test-b.sh$/,/^ok 2/p' "$tmp/runner" | sed '1i TAP version 13' >"$tmp/runner-b"
verdict kselftest_complete_script_passes 0 "$tmp/runner-b" \
	import_kselftest "$tmp/runner-b" "$tmp/no-logs" nort test-b.sh

# The same with the runner's per-script logs (--per-test-log, as check.sh runs it): a script
# that exited 0 with a plan it did not keep.
mkdir -p "$tmp/logs"
printf 'TAP version 13\n1..2\n# selftests: bhlock: test-d.sh\nok 1 selftests: bhlock: test-d.sh\n' \
	>"$tmp/runner-d"
printf '# timeout set to 300\n# TAP version 13\n# 1..3\n# ok 1 d.one.nort\n' >"$tmp/logs/test-d.sh"
verdict kselftest_log_cut_short_fails some "$tmp/logs/test-d.sh" \
	import_kselftest "$tmp/runner-d" "$tmp/logs" nort test-d.sh
printf '# timeout set to 300\n# TAP version 13\n# 1..1\n# ok 1 d.one.nort\n' >"$tmp/logs/test-d.sh"
verdict kselftest_log_complete_passes 0 "$tmp/logs/test-d.sh" \
	import_kselftest "$tmp/runner-d" "$tmp/logs" nort test-d.sh

# A script run on its own, without the runner (check.sh's boot_script_run, the probe's boots): its
# verdict comes from the exit status the guest wrote after it. All it printed passed, and it
# exited 1; or it left no status (the guest died in it); or it skipped (4), which is no failure;
# or it passed.
printf 'TAP version 13\n1..1\nok 1 e.one.nort\n' >"$tmp/alone"
echo 1 >"$tmp/alone.exit1"
verdict script_alone_exit_fails some "$tmp/alone" import_script "$tmp/alone" "$tmp/alone.exit1" \
	kselftest.test-e.nort
verdict script_alone_without_status_fails some "$tmp/alone" \
	import_script "$tmp/alone" "$tmp/alone.no-status" kselftest.test-e.nort
echo 4 >"$tmp/alone.exit4"
verdict script_alone_skip_is_no_failure 0 "$tmp/skip" import_script "$tmp/skip" "$tmp/alone.exit4" \
	kselftest.test-e.nort
echo 0 >"$tmp/alone.exit0"
verdict script_alone_complete_passes 0 "$tmp/alone" import_script "$tmp/alone" "$tmp/alone.exit0" \
	kselftest.test-e.nort

# Jobs that ran side by side (run_job, job_results): a failure in one of them is counted.
job_ok() { tree_begin "$1"; record ok "$1.one"; tree_end; }
job_failing() { tree_begin "$1"; record not-ok "$1.one"; tree_end; }
# two_jobs KIND KIND: runs a job of each kind, then adds their results.
two_jobs() {
	local timings=$tmp/timings
	run_job "$tmp" a "$1" a
	run_job "$tmp" b "$2" b
	job_results "$tmp" a
	job_results "$tmp" b
}
printf 'job a passes, job b fails\n' >"$tmp/jobs"
verdict job_failure_counts some "$tmp/jobs" two_jobs job_ok job_failing
printf 'jobs a and b pass\n' >"$tmp/jobs-ok"
verdict jobs_passing_pass 0 "$tmp/jobs-ok" two_jobs job_ok job_ok

# The nested document (tree_write), jobs and all, is what the kernel's own KTAP parser reads:
# tools/testing/kunit/kunit.py parse counts the same results, and the failure.
nested_document() {
	local timings=$tmp/timings
	tree_begin lint
	record ok lint.a
	tree_end
	run_job "$tmp" a job_ok a
	run_job "$tmp" b job_failing b
	job_results "$tmp" a
	job_results "$tmp" b
	tree_write "$tmp/ktap.txt"
}
case_no=$((case_no + 1))
ksrc=$("$BHLOCK_ROOT/scripts/kernel-source.sh" 2>/dev/null)
parsed=$(
	# shellcheck source=scripts/ktap-tree.sh
	. "$BHLOCK_ROOT/scripts/ktap-tree.sh"
	nested_document >/dev/null
	python3 "$ksrc/tools/testing/kunit/kunit.py" parse "$tmp/ktap.txt" 2>&1 |
		sed -n 's/.*Testing complete\. \(Ran .*\)/\1/p'
)
if [ "$parsed" = "Ran 3 tests: passed: 2, failed: 1" ]; then
	echo "ok $case_no harness.kunit_parse_reads_the_tree"
else
	echo "not ok $case_no harness.kunit_parse_reads_the_tree"
	echo "# kunit.py parse said: ${parsed:-nothing} (want: Ran 3 tests: passed: 2, failed: 1)"
fi

# A counter the module no longer reports (renamed): never read as a zero.
mkdir -p "$tmp/debugfs"
printf 'run 1: 1 s, ended\nevents: lost_updates=0\nviolations: cache_count_mismatch=0\n' \
	>"$tmp/debugfs/stats"
case_no=$((case_no + 1))
got=$(
	# shellcheck source=selftests/bhlock/functions.sh
	. "$BHLOCK_ROOT/selftests/bhlock/functions.sh"
	debugfs=$tmp/debugfs
	read_stats
	[ "$(counter cache_count_mismatch)" -eq 0 ] && echo kept
	[ "$(counter cache_count_mismatched 2>/dev/null)" -eq 0 ] 2>/dev/null && echo renamed
)
if [ "$got" = kept ]; then
	echo "ok $case_no harness.renamed_counter_fails"
else
	echo "not ok $case_no harness.renamed_counter_fails"
	echo "# the checks that passed: ${got//$'\n'/ } (want only kept)"
fi
# Gate coverage (gate_covered): a check is skipped only on a kernel that agrees with one that
# ran it in every property the check names, and never for a property the module does not
# describe (renamed).
printf '# kernel: preempt_rt=1 bh_serialised=1 unlocked=-\n' >"$tmp/debugfs/scenarios"
case_no=$((case_no + 1))
got=$(
	# shellcheck source=selftests/bhlock/functions.sh
	. "$BHLOCK_ROOT/selftests/bhlock/functions.sh"
	debugfs=$tmp/debugfs scale=gate
	BHLOCK_GATE_COVERED=$'preempt_rt=0 bh_serialised=1 unlocked=-\npreempt_rt=1 bh_serialised=0 unlocked=-'
	gate_covered && echo none
	gate_covered preempt_rt && echo "preempt_rt:${covered_by%% *}"
	gate_covered preempt_rt bh_serialised || echo both_run
	gate_covered bh_serialised && echo "bh_serialised:${covered_by%% *}"
	gate_covered preempt_rt_renamed 2>/dev/null || echo renamed_runs
	scale=soak
	gate_covered || echo soak_runs
)
want="none preempt_rt:preempt_rt=1 both_run bh_serialised:preempt_rt=0 renamed_runs soak_runs"
if [ "${got//$'\n'/ }" = "$want" ]; then
	echo "ok $case_no harness.gate_coverage_by_property"
else
	echo "not ok $case_no harness.gate_coverage_by_property"
	echo "# got: ${got//$'\n'/ } (want: $want)"
fi
# Compile-fail's gate coverage (BHLOCK_COMPILE_FAIL_RAN): a kernel whose configuration differs
# from one the cases ran on only in an option that nothing they build against mentions skips
# them; one whose differing option a kernel header mentions, or that runs at soak size, builds
# them; so does one whose source tree lacks an input the search reads (a file it cannot read is
# not one that does not mention the option). Fake build directories: a .config, (empty)
# generated headers and a source tree of one header and empty Makefiles (a case that builds then
# fails at once).
mkdir -p "$tmp/cf/src/include" "$tmp/cf/src/arch/x86/include" "$tmp/cf/src/rust" "$tmp/cf/src/scripts"
: >"$tmp/cf/src/Makefile"
: >"$tmp/cf/src/arch/x86/Makefile"
: >"$tmp/cf/src/scripts/Makefile.build"
for d in ran new; do
	mkdir -p "$tmp/cf/$d/include/generated" "$tmp/cf/$d/arch/x86/include/generated"
done
printf 'CONFIG_A=y\n' >"$tmp/cf/ran/.config"
printf 'CONFIG_A=y\nCONFIG_HARNESS_ONLY=y\n' >"$tmp/cf/new/.config"
ln -s "$tmp/cf/src" "$tmp/cf/new/source"
printf '#define A 1\n' >"$tmp/cf/src/include/a.h"
case_no=$((case_no + 1))
# compile_fail_run SCALE: what compile-fail.sh did with every case: skipped or built.
compile_fail_run() {
	BHLOCK_SCALE=$1 BHLOCK_COMPILE_FAIL_RAN="ran $tmp/cf/ran" \
		"$BHLOCK_ROOT/scripts/compile-fail.sh" "$tmp/cf/new" new "$tmp/cf/out" 2>/dev/null |
		awk '/^(not )?ok / { n++; if (/# SKIP gate size: builds as on ran$/) s++ }
		     END { print (s == n && n > 0) ? "skipped" : (s == 0 ? "built" : "mixed") }'
}
got=$(compile_fail_run gate)
printf '#ifdef CONFIG_HARNESS_ONLY\n#endif\n' >"$tmp/cf/src/include/a.h"
got+=" $(compile_fail_run gate)"
printf '#define A 1\n' >"$tmp/cf/src/include/a.h"
got+=" $(compile_fail_run soak)"
rm "$tmp/cf/src/arch/x86/Makefile"
got+=" $(compile_fail_run gate)"
if [ "$got" = "skipped built built built" ]; then
	echo "ok $case_no harness.compile_fail_coverage_by_option"
else
	echo "not ok $case_no harness.compile_fail_coverage_by_option"
	echo "# got: $got (want: skipped built built built)"
fi
# A clean boot leaves out a script only when the script would skip itself whole
# (scripts/covered.sh): its gate_skip_file, first after setup_test, names no property, or
# preempt_rt with a kernel before this one that agrees. Fake scripts beside the real library,
# on an rt kernel after a nort one: only the first may be left out, with the script's reason.
mkdir -p "$tmp/cov/ks/bhlock" "$tmp/cov/results/nort" "$tmp/cov/kdir"
for f in functions.sh ktap.sh report-banners; do
	ln -s "$BHLOCK_ROOT/selftests/bhlock/$f" "$tmp/cov/ks/bhlock/$f"
done
printf 'setup_test\n\n# why\ngate_skip_file "" "no reason (a fake)"\n' >"$tmp/cov/ks/bhlock/any.sh"
printf 'setup_test\ngate_skip_file preempt_rt\n' >"$tmp/cov/ks/bhlock/rt.sh"
printf 'setup_test\ncheck x 0\n' >"$tmp/cov/ks/bhlock/ungated.sh"
printf 'setup_test\ngate_skip_file bh_serialised\n' >"$tmp/cov/ks/bhlock/other.sh"
printf 'setup_test\nload\ngate_skip_file ""\n' >"$tmp/cov/ks/bhlock/late.sh"
printf 'setup_test\ngate_skip_file "unclosed\n' >"$tmp/cov/ks/bhlock/unsplit.sh"
echo '# kernel: preempt_rt=0 bh_serialised=1' >"$tmp/cov/results/nort/covers"
echo 'CONFIG_PREEMPT_RT=y' >"$tmp/cov/kdir/.config"
case_no=$((case_no + 1))
got=$(
	# shellcheck source=scripts/covered.sh
	. "$BHLOCK_ROOT/scripts/covered.sh"
	kernels=(nort rt) BHLOCK_RESULTS=$tmp/cov/results kselftests=$tmp/cov/ks kdir=$tmp/cov/kdir
	# (The gate's rule, at any scale the harness runs at: `make soak` runs it too.)
	BHLOCK_SCALE=gate
	for script in any rt ungated other late unsplit; do
		if script_covered rt "$script.sh"; then
			printf '%s ' "$script:left_out($covered_reason)"
		else
			printf '%s ' "$script:runs"
		fi
	done
)
want="any:left_out(gate size: no reason (a fake): its verdict depends on no property of the kernel,"
want+=" and it ran on a kernel that agrees (preempt_rt=0 bh_serialised=1)) rt:runs ungated:runs"
want+=" other:runs late:runs unsplit:runs "
if [ "$got" = "$want" ]; then
	echo "ok $case_no harness.script_left_out_only_where_it_skips_whole"
else
	echo "not ok $case_no harness.script_left_out_only_where_it_skips_whole"
	echo "# got: $got"
	echo "# want: $want"
fi
# vng passes its command on the kernel command line, which x86 cuts at 2048 bytes (and the
# init= after it with it): vng-run.sh must hand a command of any length to the guest some
# other way. A fake vng records the arguments it was given and the script it was asked to run.
mkdir -p "$tmp/kdir/arch/x86/boot" "$tmp/vng-results"
: >"$tmp/kdir/arch/x86/boot/bzImage"
: >"$tmp/kdir/.config"
cat >"$tmp/fake-vng" <<'FAKE'
#!/bin/bash
printf '%s\n' "$@" >"$FAKE_VNG_ARGS"
cp "${@: -1}" "$FAKE_VNG_ARGS.script"
FAKE
chmod +x "$tmp/fake-vng"
long=$(printf 'x%.0s' {1..3000})
case_no=$((case_no + 1))
FAKE_VNG_ARGS=$tmp/vng-args VNG=$tmp/fake-vng BHLOCK_KVM=no BHLOCK_RESULTS=$tmp/vng-results \
	"$BHLOCK_ROOT/scripts/vng-run.sh" "$tmp/kdir" "$tmp/console" -- env "LONG=$long" true \
	>/dev/null 2>&1
args_bytes=$(wc -c <"$tmp/vng-args" 2>/dev/null)
if [ "${args_bytes:-0}" -gt 0 ] && [ "$args_bytes" -lt 1024 ] &&
	grep -q "LONG=$long" "$tmp/vng-args.script" 2>/dev/null; then
	echo "ok $case_no harness.vng_command_off_the_kernel_cmdline"
else
	echo "not ok $case_no harness.vng_command_off_the_kernel_cmdline"
	echo "# vng got ${args_bytes:-no} bytes of arguments (want under 1024, the command in a script)"
fi
# A boot that stalls before init (no 'bhlock-init: ready') is booted again, once; a second
# stall fails. A fake vng stalls in its first FAKE_VNG_STALLS boots, then boots.
cat >"$tmp/stalling-vng" <<'FAKE'
#!/bin/bash
n=$(cat "$FAKE_VNG_COUNT" 2>/dev/null || echo 0)
echo $((n + 1)) >"$FAKE_VNG_COUNT"
[ "$n" -ge "$FAKE_VNG_STALLS" ] || exec sleep 600
echo 'bhlock-init: ready' >&2
sed 's#/dev/kmsg#/dev/null#' "${@: -1}" | bash
FAKE
chmod +x "$tmp/stalling-vng"
for stalls in 1 2; do
	case_no=$((case_no + 1))
	rm -f "$tmp/vng-count" "$tmp/console"*
	FAKE_VNG_COUNT=$tmp/vng-count FAKE_VNG_STALLS=$stalls VNG=$tmp/stalling-vng BHLOCK_KVM=no \
		BHLOCK_VNG_BOOT_TIMEOUT=2 BHLOCK_RESULTS=$tmp/vng-results \
		"$BHLOCK_ROOT/scripts/vng-run.sh" "$tmp/kdir" "$tmp/console" -- true \
		>/dev/null 2>"$tmp/vng-stderr"
	got="exit $? after $(cat "$tmp/vng-count") boots"
	grep -q 'stalled before init in each of 2 boots' "$tmp/vng-stderr" && got+=", failed as stalled"
	[ -e "$tmp/console.stalled-1" ] && got+=", first console kept"
	want="exit 0 after 2 boots, first console kept"
	[ "$stalls" = 1 ] || want="exit 1 after 2 boots, failed as stalled, first console kept"
	if [ "$got" = "$want" ]; then
		echo "ok $case_no harness.vng_boot_stalled_${stalls}_times"
	else
		echo "not ok $case_no harness.vng_boot_stalled_${stalls}_times"
		echo "# $got (want: $want)"
		sed 's/^/# /' "$tmp/vng-stderr"
	fi
done
# A boot whose QEMU fails an assertion of its own before init is booted again, once; one whose
# QEMU aborts after init is not. A fake vng aborts in its first boot, before or after 'ready'.
cat >"$tmp/aborting-vng" <<'FAKE'
#!/bin/bash
n=$(cat "$FAKE_VNG_COUNT" 2>/dev/null || echo 0)
echo $((n + 1)) >"$FAKE_VNG_COUNT"
if [ "$n" -eq 0 ]; then
	[ "$FAKE_VNG_ABORT" = before ] || echo 'bhlock-init: ready' >&2
	echo "qemu-system-x86_64: ../../hw/pci/msix.c:218: msix_table_mmio_write: Assertion \`addr + size <= dev->msix_entries_nr * PCI_MSIX_ENTRY_SIZE' failed." >&2
	exit 134
fi
echo 'bhlock-init: ready' >&2
sed 's#/dev/kmsg#/dev/null#' "${@: -1}" | bash
FAKE
chmod +x "$tmp/aborting-vng"
for when in before after; do
	case_no=$((case_no + 1))
	rm -f "$tmp/vng-count" "$tmp/console"*
	FAKE_VNG_COUNT=$tmp/vng-count FAKE_VNG_ABORT=$when VNG=$tmp/aborting-vng BHLOCK_KVM=no \
		BHLOCK_RESULTS=$tmp/vng-results \
		"$BHLOCK_ROOT/scripts/vng-run.sh" "$tmp/kdir" "$tmp/console" -- true \
		>/dev/null 2>"$tmp/vng-stderr"
	got="exit $? after $(cat "$tmp/vng-count") boots"
	grep -q 'boot 1 of at most 2: QEMU died before init: qemu-system' "$tmp/vng-stderr" &&
		got+=", reported"
	want="exit 0 after 2 boots, reported"
	[ "$when" = before ] || want="exit 1 after 1 boots"
	if [ "$got" = "$want" ]; then
		echo "ok $case_no harness.vng_qemu_abort_${when}_init"
	else
		echo "not ok $case_no harness.vng_qemu_abort_${when}_init"
		echo "# $got (want: $want)"
		sed 's/^/# /' "$tmp/vng-stderr"
	fi
done
# The guest command's stderr, which vng writes to its stderr, must not overwrite the console,
# which QEMU writes to the same file opened again by its path. A fake vng does both.
cat >"$tmp/two-writer-vng" <<'FAKE'
#!/bin/bash
exec 3>/proc/self/fd/2
echo '[    0.000000] Linux version (the console, as QEMU writes it)' >&3
echo 'bhlock-init: ready' >&3
sed 's#/dev/kmsg#/dev/null#' "${@: -1}" | bash
echo 'the command on stderr, as vng writes it' >&2
FAKE
chmod +x "$tmp/two-writer-vng"
case_no=$((case_no + 1))
VNG=$tmp/two-writer-vng BHLOCK_KVM=no BHLOCK_RESULTS=$tmp/vng-results \
	"$BHLOCK_ROOT/scripts/vng-run.sh" "$tmp/kdir" "$tmp/console" -- true >/dev/null 2>&1
if grep -q '^\[    0.000000\] Linux version' "$tmp/console" &&
	grep -q '^the command on stderr' "$tmp/console"; then
	echo "ok $case_no harness.vng_console_keeps_the_boot_log"
else
	echo "not ok $case_no harness.vng_console_keeps_the_boot_log"
	sed 's/^/# console: /' "$tmp/console"
fi
echo "1..$case_no"
