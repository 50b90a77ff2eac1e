#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# build-kernel.sh [--key] NAME: prints the build directory of kernel NAME (nort, rt, rt-bhlock,
# or the benchmark kernel perf), building it first unless the cache already holds one for the
# same source version, config fragments and toolchain. With --key it only prints the name of
# that directory, which is the key everything the build depends on hashes to (`make
# cache-key`, for a CI cache of $BHLOCK_CACHE/kernels/).
#
# The kernel is tinyconfig plus configs/base.config, configs/lockdep.config and
# configs/debug.config (except for the kernels in BHLOCK_KERNELS_NO_LOCKDEP) and
# configs/NAME.config. After olddefconfig every fragment line is checked against the final
# .config: a dependency that silently dropped an option would otherwise give a kernel that
# tests something else.
#
# A kernel with a configs/NAME.patch (rt-nolock) is built from a patched source: the patch is
# applied to copies of the files it touches, kept beside the build as DIR.src, and those are
# bind-mounted over the shared source's in a private mount namespace for the build only.
# The source path stays the same, and every build sees its output directory at one path
# (lib.sh: kernel_make), so a build that starts from a copy of another (its seed) stays
# incremental.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

key_only=0
[ "${1:-}" = --key ] && { key_only=1; shift; }
name=${1:?usage: build-kernel.sh [--key] NAME}
# kernel_frags NAME: the config fragments of kernel NAME, in the order they are applied.
kernel_frags() {
	echo "$BHLOCK_ROOT/configs/base.config"
	[[ " ${BHLOCK_KERNELS_NO_LOCKDEP[*]} " == *" $1 "* ]] ||
		printf '%s\n' "$BHLOCK_ROOT/configs/lockdep.config" "$BHLOCK_ROOT/configs/debug.config"
	echo "$BHLOCK_ROOT/configs/$1.config"
}
mapfile -t frags < <(kernel_frags "$name")
[ -f "${frags[-1]}" ] || die "no config fragment configs/$name.config"

ksrc=$("$BHLOCK_ROOT/scripts/kernel-source.sh")
kver=$(make -s -C "$ksrc" kernelversion)
# kernel_dir NAME: where test kernel NAME is cached, keyed by everything its build depends on.
kernel_dir() {
	local key files
	mapfile -t files < <(kernel_frags "$1")
	key=$( { echo "$kver" "${kmake_args[@]}"; cat "${files[@]}"; "$RUSTC" --version; \
		"$BINDGEN" --version; [ ! -f "$BHLOCK_ROOT/configs/$1.patch" ] ||
		cat "$BHLOCK_ROOT/configs/$1.patch"; } |
		sha256sum | cut -c1-12)
	echo "$BHLOCK_CACHE/kernels/$1-$kver-$key"
}
out=$(kernel_dir "$name")
if [ $key_only -eq 1 ]; then
	basename "$out"
	exit 0
fi

# One build of a kernel at a time: `make check` builds the next kernels in the background
# while it tests the first, and a second caller waits here for that build, then finds it.
mkdir -p "$(dirname "$out")"
exec {lock}>"$out.lock"
flock "$lock"
if [ -f "$out/.bhlock-built" ]; then
	log "kernel $name: cached in $out"
	echo "$out"
	exit 0
fi

# Check that every CONFIG_X=v and "# CONFIG_X is not set" line of the fragments holds.
check_config() {
	local config=$1 frag line sym bad=()
	for frag in "${frags[@]}"; do
		while IFS= read -r line; do
			case "$line" in
			CONFIG_*=*)
				grep -qxF -- "$line" "$config" || bad+=("$line (.config has: $(grep -E "^(# )?${line%%=*}[= ]" "$config" || echo nothing))");;
			"# CONFIG_"*" is not set")
				sym=${line#\# }; sym=${sym%% *}
				! grep -q "^$sym=" "$config" || bad+=("$line (.config has: $(grep "^$sym=" "$config"))");;
			esac
		done <"$frag"
	done
	if [ ${#bad[@]} -gt 0 ]; then
		printf 'bhlock: kernel %s: config options that did not take effect:\n' "$name" >&2
		printf '  %s\n' "${bad[@]}" >&2
		return 1
	fi
}

rm -rf "$out"
start=$SECONDS
# A kernel that differs from an already built one in a few options starts from a copy of
# that build: Kbuild records which objects depend on which option and rebuilds only those
# (for rt-bhlock after rt: kernel/softirq.c and the link, 43 s with the copy, instead of
# about 9 minutes from scratch).
seed=${BHLOCK_KERNEL_SEED[$name]:-}
seed_dir=
if [ -n "$seed" ]; then
	seed_dir=$(kernel_dir "$seed")
	[ -f "$seed_dir/.bhlock-built" ] || seed_dir=
fi
# Else the newest cached build of this kernel for another key (a config fragment, the patch or
# the toolchain changed since): the same mechanism, so that a changed option costs the objects
# that depend on it, not a whole build.
if [ -z "$seed_dir" ]; then
	for built in "$BHLOCK_CACHE/kernels/$name-$kver-"*/.bhlock-built; do
		[ -f "$built" ] || continue
		[ -z "$seed_dir" ] || [ "$built" -nt "$seed_dir/.bhlock-built" ] || continue
		seed_dir=${built%/.bhlock-built}
	done
fi
if [ -n "$seed_dir" ]; then
	log "kernel $name: building $kver in $out, starting from $seed_dir"
	# (What an interrupted copy left is not a start.)
	rm -rf "$out.tmp"
	cp -a "$seed_dir" "$out.tmp"
	rm -f "$out.tmp/.bhlock-built"
	mv "$out.tmp" "$out"
else
	log "kernel $name: building $kver in $out (about 15 minutes on 2 cores)"
	mkdir -p "$out"
fi
# kmake ARGS...: make in the kernel source for this build, patched if the kernel has a patch.
mounts=()
kmake() { kernel_make "$ksrc" "$out" "${mounts[@]}" -- "$@"; }
patch_file=$BHLOCK_ROOT/configs/$name.patch
if [ -f "$patch_file" ]; then
	src=$out.src
	rm -rf "$src"
	mapfile -t patched < <(sed -n 's|^+++ b/||p' "$patch_file")
	for f in "${patched[@]}"; do
		mkdir -p "$src/$(dirname "$f")"
		cp "$ksrc/$f" "$src/$f"
	done
	patch -s -p1 -d "$src" <"$patch_file" || die "kernel $name: configs/$name.patch does not apply"
	for f in "${patched[@]}"; do
		mounts+=("$src/$f:$ksrc/$f")
	done
fi
kmake -s tinyconfig >&2
"$ksrc/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "${frags[@]}" >/dev/null
kmake -s olddefconfig >&2
check_config "$out/.config"
kmake -j"$(($(nproc) + 1))" >"$out/build.log" 2>&1 ||
	{ tail -n 40 "$out/build.log" >&2; die "kernel $name: build failed, see $out/build.log"; }
touch "$out/.bhlock-built"
log "kernel $name: built in $((SECONDS - start)) s"
echo "$out"
