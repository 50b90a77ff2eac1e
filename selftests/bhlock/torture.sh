#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# bhlock torture selftests: bounded runs of the NAPI consumer, the hard- and soft-irq hrtimers
# and the cache-user threads, judged by the module's own counters (debugfs stats), its
# End of test lines, lockdep's state and the W taint bit; then the control surface: bad
# parameters, the debugfs control file, rmmod in the middle of a run. Prints KTAP.
#
# Environment as for bhlock.sh, plus
#   BHLOCK_RUN_SECONDS  length of the main bounded run (default 8)
#
# Exit status: 0 all passed, 1 something failed, 4 skipped.
set -u
dir=$(cd "$(dirname "$0")" && pwd)
. "$dir/ktap.sh"
. "$dir/functions.sh"

ko=${BHLOCK_KO:-$dir/bhlock.ko}
run_seconds=${BHLOCK_RUN_SECONDS:-8}
debugfs=/sys/kernel/debug/bhlock

ktap_header
require_root_and_lockdep
[ -f "$ko" ] || ktap_skip_all "no bhlock.ko (set BHLOCK_KO)"
[ -d /sys/kernel/debug/tracing ] || [ -d /sys/kernel/debug/bdi ] ||
	mount -t debugfs none /sys/kernel/debug 2>/dev/null
unload_if_loaded || ktap_skip_all "bhlock is loaded and cannot be unloaded"
ktap_diag "kernel: $kernel ($(uname -v))" "module: $ko"

# check NAME CONDITION_EXIT_STATUS [DIAGNOSTIC...]
check() {
	local name=$1 status=$2
	shift 2
	if [ "$status" -eq 0 ]; then
		ktap_ok "$(test_name "$name")"
	else
		ktap_not_ok "$(test_name "$name")"
		[ $# -eq 0 ] || ktap_diag "$@"
	fi
}

# The stats of the current or last run, saved by save_stats.
stats=

save_stats() {
	stats=$(cat "$debugfs/stats" 2>/dev/null)
}

# total CONTEXT / fail CONTEXT: from "napi  Total: N  Max/Min: a/b  Fail: f".
total() { awk -v c="$1" '$1 == c && $2 == "Total:" { print $3 }' <<<"$stats"; }
fail() { awk -v c="$1" '$1 == c { for (i = 1; i < NF; i++) if ($i == "Fail:") print $(i + 1) }' <<<"$stats"; }

# event NAME / violation NAME: from the "events:" and "violations:" lines (0 if absent).
event() { grep -o "[ ]$1=[0-9]*" <<<"$stats" | head -n 1 | cut -d= -f2; }
violation() {
	local v
	v=$(grep '^violations:' <<<"$stats" | grep -o "[ ]$1=[0-9]*" | cut -d= -f2)
	echo "${v:-0}"
}

# every_cpu_did CONTEXT: every "cpuN:" line has a non-zero count for CONTEXT.
every_cpu_did() {
	local lines
	lines=$(grep -E '^cpu[0-9]+:' <<<"$stats")
	[ -n "$lines" ] && ! grep -Eq "[ ]$1=0/" <<<"$lines"
}

# wait_for_log REGEX SECONDS: polls the log since the marker.
wait_for_log() {
	local i
	for ((i = 0; i < $2 * 5; i++)); do
		log_since_marker | grep -Eq "$1" && return 0
		sleep 0.2
	done
	return 1
}

# bhlock_kthreads: the names of threads a run leaves behind, if any.
bhlock_kthreads() {
	cat /proc/[0-9]*/comm 2>/dev/null | grep -E '^(bhlock_|napi/)' || true
}

# --- The control surface: parameters. --------------------------------------------------
params="duration interval_us napi_budget threaded nr_threads stat_interval verbose \
lock_with_bh_enabled irqs_on_in_hardirq unlock_irq_in_hardirq busted scenario bench bench_loops \
bench_seconds"
missing=
for p in $params; do
	modinfo -p "$ko" | grep -q "^$p:" || missing="$missing $p"
done
check control.modinfo_lists_parameters "$([ -z "$missing" ]; echo $?)" "missing:$missing"

# The number of cases, from the module's own table: one more is out of range.
nr_scenarios=0
if insmod "$ko"; then
	nr_scenarios=$(grep -vc '^#' "$debugfs/scenarios")
	rmmod "$mod"
fi
check control.scenarios_listed "$([ "$nr_scenarios" -gt 0 ]; echo $?)" "no scenario table"
# name=value pairs that are out of range, and the parameter each must be refused for.
for bad in duration=86401 interval_us=49 interval_us=1000001 napi_budget=0 napi_budget=65 \
	nr_threads=-2 nr_threads=257 stat_interval=3601 scenario=-2 "scenario=$((nr_scenarios + 1))" \
	bench_loops=999 \
	bench_loops=10000001 bench_seconds=0 bench_seconds=601; do
	p=${bad%%=*}
	set_marker
	if insmod "$ko" "$bad" 2>/dev/null; then
		rmmod "$mod"
		check "control.bad_param.$bad" 1 "insmod $bad succeeded"
		continue
	fi
	log_since_marker | grep -q "$mod: $bad is out of range: valid values are "
	check "control.bad_param.$bad" $? "no pr_err naming $bad and its range:" "$(log_since_marker | grep "$mod")"
done
# Not a number at all: the kernel's parameter parser refuses it before bhlock runs.
insmod "$ko" interval_us=fast 2>/dev/null && { rmmod "$mod"; r=1; } || r=0
check control.bad_param.not_a_number "$r" "insmod interval_us=fast succeeded"

# --- A bounded run with every context on every online CPU. ---------------------------------
set_marker
debug_locks_before=$(debug_locks)
taint_w_before=$(taint_w)
insmod "$ko" duration="$run_seconds" stat_interval=2
check control.run_starts_at_load "$?"
wait_for_log "$mod: run 1: End of test: " $((run_seconds + 60))
ended=$?
save_stats
log=$(log_since_marker)
ktap_diag "stats of the bounded run:" "$stats" "$(grep "$mod: run 1: End of test" <<<"$log")"
check control.run_ends_success "$(grep -q "$mod: run 1: End of test: SUCCESS" <<<"$log"; echo $?)" \
	"ended=$ended" "$(grep "$mod: .*\(!!!\|???\|End of test\)" <<<"$log")"
check control.periodic_stats "$(grep -Eq "$mod: run 1: [0-9]+ s, running" <<<"$log" &&
	grep -Eq "$mod: napi +Total: [0-9]+" <<<"$log"; echo $?)"

