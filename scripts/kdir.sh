#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# kdir.sh: prints the kernel build tree to build bhlock.ko against: $KDIR if set (the caller's
# own tree and toolchain, used as they are), else bhlock's test kernel $KERNEL (default nort),
# setting up the pinned toolchain and building the kernel first if needed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

if [ -n "${KDIR:-}" ]; then
	[ -f "$KDIR/Makefile" ] || die "KDIR=$KDIR is not a kernel build tree"
	echo "$KDIR"
	exit 0
fi
"$BHLOCK_ROOT/scripts/setup.sh"
"$BHLOCK_ROOT/scripts/build-kernel.sh" "${KERNEL:-nort}"
