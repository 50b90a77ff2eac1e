#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# run.sh: `make run`. Sets up what is missing, builds the test kernel KERNEL (default nort;
# KDIR=... uses your own build tree), builds bhlock.ko against it, boots it under virtme-ng,
# loads the module with BHLOCK_ARGS (default: a 10 s run of every context with stats every
# 5 s), waits for the run to end, unloads it, and prints the module's report.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kdir=$("$BHLOCK_ROOT/scripts/kdir.sh")
out=$BHLOCK_RESULTS/run-${KERNEL:-nort}
mkdir -p "$out"
ko=$("$BHLOCK_ROOT/scripts/build-module.sh" "$kdir" "$out/module")
args=${BHLOCK_ARGS:-duration=10 stat_interval=5}
log "booting $kdir with bhlock $args (console: $out/console.log)"
status=0
# shellcheck disable=SC2016 # expanded in the guest
"$BHLOCK_ROOT/scripts/vng-run.sh" "$kdir" "$out/console.log" -- \
	bash -c 'insmod "$0" $1 || exit
		if [[ " $1" =~ \ duration=[1-9] ]]; then
			for ((i = 0; i < 600; i++)); do
				dmesg | grep -q "bhlock: run 1: End of test" && break
				sleep 0.2
			done
		fi
		rmmod bhlock
		dmesg | grep -E "bhlock|KTAP|^\[ *[0-9.]+\] +(# |ok |not ok )"' \
	"$ko" "$args" || status=$?
exit $status
