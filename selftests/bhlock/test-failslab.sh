#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Allocation failures at load. With the kernel's fault injection the load is failed at each of
# bhlock's own slab allocations in turn: /proc/self/fail-nth fails the Nth allocation of the
# loading task, and failslab's stack-trace filter counts only those whose call chain runs
# through module text (bhlock is the only module here). Every such load must fail with an
# error and leave nothing behind (module, debugfs, threads), the kernel's health unchanged.
# The walk ends at the first N past the last allocation, where the load succeeds without a
# failure injected (one that succeeds despite one is listed, and the walk goes on).
#
# fail_page_alloc is left out (its range is emptied, so fail-nth does not count its sites): a
# failed page allocation prints the allocator's warning with a Call Trace, which the console
# scan of the boot would count as a report.
. "$(dirname "$0")/functions.sh"

setup_test
faults=/sys/kernel/debug
{ [ -w /proc/self/fail-nth ] && [ -d $faults/failslab ]; } ||
	ktap_skip_all "no fault injection (CONFIG_FAULT_INJECTION, CONFIG_FAILSLAB)"
[ -e $faults/failslab/require-start ] ||
	ktap_skip_all "no stack-trace filter (CONFIG_FAULT_INJECTION_STACKTRACE_FILTER)"

# Module text lies above the kernel image: count only what is called from there, whatever
# the GFP flags, and quietly.
kernel_end=$(awk '$3 == "_end" { print $1 }' /proc/kallsyms)
echo "0x$kernel_end" >$faults/failslab/require-start
echo 0xffffffffffffffff >$faults/failslab/require-end
echo 32 >$faults/failslab/stacktrace-depth
echo N >$faults/failslab/ignore-gfp-wait
echo 0 >$faults/failslab/verbose
if [ -d $faults/fail_page_alloc ]; then
	echo 0 >$faults/fail_page_alloc/require-start
	echo 0 >$faults/fail_page_alloc/require-end
fi

# failing_load N: a load whose Nth counted allocation fails (fail-nth is per task, so it is
# set by the shell that then becomes insmod).
failing_load() {
	local cmd=(insmod "$ko")
	[ -n "$ko" ] || cmd=(modprobe "$mod")
	# shellcheck disable=SC2086 # BHLOCK_ARGS is a list of parameters.
	bash -c 'echo "$0" >/proc/self/fail-nth && exec "$@"' "$1" "${cmd[@]}" $args 2>/dev/null
}

# arm / fired: failslab counts its injections down from `times`.
arm() {
	echo 2 >$faults/failslab/times
}

fired() {
	[ "$(cat $faults/failslab/times)" != 2 ]
}

save_health
sites=0
in_init=0
dirty=
tolerated=
for ((n = 1; n <= 1000; n++)); do
	set_marker
	arm
	if failing_load "$n"; then
		unload
		fired || { sites=$((n - 1)); break; }
		tolerated+=" $n"
		continue
	fi
	fired || dirty+=" $n(failed with no fault injected)"
	logged "$mod: Start of test" && in_init=$((in_init + 1))
	left=$(bhlock_kthreads)
	reports=$(report_banners)
	if [ -e /sys/module/$mod ] || [ -e "$debugfs" ] || [ -n "$left" ] || [ -n "$reports" ] ||
		! health_unchanged; then
		dirty+=" $n"
		ktap_diag "failure at allocation $n left: module=$([ -e /sys/module/$mod ] && echo yes)" \
			"debugfs=$([ -e "$debugfs" ] && echo yes) threads=${left:-none}" "$reports" \
			"$(health_diag)"
		unload
	fi
done
[ "$sites" -gt 0 ]
check failslab.sites_walked $? "no allocation failed the load: the walk found no site"
[ -z "$dirty" ] && [ "$n" -le 1000 ]
check failslab.each_failure_clean $? "loads failed at allocations$dirty left something behind"
read -ra tolerated_list <<<"$tolerated"
ktap_diag "the load walked $sites counted slab allocations: $((sites - ${#tolerated_list[@]}))" \
	"failed it ($in_init of them after its init began), ${#tolerated_list[@]} were tolerated" \
	"(kmemleak's own metadata, which falls back to its pool)${tolerated:+:$tolerated}"
load && unload && health_unchanged
check failslab.load_after_walk $? "$(health_diag)"

ktap_finished
