#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A bounded torture run with every context on every online CPU (the NAPI consumer, the hard-
# and soft-irq hrtimers, the cache-user threads, the forced pairs), judged by the module's
# report (debugfs stats, read by functions.sh's one parser), its End of test line, lockdep's
# state and the W taint bit; then the same with threaded NAPI.
#
# BHLOCK_RUN_SECONDS: length of the bounded run (default 4 at gate scale, 60 at soak scale).
. "$(dirname "$0")/functions.sh"

run_seconds=${BHLOCK_RUN_SECONDS:-$(scaled 4 60)}
setup_test
ktap_diag "kernel: $kernel ($(uname -v))" "module: ${ko:-$mod}"

set_marker
save_health
load duration="$run_seconds" stat_interval=2
check control.run_starts_at_load $?
wait_for_run_end 1 $((run_seconds + 60))
read_stats
ktap_diag "stats of the bounded run:" "$stats"
logged "$mod: run 1: End of test: SUCCESS"
check control.run_ends_success $? "$(log_since_marker | grep "$mod: .*\(!!!\|???\|End of test\)")"
logged "$mod: run 1: [0-9]+ s, running" && logged "$mod: napi +Total: [0-9]+"
check control.periodic_stats $?

every_cpu_did napi
check napi.polls_on_every_cpu $?
[ "$(counter napi_softirq_polls)" -gt 0 ] && [ "$(counter napi_thread_polls)" -eq 0 ]
check napi.polls_in_net_rx_softirq $? \
	"softirq polls $(counter napi_softirq_polls), thread polls $(counter napi_thread_polls)"
# The budget is 16; the "interrupt" queues more than that per tick, so some polls must stop
# at their budget and leave the rest, and none may take more.
polls=$(($(counter napi_softirq_polls) + $(counter napi_thread_polls)))
[ "$(counter napi_budget_exhausted)" -gt 0 ] && [ "$(counter napi_items)" -le $((polls * 16)) ]
check napi.budget_honoured $? \
	"items $(counter napi_items) in $polls polls, $(counter napi_budget_exhausted) at budget"
[ "$(counter napi.fail)" -eq 0 ] && [ -n "${stat[napi.fail]:-}" ]
check napi.no_violations $?

hard=$(counter hardirq.total)
every_cpu_did hardirq
check hrtimer.hard.fires_on_every_cpu $?
[ "$hard" -gt 0 ] && [ "$(counter hard_in_hardirq)" -eq "$hard" ] &&
	[ "$(counter hard_timer_not_in_hardirq)" -eq 0 ]
check hrtimer.hard.in_hardirq $? "callbacks $hard, in hard-irq $(counter hard_in_hardirq)"
[ "$(counter hard_releases_checked)" -eq $((2 * hard)) ] &&
	[ "$(counter irqs_on_after_lock_release)" -eq 0 ] &&
	[ "$(counter lockdep_irqs_on_after_lock_release)" -eq 0 ] &&
	[ "$(counter irqs_on_at_hard_entry)" -eq 0 ] &&
	[ "$(counter lockdep_irqs_on_at_hard_entry)" -eq 0 ]
check hrtimer.hard.irqs_off_after_every_release $? \
	"releases checked $(counter hard_releases_checked) for $hard callbacks"
[ "$(counter detector_runs)" -gt 0 ] && [ "$(counter irq_window_in_hard_callback)" -eq 0 ]
check hrtimer.hard.irq_window_detector_quiet $? "detector runs $(counter detector_runs)"
every_cpu_did softtimer && [ "$(counter soft_in_softirq)" -gt 0 ] &&
	[ "$(counter softtimer.fail)" -eq 0 ]
check hrtimer.soft.fires_in_softirq_on_every_cpu $?

every_cpu_did threads
check threads.run_on_every_cpu $?
[ "$(counter threads.fail)" -eq 0 ] && [ -n "${stat[threads.fail]:-}" ]
check threads.no_violations $?

# The forced pairs: each round puts one BH section into the middle of another. The module
# judges every round's schedule against the kernel's BH model (inside on PREEMPT_RT, after
# elsewhere) and counts a round that went otherwise as forced_schedule_broken.
every_cpu_did forced && [ "$(counter forced_rounds)" -gt 0 ]
check forced.rounds_on_every_cpu $? "forced rounds $(counter forced_rounds)"
[ "$(counter forced_rounds)" -gt 0 ] && [ "$(counter forced_schedule_broken)" -eq 0 ]
check forced.schedule_as_the_bh_model_says $? \
	"forced rounds $(counter forced_rounds), inner inside the outer's BH section in $(counter forced_inside)," \
	"schedule broken in $(counter forced_schedule_broken)"
[ "$(counter forced.fail)" -eq 0 ] && [ -n "${stat[forced.fail]:-}" ] &&
	[ "$(counter lost_updates)" -eq 0 ]
check forced.no_violations $? "lost updates $(counter lost_updates)"
ktap_diag "contended acquisitions (another task held this CPU's cache): $(counter contended)"
unload
health_unchanged
check control.lockdep_clean_after_run $? "$(health_diag)"

# Threaded NAPI: the polls move to NAPI kthreads. A poll counts itself as threaded when it
# runs with BH disabled outside a softirq, which only the NAPI thread's loop does. The
# thread count is a diagnostic: on PREEMPT_RT the threads' /proc entries were not always
# readable.
set_marker
load duration=4 threaded=1 nr_threads=0
sleep 1
napi_threads=$(bhlock_kthreads | grep -c '^napi/')
wait_for_run_end 1 60
read_stats
unload
[ "$(counter napi_thread_polls)" -gt 0 ] && [ "$(counter napi_softirq_polls)" -eq 0 ] &&
	logged "$mod: run 1: End of test: SUCCESS"
check napi.threaded_polls_in_napi_threads $? \
	"napi/ threads seen $napi_threads, thread polls $(counter napi_thread_polls)," \
	"softirq polls $(counter napi_softirq_polls)" "$stats"

# The progress check's negative control: threads that never take the cache must be marked
# starved (???) in the periodic report and fail the run; nothing else may complain.
set_marker
save_health
load duration=3 stat_interval=1 starve_threads=1
wait_for_run_end 1 60
unload
logged "$mod: threads +Total: 0 .*\?\?\?" && logged "$mod: run 1: End of test: FAILURE" &&
	[ -z "$(report_banners)" ] && health_unchanged
check control.starved_context_flagged $? "$(log_since_marker | grep "$mod: \(threads\|run 1: End\)")" \
	"$(health_diag)"

ktap_finished
