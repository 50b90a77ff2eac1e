#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The library of bhlock's selftests, in the shape of selftests/livepatch/functions.sh: it
# holds the logic (loading, the kernel's health signals, the one parser of the module's
# report, the scenario runner, the facts read from the module), so that each test-*.sh is a
# short linear story. Every fact comes from the module: parameter names and ranges from
# `modinfo -p`, the scenario table and each case's verdict from debugfs and the kernel log,
# report banners from the file report-banners. Source it first; it sources ktap.sh.
#
# Environment:
#   BHLOCK_KO      path of bhlock.ko (default: bhlock.ko beside the scripts, else modprobe)
#   BHLOCK_KERNEL  the kernel flavour, appended to every test name (default: uname -r)
#   BHLOCK_ARGS    extra module parameters for the runs (e.g. lock_with_bh_enabled=1)
#   BHLOCK_SCALE   gate (default): every check at the size that shows it works and can
#                  fail; soak: the same checks at full scale (more cycles, repeats, longer
#                  runs); see `scaled`
#   BHLOCK_GATE_COVERED  at gate size, the kernels this check has already run the selftests
#                  on, one per line, as the module describes each (the `# kernel:` line of its
#                  scenario table: "preempt_rt=1 bh_serialised=0 ..."). A check whose verdict
#                  can depend only on properties in which such a kernel equals this one ran
#                  there already and is skipped here (gate_skipped); `make check` sets it.
#   BHLOCK_TABLE_IN  a copy of this module's scenario table (debugfs `scenarios`) that an
#                  earlier boot wrote out (BHLOCK_TABLE_OUT): test-splat.sh reads the case
#                  from it instead of loading the module once more for it; `make check` sets it
#                  for the splat boots.

