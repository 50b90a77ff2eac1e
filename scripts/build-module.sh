#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# build-module.sh KDIR [OUTDIR]: builds bhlock.ko against the kernel build tree KDIR and
# prints the path of the .ko. With OUTDIR the objects go there (Kbuild's MO=), so that one
# source tree serves several kernels at once; without it they go beside the sources.
#
# A compiler warning fails the build: the module must build clean on every kernel.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kdir=${1:?usage: build-module.sh KDIR [OUTDIR]}
out=${2:-}
[ -f "$kdir/Makefile" ] || die "KDIR=$kdir is not a kernel build tree"
mo=()
if [ -n "$out" ]; then
	mkdir -p "$out"
	mo=(MO="$out")
fi
build_log=${out:-$BHLOCK_ROOT}/build.log
if ! make -C "$kdir" M="$BHLOCK_ROOT" "${mo[@]}" "${kmake_args[@]}" modules >"$build_log" 2>&1; then
	cat "$build_log" >&2
	die "module build failed against $kdir"
fi
if grep -E -i '(^|[^a-z])warning(\[|:)' "$build_log" >&2; then
	die "module build against $kdir has warnings (above; log: $build_log)"
fi
echo "${out:-$BHLOCK_ROOT}/bhlock.ko"
