#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# run.sh: `make run`. Sets up what is missing, builds the test kernel KERNEL (default nort;
# KDIR=... uses your own build tree), builds bhlock.ko against it, boots it under virtme-ng,
# loads and unloads the module with BHLOCK_ARGS, and prints the module's report.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kdir=$("$BHLOCK_ROOT/scripts/kdir.sh")
out=$BHLOCK_RESULTS/run-${KERNEL:-nort}
mkdir -p "$out"
ko=$("$BHLOCK_ROOT/scripts/build-module.sh" "$kdir" "$out/module")
log "booting $kdir with bhlock ${BHLOCK_ARGS:-} (console: $out/console.log)"
status=0
"$BHLOCK_ROOT/scripts/vng-run.sh" "$kdir" "$out/console.log" -- \
	bash -c 'insmod "$0" $1 && rmmod bhlock; dmesg | grep -E "bhlock|KTAP|^\[ *[0-9.]+\] +(# |ok |not ok )"' \
	"$ko" "${BHLOCK_ARGS:-}" || status=$?
exit $status