set -u
# No program started here, and none in setup_test, which every script runs first, when there
# is a bhlock.ko, debugfs is mounted and bhlock is not loaded: under TCG a program costs
# 50-150 ms to start, a fork 10-40 ms (Documentation/measurements.rst).
selftest_dir=${BASH_SOURCE[0]%/*}
[ "$selftest_dir" != "${BASH_SOURCE[0]}" ] || selftest_dir=.
[[ $selftest_dir == /* ]] || selftest_dir=$PWD/$selftest_dir
. "$selftest_dir/ktap.sh"

mod=bhlock
kernel=${BHLOCK_KERNEL:-$(uname -r)}
ko=${BHLOCK_KO:-$selftest_dir/bhlock.ko}
args=${BHLOCK_ARGS:-}
debugfs=/sys/kernel/debug/$mod
scale=${BHLOCK_SCALE:-gate}
# The report banners (the file report-banners without its comments), read once, as one ERE:
# each banner quoted as scripts/vng-run.sh's ere_quote does for the console (a backslash before
# each of []\.*^$+?(){}|), the banners as alternatives.
banners_re=
while IFS= read -r line || [ -n "$line" ]; do
	[[ -z $line || $line == '#'* ]] && continue
	line=${line//"\\"/"\\\\"}
	for c in '[' ']' '.' '*' '^' '$' '+' '?' '(' ')' '{' '}' '|'; do
		line=${line//"$c"/"\\$c"}
	done
	banners_re+=${banners_re:+|}$line
done <"$selftest_dir/report-banners"
unset line c

# read_this_kernel: sets this_kernel to the module's description of this kernel,
# "preempt_rt=1 bh_serialised=0 ...", the first line of its scenario table (loading the
# module for it if it is not loaded). Kept for the boot in /run (a tmpfs of its own), beside
# the module's path, for the next script of the same module; a module file newer than that
# is asked again. A load and an unload cost about a second on the RT kernels under TCG.
this_kernel=
read_this_kernel() {
	local line loaded=0 cache=/run/bhlock-this-kernel cached_ko=
	[ -z "$this_kernel" ] || return 0
	if [ -f "$cache" ] && [ ! "$ko" -nt "$cache" ]; then
		{ read -r cached_ko && read -r line; } <"$cache"
	fi
	if [ -z "$ko" ] || [ "$cached_ko" != "$ko" ]; then
		[ -e "$debugfs/scenarios" ] || { load && loaded=1; } || return 1
		read -r line <"$debugfs/scenarios"
		[ "$loaded" -eq 0 ] || unload
		[ -z "$ko" ] || printf '%s\n%s\n' "$ko" "$line" 2>/dev/null >"$cache"
	fi
	[[ $line == "# kernel: "* ]] || return 1
	this_kernel=${line#\# kernel: }
}

# gate_covered PROPERTY...: true at gate size when a kernel of BHLOCK_GATE_COVERED has this
# kernel's value of every PROPERTY (with none: when there is any such kernel), so that a check
# whose verdict depends on those properties alone ran there already; that kernel's line goes
# to $covered_by. A PROPERTY the module does not describe is an error, never a match: the check
# then runs.
gate_covered() {
	local mine other prop value_re
	[ "$scale" = gate ] && [ -n "${BHLOCK_GATE_COVERED:-}" ] || return 1
	read_this_kernel || return 1
	mine=" $this_kernel "
	for prop in "$@"; do
		value_re=" $prop=[^ ]* "
		[[ $mine =~ $value_re ]] ||
			{ echo "$mod: kernel property $prop is not in the module's description: $mine" >&2; return 1; }
	done
	while IFS= read -r other; do
		[ -n "$other" ] || continue
		for prop in "$@"; do
			value_re=" $prop=[^ ]* "
			[[ $mine =~ $value_re ]]
			[[ " $other " == *"${BASH_REMATCH[0]}"* ]] || continue 2
		done
		covered_by=$other
		return 0
	done <<<"$BHLOCK_GATE_COVERED"
	return 1
}

# gate_skipped "PROPERTY..." NAME...: when gate_covered PROPERTY... holds (the list may be
# empty: a check that cannot depend on the kernel), a SKIP for each test NAME, and true.
gate_skipped() {
	local props=$1 name reason
	shift
	# shellcheck disable=SC2086 # a list of property names
	gate_covered $props || return 1
	reason=$(gate_reason "$props")
	for name in "$@"; do
		name_of name "$name"
		ktap_skip "$name" "$reason"
	done
}

# gate_skip_file "PROPERTY..." [WHY]: the same for the whole file, which then exits; WHY, if
# given, says why its verdict depends on those properties alone.
gate_skip_file() {
	# shellcheck disable=SC2086 # a list of property names
	! gate_covered $1 || ktap_skip_all "$(gate_reason "$1" "${2:-}")"
}

# gate_reason "PROPERTY..." [WHY]: why gate_covered skipped a check.
gate_reason() {
	echo "gate size: ${2:+$2: }its verdict depends on ${1:-no property of the kernel}, and it ran on a kernel that agrees ($covered_by)"
}

# scaled GATE SOAK: the size of something at this scale.
scaled() {
	if [ "$scale" = soak ]; then
		echo "$2"
	else
		echo "$1"
	fi
}

# --- Setup ---------------------------------------------------------------------------------

# setup_test: the KTAP header, then every precondition of a bhlock test: root, lockdep, a
# module to load, debugfs mounted (once, here) and no bhlock loaded. Skips the whole file
# where its checks could not mean anything.
setup_test() {
	ktap_header
	case $scale in
	gate | soak) ;;
	*) ktap_plan 1; ktap_not_ok "BHLOCK_SCALE=$scale is neither gate nor soak"; ktap_finished;;
	esac
	[ "$EUID" -eq 0 ] || ktap_skip_all "must run as root"
	[ -r /proc/lockdep_stats ] || ktap_skip_all "kernel has no lockdep (CONFIG_PROVE_LOCKING)"
	if [ -f "$ko" ]; then
		modinfo_arg=$ko
	elif modinfo "$mod" >/dev/null 2>&1; then
		ko=
		modinfo_arg=$mod
	else
		ktap_skip_all "no bhlock.ko (set BHLOCK_KO) and no installed bhlock module"
	fi
	is_mounted /sys/kernel/debug debugfs || mount -t debugfs none /sys/kernel/debug ||
		ktap_skip_all "cannot mount debugfs"
	unload || ktap_skip_all "bhlock is loaded and cannot be unloaded"
}

# is_mounted DIR FSTYPE: a file system of type FSTYPE is mounted on DIR (mountpoint(1)
# with builtins).
is_mounted() {
	local mounts
	mapfile -t mounts </proc/self/mounts
	[[ " ${mounts[*]} " == *" $1 $2 "* ]]
}

# load [PARAM=VALUE...]: loads bhlock with BHLOCK_ARGS and these parameters, without its
# KUnit suites unless kunit_at_load=1 (see without_kunit).
# shellcheck disable=SC2120 # the parameters are optional
load() {
	# shellcheck disable=SC2086 # BHLOCK_ARGS is a list of parameters.
	if [ -n "$ko" ]; then
		without_kunit insmod "$ko" $args "$@"
	else
		without_kunit modprobe "$mod" $args "$@"
	fi
}

# KUnit runs a module's suites at every load of it (its module notifier): for bhlock about a
# third of a second a load under TCG, and some 50 lines on the console. Only test-module.sh
# reads their results, from its one load with kunit_at_load=1; every other load runs with
# KUnit's filter set to match no suite, and the filter is put back after it.
kunit_glob=/sys/module/kunit/parameters/filter_glob
kunit_at_load=0

# without_kunit COMMAND...: COMMAND (a load), with KUnit's filter matching no suite meanwhile
# unless kunit_at_load=1.
without_kunit() {
	local saved='' status
	if [ "$kunit_at_load" != 1 ] && [ -w "$kunit_glob" ]; then
		read -r saved <"$kunit_glob"
		printf '%s' "$mod-no-suite" >"$kunit_glob"
	fi
	"$@"
	status=$?
	# A filter never set reads "(null)", which cannot be written back; KUnit then uses "*.*".
	# Written without a newline: a charp parameter keeps what it is given, newline included,
	# and "bhlock*<newline>" matches no suite.
	[ "$saved" != "(null)" ] || saved='*.*'
	[ -z "$saved" ] || printf '%s' "$saved" >"$kunit_glob"
	return $status
}

# unload: removes bhlock if it is loaded (its /sys/module directory lives from the load to
# the unload; a test, not a grep of /proc/modules: under TCG every program started costs).
unload() {
	[ ! -e "/sys/module/$mod" ] || rmmod "$mod"
}

# --- The kernel's health ---------------------------------------------------------------
# These use builtins only: under TCG, and most on rt-bhlock, every program started costs a
# lot.

# debug_locks: lockdep's on/off switch, 0 after any lockdep report.
debug_locks() {
	local health
	health_now health
	echo "${health% *}"
}

# taint_w: taint bit 9 (W), set by the first WARN() of the boot.
taint_w() {
	local health
	health_now health
	echo "${health#* }"
}

# health_now VAR: sets VAR to "DEBUG_LOCKS TAINT_W" (lockdep's debug_locks, the taint's W
# bit), without a fork: the checks ask about 100 times a boot. The file is read whole
# (read_whole).
health_now() {
	local stats taint re=$'(^|\n)[[:space:]]*debug_locks:[[:space:]]*([0-9]+)' locks=
	read_whole stats /proc/lockdep_stats
	[[ $stats =~ $re ]] && locks=${BASH_REMATCH[2]}
	read -r taint </proc/sys/kernel/tainted
	printf -v "$1" '%s %s' "$locks" $(((taint >> 9) & 1))
}

# read_whole VAR FILE: sets VAR to the text of FILE (empty if it cannot be read), in one read
# and without a fork. Line by line, bash reads a /proc or debugfs file a byte at a time: on
# rt under TCG, /proc/lockdep_stats took 100 ms so and 5 ms whole; `$(cat FILE)` costs a
# program's start (bhlock's stats: 180 ms against 8).
read_whole() {
	printf -v "$1" ''
	IFS= read -r -d '' "$1" 2>/dev/null <"$2"
	return 0
}

# save_health / health_unchanged: lockdep and taint W before, and whether both are as they were.
health_before=
save_health() {
	health_now health_before
}

health_unchanged() {
	local now
	health_now now
	[ "$now" = "$health_before" ] && [ "${health_before% *}" = 1 ]
}

health_diag() {
	local now
	health_now now
	echo "debug_locks and taint W: $health_before -> $now"
}

# bhlock_kthreads: the names of threads a run leaves behind, if any.
bhlock_kthreads() {
	cat /proc/[0-9]*/comm 2>/dev/null | grep -E '^(bhlock_|napi/)' || true
}