check napi.polls_on_every_cpu "$(every_cpu_did napi; echo $?)"
check napi.polls_in_net_rx_softirq "$([ "$(event napi_softirq_polls)" -gt 0 ] &&
	[ "$(event napi_thread_polls)" -eq 0 ]; echo $?)" \
	"softirq polls $(event napi_softirq_polls), thread polls $(event napi_thread_polls)"
polls=$(($(event napi_softirq_polls) + $(event napi_thread_polls)))
# The default budget is 16; the "interrupt" queues more than that per tick, so some polls
# must stop at their budget and leave the rest, and none may take more.
check napi.budget_honoured "$([ "$(event napi_budget_exhausted)" -gt 0 ] &&
	[ "$(event napi_items)" -le $((polls * 16)) ]; echo $?)" \
	"items $(event napi_items) in $polls polls, $(event napi_budget_exhausted) at budget"
check napi.no_violations "$([ "$(fail napi)" = 0 ]; echo $?)"

hard=$(total hardirq)
check hrtimer.hard.fires_on_every_cpu "$(every_cpu_did hardirq; echo $?)"
check hrtimer.hard.in_hardirq "$([ "${hard:-0}" -gt 0 ] &&
	[ "$(event hard_in_hardirq)" -eq "$hard" ] &&
	[ "$(violation hard_timer_not_in_hardirq)" -eq 0 ]; echo $?)" \
	"callbacks $hard, in hard-irq $(event hard_in_hardirq)"
check hrtimer.hard.irqs_off_after_every_release "$([ "$(event hard_releases_checked)" -eq $((2 * hard)) ] &&
	[ "$(violation irqs_on_after_lock_release)" -eq 0 ] &&
	[ "$(violation lockdep_irqs_on_after_lock_release)" -eq 0 ] &&
	[ "$(violation irqs_on_at_hard_entry)" -eq 0 ] &&
	[ "$(violation lockdep_irqs_on_at_hard_entry)" -eq 0 ]; echo $?)" \
	"releases checked $(event hard_releases_checked) for $hard callbacks"
check hrtimer.hard.irq_window_detector_quiet "$([ "$(event detector_runs)" -gt 0 ] &&
	[ "$(violation irq_window_in_hard_callback)" -eq 0 ]; echo $?)" \
	"detector runs $(event detector_runs)"
check hrtimer.soft.fires_in_softirq_on_every_cpu "$(every_cpu_did softtimer &&
	[ "$(event soft_in_softirq)" -gt 0 ] && [ "$(fail softtimer)" = 0 ]; echo $?)"

