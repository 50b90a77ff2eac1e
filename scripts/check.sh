#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# check.sh: the test matrix behind `make check`.
#
# The harness's own negative controls (scripts/test-harness.sh) and lint, beside the first
# kernel's tests, their results after the kernels'. Then, for
# every kernel of the matrix (nort, rt, rt-bhlock; BHLOCK_KERNELS_ONLY="rt" picks a subset,
# SCENARIOS="abba lifo_napi" a subset of the scenario table): build it (or take it from the
# cache), build bhlock.ko against it with no warnings and no stack frame above the kernel's
# limit, then boot it under virtme-ng: once for the kselftest scripts of selftests/bhlock
# (everything expected clean) through the kernel's own kselftest runner, then once for each
# expected-splat case of the module's scenario table (lockdep and WARN_ON_ONCE() report only
# once). Then the probe's must-fail kernel (rt-nolock): built from a copy of rt, booted once
# per kernel-resource case with that resource's protection removed, for test-kernel.sh
# alone, whose case must catch the corruption there. The kernels (and
# the upstream series) are jobs, one at a time; see below. Their kernels and modules are
# built ahead, in the background at idle priority, while the jobs before them test
# (build_ahead). BHLOCK_SCALE (gate, or soak for
# `make soak`) is the size of every test. Every result is a KTAP
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
. "$(dirname "$0")/covered.sh"

read -r -a kernels <<<"${BHLOCK_KERNELS_ONLY:-${BHLOCK_KERNELS[*]} ${BHLOCK_PROBE_KERNELS[*]}}"
rm -rf "$BHLOCK_RESULTS"
mkdir -p "$BHLOCK_RESULTS"
all_ktap=$BHLOCK_RESULTS/ktap.txt
timings=$BHLOCK_RESULTS/timings.txt

# since T: seconds from $EPOCHREALTIME T until now.
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
# timing PHASE WALL [KERNEL_BOOT USERSPACE TEST POWER_OFF]: a row of the timing table.
timing() { printf '%-42s %7s %7s %7s %7s %7s\n' "$@" >>"$timings"; }
# boot_timing PHASE PHASES_FILE: the row of a boot, from the guest's phases and the host's
# wall time that vng-run.sh wrote (CONSOLE_LOG.phases); dashes if the boot wrote none.
boot_timing() {
	local kboot user test off wall
	read -r kboot user test off wall <"$2" || kboot=- user=- test=- off=- wall=-
	timing "$1" "$wall" "$kboot" "$user" "$test" "$off"
}
timing phase wall_s boot_s user_s test_s off_s
t=$EPOCHREALTIME
# The kernel source (a download and an unpack) needs nothing that setup installs: it comes
# beside setup (cold, 13 s of a 96-s setup here).
"$BHLOCK_ROOT/scripts/kernel-source.sh" >/dev/null 2>"$BHLOCK_RESULTS/kernel-source.log" &
source_pid=$!
"$BHLOCK_ROOT/scripts/setup.sh" || { echo "0 passed, 1 failed"; exit 1; }
wait "$source_pid" || { cat "$BHLOCK_RESULTS/kernel-source.log"; echo "0 passed, 1 failed"; exit 1; }
timing "setup, kernel source" "$(since "$t")"
# The clean boot runs the kselftest directory's TEST_PROGS through the kernel's own runner,
# run_kselftest.sh, installed by the kernel's `make install` (scripts/kselftest-install.sh);
# its test-scenarios.sh also copies the module's scenario table to the host, which then
# boots once for each of its expected-splat cases (test-splat.sh NAME), whose guest writes
# the reports that case expects to a file the console scan then allows.
t=$EPOCHREALTIME
kselftests=$("$BHLOCK_ROOT/scripts/kselftest-install.sh" "$BHLOCK_RESULTS/kselftest") ||
	{ echo "0 passed, 1 failed"; exit 1; }
mapfile -t test_progs < <(sed -n 's/^bhlock://p' "$kselftests/kselftest-list.txt")
timing "kselftest install" "$(since "$t")"
# The runner's per-script timeout: the directory's settings at gate size; at soak size a run
# lasts as long as the scale asks.
runner_args=()
# The same for a script run on its own (boot_script_run).
script_timeout=$(sed -n 's/^timeout=//p' "$kselftests/bhlock/settings")
if [ "$(bhlock_scale)" = soak ]; then
	script_timeout=7200
	runner_args=(--override-timeout "$script_timeout")
	# At soak size the figures are the point: every result's diagnostics, not only a failure's.
	show_all_diags=1
fi

