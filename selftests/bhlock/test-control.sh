#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The debugfs control surface: file modes, a bad write, start, a second start, stop, the
# report frozen once the run ended; then rmmod in the middle of a run, and a reload after it.
. "$(dirname "$0")/functions.sh"

setup_test
# The control file's commands start and stop runs, whose threads and locks differ with
# PREEMPT_RT, not with the BH lock.
gate_skip_file preempt_rt

set_marker
load
modes="stats $(stat -c %a "$debugfs/stats"), control $(stat -c %a "$debugfs/control")"
[ "$modes" = "stats 400, control 200" ]
check control.debugfs_root_only $? "modes: $modes"
read_stats
before=$stats
refused=0
echo bogus 2>/dev/null >"$debugfs/control" || refused=1
read_stats
[ "$refused" -eq 1 ] && [ "$stats" = "$before" ]
check control.bad_write_refused $? "the write was accepted or changed the stats: $stats"
echo start >"$debugfs/control"
# shellcheck disable=SC2320 # the write's status is the point
check control.start $?
! echo start 2>/dev/null >"$debugfs/control"
check control.second_start_refused $?
sleep 2
echo stop >"$debugfs/control"
read_stats
logged "$mod: run 1: End of test: SUCCESS" && [ "$(counter napi.total)" -gt 0 ]
check control.stop_ends_run $? "$(log_since_marker | grep "$mod")"
# An ended run's report stops counting its time.
ended=${stats%%$'\n'*}
sleep 2
read_stats
[ "${stats%%$'\n'*}" = "$ended" ]
check control.stats_stop_at_end $? "2 s after the end: '$ended' became '${stats%%$'\n'*}'"
unload

# rmmod in the middle of a run: the run ends, its threads and debugfs go, lockdep stays on.
set_marker
save_health
load duration=600 nr_threads=4 threaded=1
sleep 3
unload
status=$?
sleep 1
left=$(bhlock_kthreads)
[ "$status" -eq 0 ] && [ -z "$left" ] && [ ! -e "$debugfs" ] &&
	logged "$mod: run 1: End of test: SUCCESS" && logged "$mod: End of test: SUCCESS" &&
	health_unchanged
check control.rmmod_mid_run $? "rmmod status $status, threads left: ${left:-none}" \
	"$(health_diag)" "$(log_since_marker | grep "$mod: .*End of test")"
load && unload
check control.reload_after_rmmod $?

ktap_finished
