#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# bhlock selftests: load the module, let it run its checks, unload it, and judge the run by
# its own report, lockdep's state and the W taint bit. Prints KTAP.
#
# Environment:
#   BHLOCK_KO      path of bhlock.ko (default: bhlock.ko beside this script, else modprobe)
#   BHLOCK_KERNEL  name of the kernel flavour, appended to every test name (default: uname -r)
#   BHLOCK_ARGS    extra module parameters for the run (e.g. lock_with_bh_enabled=1)
#
# Exit status: 0 all passed, 1 something failed, 4 skipped (not root, no module, no lockdep).
set -u
dir=$(cd "$(dirname "$0")" && pwd)
. "$dir/ktap.sh"
. "$dir/functions.sh"

ko=${BHLOCK_KO:-$dir/bhlock.ko}
args=${BHLOCK_ARGS:-}

ktap_header
require_root_and_lockdep
if [ -f "$ko" ]; then
	load() { insmod "$ko" "$@"; }
	modinfo_arg=$ko
elif modinfo "$mod" >/dev/null 2>&1; then
	load() { modprobe "$mod" "$@"; }
	modinfo_arg=$mod
else
	ktap_skip_all "no bhlock.ko (set BHLOCK_KO) and no installed bhlock module"
fi
unload_if_loaded || ktap_skip_all "bhlock is loaded and cannot be unloaded"
set_marker

debug_locks_before=$(debug_locks)
taint_w_before=$(taint_w)
ktap_diag "kernel: $kernel ($(uname -v))" "module: $ko" "args: ${args:-none}" \
	"before: debug_locks=$debug_locks_before taint_w=$taint_w_before"

if modinfo -p "$modinfo_arg" | grep -q '^lock_with_bh_enabled:'; then
	ktap_ok "$(test_name module.params)"
else
	ktap_not_ok "$(test_name module.params)"
	ktap_diag "modinfo -p does not list lock_with_bh_enabled"
fi

# shellcheck disable=SC2086 # BHLOCK_ARGS is a list of parameters.
if load $args && log_since_marker | grep -q "$mod: Start of test: "; then
	ktap_ok "$(test_name module.load)"
	loaded=1
else
	ktap_not_ok "$(test_name module.load)"
	loaded=0
fi

# The module's KUnit suite ran when it was loaded; its results vanish with the module.
kunit_results=/sys/kernel/debug/kunit/$mod/results
[ -d /sys/kernel/debug/kunit ] || mount -t debugfs none /sys/kernel/debug 2>/dev/null
if [ "$loaded" -eq 1 ] && [ -r "$kunit_results" ]; then
	# The cases are the indented result lines; "not ok" becomes one word for `read`.
	cases=$(sed -n -e 's/^[[:space:]]\+ok [0-9]\+ \([A-Za-z0-9_]\+\).*/ok \1/p' \
		-e 's/^[[:space:]]\+not ok [0-9]\+ \([A-Za-z0-9_]\+\).*/not_ok \1/p' "$kunit_results")
	if [ -z "$cases" ]; then
		ktap_not_ok "$(test_name kunit.suite)"
		ktap_diag "the bhlock KUnit suite reported no test case" "$(cat "$kunit_results")"
	fi
	while read -r verdict test_case; do
		case $verdict in
		ok) ktap_ok "$(test_name "kunit.$test_case")";;
		not_ok) ktap_not_ok "$(test_name "kunit.$test_case")";;
		esac
	done <<<"$cases"
elif [ "$loaded" -eq 1 ] && [ -d /sys/kernel/debug/kunit ]; then
	ktap_not_ok "$(test_name kunit.suite)"
	ktap_diag "KUnit is on but has no bhlock suite"
else
	ktap_skip "$(test_name kunit.suite)" "no KUnit results (CONFIG_KUNIT_DEBUGFS, debugfs)"
fi

if log_since_marker | grep -q "$mod: selfcheck: ok"; then
	ktap_ok "$(test_name module.selfcheck)"
else
	ktap_not_ok "$(test_name module.selfcheck)"
	ktap_diag "$(log_since_marker | grep "$mod: selfcheck" || echo 'no selfcheck line')"
fi

if [ "$loaded" -eq 1 ] && rmmod "$mod" &&
	log_since_marker | grep -q "$mod: End of test: SUCCESS"; then
	ktap_ok "$(test_name module.unload)"
else
	ktap_not_ok "$(test_name module.unload)"
	ktap_diag "$(log_since_marker | grep -E "$mod: (End of test|since load)" || echo 'no End of test line')"
fi

debug_locks_after=$(debug_locks)
taint_w_after=$(taint_w)
ktap_diag "after: debug_locks=$debug_locks_after taint_w=$taint_w_after"
if [ "$debug_locks_before" = 1 ] && [ "$debug_locks_after" = 1 ]; then
	ktap_ok "$(test_name lockdep.debug_locks)"
else
	ktap_not_ok "$(test_name lockdep.debug_locks)"
fi
if [ "$taint_w_after" = "$taint_w_before" ]; then
	ktap_ok "$(test_name kernel.taint_w)"
else
	ktap_not_ok "$(test_name kernel.taint_w)"
fi

ktap_finished