# boot K NAME COMMAND [SCRIPT...]: boots kernel K for the guest shell command COMMAND; its
# results go into a subtest NAME.K, with the boot's own verdict (vng-run.sh) as its last
# leaf, vm.NAME.K. With SCRIPTs, COMMAND runs them through the kselftest runner with its
# per-script logs in $out/NAME.logs/, and each is expected to get the runner's verdict.
boot() {
	boot_run "$1" "$2" "$3"
	boot_results "$1" "$2" "${@:4}"
}

# boot_script_run K NAME SCRIPT: boots kernel K for one script of the installed kselftest
# directory, run on its own rather than through the runner, whose own steps start some twenty
# programs a script (a TCG guest takes 100-300 ms to start one: about 6 s a boot); the clean
# boot of each kernel runs them through the runner. As under the runner, its stderr goes with
# its output, and it has the runner's timeout (exit status 124). The guest writes the script's
# exit status to $out/NAME.script-status. Boots of one kernel may run side by side.
boot_script_run() {
	rm -f "$out/$2.script-status"
	boot_run "$1" "$2" "cd '$kselftests/bhlock' && timeout $script_timeout ./$3 2>&1;
		echo \$? >'$out/$2.script-status'"
}

# boot_script_results K NAME SCRIPT: the results of boot_script_run K NAME SCRIPT, which has
# ended. They are the runner's: the script's own, then kselftest.SCRIPT.K from its exit status
# (import_script); the boot's own verdict is the boot's alone.
boot_script_results() {
	local k=$1 boot=$2 script=$3 vm_status
	tree_begin "boot.$boot.$k"
	import_script "$out/$boot.ktap" "$out/$boot.script-status" "kselftest.${script%.sh}.$k"
	read -r vm_status <"$out/$boot.status" || vm_status=1
	boot_verdict "$k" "$boot" "$vm_status"
}

# boot_run K NAME COMMAND: the boot of `boot`, without its results; its exit status goes to
# $out/NAME.status. Boots of one kernel may run side by side (their files are their own).
boot_run() {
	local k=$1 boot=$2 command=$3 expect_file=$out/$2.expect
	# The clean boot runs every test in TEST_PROGS: its hang limit leaves room for a machine
	# twice as slow as the slowest seen, and a soak's clean boot runs for most of an hour. A
	# splat boot takes seconds.
	local timeout=600 append=${BHLOCK_VNG_APPEND:-}
	[ "$boot" != clean ] || timeout=$(bhlock_scaled 1800 7200)
	# Only the clean boot looks for leaks (test-leak.sh), and not one that does not run
	# test-leak.sh (not_run): the others boot with kmemleak off, which tracks every allocation
	# and costs a TCG guest about a fifth of its time (Documentation/measurements.rst). Were
	# test-leak.sh run in a boot with kmemleak off, it would fail (it finds kmemleak=off), not
	# skip.
	local entry leak_check=0
	if [ "$boot" = clean ]; then
		leak_check=1
		for entry in "${not_run[@]}"; do
			[ "${entry%%|*}" != test-leak.sh ] || leak_check=0
		done
	fi
	[ "$leak_check" -eq 1 ] || append+=" kmemleak=off"
	BHLOCK_VNG_TIMEOUT=${BHLOCK_VNG_TIMEOUT:-$timeout} BHLOCK_VNG_APPEND=$append \
	"$BHLOCK_ROOT/scripts/vng-run.sh" --expect-file "$expect_file" "$kdir" "$out/$boot.console.log" -- \
		env BHLOCK_KO="$ko" BHLOCK_KERNEL="$k" BHLOCK_ARGS="${BHLOCK_ARGS:-}" \
		BHLOCK_SCALE="$(bhlock_scale)" SCENARIOS="${SCENARIOS:-}" \
		BHLOCK_GATE_COVERED="$(gate_covered "$k")" \
		BHLOCK_EXPECT_FILE="$expect_file" BHLOCK_TABLE_OUT="$out/scenarios.tsv" \
		BHLOCK_TABLE_IN="${BHLOCK_TABLE_IN:-}" \
		bash -c "$command" >"$out/$boot.ktap" 2>"$out/$boot.vm.log"
	echo $? >"$out/$boot.status"
}

