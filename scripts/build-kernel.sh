#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# build-kernel.sh NAME: prints the build directory of test kernel NAME (nort, rt, rt-bhlock),
# building it first unless the cache already holds one for the same source version, config
# fragments and toolchain.
#
# The kernel is tinyconfig plus configs/base.config, configs/lockdep.config and
# configs/NAME.config. After olddefconfig every fragment line is checked against the final
# .config: a dependency that silently dropped an option would otherwise give a kernel that
# tests something else.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

name=${1:?usage: build-kernel.sh NAME}
frags=("$BHLOCK_ROOT/configs/base.config" "$BHLOCK_ROOT/configs/lockdep.config"
       "$BHLOCK_ROOT/configs/$name.config")
[ -f "${frags[2]}" ] || die "no config fragment configs/$name.config"

ksrc=$("$BHLOCK_ROOT/scripts/kernel-source.sh")
kver=$(make -s -C "$ksrc" kernelversion)
key=$( { echo "$kver" "${kmake_args[@]}"; cat "${frags[@]}"; "$RUSTC" --version;
	 "$BINDGEN" --version; } | sha256sum | cut -c1-12)
out=$BHLOCK_CACHE/kernels/$name-$kver-$key

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

log "kernel $name: building $kver in $out (about 15 minutes on 2 cores)"
rm -rf "$out"
mkdir -p "$out"
start=$SECONDS
make -s -C "$ksrc" O="$out" "${kmake_args[@]}" tinyconfig >&2
"$ksrc/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "${frags[@]}" >/dev/null
make -s -C "$ksrc" O="$out" "${kmake_args[@]}" olddefconfig >&2
check_config "$out/.config"
make -C "$ksrc" O="$out" "${kmake_args[@]}" -j"$(($(nproc) + 1))" >"$out/build.log" 2>&1 ||
	{ tail -n 40 "$out/build.log" >&2; die "kernel $name: build failed, see $out/build.log"; }
touch "$out/.bhlock-built"
log "kernel $name: built in $((SECONDS - start)) s"
echo "$out"
