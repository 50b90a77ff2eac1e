#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Prints the path of an unpacked Linux 7.3 source tree, fetching Debian's linux-source-7.3
# into the cache on first use. KSRC=/path uses a tree the user already has.
#
# The package is in trixie-backports only, so apt is pointed at a private source list and
# state directory: the system's apt configuration is never touched.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

if [ -n "${KSRC:-}" ]; then
	[ -f "$KSRC/Makefile" ] || die "KSRC=$KSRC is not a kernel source tree"
	echo "$KSRC"
	exit 0
fi

src_root=$BHLOCK_CACHE/src
stamp=$src_root/.linux-source-$KVER_PKG.done
if [ -f "$stamp" ]; then
	cat "$stamp"
	exit 0
fi

apt_dir=$BHLOCK_CACHE/apt
mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial" "$src_root"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie-backports main" \
	>"$apt_dir/sources.list"
apt_opts=(-o Dir::Etc::sourcelist="$apt_dir/sources.list"
	  -o Dir::Etc::sourceparts=/dev/null
	  -o Dir::State::Lists="$apt_dir/lists"
	  -o Dir::Cache::archives="$apt_dir/archives"
	  -o APT::Get::List-Cleanup=0)
log "fetching linux-source-$KVER_PKG (private apt state in $apt_dir)"
apt-get -q "${apt_opts[@]}" update >&2
(cd "$apt_dir/archives" && apt-get -q "${apt_opts[@]}" download "linux-source-$KVER_PKG" >&2)
# The newest download: apt-get download keeps older ones beside it.
# shellcheck disable=SC2012 # Debian package file names have no odd characters.
deb=$(ls -t "$apt_dir/archives/linux-source-${KVER_PKG}"_*.deb | head -n1)

rm -rf "$src_root/extract"
dpkg-deb -x "$deb" "$src_root/extract"
tarball=$(ls "$src_root"/extract/usr/src/linux-source-"$KVER_PKG".tar.*)
log "unpacking $(basename "$tarball")"
tar -C "$src_root" -xf "$tarball"
rm -rf "$src_root/extract"
tree=$src_root/linux-source-$KVER_PKG
[ -f "$tree/Makefile" ] || die "unpacked tree has no Makefile: $tree"
echo "$tree" >"$stamp"
echo "$tree"
