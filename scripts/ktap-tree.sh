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
#   import_ktap FILE STAGE [STATUS]
#                                the results of a KTAP document (or of several, one after
#                                the other) that stage STAGE printed, renumbered into the open
#                                subtest; and a failed leaf STAGE.incomplete where a document
#                                has no result (and is no skip) or fewer than its plan, or
#                                where STATUS, the stage's exit status, is not 0 and none of
#                                its results failed: a stage that dies is never a pass
#   import_kselftest FILE LOGS KERNEL SCRIPT...
#                                the output of the kernel's kselftest runner, FILE, with each
#                                script's own output in LOGS/SCRIPT (--per-test-log): each
#                                script's results, and the runner's verdict on the script (its
#                                exit status, a timeout) as a leaf kselftest.SCRIPT.KERNEL,
#                                failed for each SCRIPT the runner gave no verdict on
#   tree_diag TEXT               a "# " diagnostic line in the open subtest
#   tree_end                     closes it: its result is not ok if a leaf failed
#   tree_write FILE              the whole document
#   run_job DIR NAME COMMAND...  runs COMMAND (which adds subtrees to the open subtree) in a
#                                subshell, with its own count, its output and its timing rows
#                                ($timings) in DIR/NAME.*: jobs may run side by side
#   job_results DIR NAME         adds job NAME's subtrees and counts to this shell's, in the
#                                order of the calls, and prints its output, renumbered
#   job_ended DIR NAME           whether job NAME has ended
# Leaves are counted in $passed, $failed, $skipped. A diagnostic of a result is kept where
# the result failed, or everywhere when show_all_diags is set (`make soak`, for its figures).

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

# ktap_doc_problem TEXT: why the KTAP document(s) TEXT do not make a complete result, or
# nothing: a document with no result that is no skip, or with fewer or more results than
# its plan.
ktap_doc_problem() {
	awk '
	function done_doc() {
		if (!docs) return
		if (results == 0 && !skip_all) { print "document " docs ": no result"; bad = 1 }
		else if (plan >= 0 && results != plan) {
			print "document " docs ": " results " results for a plan of " plan; bad = 1
		}
	}
	/^(TAP|KTAP) version/ { done_doc(); docs++; results = 0; plan = -1; skip_all = 0; next }
	/^1\.\.[0-9]+/ { if (!docs) docs = 1; plan = substr($1, 4) + 0
		if (plan == 0 && $0 ~ /# SKIP/) skip_all = 1; next }
	/^# SKIP/ { if (plan == 0) skip_all = 1; next }
	/^(not )?ok [0-9]/ { if (!docs) docs = 1; results++ }
	END { done_doc(); if (!docs) print "no output" }' <<<"$1"
}

import_ktap() {
	local file=$1 stage=$2 status=${3:-0} line t in_failure=0 bad_before=$failed problem
	while IFS= read -r line; do
		case "$line" in
		"ok "*"# SKIP"*) t=${line#ok * }; record skip "${t%% # SKIP*}"; in_failure=0;;
		"ok "*) t=${line#ok * }; record ok "$t"; in_failure=0;;
		"not ok "*) t=${line#not ok * }; record not-ok "$t"; in_failure=1;;
		"# "*) if [ $in_failure -eq 1 ] || [ -n "${show_all_diags:-}" ]; then
				tree_diag "${line#\# }"
			fi;;
		esac
	done <"$file"
	problem=$(ktap_doc_problem "$(cat "$file")")
	if [ -n "$problem" ] || { [ "$status" -ne 0 ] && [ "$failed" -eq "$bad_before" ]; }; then
		record not-ok "$stage.incomplete"
		tree_diag "$stage: ${problem:-exit status $status}"
	fi
}

import_kselftest() {
	local file=$1 logs=$2 kernel=$3 line script='' inner='' name seen=" "
	shift 3
	while IFS= read -r line; do
		case "$line" in
		"# selftests: "*)
			script=${line##*: }
			inner=;;
		"ok "*"selftests: "* | "not ok "*"selftests: "*)
			[ -n "$script" ] || continue
			name=kselftest.${script%.sh}.$kernel
			seen+="$script "
			[ ! -f "$logs/$script" ] || inner=$(sed 's/^# \{0,1\}//' "$logs/$script")$'\n'
			printf '%s' "$inner" >"$file.script"
			import_ktap "$file.script" "$name"
			case "$line" in
			"ok "*"# SKIP"*) record skip "$name";;
			"ok "*) record ok "$name";;
			*) record not-ok "$name"
			   tree_diag "the runner: ${line#*"selftests: "}";;
			esac
			script=;;
		"# "*) [ -z "$script" ] || inner+=${line#\# }$'\n';;
		esac
	done <"$file"
	rm -f "$file.script"
	for script in "$@"; do
		[[ $seen == *" $script "* ]] && continue
		[ ! -f "$logs/$script" ] || inner=$(sed 's/^# \{0,1\}//' "$logs/$script")
		record not-ok "kselftest.${script%.sh}.$kernel"
		tree_diag "the runner gave no verdict on $script${inner:+; it printed, unfinished:}"
		[ -z "$inner" ] || tree_diag "$(tail -n 5 <<<"$inner")"
		inner=
	done
}

