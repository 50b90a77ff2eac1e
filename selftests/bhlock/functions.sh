#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Helpers shared by bhlock's selftest scripts, in the manner of selftests/livepatch's
# functions.sh. Source after ktap.sh.

mod=bhlock
kernel=${BHLOCK_KERNEL:-$(uname -r)}

# require_root_and_lockdep: skips the whole file where its checks cannot mean anything.
require_root_and_lockdep() {
	[ "$(id -u)" -eq 0 ] || ktap_skip_all "must run as root"
	[ -r /proc/lockdep_stats ] || ktap_skip_all "kernel has no lockdep (CONFIG_PROVE_LOCKING)"
}

# lockdep's on/off switch: 0 after any lockdep report. These helpers use builtins only:
# under TCG, and most on rt-bhlock, every program started costs a lot.
debug_locks() {
	local key value
	while read -r key value; do
		[ "$key" = debug_locks: ] && echo "$value" && return
	done </proc/lockdep_stats
}

# Taint bit 9 (W): set by the first WARN() of the boot.
taint_w() {
	local taint
	read -r taint </proc/sys/kernel/tainted
	echo $(((taint >> 9) & 1))
}

# unload_if_loaded: starts from a kernel without bhlock, or fails.
unload_if_loaded() {
	! grep -q "^$mod " /proc/modules || rmmod "$mod"
}

# set_marker / log_since_marker: the kernel log from the marker on, so that each check reads
# only what its own run printed.
set_marker() {
	marker="$mod-selftest-$$-${EPOCHREALTIME/./}"
	echo "$marker" >/dev/kmsg
}

log_since_marker() {
	dmesg | sed -n "/$marker/,\$p"
}

# test_name CASE: the KTAP name, with the kernel flavour that ran it.
test_name() {
	echo "$1.$kernel"
}
