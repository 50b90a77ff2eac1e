#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# bhlock's scenario table, judged the way lib/locking-selftest.c and rcutorture's
# srcu_lockdep.sh judge theirs. Prints KTAP.
#
#   scenario.sh
#       Runs every case of /sys/kernel/debug/bhlock/scenarios that is not a splat, one after
#       the other in this boot: scenario.<name>.<kernel>.
#   scenario.sh splat NAME
#       Runs the expected-splat case NAME: splat.<name>.<kernel>. It needs a fresh boot,
#       because lockdep reports only once and turns itself off.
#
# Each case is judged on four signals, all printed as KTAP diagnostics: the module's own
# verdict (its counters, `scenario NAME: End of test:`), debug_locks before and after (from
# /proc/lockdep_stats), the taint mask's W bit before and after (a WARN() sets it, a lockdep
# report alone does not), and the report banners on the console since the case began. What
# each must be comes from the module's table, for this kernel. A splat case passes only when
# its expected reports, and no other, appear: else it fails as "unexpected success" (an
# expected report is missing) or "unexpected failure" (another one appeared).
#
# Environment: as for bhlock.sh, plus
#   SCENARIOS           space-separated names: run only these (default: all)
#   BHLOCK_EXPECT_FILE  where to write the splat's expected reports (one ERE per line), for
#                       the console scan of the harness outside the guest
set -u
dir=$(cd "$(dirname "$0")" && pwd)
. "$dir/ktap.sh"
. "$dir/functions.sh"

ko=${BHLOCK_KO:-$dir/bhlock.ko}
debugfs=/sys/kernel/debug/bhlock

# The lines of the kernel log that open a report.
banner_re='^(\[ )?(WARNING|BUG|INFO): |^Oops|^Kernel panic|^general protection fault|^UBSAN: |^KASAN: '

# The per-case work below reads the log once and otherwise uses shell builtins: on rt-bhlock
# under TCG every program started costs a lot, and a case used to spend 15 s in greps.