# import_script FILE STATUS_FILE NAME: a kselftest script run on its own, not through the
# runner: what it printed (FILE), as import_ktap reads it, then NAME, its verdict as the
# runner gives one, from the exit status the guest wrote to STATUS_FILE after it: 0 (KSFT_PASS)
# ok, 4 (KSFT_SKIP) skip, any other a failure; no status at all (the guest died in it) too.
import_script() {
	local file=$1 status_file=$2 name=$3 status=
	import_ktap "$file" "$name"
	read -r status 2>/dev/null <"$status_file"
	case $status in
	0) record ok "$name";;
	4) record skip "$name";;
	*) record not-ok "$name"
	   tree_diag "$name: ${status:+exit status $status}${status:-no exit status: the boot ended in it}";;
	esac
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

# The job's counts are its subshell's own on purpose: job_results adds them up.
# shellcheck disable=SC2030
run_job() {
	local dir=$1 name=$2
	shift 2
	(
		passed=0 failed=0 skipped=0 leaves=0
		t_lines[depth]=
		t_count[depth]=0
		t_bad[depth]=0
		timings=$dir/$name.timings
		: >"$timings"
		"$@"
		{
			echo "$passed $failed $skipped $leaves ${t_count[depth]} ${t_bad[depth]}"
			printf '%s' "${t_lines[depth]}"
		} >"$dir/$name.tree.tmp"
	) >"$dir/$name.out" 2>"$dir/$name.err"
	# Whatever became of the job, it has ended (job_ended), with its results or without.
	[ ! -f "$dir/$name.tree.tmp" ] || mv "$dir/$name.tree.tmp" "$dir/$name.tree"
	touch "$dir/$name.ended"
}

# renumber BASE: stdin with BASE added to the number of each result line ("ok N", "not ok N").
renumber() {
	awk -v base="$1" '/^(not )?ok [0-9]+ / { n = ($1 == "not") ? 3 : 2; $n += base } { print }'
}

# job_ended DIR NAME: whether job NAME has ended.
job_ended() {
	[ -e "$1/$2.ended" ]
}

# shellcheck disable=SC2031 # these are this shell's counts, not a job's
job_results() {
	local dir=$1 name=$2 p f s l count bad lines
	if ! { read -r p f s l count bad && lines=$(cat); } <"$dir/$name.tree" 2>/dev/null; then
		record not-ok "job.$name" "$dir/$name.err"
		return
	fi
	# The job's results are numbered from 1, at this level and in its output: number them on.
	lines=$(renumber "${t_count[depth]}" <<<"$lines")
	[ -z "$lines" ] || t_lines[depth]+=$lines$'\n'
	renumber "$leaves" <"$dir/$name.out"
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
	leaves=$((leaves + l))
	t_count[depth]=$((t_count[depth] + count))
	[ "$bad" -eq 0 ] || t_bad[depth]=1
	cat "$dir/$name.timings" >>"$timings"
}
