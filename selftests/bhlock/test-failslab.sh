#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Allocation failures at load. With the kernel's fault injection the load is failed at each of
# bhlock's own allocations in turn, first the slab ones (failslab), then the page ones
# (fail_page_alloc: large kmalloc()s, new slabs and per-CPU chunk pages asked for on bhlock's
# behalf; the load makes none today, the walk is there for the day it does, and a control shows
# that fail_page_alloc does fail page allocations of a task). /proc/self/fail-nth fails the Nth
# allocation of the loading task, and the attribute's stack-trace filter counts only those whose
# call chain runs through module text (bhlock is the only module here); the other attribute's
# range is emptied meanwhile, so that fail-nth does not count its sites. Every such load must
# fail with an error and leave nothing behind (module, debugfs, threads, a report), the kernel's
# health unchanged. A walk ends at the first N past the last allocation, where the load succeeds
# without a failure injected (one that succeeds despite one is listed as tolerated, and the walk
# goes on).
#
# Linux 7.3 has no fault injection for per-CPU allocations themselves (no fail_percpu); the
# pages of a new per-CPU chunk are covered by fail_page_alloc.
#
# The walk follows bhlock's own allocations and error paths at load, which are the same code
# on every kernel: at gate size `make check` runs it on one kernel alone (gate_skipped in
# functions.sh).
. "$(dirname "$0")/functions.sh"

setup_test
if gate_skipped "" failslab.slab_sites_walked failslab.slab_each_failure_clean \
	failslab.page_injection_fires failslab.page_each_failure_clean failslab.load_after_walk; then
	ktap_finished
fi
faults=/sys/kernel/debug
{ [ -w /proc/self/fail-nth ] && [ -d $faults/failslab ] && [ -d $faults/fail_page_alloc ]; } ||
	ktap_skip_all "no fault injection (CONFIG_FAULT_INJECTION, FAILSLAB, FAIL_PAGE_ALLOC)"
[ -e $faults/failslab/require-start ] ||
	ktap_skip_all "no stack-trace filter (CONFIG_FAULT_INJECTION_STACKTRACE_FILTER)"

# Module text lies above the kernel image.
kernel_end=$(awk '$3 == "_end" { print $1 }' /proc/kallsyms)

# only ATTR [START]: injects through fault attribute ATTR alone, for allocations called from
# addresses above START (default: module text), whatever their GFP flags and order, quietly.
only() {
	local attr
	for attr in failslab fail_page_alloc; do
		if [ "$attr" = "$1" ]; then
			echo "${2:-0x$kernel_end}" >$faults/$attr/require-start
			echo 0xffffffffffffffff >$faults/$attr/require-end
		else
			echo 0 >$faults/$attr/require-start
			echo 0 >$faults/$attr/require-end
		fi
		echo 32 >$faults/$attr/stacktrace-depth
		echo N >$faults/$attr/ignore-gfp-wait
		echo 0 >$faults/$attr/verbose
	done
	echo N >$faults/fail_page_alloc/ignore-gfp-highmem
	echo 0 >$faults/fail_page_alloc/min-order
}

# failing_load N: a load whose Nth counted allocation fails (fail-nth is per task, so it is
# set by the shell that then becomes insmod). Without the module's KUnit suites, as every
# load but test-module.sh's: the walk is over the load's own allocations.
failing_load() {
	local cmd=(insmod "$ko")
	[ -n "$ko" ] || cmd=(modprobe "$mod")
	# shellcheck disable=SC2086 # BHLOCK_ARGS is a list of parameters.
	# shellcheck disable=SC2016 # expanded by the inner bash
	without_kunit bash -c 'echo "$0" >/proc/self/fail-nth && exec "$@"' "$1" "${cmd[@]}" $args 2>/dev/null
}

# arm ATTR / fired ATTR: fault attribute ATTR counts its injections down from `times`.
arm() {
	echo 2 >"$faults/$1/times"
}

fired() {
	[ "$(cat "$faults/$1/times")" != 2 ]
}

# walk ATTR KIND MUST_FIND WHY: fails the load at each counted allocation of KIND (slab, page)
# in turn, through ATTR, and reports it as failslab.KIND_*; MUST_FIND: whether finding no site
# is a failure; WHY says which allocations the load tolerates failing.
walk() {
	local attr=$1 kind=$2 must_find=$3 why=$4 n sites=0 in_init=0 dirty='' tolerated='' left reports
	only "$attr"
	save_health
	for ((n = 1; n <= 1000; n++)); do
		set_marker
		arm "$attr"
		if failing_load "$n"; then
			unload
			fired "$attr" || { sites=$((n - 1)); break; }
			tolerated+=" $n"
			continue
		fi
		if ! fired "$attr"; then
			# Something earlier broke the load itself: the rest of the walk would say nothing.
			dirty+=" $n(failed with no fault injected: the walk stops)"
			sites=$((n - 1))
			unload
			break
		fi
		logged "$mod: Start of test" && in_init=$((in_init + 1))
		left=$(bhlock_kthreads)
		reports=$(report_banners)
		if [ -e /sys/module/$mod ] || [ -e "$debugfs" ] || [ -n "$left" ] ||
			[ -n "$reports" ] || ! health_unchanged; then
			dirty+=" $n"
			ktap_diag "$kind failure at allocation $n left:" \
				"module=$([ -e /sys/module/$mod ] && echo yes)" \
				"debugfs=$([ -e "$debugfs" ] && echo yes) threads=${left:-none}" \
				"$reports" "$(health_diag)"
			unload
		fi
	done
	if [ "$must_find" = yes ]; then
		[ "$sites" -gt 0 ]
		check "failslab.${kind}_sites_walked" $? "no $kind allocation failed the load"
	fi
	[ -z "$dirty" ] && [ "$n" -le 1000 ]
	check "failslab.${kind}_each_failure_clean" $? \
		"loads failed at $kind allocations$dirty left something behind"
	read -ra tolerated_list <<<"$tolerated"
	ktap_diag "the load walked $sites counted $kind allocations: $((sites - ${#tolerated_list[@]}))" \
		"failed it ($in_init of them after its init began), ${#tolerated_list[@]} were" \
		"tolerated${tolerated:+ ($why):$tolerated}"
}

walk failslab slab yes "kmemleak's own metadata, which falls back to its pool"

# The control of the page walk, which finds nothing: counting every page allocation of a task
# (any caller), fail-nth makes fail_page_alloc fail the first one of an exec.
only fail_page_alloc 0
set_marker
arm fail_page_alloc
bash -c 'echo 1 >/proc/self/fail-nth && exec true' 2>/dev/null
fired fail_page_alloc && [ -z "$(report_banners)" ]
check failslab.page_injection_fires $? \
	"fail_page_alloc times: $(cat $faults/fail_page_alloc/times)" "$(report_banners)"
walk fail_page_alloc page no "none expected"
only none
load && unload && health_unchanged
check failslab.load_after_walk $? "$(health_diag)"

ktap_finished