# split FIELD: sets the array $parts to a table field's patterns (";;"-joined, "-" for none).
split() {
	parts=()
	[ "$1" = - ] && return
	local rest=$1
	while [[ $rest == *";;"* ]]; do
		parts+=("${rest%%;;*}")
		rest=${rest#*;;}
	done
	parts+=("$rest")
}

# judge NAME CLASS EXPECT LOCKDEP TAINT DETECTS REPORTS ALLOWED: runs the case and prints its
# KTAP line.
judge() {
	local name=$1 class=$2 expect=$3 lockdep=$4 taint=$5 detects=$6 reports=$7 allowed=$8
	local dl0 tw0 dl tw log line text module=none detected=? re matched
	local banners=() run=() why=() required=() permitted=() missing=() unexpected=()
	set_marker
	dl0=$(debug_locks) tw0=$(taint_w)
	echo "scenario $name" >"$debugfs/control"
	dl=$(debug_locks) tw=$(taint_w)
	# The log since the marker once, with sed: ${log#*"$marker"} on the whole log took
	# seconds under TCG.
	log=$(log_since_marker)

	# The module's verdict, the report banners and the run's report, from the log.
	while IFS= read -r line; do
		[[ $line =~ ^\[[\ 0-9.]+\]\ (.*)$ ]] && text=${BASH_REMATCH[1]} || text=$line
		if [[ $text =~ ^$mod:\ scenario\ $name:\ End\ of\ test:\ ([A-Z]+) ]]; then
			module=${BASH_REMATCH[1]}
		elif [[ $text =~ ^$mod:\ scenario\ $name:\ module_detects=([0-9]) ]]; then
			detected=${BASH_REMATCH[1]}
		elif [[ $text =~ ^$mod:\ (napi|hardirq|softtimer|threads|forced|events|violations|first\ cache) ]]; then
			run+=("    $text")
		elif [[ $text =~ $banner_re ]] && [ "$text" != "INFO: lockdep is turned off." ]; then
			# "INFO: lockdep is turned off." is no banner: reports print it for the held locks.
			banners+=("$text")
		fi
	done <<<"$log"

	ktap_diag "$name: expected: $expect, lockdep $lockdep, new taint W: $taint, module detects: $detects, reports: $reports, allowed: $allowed" \
		"$name: signals: module=$module module_detects=$detected" \
		"$name: signals: debug_locks=$dl0->$dl taint_w=$tw0->$tw" \
		"$name: signals: console reports: ${#banners[@]}"
	for line in "${banners[@]}" "${run[@]}"; do
		ktap_diag "    $line"
	done

	[ "$module" = SUCCESS ] || why+=("the module's view does not match: $module")
	if [ "$lockdep" = off ]; then
		[ "$dl" = 0 ] || why+=("lockdep stayed on")
	else
		[ "$dl" = 1 ] || why+=("lockdep turned itself off")
	fi
	if [ "$taint" = yes ]; then
		[ "$tw" = 1 ] && [ "$tw0" = 0 ] || why+=("no new taint W")
	else
		[ "$tw" = "$tw0" ] || why+=("new taint W")
	fi
	# Every expected report must appear; every report must be an expected or allowed one.
	split "$reports"
	required=("${parts[@]}")
	split "$allowed"
	permitted=("${required[@]}" "${parts[@]}")
	for re in "${required[@]}"; do
		matched=0
		for line in "${banners[@]}"; do
			[[ $line =~ $re ]] && matched=1
		done
		[ $matched -eq 1 ] || missing+=("$re")
	done
	for line in "${banners[@]}"; do
		matched=0
		for re in "${permitted[@]}"; do
			[[ $line =~ $re ]] && matched=1
		done
		[ $matched -eq 1 ] || unexpected+=("$line")
	done
	[ ${#unexpected[@]} -eq 0 ] || why+=("unexpected failure: a report not expected: ${unexpected[0]}")
	[ ${#missing[@]} -eq 0 ] || why+=("unexpected success: no report matched /${missing[0]}/")

	if [ ${#why[@]} -eq 0 ]; then
		ktap_ok "$(test_name "$class.$name")"
	else
		ktap_not_ok "$(test_name "$class.$name")"
		ktap_diag "${why[@]}"
	fi
}

mode=${1:-scenarios}
ktap_header
require_root_and_lockdep
[ -f "$ko" ] || ktap_skip_all "no bhlock.ko (set BHLOCK_KO)"
if [ "$mode" = splat ]; then
	[ $# -eq 2 ] || ktap_skip_all "usage: scenario.sh splat NAME"
	[ "$(taint_w)" -eq 0 ] && [ "$(debug_locks)" -eq 1 ] ||
		ktap_skip_all "lockdep off or taint W set already: a splat case needs a fresh boot"
fi
unload_if_loaded || ktap_skip_all "bhlock is loaded and cannot be unloaded"
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
insmod "$ko" ${BHLOCK_ARGS:-} || ktap_skip_all "insmod failed"
table=$(grep -v '^#' "$debugfs/scenarios")

cases=()
while IFS=$'\t' read -r name class expect lockdep taint detects reports allowed _; do
	if [ "$mode" = splat ]; then
		[ "$class" = splat ] && [ "$name" = "$2" ] || continue
	else
		[ "$class" = scenario ] || continue
	fi
	if [ -n "${SCENARIOS:-}" ] && ! grep -qw -- "$name" <<<"$SCENARIOS"; then
		continue
	fi
	cases+=("$(printf '%s\t' "$name" "$class" "$expect" "$lockdep" "$taint" "$detects" "$reports" "$allowed")")
done <<<"$table"
if [ ${#cases[@]} -eq 0 ]; then
	rmmod "$mod"
	# A SCENARIOS filter that picks only splat cases leaves this boot's run with nothing
	# to do, as asked. Otherwise an empty selection is a fault.
	if [ "$mode" = splat ] || [ -z "${SCENARIOS:-}" ]; then
		ktap_skip_all "no case of the table selected (${2:-}${SCENARIOS:+ SCENARIOS=$SCENARIOS})"
	fi
	ktap_plan 0
	ktap_diag "SCENARIOS=$SCENARIOS selects no case that this mode runs"
	exit $KSFT_PASS
fi

if [ "$mode" = splat ] && [ -n "${BHLOCK_EXPECT_FILE:-}" ]; then
	IFS=$'\t' read -r _ _ _ _ _ _ reports allowed <<<"${cases[0]}"
	split "$reports"
	required=("${parts[@]}")
	split "$allowed"
	printf '%s\n' "${required[@]}" "${parts[@]}" >"$BHLOCK_EXPECT_FILE"
fi

ktap_plan ${#cases[@]}
for c in "${cases[@]}"; do
	IFS=$'\t' read -r name class expect lockdep taint detects reports allowed <<<"$c"
	judge "$name" "$class" "$expect" "$lockdep" "$taint" "$detects" "$reports" "$allowed"
done
rmmod "$mod"
ktap_finished
