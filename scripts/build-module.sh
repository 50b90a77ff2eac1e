#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# build-module.sh KDIR OUTDIR: builds bhlock.ko against the kernel build tree KDIR and prints
# the path of the .ko. The objects go to OUTDIR (Kbuild's MO=), never beside the sources, so
# that one source tree serves several kernels at once.
#
# A compiler warning fails the build: the module must build clean on every kernel. So does a
# function whose stack frame is above the kernel's CONFIG_FRAME_WARN (scripts/check-frames.sh,
# which writes OUTDIR/frames.txt): C would get that warning from the compiler, Rust does not.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kdir=${1:?usage: build-module.sh KDIR OUTDIR}
out=${2:?usage: build-module.sh KDIR OUTDIR}
[ -f "$kdir/Makefile" ] || die "KDIR=$kdir is not a kernel build tree"
mkdir -p "$out"
build_log=$out/build.log
if ! make -C "$kdir" M="$BHLOCK_ROOT" MO="$out" "${kmake_args[@]}" modules >"$build_log" 2>&1; then
	cat "$build_log" >&2
	die "module build failed against $kdir"
fi
if grep -E -i '(^|[^a-z])warning(\[|:)' "$build_log" >&2; then
	die "module build against $kdir has warnings (above; log: $build_log)"
fi
"$BHLOCK_ROOT/scripts/check-frames.sh" "$out/bhlock.ko" "$kdir" >"$out/frames.txt" ||
	die "module built against $kdir has stack frames above the kernel's limit (above)"
echo "$out/bhlock.ko"