# --- The kernel log ----------------------------------------------------------------------
# One reader per script: `cat /dev/kmsg` copies each record to a file as the kernel logs it,
# and the script reads that file with builtins, through a descriptor that only moves forward.
# The checks ask the log about 300 times a boot; `dmesg | sed | grep` started three programs
# and formatted the whole ring buffer each time (under TCG about a tenth of a second a
# program). Records are kept as dmesg prints them, "[  SECONDS] TEXT", from the marker on.

klog_file='' klog_fd='' klog_fd_pid='' klog_pid='' klog_wait_fd='' klog_partial=''
klog_skip_to='' klog_bytes=0 klog_seq=-1 klog_syncs=0 klog_lines=()
klog_sync_prefix="$mod-selftest-sync "

# klog_open: starts the reader once per script (it is stopped at exit).
klog_open() {
	[ -z "$klog_pid" ] || return 0
	klog_file=/run/$mod-klog.$$
	: >"$klog_file" || return 1
	klog_start_reader
	# A pipe that nobody writes: `read -t` on it is a sleep without a program.
	exec {klog_wait_fd}<> <(:)
	trap klog_close EXIT
}

# klog_start_reader: (re)starts the copy. It begins at the ring buffer's oldest record; a
# restarted one copies records again, which klog_read drops by their sequence numbers. cat
# exits (EPIPE) if the kernel overwrote records it had not read yet. It is started from a
# subshell, so that it is not a child of the script: a test's bare `wait` does not wait for it.
klog_start_reader() {
	(cat /dev/kmsg >>"$klog_file" 2>/dev/null & echo $! >"$klog_file.pid")
	read -r klog_pid <"$klog_file.pid"
}

