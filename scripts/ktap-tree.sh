# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# ktap-tree.sh: sourced by scripts/check.sh. Builds `make check`'s results as one KTAP v1
# document whose subtests nest (the matrix, then each kernel, then each boot), in the form
# the kernel's own parser reads (tools/testing/kunit/kunit.py parse): each subtest is
# "KTAP version 1", "# Subtest: NAME", its plan and its results, indented two spaces, then
# its own result line in its parent. Each leaf result is also printed to stdout as a flat
# line as it comes, numbered across the whole matrix, with the diagnostics of a failure.
#
#   tree_begin NAME              opens a subtest
#   record ok|not-ok|skip NAME [DIAGNOSTIC_FILE]
#                                a leaf result in the open subtest
#   import_ktap FILE             the results of a kselftest script's KTAP (or of several,
#                                one after the other), renumbered into the open subtest
#   tree_diag TEXT               a "# " diagnostic line in the open subtest
#   tree_end                     closes it: its result is not ok if a leaf failed
#   tree_write FILE              the whole document
# Leaves are counted in $passed, $failed, $skipped.

passed=0
failed=0
skipped=0
leaves=0
depth=0
t_name=(main)
t_lines=("")
t_count=(0)
t_bad=(0)

# tree_line TEXT: appends a line to the open subtest.
tree_line() {
	t_lines[depth]+="$1"$'\n'
}

tree_diag() {
	tree_line "# $1"
	echo "# $1"
}

tree_begin() {
	depth=$((depth + 1))
	t_name[depth]=$1
	t_lines[depth]=
	t_count[depth]=0
	t_bad[depth]=0
}

# result ok|not-ok|skip NAME: a result line in the open subtest.
result() {
	local n=$((t_count[depth] + 1))
	t_count[depth]=$n
	case $1 in
	ok) tree_line "ok $n $2";;
	skip) tree_line "ok $n $2 # SKIP";;
	*) tree_line "not ok $n $2"; t_bad[depth]=1;;
	esac
}

record() {
	leaves=$((leaves + 1))
	case $1 in
	ok) passed=$((passed + 1)); echo "ok $leaves $2";;
	skip) skipped=$((skipped + 1)); echo "ok $leaves $2 # SKIP";;
	*) failed=$((failed + 1)); echo "not ok $leaves $2";;
	esac
	result "$@"
	if [ "$1" != ok ] && [ -s "${3:-}" ]; then
		while IFS= read -r line; do
			tree_diag "$line"
		done <"$3"
	fi
}

import_ktap() {
	local line t in_failure=0
	while IFS= read -r line; do
		case "$line" in
		"ok "*"# SKIP"*) t=${line#ok * }; record skip "${t%% # SKIP*}"; in_failure=0;;
		"ok "*) t=${line#ok * }; record ok "$t"; in_failure=0;;
		"not ok "*) t=${line#not ok * }; record not-ok "$t"; in_failure=1;;
		"# "*) [ $in_failure -eq 0 ] || tree_diag "${line#\# }";;
		esac
	done <"$1"
}

tree_end() {
	local name=${t_name[depth]} lines=${t_lines[depth]} count=${t_count[depth]} bad=${t_bad[depth]}
	local block line
	block="KTAP version 1"$'\n'"# Subtest: $name"$'\n'"1..$count"$'\n'"$lines"
	depth=$((depth - 1))
	while IFS= read -r line; do
		tree_line "  $line"
	done <<<"${block%$'\n'}"
	if [ "$count" -eq 0 ]; then
		result skip "$name"
	elif [ "$bad" -eq 1 ]; then
		result not-ok "$name"
	else
		result ok "$name"
	fi
}

tree_write() {
	while [ "$depth" -gt 0 ]; do
		tree_end
	done
	{
		echo "KTAP version 1"
		echo "1..${t_count[0]}"
		printf '%s' "${t_lines[0]}"
		echo "# $passed passed, $failed failed, $skipped skipped"
	} >"$1"
}
