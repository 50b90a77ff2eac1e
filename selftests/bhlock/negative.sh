#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# bhlock negative controls: switches that break one rule on purpose, to prove that the check
# guarding that rule fires. Each passes only when its failure is seen. Prints KTAP.
#
#   negative.sh lock_with_bh_enabled
#       Takes the nested-BH lock with BH enabled. lockdep_assert_in_softirq() must WARN
#       (taint W), lockdep stays on (a WARN is not a lockdep report), and the module must see
#       it and end its run with FAILURE.
#
#   negative.sh irqs_on_in_hardirq
#       Enables interrupts for a moment inside the hard-irq hrtimer callback. The module's
#       IRQ-window detector must count it and the run must end FAILURE; lockdep's own
#       complaint (it refuses to enable interrupts in hard-irq context) is expected too, and
#       the hrtimer core may warn about a timer interrupt that nested in the window.
#
#   negative.sh unlock_irq_in_hardirq
#       Releases the raw spinlock in the hard-irq callback with raw_spin_unlock_irq(). The
#       module's after-release check must count interrupts on and the run must end FAILURE;
#       lockdep complains as above.
#
# A WARN_ON_ONCE() fires once per boot, so each control needs a fresh boot: with W already
# set it skips. Environment as for bhlock.sh.
#
#   negative.sh --expect CASE
#       Prints the extended regex of the console report CASE must cause, for a harness that
#       scans the console (scripts/vng-run.sh --expect).
set -u
dir=$(cd "$(dirname "$0")" && pwd)
. "$dir/ktap.sh"
. "$dir/functions.sh"

# The report each control must cause. On !RT the nested-BH lock's own assertion is the one in
# the shim; on RT it is the out-of-line lockdep_assert_in_softirq_func().
expected_report() {
	case $1 in
	lock_with_bh_enabled)
		echo 'WARNING:.*(bhlock_lockdep_assert_in_softirq|bhlock_local_lock_nested_bh|lockdep_assert_in_softirq_func)';;
	# DEBUG_LOCKS_WARN_ON(lockdep_hardirq_context()): interrupts enabled in hard-irq. An
	# hrtimer interrupt that nests in the window may also trip the hrtimer core's own
	# base->running check (seen once on rt): a real consequence, allowed, not required.
	irqs_on_in_hardirq | unlock_irq_in_hardirq)
		echo 'WARNING:.*(lockdep_hardirqs_on_prepare|__hrtimer_run_queues)';;
	*) return 1;;
	esac
}

if [ "${1:-}" = --expect ]; then
	expected_report "${2:?usage: negative.sh --expect CASE}"
	exit
fi
case=${1:?usage: negative.sh CASE}
ko=${BHLOCK_KO:-$dir/bhlock.ko}

ktap_header
require_root_and_lockdep
[ -f "$ko" ] || ktap_skip_all "no bhlock.ko (set BHLOCK_KO)"
[ "$(taint_w)" -eq 0 ] || ktap_skip_all "taint W already set: a negative control needs a fresh boot"
unload_if_loaded || ktap_skip_all "bhlock is loaded and cannot be unloaded"
set_marker
name() { test_name "negative.$case.$1"; }

case $case in
lock_with_bh_enabled)
	ktap_plan 4
	insmod "$ko" lock_with_bh_enabled=1
	rmmod "$mod"
	log=$(log_since_marker)
	ktap_diag "$(grep -E "$mod: (selfcheck|since load|End of test)" <<<"$log")"
	if grep -Eq "$(expected_report "$case")" <<<"$log"; then
		ktap_ok "$(name lockdep_warns)"
	else
		ktap_not_ok "$(name lockdep_warns)"
		ktap_diag "unexpected success: no WARNING from lockdep_assert_in_softirq()"
	fi
	if [ "$(taint_w)" -eq 1 ]; then ktap_ok "$(name taint_w)"; else ktap_not_ok "$(name taint_w)"; fi
	if grep -q "$mod: selfcheck: FAILED: a WARN() tainted the kernel" <<<"$log" &&
		grep -q "$mod: End of test: FAILURE" <<<"$log"; then
		ktap_ok "$(name module_reports_failure)"
	else
		ktap_not_ok "$(name module_reports_failure)"
	fi
	if [ "$(debug_locks)" -eq 1 ]; then ktap_ok "$(name lockdep_stays_on)"; else ktap_not_ok "$(name lockdep_stays_on)"; fi
	;;
irqs_on_in_hardirq | unlock_irq_in_hardirq)
	ktap_plan 3
	[ -d /sys/kernel/debug/bhlock ] || mount -t debugfs none /sys/kernel/debug 2>/dev/null
	case $case in
	irqs_on_in_hardirq) counter=irq_window_in_hard_callback;;
	*) counter=irqs_on_after_lock_release;;
	esac
	insmod "$ko" "$case=1" duration=3
	for ((i = 0; i < 300; i++)); do
		log_since_marker | grep -q "$mod: run 1: End of test: " && break
		sleep 0.2
	done
	stats=$(cat /sys/kernel/debug/bhlock/stats)
	rmmod "$mod"
	log=$(log_since_marker)
	ktap_diag "$stats" "$(grep -E "$mod: .*End of test" <<<"$log")" \
		"lockdep: debug_locks=$(debug_locks) taint_w=$(taint_w)"
	count=$(grep '^violations:' <<<"$stats" | grep -o " $counter=[0-9]*" | cut -d= -f2)
	if [ "${count:-0}" -gt 0 ]; then
		ktap_ok "$(name module_detects)"
	else
		ktap_not_ok "$(name module_detects)"
		ktap_diag "unexpected success: $counter not counted"
	fi
	if grep -q "$mod: run 1: End of test: FAILURE" <<<"$log" &&
		grep -q "$mod: End of test: FAILURE" <<<"$log"; then
		ktap_ok "$(name run_reports_failure)"
	else
		ktap_not_ok "$(name run_reports_failure)"
	fi
	if grep -Eq 'WARNING:.*lockdep_hardirqs_on_prepare' <<<"$log"; then
		ktap_ok "$(name lockdep_warns)"
	else
		ktap_not_ok "$(name lockdep_warns)"
		ktap_diag "no WARNING from lockdep_hardirqs_on_prepare()"
	fi
	;;
*)
	ktap_skip_all "unknown negative control '$case'"
	;;
esac
ktap_finished