check threads.run_on_every_cpu "$(every_cpu_did threads; echo $?)"
check threads.no_violations "$([ "$(fail threads)" = 0 ]; echo $?)"
# The forced pairs: each round puts one BH section into the middle of another. The module
# judges every round's schedule against the kernel's BH model (inside on PREEMPT_RT, after
# elsewhere) and counts a round that went otherwise as forced_schedule_broken.
check forced.rounds_on_every_cpu "$(every_cpu_did forced && [ "$(event forced_rounds)" -gt 0 ]; echo $?)" \
	"forced rounds $(event forced_rounds)"
check forced.schedule_as_the_bh_model_says "$([ "$(event forced_rounds)" -gt 0 ] &&
	[ "$(violation forced_schedule_broken)" -eq 0 ]; echo $?)" \
	"forced rounds $(event forced_rounds), inner thread inside the outer's BH section in $(event forced_inside)," \
	"schedule broken in $(violation forced_schedule_broken)"
check forced.no_violations "$([ "$(fail forced)" = 0 ] && [ "$(event lost_updates)" -eq 0 ]; echo $?)" \
	"lost updates $(event lost_updates)"
ktap_diag "contended acquisitions (another task held this CPU's cache): $(event contended)"
rmmod "$mod"
check control.lockdep_clean_after_run "$([ "$(debug_locks)" -eq "$debug_locks_before" ] &&
	[ "$(taint_w)" -eq "$taint_w_before" ]; echo $?)" \
	"debug_locks $debug_locks_before -> $(debug_locks), taint W $taint_w_before -> $(taint_w)"

# --- Threaded NAPI: polls move to NAPI kthreads. -----------------------------------------------
set_marker
insmod "$ko" duration=4 threaded=1 nr_threads=0
sleep 1
napi_threads=$(bhlock_kthreads | grep -c '^napi/')
wait_for_log "$mod: run 1: End of test: " 60
save_stats
rmmod "$mod"
# The poll counts itself as threaded when it runs with BH disabled outside a softirq, which
# only the NAPI thread's loop does. The thread count is a diagnostic: on PREEMPT_RT the
# threads' /proc entries were not always readable here.
check napi.threaded_polls_in_napi_threads "$([ "$(event napi_thread_polls)" -gt 0 ] &&
	[ "$(event napi_softirq_polls)" -eq 0 ] &&
	log_since_marker | grep -q "$mod: run 1: End of test: SUCCESS"; echo $?)" \
	"napi/ threads seen $napi_threads, thread polls $(event napi_thread_polls)," \
	"softirq polls $(event napi_softirq_polls)" "$stats"

# --- The debugfs control file. -------------------------------------------------------------
set_marker
insmod "$ko"
check control.debugfs_root_only "$([ "$(stat -c %a "$debugfs/stats")" = 400 ] &&
	[ "$(stat -c %a "$debugfs/control")" = 200 ]; echo $?)" \
	"modes: stats $(stat -c %a "$debugfs/stats"), control $(stat -c %a "$debugfs/control")"
save_stats
before=$stats
echo bogus >"$debugfs/control" 2>/dev/null && r=1 || r=0
save_stats
check control.bad_write_refused "$([ "$r" -eq 0 ] && [ "$stats" = "$before" ]; echo $?)" \
	"the write was accepted or changed the stats: $stats"
echo start >"$debugfs/control"
check control.start "$?"
echo start >"$debugfs/control" 2>/dev/null && r=1 || r=0
check control.second_start_refused "$r"
sleep 2
echo stop >"$debugfs/control"
save_stats
check control.stop_ends_run "$(log_since_marker | grep -q "$mod: run 1: End of test: SUCCESS" &&
	[ "$(total napi)" -gt 0 ]; echo $?)" "$(log_since_marker | grep "$mod")"
rmmod "$mod"

# --- rmmod in the middle of a run. --------------------------------------------------------
set_marker
debug_locks_before=$(debug_locks)
taint_w_before=$(taint_w)
insmod "$ko" duration=600 nr_threads=4 threaded=1
sleep 3
rmmod "$mod"
r=$?
sleep 1
left=$(bhlock_kthreads)
log=$(log_since_marker)
check control.rmmod_mid_run "$([ "$r" -eq 0 ] && [ -z "$left" ] && [ ! -e "$debugfs" ] &&
	grep -q "$mod: run 1: End of test: SUCCESS" <<<"$log" &&
	grep -q "$mod: End of test: SUCCESS" <<<"$log" &&
	[ "$(debug_locks)" -eq "$debug_locks_before" ] && [ "$(taint_w)" -eq "$taint_w_before" ]; echo $?)" \
	"rmmod status $r, threads left: ${left:-none}" "$(grep "$mod: .*End of test" <<<"$log")"
insmod "$ko" && rmmod "$mod"
check control.reload_after_rmmod "$?"

ktap_finished