klog_close() {
	[ -z "$klog_pid" ] || kill "$klog_pid" 2>/dev/null
	[ -z "$klog_file" ] || rm -f "$klog_file" "$klog_file.pid"
}

# klog_wait SECONDS: a sleep with builtins.
klog_wait() {
	read -r -t "$1" -u "$klog_wait_fd" _ || true
}

# klog_read [TOKEN]: appends the records copied since the last call to klog_lines (from the
# marker on, see set_marker); true when it read the sync record TOKEN. In a subshell (a
# command substitution) it reads through a descriptor of its own, from where its parent had
# read to, so that the parent's descriptor stays where the parent left it.
klog_read() {
	local LC_ALL=C token=${1:-} line pre seq ts text found=1
	if [ "$klog_fd_pid" != "$BASHPID" ]; then
		exec {klog_fd}<"$klog_file" || return 1
		klog_fd_pid=$BASHPID
		klog_partial=
		[ "$klog_bytes" -eq 0 ] || read -r -N "$klog_bytes" -u "$klog_fd" _
	fi
	while IFS= read -r -u "$klog_fd" line; do
		line=$klog_partial$line
		klog_partial=
		klog_bytes=$((klog_bytes + ${#line} + 1))
		# "LEVEL,SEQ,MICROSECONDS,FLAGS;TEXT"; continuation lines (a record's dictionary)
		# start with a space.
		[[ $line == [0-9]*\;* ]] || continue
		pre=${line%%;*}
		text=${line#*;}
		seq=${pre#*,}
		seq=${seq%%,*}
		[ "$seq" -gt "$klog_seq" ] || continue
		klog_seq=$seq
		if [ -n "$klog_skip_to" ]; then
			[ "$text" = "$klog_skip_to" ] || continue
			klog_skip_to=
		fi
		if [[ $text == "$klog_sync_prefix"* ]]; then
			[ "$text" != "$token" ] || found=0
			continue
		fi
		ts=${pre#*,*,}
		ts=${ts%%,*}
		# /dev/kmsg writes every byte outside printable ASCII, and the backslash, as \xHH:
		# every backslash starts such an escape, which %b turns back into its byte.
		[[ $text != *\\* ]] || printf -v text '%b' "$text"
		printf -v line '[%5d.%06d] %s' $((ts / 1000000)) $((ts % 1000000)) "$text"
		klog_lines+=("$line")
	done
	klog_partial+=$line
	return $found
}

# klog_sync: reads until everything logged before the call has been read. It logs a record
# of its own (at debug level, kept off the console) and waits for the reader to copy it.
klog_sync() {
	local token i
	klog_open || return 1
	klog_syncs=$((klog_syncs + 1))
	token="$klog_sync_prefix$BASHPID.$klog_syncs"
	echo "<7>$token" >/dev/kmsg
	for ((i = 0; i < 1000; i++)); do
		klog_read "$token" && return 0
		if ! kill -0 "$klog_pid" 2>/dev/null && [ "$BASHPID" = $$ ]; then
			echo "$mod: the kernel log's reader exited; records may be lost" >&2
			klog_start_reader
		fi
		klog_wait 0.01
	done
	# A check that then read the log would see nothing: an absence would pass by accident.
	echo "$mod: the kernel log's reader did not copy $token in 10 s: giving up" >&2
	exit 1
}

# klog_skip_backlog: before a script's first marker (set_marker) the copy holds the whole ring
# buffer, some 2000 records late in a clean boot, which klog_read would parse one at a time to
# find the marker (seconds under TCG). This finds the marker's record with one grep, once the
# reader has copied it, and moves the script's place in the copy to it; klog_read then parses
# from there. Without the record (the reader died) it does nothing: klog_sync handles that.
klog_skip_backlog() {
	local LC_ALL=C i found
	for ((i = 0; i < 1000; i++)); do
		found=$(grep -b -m 1 -F -- ";$klog_skip_to" "$klog_file") && break
		kill -0 "$klog_pid" 2>/dev/null || return 0
		klog_wait 0.01
	done
	found=${found%%:*}
	[ -n "$found" ] && [ "$found" -gt "$klog_bytes" ] || return 0
	if [ "$klog_fd_pid" = "$BASHPID" ]; then
		# The descriptor is open, at klog_bytes (with klog_partial read past it).
		read -r -N $((found - klog_bytes - ${#klog_partial})) -u "$klog_fd" _
		klog_partial=
	fi
	klog_bytes=$found
}

# set_marker / log_since_marker: the kernel log from the marker on, so that each check reads
# only what its own part printed.
set_marker() {
	marker="$mod-selftest-$$-${EPOCHREALTIME/./}"
	klog_open
	echo "$marker" >/dev/kmsg
	klog_skip_to=$marker
	klog_lines=()
	[ "$klog_bytes" -ne 0 ] || klog_skip_backlog
	klog_sync
	[ -z "$klog_skip_to" ] || { echo "$mod: the marker $marker is not in the kernel log" >&2; exit 1; }
}

log_since_marker() {
	klog_sync
	[ ${#klog_lines[@]} -eq 0 ] || printf '%s\n' "${klog_lines[@]}"
}

# logged REGEX: the log since the marker has a line matching REGEX (an ERE).
logged() {
	klog_sync
	klog_match "$1" 0
}

# klog_match REGEX FIRST: a line of klog_lines from index FIRST on matches REGEX; sets
# klog_next to the index after the last line looked at.
klog_match() {
	local i
	for ((i = $2; i < ${#klog_lines[@]}; i++)); do
		[[ ${klog_lines[i]} =~ $1 ]] && klog_next=$((i + 1)) && return 0
	done
	klog_next=$i
	return 1
}

# wait_for_log REGEX SECONDS: polls the log since the marker, each line once.
wait_for_log() {
	local i
	klog_next=0
	for ((i = 0; i < $2 * 20; i++)); do
		klog_read
		klog_match "$1" "$klog_next" && return 0
		klog_wait 0.05
	done
	logged "$1"
}

# wait_for_run_end N SECONDS: waits for run N's verdict line.
wait_for_run_end() {
	wait_for_log "$mod: run $1: End of test: " "$2"
}

# report_banners: the log since the marker, only its report banners (the file report-banners,
# the list the module's judge and the host's console scan read too).
report_banners() {
	log_since_marker | banners_of
}

# banners_of: the report banners of the log on stdin (see report_banners), with builtins.
banners_of() {
	local line
	while IFS= read -r line; do
		[[ $line =~ $banners_re ]] && [[ $line != *"INFO: lockdep is turned off."* ]] &&
			printf '%s\n' "$line"
	done
	return 0
}

# --- Results ----------------------------------------------------------------------------

# name_of VAR CASE: sets VAR to the KTAP name of CASE, with the kernel flavour that ran it.
# A builtin: every result has a name, and a $(...) is a fork (10-40 ms under TCG).
name_of() {
	printf -v "$1" '%s.%s' "$2" "$kernel"
}

# test_name CASE: the same name, printed.
test_name() {
	local name
	name_of name "$1"
	echo "$name"
}

# check NAME STATUS [DIAGNOSTIC...]: one KTAP result, ok when STATUS is 0; the diagnostics
# follow a failure.
check() {
	local name status=$2
	name_of name "$1"
	shift 2
	if [ "$status" -eq 0 ]; then
		ktap_ok "$name"
	else
		ktap_not_ok "$name"
		[ $# -eq 0 ] || ktap_diag "$@"
	fi
}

# --- The module's facts ------------------------------------------------------------------

# param_names, param_range, param_type, param_described read `modinfo -p` as parsed once by
# params_read, with builtins: test-cycles.sh, test-fuzz.sh and test-params.sh ask about every
# parameter, and under TCG a sed or grep per question cost 50-120 ms.
declare -A param_ranges param_types param_descriptions
param_list=()
params_read_done=0

# params_read: runs `modinfo -p` (0.3 s under TCG) and parses it, once. Only the scripts that
# ask about parameters need it, so it is not in setup_test: a script calls it before its
# first question in a subshell ($(param_names)), else each subshell would read modinfo again.
params_read() {
	[ "$params_read_done" = 1 ] && return 0
	modinfo_p=$(modinfo -p "$modinfo_arg") || return 1
	param_parse
	params_read_done=1
}

# params_needed: params_read, for a script that asks about the parameters in subshells
# ($(param_names)), before its first question. A module whose parameters modinfo does not
# list fails the script, whose checks would otherwise run over no parameter at all.
params_needed() {
	params_read && [ ${#param_list[@]} -gt 0 ] && return 0
	check module.params_readable 1 "modinfo -p $modinfo_arg listed no parameter"
	ktap_finished
}

# param_parse: each line "NAME:DESCRIPTION (TYPE)" of $modinfo_p: the names in order, the
# type, and the range "MIN MAX TYPE" where the description states one ("..., a..=b, ...").
param_parse() {
	local line name type_re='\(([a-z0-9]*)\)$' range_re='^.*[^0-9-](-?[0-9]+)\.\.=([0-9]+).*\(([a-z0-9]*)\)$'
	param_list=()
	param_ranges=()
	param_types=()
	param_descriptions=()
	while IFS= read -r line; do
		[[ $line =~ ^([a-z_0-9]+): ]] || continue
		name=${BASH_REMATCH[1]}
		param_list+=("$name")
		param_descriptions[$name]=${line#"$name":}
		[[ $line =~ $type_re ]] && param_types[$name]=${BASH_REMATCH[1]}
		[[ ${param_descriptions[$name]} =~ $range_re ]] &&
			param_ranges[$name]="${BASH_REMATCH[1]} ${BASH_REMATCH[2]} ${BASH_REMATCH[3]}"
	done <<<"$modinfo_p"
}

# param_names: the module's parameters, as `modinfo -p` lists them.
param_names() {
	params_read || return 1
	[ ${#param_list[@]} -eq 0 ] || printf '%s\n' "${param_list[@]}"
}

# param_range NAME: "MIN MAX TYPE" from the parameter's description ("..., a..=b, ... (u32)"),
# nothing when it states no range.
param_range() {
	params_read || return 1
	[ -z "${param_ranges[$1]:-}" ] || echo "${param_ranges[$1]}"
}

# param_type NAME: the parameter's type as modinfo shows it (bool, u32, i32).
param_type() {
	params_read || return 1
	[ -z "${param_types[$1]:-}" ] || echo "${param_types[$1]}"
}

# param_described NAME ERE: the parameter's description matches ERE.
param_described() {
	params_read || return 1
	[[ ${param_descriptions[$1]:-} =~ $2 ]]
}

# scenario_table: the module's scenario table (debugfs `scenarios`, or the copy that
# scenario_table_file names), without its header; the module must be loaded to read debugfs.
# With builtins: a splat boot asks three times before its case runs.
scenario_table_file=$debugfs/scenarios
scenario_table() {
	local line
	while IFS= read -r line || [ -n "$line" ]; do
		[[ $line == '#'* ]] || printf '%s\n' "$line"
	done <"$scenario_table_file"
}

# scenario_names CLASS: the names of the table's cases of CLASS (scenario, splat or kernel), as
# SCENARIOS (space-separated names, default all) selects them.
scenario_names() {
	local name class _
	while IFS=$'\t' read -r name class _; do
		[ "$class" = "$1" ] || continue
		[ -z "${SCENARIOS:-}" ] || [[ " $SCENARIOS " == *" $name "* ]] || continue
		echo "$name"
	done < <(scenario_table)
}

# write_expected_reports NAME FILE: the report patterns (globs) that case NAME expects or
# allows, one per line, for the host's console scan (scripts/vng-run.sh --expect-file).
write_expected_reports() {
	local name class _e _l _t _d reports allowed _
	while IFS=$'\t' read -r name class _e _l _t _d reports allowed _; do
		[ "$name" = "$1" ] || continue
		{ [ "$reports" = - ] || echo "${reports//;;/$'\n'}"
		  [ "$allowed" = - ] || echo "${allowed//;;/$'\n'}"; } >"$2"
	done < <(scenario_table)
}

# run_table_cases CLASS: a whole test script for one class of the module's scenario table:
# loads the module, copies the table to $BHLOCK_TABLE_OUT if set (the host's harness learns
# the splat cases from it), runs every case of CLASS that SCENARIOS selects with run_case,
# unloads, and exits with the KTAP verdict.
run_table_cases() {
	local class=$1 class_cases class_case
	load || ktap_skip_all "insmod failed"
	[ -z "${BHLOCK_TABLE_OUT:-}" ] || cp "$debugfs/scenarios" "$BHLOCK_TABLE_OUT"
	mapfile -t class_cases < <(scenario_names "$class")
	if [ ${#class_cases[@]} -eq 0 ]; then
		unload
		# A SCENARIOS filter may pick no case of this class (a skip: a plan of 0 with no SKIP is
		# a script that printed no result, scripts/ktap-tree.sh); the table itself must have
		# some.
		[ -n "${SCENARIOS:-}" ] || ktap_skip_all "the scenario table has no $class case"
		ktap_skip_all "SCENARIOS=$SCENARIOS selects no $class case"
	fi
	ktap_plan ${#class_cases[@]}
	for class_case in "${class_cases[@]}"; do
		run_case "$class" "$class_case"
	done
	unload
	ktap_finished
}

# --- The run report: one parser --------------------------------------------------------

# read_stats: parses debugfs `stats` (a run's report, the same lines it prints to the log)
# into the associative array `stat`: CONTEXT.total and CONTEXT.fail from the per-context
# lines, every events: and violations: counter by name, cpuN.CONTEXT per CPU line, and
# `cpus` (the CPU lines' names). The raw text stays in $stats for diagnostics.
declare -A stat
read_stats() {
	local line word key
	read_whole stats "$debugfs/stats"
	stats=${stats%$'\n'}
	stat=()
	cpus=
	while read -r line; do
		case $line in
		events:* | violations:*)
			for word in ${line#*:}; do
				[[ $word == *=* ]] && stat[${word%%=*}]=${word#*=}
			done;;
		cpu[0-9]*:*)
			key=${line%%:*}
			cpus+=" $key"
			for word in ${line#*:}; do
				stat[$key.${word%%=*}]=${word#*=}
			done;;
		*"Total: "*"Fail: "*)
			read -r key _ total _ _ _ fail _ <<<"$line"
			stat[$key.total]=$total
			stat[$key.fail]=$fail;;
		esac
	done <<<"$stats"
}

# counter NAME: a counter of the last read_stats. The `stats` file lists every counter, zeros
# included, so a name it does not list (renamed or removed in the module, or no run yet) is
# an error and never a zero: it says so on stderr, prints "missing", which no comparison with
# a number accepts, and returns 1.
counter() {
	if [ -n "${stat[$1]+set}" ]; then
		echo "${stat[$1]}"
		return 0
	fi
	echo "$mod: counter $1 is not in the module's report" >&2
	echo missing
	return 1
}

# every_cpu_did CONTEXT: every CPU line has a non-zero count (the part before "/") for
# CONTEXT.
every_cpu_did() {
	local cpu
	[ -n "$cpus" ] || return 1
	for cpu in $cpus; do
		[ "${stat[$cpu.$1]%%/*}" != 0 ] && [ -n "${stat[$cpu.$1]:-}" ] || return 1
	done
}

# --- Scenario cases ----------------------------------------------------------------------

# scenario_cases: case_index[NAME], the line of case NAME in the module's table counting from
# 1 (the value of the `scenario` parameter that runs it at load), and case_class[NAME], its
# class, for every case, in one pass.
declare -A case_index case_class
scenario_cases() {
	local i=0 name class _
	case_index=()
	case_class=()
	# shellcheck disable=SC2034 # both read by the scripts (test-load.sh, test-splat.sh)
	while IFS=$'\t' read -r name class _; do
		i=$((i + 1))
		case_index[$name]=$i
		case_class[$name]=$class
	done < <(scenario_table)
}

# run_case CLASS NAME [INDEX]: runs case NAME of the module's table and prints its KTAP line,
# CLASS.NAME.KERNEL: through debugfs `control`, or, with INDEX (case_index[NAME] of
# scenario_cases), the way a user runs one case at load, `insmod bhlock.ko scenario=INDEX`,
# with the module not loaded before and unloaded after. The module is the one judge: it
# reads the four signals (its own detection, debug_locks, taint W, the report banners since
# the case began) and prints "scenario NAME: End of test: SUCCESS" when they are what its
# table expects on this kernel. The shell only shows them.
run_case() {
	local class=$1 name=$2 index=${3:-}
	set_marker
	if [ -n "$index" ]; then
		# A load that fails prints its FAILURE line, which is the verdict then.
		load "scenario=$index" && unload
	else
		echo "scenario $name" >"$debugfs/control"
	fi
	case_result "$class" "$name" "$(log_since_marker)"
}

# case_result CLASS NAME LOG: the KTAP line CLASS.NAME.KERNEL of case NAME, from the module's
# verdict on it in LOG, the kernel log since its run began (see run_case).
case_result() {
	local class=$1 name=$2 log=$3 verdict
	# Builtins only up to the verdict: under TCG every program started costs a tenth of a
	# second, and this runs for every case, twice per boot.
	local end_re="$mod: scenario $name: End of test: ([^"$'\n'"]*)"
	verdict=
	[[ $log =~ $end_re ]] && verdict=${BASH_REMATCH[1]}
	[ "$verdict" = SUCCESS ]
	check "$class.$name" $? "${verdict:-no End of test line}"
	# The diagnostics only where someone reads them: a failure, the figures of a soak, and a
	# kernel-resource case's time to detection.
	[ "$verdict" != SUCCESS ] || [ "$scale" = soak ] || [ "${class##*.}" = kernel ] || return 0
	ktap_diag "$(sed -n "s/.*\($mod: scenario $name: \(Start\|module_detects\).*\)/\1/p" <<<"$log")"
	ktap_diag "$(banners_of <<<"$log" | sed 's/^/    /')"
	ktap_diag "$(sed -n -E "s/.*$mod: ((napi|hardirq|softtimer|threads|forced|events|violations|first cache) .*)/    \1/p" <<<"$log")"
}
