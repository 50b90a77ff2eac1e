#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# repeat.sh: `make repeat`. Shows that a case's verdict does not depend on luck: for each
# kernel (BHLOCK_KERNELS_ONLY, default all three), one boot that runs the scenario table's case
# REPEAT_CASE (default busted) REPEAT_RUNS times (default 20) with the CPUs idle, then with
# one CPU busy, then with every CPU busy (selftests/bhlock/test-repeat.sh). On the probe's
# must-fail kernel (rt-nolock) the boot removes the protection of the resource of that name
# (bhlock_unlocked=REPEAT_CASE), as `make check` does for a kernel case. Prints its KTAP and
# ends with "N passed, N failed"; results in $BHLOCK_RESULTS/repeat/.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

read -r -a kernels <<<"${BHLOCK_KERNELS_ONLY:-${BHLOCK_KERNELS[*]}}"
case_name=${REPEAT_CASE:-busted}
runs=${REPEAT_RUNS:-20}
out=$BHLOCK_RESULTS/repeat
mkdir -p "$out"
pass=0
fail=0
for k in "${kernels[@]}"; do
	kdir=$("$BHLOCK_ROOT/scripts/build-kernel.sh" "$k") || die "kernel $k did not build"
	ko=$("$BHLOCK_ROOT/scripts/build-module.sh" "$kdir" "$out/$k/module") ||
		die "bhlock.ko did not build against $k"
	append=${BHLOCK_VNG_APPEND:-}
	[[ " ${BHLOCK_PROBE_KERNELS[*]} " != *" $k "* ]] || append+=" bhlock_unlocked=$case_name"
	BHLOCK_VNG_APPEND=$append "$BHLOCK_ROOT/scripts/vng-run.sh" "$kdir" "$out/$k.console.log" -- \
		env BHLOCK_KO="$ko" BHLOCK_KERNEL="$k" \
		"$BHLOCK_ROOT/selftests/bhlock/test-repeat.sh" "$case_name" "$runs" idle busy1 busyall \
		>"$out/$k.ktap" 2>"$out/$k.vm.log" || {
		echo "# $k: the boot failed: $(cat "$out/$k.vm.log")"
		fail=$((fail + 1))
	}
	cat "$out/$k.ktap"
	pass=$((pass + $(grep -c '^ok ' "$out/$k.ktap")))
	fail=$((fail + $(grep -c '^not ok ' "$out/$k.ktap")))
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ] && [ $pass -gt 0 ]