# boot_results K NAME [SCRIPT...]: the results of boot NAME of kernel K, which has ended; see
# `boot`. Then a SKIP for each script of not_run ("SCRIPT|REASON", the clean boot's scripts
# that the host did not run: script_covered), which it empties.
not_run=()
boot_results() {
	local k=$1 boot=$2 vm_status entry script reason
	shift 2
	tree_begin "boot.$boot.$k"
	read -r vm_status <"$out/$boot.status" || vm_status=1
	if [ $# -gt 0 ]; then
		import_kselftest "$out/$boot.ktap" "$out/$boot.logs" "$k" "$@"
	else
		import_ktap "$out/$boot.ktap" "boot.$boot.$k" "$vm_status"
	fi
	for entry in "${not_run[@]}"; do
		IFS='|' read -r script reason <<<"$entry"
		record skip "kselftest.${script%.sh}.$k"
		tree_diag "kselftest.${script%.sh}.$k: not run: $reason"
	done
	not_run=()
	boot_verdict "$k" "$boot" "$vm_status"
}

# boot_verdict K NAME VM_STATUS: the end of boot NAME's subtree: its timing row and its own
# verdict, vm.NAME.K (VM_STATUS, vng-run.sh's exit status), then tree_end.
boot_verdict() {
	local k=$1 boot=$2 vm_status=$3 line
	boot_timing "boot $k $boot" "$out/$boot.console.log.phases"
	if [ "$vm_status" -eq 0 ]; then
		# A boot that passed after a stall before init says so (scripts/vng-run.sh).
		while read -r line; do
			tree_diag "$line"
		done < <(grep -E '^vng-run: boot .* (stalled|QEMU died)' "$out/$boot.vm.log")
		record ok "vm.$boot.$k"
	else
		record not-ok "vm.$boot.$k" "$out/$boot.vm.log"
	fi
	tree_end
}

# run_kselftests LOGS SCRIPT...: the guest command that runs these scripts (default: all) of
# the installed kselftest directory through its runner, each script's output in LOGS/SCRIPT
# (the runner's --per-test-log; its stdout then has the runner's own lines). Without it the
# runner writes each script's output by opening /dev/stdout again, and in the guest the two
# writers overwrite each other's lines. The guest has no perl (scripts/guest-init.c), so the
# runner puts each line of a script's output through sed, whose output to a file is
# block-buffered: a guest that dies in a script would leave nothing of it in LOGS/SCRIPT, where
# the host looks for what it printed last (import_kselftest). stdbuf makes it line-buffered,
# as the runner itself does for the scripts.
run_kselftests() {
	local cmd="cd '$kselftests' && stdbuf --output=L ./run_kselftest.sh ${runner_args[*]} --per-test-log '$1'" script
	shift
	for script in "$@"; do
		cmd+=" -t bhlock:$script"
	done
	echo "$cmd"
}

# table_cases CLASS TABLE: the cases of CLASS (splat, kernel) in TABLE, a copy of the module's
# scenario table that a boot wrote out, as SCENARIOS selects them.
table_cases() {
	awk -F '\t' -v class="$1" -v only=" ${SCENARIOS:-} " '!/^#/ && $2 == class &&
		(only ~ /^ *$/ || index(only, " " $1 " ")) { print $1 }' "$2"
}

start=$SECONDS
# What runs beside the guests runs at the host's lowest priority, so that it takes only what
# they leave. idle_self: this (sub)shell, and what it starts from now on, at SCHED_IDLE where
# the host allows it, else at nice 19.
idle_self() {
	chrt --idle -p 0 "$BASHPID" >/dev/null 2>&1 || renice -n 19 -p "$BASHPID" >/dev/null
}
# at_idle COMMAND...: COMMAND at that priority, run by a detached process (detach).
at_idle() {
	idle_self
	"$@"
}
# series_built KTAP: whether upstream.sh built the series' kernels in the run that printed KTAP
# (else it found them cached).
series_built() {
	grep -q '^# [0-9]* s from a copy of ' "$1" 2>/dev/null
}
bg_dir=$BHLOCK_RESULTS/bg
mkdir -p "$bg_dir"
# detach NAME COMMAND...: runs COMMAND in the background, detached from this shell (whose
# `wait`s are for the jobs) and in a process group of its own (set -m), so that undetach ends
# it with everything it started. It holds the lock $bg_dir/NAME.lock, taken here before it
# starts, for as long as it or anything it started runs (detached_running).
detach() {
	local name=$1 lock
	shift
	exec {lock}>"$bg_dir/$name.lock"
	flock "$lock"
	: "$(set -m; "$@" </dev/null >/dev/null 2>&1 & echo $! >"$bg_dir/$name.pid")"
	exec {lock}>&-
}
# detached_running NAME: whether what detach NAME started, or anything it started, still runs.
detached_running() {
	local lock status
	exec {lock}>"$bg_dir/$1.lock"
	flock -n "$lock"
	status=$?
	exec {lock}>&-
	[ "$status" -ne 0 ]
}
# undetach NAME: ends what detach NAME started, if it still runs (a process group that ended
# may have left its number to another).
undetach() {
	local pid
	detached_running "$1" && read -r pid <"$bg_dir/$1.pid" && kill -- -"$pid" 2>/dev/null
}
trap 'undetach build_ahead; undetach harness; undetach lint' EXIT

# stage_start NAME COMMAND...: starts a host stage that prints KTAP beside the first kernel's
# tests (detach); its KTAP, log and exit status go to $BHLOCK_RESULTS/NAME.{ktap,log,status}.
stage_start() {
	detach "$1" stage_run "$@"
}
stage_run() {
	local name=$1
	shift
	"$@" >"$BHLOCK_RESULTS/$name.ktap" 2>"$BHLOCK_RESULTS/$name.log"
	echo $? >"$BHLOCK_RESULTS/$name.status.tmp"
	mv "$BHLOCK_RESULTS/$name.status.tmp" "$BHLOCK_RESULTS/$name.status"
}
# stage_results NAME: waits for stage NAME to end, then adds its results and its exit status
# (1 if it ended without one).
stage_results() {
	local name=$1 status=1
	while [ ! -f "$BHLOCK_RESULTS/$name.status" ] && detached_running "$name"; do
		sleep 1
	done
	read -r status 2>/dev/null <"$BHLOCK_RESULTS/$name.status" ||
		echo "# $name ended without an exit status" >>"$BHLOCK_RESULTS/$name.ktap"
	tree_begin "$name"
	import_ktap "$BHLOCK_RESULTS/$name.ktap" "$name" "${status:-1}"
	tree_end
}

# module_build K KDIR BY: bhlock.ko against kernel K (built in KDIR) into
# $BHLOCK_RESULTS/K/module, once for KDIR: by build_ahead or by K's job (BY: ahead, job),
# whichever comes first; the other waits for it and takes its result. Prints the .ko's path;
# its log is $BHLOCK_RESULTS/K/module-build.log, and who built it $BHLOCK_RESULTS/K/module.by.
module_build() {
	local out=$BHLOCK_RESULTS/$1 lock status built_for
	mkdir -p "$out"
	exec {lock}>"$out/module.lock"
	flock "$lock"
	read -r status built_for <"$out/module.status" 2>/dev/null
	if [ "${built_for:-}" != "$2" ]; then
		"$BHLOCK_ROOT/scripts/build-module.sh" "$2" "$out/module" >"$out/module.path" \
			2>"$out/module-build.log"
		status=$?
		echo "$status $2" >"$out/module.status"
		echo "$3" >"$out/module.by"
	fi
	exec {lock}>&-
	cat "$out/module.path"
	return "$status"
}

# build_ahead: the kernels of the matrix that the first jobs do not start with, bhlock.ko
# against each, and the upstream series' kernels, built in the matrix's order beside the jobs
# at idle priority (idle_self). A TCG guest leaves much of the host idle (its shell runs on one
# vCPU at a time: the host was 55% busy through three selftests of a nort boot), and these
# builds take only what the guests leave, so on a cold cache the next kernels build while
# this one's boots run. A job that needs one of them waits for it (build-kernel.sh's lock,
# module_build's, upstream.sh's), and a build with nothing beside it runs at full speed. Its
# logs and timing rows go to $BHLOCK_RESULTS/ahead/. Its failures are the jobs' to report: a
# kernel that did not build is built again by its job; a module's failure is the job's result.
build_ahead() {
	local k kdir t
	idle_self
	timings=$BHLOCK_RESULTS/ahead/timings
	for k in "${kernels[@]:${BHLOCK_PARALLEL_JOBS:-1}}"; do
		t=$EPOCHREALTIME
		kdir=$("$BHLOCK_ROOT/scripts/build-kernel.sh" "$k" 2>"$BHLOCK_RESULTS/ahead/$k.kernel-build.log") ||
			continue
		! grep -q ': built in ' "$BHLOCK_RESULTS/ahead/$k.kernel-build.log" ||
			timing "  kernel $k" "$(since "$t")"
		t=$EPOCHREALTIME
		module_build "$k" "$kdir" ahead >/dev/null
		[ "$(cat "$BHLOCK_RESULTS/$k/module.by")" != ahead ] || timing "  module $k" "$(since "$t")"
	done
	if [[ " ${kernels[*]} " == *" nort "* ]]; then
		t=$EPOCHREALTIME
		BHLOCK_UPSTREAM_BUILD_ONLY=1 \
			BHLOCK_UPSTREAM_KERNELS=$(printf '%s\n' "${kernels[@]}" | grep -xE 'nort|rt' | paste -sd' ') \
			"$BHLOCK_ROOT/scripts/upstream.sh" "$BHLOCK_RESULTS/ahead/upstream" \
			>"$BHLOCK_RESULTS/ahead/upstream.ktap" 2>&1
		! series_built "$BHLOCK_RESULTS/ahead/upstream.ktap" || timing "  upstream kernels" "$(since "$t")"
	fi
}
mkdir -p "$BHLOCK_RESULTS/ahead"
detach build_ahead build_ahead

# The harness's own negative controls wait on fake boots with short timeouts: at normal
# priority. Lint only computes: at idle priority. Their results come after the kernels'
# (stage_results).
stage_start harness "$BHLOCK_ROOT/scripts/test-harness.sh"
stage_start lint at_idle "$BHLOCK_ROOT/scripts/lint.sh"

# probe_boots K: the must-fail kernel K (configs/rt-nolock.patch), booted once for each
# kernel-resource case of the module's table (SCENARIOS selects), with only that resource's
# protection removed (the boot parameter bhlock_unlocked=NAME): test-kernel.sh runs the case,
# which must catch the corruption; then once with nothing removed for the resources that K
# carries a candidate fix for. The case names come from the table an earlier kernel's clean
# boot copied out, or else from a boot of K that only copies it.
probe_boots() {
	local k=$1 table name names
	table=$(compgen -G "$BHLOCK_RESULTS/*/scenarios.tsv" | head -n 1)
	if [ -z "$table" ]; then
		boot_run "$k" table "cd '$kselftests/bhlock' && SCENARIOS=- ./test-kernel.sh"
		boot_timing "boot $k table (the case names only)" "$out/table.console.log.phases"
		table=$out/scenarios.tsv
	fi
	mapfile -t names < <(table_cases kernel "$table")
	[ ${#names[@]} -gt 0 ] || [ -n "${SCENARIOS:-}" ] || record not-ok "scenario.table.$k" "$out/table.vm.log"
	# A resource that the stock kernels leave unprotected (the table's "# unprotected in
	# stock:" line) has bhlock's candidate fix in K instead, which bhlock_unlocked=NAME takes
	# out: with nothing removed, its case must stay clean (the boot kernel-fixed).
	local stock_unlocked fixed=()
	stock_unlocked=$(sed -n 's/^# unprotected in stock: \(.*\)/,\1,/p' "$table")
	for name in "${names[@]}"; do
		[[ $stock_unlocked != *",$name,"* ]] || fixed+=("$name")
	done
	# One CPU online each, two boots at a time (in_parallel): a case's forced pairs interleave
	# its BH sections on one CPU, which catches the corruption there as on two. With two CPUs
	# each, two such guests on 2 cores waited on each other's descheduled vCPUs (48 s a boot
	# against 21, 2026-12-05). rt-nolock's five probe boots: 32 s so against 52 s one at a
	# time with two CPUs (2026-12-07). The results are read in order afterwards.
	for name in "${names[@]}"; do
		BHLOCK_VNG_APPEND="bhlock_unlocked=$name" SCENARIOS=$name BHLOCK_VNG_CPUS=1 \
			in_parallel boot_script_run "$k" "kernel-$name" test-kernel.sh
	done
	[ ${#fixed[@]} -eq 0 ] ||
		SCENARIOS="${fixed[*]}" BHLOCK_VNG_CPUS=1 in_parallel boot_script_run "$k" kernel-fixed test-kernel.sh
	wait
	for name in "${names[@]}"; do
		boot_script_results "$k" "kernel-$name" test-kernel.sh
	done
	[ -n "$stock_unlocked" ] || record not-ok "scenario.table.$k.unprotected_in_stock" "$table"
	[ ${#fixed[@]} -eq 0 ] || boot_script_results "$k" kernel-fixed test-kernel.sh
}

# in_parallel COMMAND...: runs COMMAND in the background, at most BHLOCK_PARALLEL_BOOTS
# (default 2) at a time; the caller waits for the last ones. For the splat and the probe boots,
# each with one CPU online: two such guests share 2 cores. (The callers' only background
# processes are these.)
in_parallel() {
	while [ "$(jobs -pr | wc -l)" -ge "${BHLOCK_PARALLEL_BOOTS:-2}" ]; do
		wait -n
	done
	"$@" &
}

# check_kernel K: every test of kernel K, as the subtree K: build it (or take it from the
# cache), build bhlock.ko against it, then its boots.
check_kernel() {
	local k=$1 out=$BHLOCK_RESULTS/$1 t0=$SECONDS t=$EPOCHREALTIME kdir ko line s compile_fail
	mkdir -p "$out"
	tree_begin "$k"
	if ! kdir=$("$BHLOCK_ROOT/scripts/build-kernel.sh" "$k" 2>"$out/kernel-build.log"); then
		record not-ok "build.kernel.$k" "$out/kernel-build.log"
		tree_end
		return
	fi
	record ok "build.kernel.$k"
	if grep -q ': built in ' "$BHLOCK_RESULTS/ahead/$k.kernel-build.log" 2>/dev/null; then
		timing "kernel $k (built ahead)" "$(since "$t")"
	elif grep -q ': cached in ' "$out/kernel-build.log"; then
		timing "kernel $k (cached)" "$(since "$t")"
	else
		timing "kernel $k (built)" "$(since "$t")"
	fi
	t=$EPOCHREALTIME
	if ! ko=$(module_build "$k" "$kdir" job); then
		record not-ok "build.module.$k" "$out/module-build.log"
		tree_end
		return
	fi
	record ok "build.module.$k"
	tree_diag "largest stack frames of bhlock.ko on $k (bytes, function):"
	while IFS= read -r line; do
		tree_diag "  $line"
	done < <(head -n 4 "$out/module/frames.txt")
	if [ "$(cat "$out/module.by")" = ahead ]; then
		timing "module $k (built ahead)" "$(since "$t")"
	else
		timing "module $k" "$(since "$t")"
	fi
	if [[ " ${BHLOCK_PROBE_KERNELS[*]} " == *" $k "* ]]; then
		probe_boots "$k"
		tree_diag "kernel $k: $((SECONDS - t0)) s"
		tree_end
		return
	fi
	# The compile-fail cases build on the host while the clean boot runs: the guest leaves
	# the host's cores idle much of the time (its tests sleep, wait and reload).
	# At nice 19: the guest's vCPUs come first, and then this, which the job waits for after
	# the clean boot, before build_ahead (idle priority).
	# At gate size a kernel whose cases build as on one before it skips them (compile-fail.sh):
	# the kernels of the matrix before K whose run has passed, "NAME BUILD_DIRECTORY" in
	# $BHLOCK_RESULTS/NAME/compile-fail.ran.
	(
		t=$EPOCHREALTIME
		renice -n 19 -p "$BASHPID" >/dev/null
		BHLOCK_COMPILE_FAIL_RAN=$(for other in "${kernels[@]}"; do
				[ "$other" != "$k" ] || break
				cat "$BHLOCK_RESULTS/$other/compile-fail.ran" 2>/dev/null
			done) \
			"$BHLOCK_ROOT/scripts/compile-fail.sh" "$kdir" "$k" "$out/compile-fail" >"$out/compile-fail.ktap"
		status=$?
		[ "$status" -ne 0 ] || echo "$k $kdir" >"$out/compile-fail.ran"
		echo "$status" >"$out/compile-fail.status"
		since "$t" >"$out/compile-fail.time"
	) &
	compile_fail=$!
	rm -f "$out/scenarios.tsv"
	# The scripts that would only skip themselves whole (script_covered) are not run: each costs
	# a TCG guest some 4 s of the runner's own steps for its one SKIP line, which the host
	# records instead (boot_results, not_run).
	local progs=() script
	not_run=()
	for script in "${test_progs[@]}"; do
		if script_covered "$k" "$script"; then
			not_run+=("$script|$covered_reason")
		else
			progs+=("$script")
		fi
	done
	# (The runner given no script runs them all.)
	if [ ${#progs[@]} -eq 0 ]; then
		progs=("${test_progs[@]}")
		not_run=()
	fi
	boot_run "$k" clean "$(run_kselftests "$out/clean.logs" "${progs[@]}")"
	wait "$compile_fail"
	tree_begin "compile_fail.$k"
	import_ktap "$out/compile-fail.ktap" "compile_fail.$k" "$(cat "$out/compile-fail.status")"
	tree_end
	timing "compile-fail $k (beside the clean boot)" "$(cat "$out/compile-fail.time")"
	boot_results "$k" clean "${progs[@]}"
	# What this kernel now covers for the kernels after it (gate_covered).
	rm -f "$out/covers"
	if [ "$(cat "$out/clean.status" 2>/dev/null)" = 0 ] && [ -s "$out/scenarios.tsv" ]; then
		head -n 1 "$out/scenarios.tsv" >"$out/covers"
	fi
	# The deepest stack the clean boot's test-stack.sh measured: the top of its chain and
	# bhlock's frames in it.
	while IFS= read -r line; do
		tree_diag "$line"
	done < <(awk -v k="$k" 'sub(/^# # stack_max_size: /, "") { print "deepest stack on " k ": " $0; on = 1; next }
		on && sub(/^# #     /, "  ") && (++n <= 6 || /\[bhlock\]/)' "$out/clean.logs/test-stack.sh" 2>/dev/null)
	if [ -s "$out/scenarios.tsv" ]; then
		# The splat boots, side by side (in_parallel); their results are read in table
		# order afterwards.
		t=$EPOCHREALTIME
		for s in $(table_cases splat "$out/scenarios.tsv"); do
			# The table the clean boot copied out, so that the guest loads the module
			# only for the case. One CPU online (and one possible that is not): a splat
			# case is one context's misuse on one CPU, and two 2-vCPU guests on 2 cores
			# wait on each other's descheduled vCPUs. rt's nine splat boots, two at a time,
			# took 40 s so against 67-70 s with two CPUs each (2026-12-07).
			BHLOCK_TABLE_IN=$out/scenarios.tsv BHLOCK_VNG_CPUS=1 \
				in_parallel boot_run "$k" "splat-$s" "cd '$kselftests/bhlock' && ./test-splat.sh $s"
		done
		wait
		for s in $(table_cases splat "$out/scenarios.tsv"); do
			boot_results "$k" "splat-$s"
		done
		timing "splat boots $k (${BHLOCK_PARALLEL_BOOTS:-2} at a time)" "$(since "$t")"
	else
		record not-ok "scenario.table.$k" "$out/clean.vm.log"
	fi
	tree_diag "kernel $k: $((SECONDS - t0)) s"
	tree_end
}

# check_upstream: the guard API as an upstream patch series, built into a copy of the nort
# kernel and its examples run as KUnit doctests (scripts/upstream.sh), as the subtree
# upstream.
check_upstream() {
	local t=$EPOCHREALTIME kboot user test off wall
	tree_begin upstream
	# The series on the kernels of the matrix it is built for.
	BHLOCK_UPSTREAM_KERNELS=$(printf '%s\n' "${kernels[@]}" | grep -xE 'nort|rt' | paste -sd' ') \
		"$BHLOCK_ROOT/scripts/upstream.sh" "$BHLOCK_RESULTS/upstream" >"$BHLOCK_RESULTS/upstream.ktap" 2>&1
	import_ktap "$BHLOCK_RESULTS/upstream.ktap" upstream $?
	tree_end
	read -r kboot user test off wall <"$BHLOCK_RESULTS/upstream/nort/doctests.console.log.phases" ||
		kboot=- user=- test=- off=- wall=-
	if series_built "$BHLOCK_RESULTS/ahead/upstream.ktap"; then
		timing "upstream (kernels built ahead)" "$(since "$t")" "$kboot" "$user" "$test" "$off"
	elif ! series_built "$BHLOCK_RESULTS/upstream.ktap"; then
		timing "upstream (kernel cached)" "$(since "$t")" "$kboot" "$user" "$test" "$off"
	else
		timing "upstream (kernel built)" "$(since "$t")" "$kboot" "$user" "$test" "$off"
	fi
}

# The jobs: each kernel's tests, and with nort (the kernel it builds on) the upstream series,
# BHLOCK_PARALLEL_JOBS at a time, each in a subshell whose results are added in this order
# once it ends (run_job, job_results). The default is one: two kernels' clean boots side by
# side each took several times as long per script as alone (Documentation/measurements.rst):
# a TCG guest keeps a core busy, so there is nothing to share (but for the light jobs, below).
# A kernel that another job needs as its base (rt for rt-bhlock and rt-nolock, nort and rt for
# upstream) is built by that job's build-kernel.sh, which waits for a build of the same kernel
# already under way.
job_names=("${kernels[@]}")
[[ " ${kernels[*]} " != *" nort "* ]] || job_names+=(upstream)
jobs_dir=$BHLOCK_RESULTS/jobs
mkdir -p "$jobs_dir"
# results_so_far: adds the results of the jobs that have ended, in the matrix's order, up to
# the first one still running: each is printed as soon as it and those before it are done.
next_result=0
results_so_far() {
	while [ "$next_result" -lt ${#job_names[@]} ] &&
		job_ended "$jobs_dir" "${job_names[next_result]}"; do
		job_results "$jobs_dir" "${job_names[next_result]}"
		next_result=$((next_result + 1))
	done
}
# The light jobs, those with no clean boot (the probe kernels' and upstream: guests of one CPU
# each), do not wait for the others: they run beside them, one light job at a time, at nice 19.
# A clean boot leaves one of the two cores idle much of the time (its tests sleep, wait and
# reload; a kernel build at idle priority beside nort's got about a core), and at nice 19 the
# light job's guests take what it leaves, not its vCPUs' time. Their verdicts do not depend on
# how fast they run: the probe's forced pairs interleave in their first round, and KUnit's
# cases are run to the end. In the matrix's order they come last, so they start once the last
# heavy job has (their kernels have been built ahead by then, or are being built).
light_jobs=" upstream ${BHLOCK_PROBE_KERNELS[*]} "
# (This shell's only background processes here are the jobs; job_kind has each one's pid.)
declare -A job_kind=()
heavy_running=0 light_running=0
# wait_job: waits for a job to end, then adds the results of those that have ended.
wait_job() {
	local pid
	wait -n -p pid
	if [ "${job_kind[$pid]}" = light ]; then
		light_running=$((light_running - 1))
	else
		heavy_running=$((heavy_running - 1))
	fi
	results_so_far
}
# start_job NAME: runs job NAME (its caller puts it in the background).
start_job() {
	if [ "$1" = upstream ]; then
		run_job "$jobs_dir" upstream check_upstream
	else
		run_job "$jobs_dir" "$1" check_kernel "$1"
	fi
}
for job in "${job_names[@]}"; do
	if [[ $light_jobs == *" $job "* ]]; then
		while [ "$light_running" -ge 1 ]; do
			wait_job
		done
		# (A renice that fails leaves the job at the usual priority; it still runs.)
		(
			renice -n 19 -p "$BASHPID" >/dev/null || true
			start_job "$job"
		) &
		job_kind[$!]=light
		light_running=$((light_running + 1))
	else
		while [ "$heavy_running" -ge "${BHLOCK_PARALLEL_JOBS:-1}" ]; do
			wait_job
		done
		start_job "$job" &
		job_kind[$!]=heavy
		heavy_running=$((heavy_running + 1))
	fi
done
wait
results_so_far
# What build_ahead has left to do, no job needs any more.
undetach build_ahead
if [ -s "$BHLOCK_RESULTS/ahead/timings" ]; then
	timing "built ahead, beside the tests (wall s of each build):"
	cat "$BHLOCK_RESULTS/ahead/timings" >>"$timings"
fi

stage_results harness
stage_results lint
tree_diag "matrix: ${kernels[*]} in $((SECONDS - start)) s; results in $BHLOCK_RESULTS"
# The documentation's generated tables (Documentation/generated/) against what this run's module
# says of itself: a parameter or a scenario changed without `make doc-tables` fails here.
tree_begin docs
if [[ " ${kernels[*]} " != *" ${BHLOCK_KERNELS[*]} "* ]]; then
	tree_diag "docs.generated_tables: the tables need every kernel of the matrix (${BHLOCK_KERNELS[*]})"
	record skip docs.generated_tables
elif make -s --no-print-directory -C "$BHLOCK_ROOT" doc-tables DOC_TABLES_DIR="$BHLOCK_RESULTS/doc-tables" \
	>"$BHLOCK_RESULTS/doc-tables.log" 2>&1 &&
	diff -ru "$BHLOCK_ROOT/Documentation/generated" "$BHLOCK_RESULTS/doc-tables" \
		>>"$BHLOCK_RESULTS/doc-tables.log" 2>&1; then
	record ok docs.generated_tables
else
	echo "(make doc-tables updates the committed tables)" >>"$BHLOCK_RESULTS/doc-tables.log"
	record not-ok docs.generated_tables "$BHLOCK_RESULTS/doc-tables.log"
fi
tree_end
# The kernel-resource probes, resource x kernel (scripts/verdicts.sh, also `make verdicts`).
tree_diag "kernel-resource probes (resource, kernel, verdict: expected, first fault):"
while IFS= read -r line; do
	tree_diag "  $line"
done < <("$BHLOCK_ROOT/scripts/verdicts.sh" "$BHLOCK_RESULTS" 2>&1)
timing total "$SECONDS"
tree_diag "where the time went (s; boot/user/test/off: guest time by phase, from the console):"
while IFS= read -r line; do
	tree_diag "$line"
done <"$timings"
tree_write "$all_ktap"
"$BHLOCK_ROOT/scripts/junit.sh" "$all_ktap" >"$BHLOCK_RESULTS/junit.xml"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$leaves" -gt 0 ]
