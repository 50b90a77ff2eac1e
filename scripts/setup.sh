#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# setup.sh: installs what bhlock needs and is missing; does nothing when all is there.
#
#   - Debian's rustc-web 1.85 (the kernel's minimum, with rust-src) and clang/LLVM 19, the
#     LLVM that rustc was built with;
#   - bindgen-cli 0.71.1 from crates.io, into the cache;
#   - QEMU, udev and the kernel build dependencies;
#   - virtme-ng from PyPI, in a venv in the cache.
#
# As root it installs; as another user it prints the commands to run and fails.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

apt_pkgs=(
	"rustc-web=$RUSTC_WEB_VERSION" "rust-web-src=$RUSTC_WEB_VERSION"
	"libstd-rust-web-dev=$RUSTC_WEB_VERSION"
	clang-19 lld-19 llvm-19 libclang-19-dev
	qemu-system-x86 udev
	make flex bison bc libelf-dev libssl-dev cpio kmod xz-utils python3-venv
)

missing_apt=()
for p in "${apt_pkgs[@]}"; do
	name=${p%%=*}
	have=$(dpkg-query -W -f='${db:Status-Status} ${Version}' "$name" 2>/dev/null || true)
	if [ "$name" = "$p" ]; then
		[[ $have == "installed "* ]] || missing_apt+=("$p")
	else
		[ "$have" = "installed ${p#*=}" ] || missing_apt+=("$p")
	fi
done
need_bindgen=0
[ -x "$BINDGEN" ] && "$BINDGEN" --version 2>/dev/null | grep -qF " $BINDGEN_VERSION" || need_bindgen=1
need_vng=0
[ -x "$VNG" ] || need_vng=1

if [ ${#missing_apt[@]} -eq 0 ] && [ $need_bindgen -eq 0 ] && [ $need_vng -eq 0 ]; then
	exit 0
fi

cmds=()
if [ ${#missing_apt[@]} -gt 0 ]; then
	cmds+=("apt-get update" "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing_apt[*]}")
fi
# bindgen needs cargo; the machine's rustup cargo builds it fine, any recent cargo will do.
[ $need_bindgen -eq 1 ] &&
	cmds+=("cargo install bindgen-cli --version $BINDGEN_VERSION --locked --root $BHLOCK_CACHE/tools/bindgen-$BINDGEN_VERSION")
[ $need_vng -eq 1 ] &&
	cmds+=("python3 -m venv $BHLOCK_CACHE/venv" "$BHLOCK_CACHE/venv/bin/pip install virtme-ng")

if [ "$(id -u)" -ne 0 ]; then
	log "missing toolchain pieces; as root, run:"
	printf '    %s\n' "${cmds[@]}" >&2
	exit 1
fi
command -v cargo >/dev/null || [ $need_bindgen -eq 0 ] ||
	die "cargo is needed to build bindgen-cli $BINDGEN_VERSION (install rustup or Debian's cargo)"

mkdir -p "$BHLOCK_CACHE"
start=$SECONDS
for c in "${cmds[@]}"; do
	log "setup: $c"
	# From the cache: the repo's rust-toolchain.toml would send rustup after a toolchain.
	(cd "$BHLOCK_CACHE" && bash -c "$c") >"$BHLOCK_CACHE/setup.log" 2>&1 ||
		{ tail -n 30 "$BHLOCK_CACHE/setup.log" >&2; die "setup step failed: $c"; }
done
log "setup: done in $((SECONDS - start)) s"
