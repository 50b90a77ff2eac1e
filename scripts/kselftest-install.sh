#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# kselftest-install.sh OUT: installs selftests/bhlock into OUT the way the kernel installs its
# own selftests (`make -C tools/testing/selftests TARGETS=bhlock install`), with the kernel's
# runner, run_kselftest.sh, beside it; prints OUT. The directory is put into the kernel
# source as tools/testing/selftests/bhlock for that make alone (scripts/lib.sh: with_mounts),
# so the selftests are shown to install and run unchanged from a kernel tree.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=${1:?usage: kselftest-install.sh OUT}
ksrc=$("$BHLOCK_ROOT/scripts/kernel-source.sh")
selftests=$ksrc/tools/testing/selftests
# The mount point: an empty directory in the cached source, the only change made to it.
mkdir -p "$selftests/bhlock"
rm -rf "$out"
mkdir -p "$out"
with_mounts "$BHLOCK_ROOT/selftests/bhlock:$selftests/bhlock" -- \
	make -s -C "$selftests" TARGETS=bhlock INSTALL_PATH="$out" install >"$out.log" 2>&1 ||
	{ cat "$out.log" >&2; die "kselftest install of selftests/bhlock failed"; }
if [ ! -x "$out/run_kselftest.sh" ] || [ ! -x "$out/bhlock/test-module.sh" ]; then
	die "the kselftest install in $out has no run_kselftest.sh or no bhlock/"
fi
echo "$out"
