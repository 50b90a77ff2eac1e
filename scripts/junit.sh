#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# junit.sh KTAP: prints the nested KTAP v1 results of `make check` (results/ktap.txt, see
# scripts/ktap-tree.sh) as JUnit XML, for CI systems' test views: one testsuite per subtest
# that holds leaf results (a boot, a kernel's builds, lint, ...), named by its path
# ("nort/boot.clean.nort"), one testcase per leaf, its class the name's first part (build,
# lint, vm, scenario, ...); a failure carries the diagnostic lines that follow it. A subtest's
# own result line is not a testcase: it only sums up its leaves.
#
# Not 7.3's `kunit.py parse --junit`: compared on the same ktap.txt, it nests <testsuite> in
# <testsuite> with no <testsuites> root (which CI test views read as one suite, or not at
# all), gives no classname, and its failures say "Test Failed" without the diagnostics that
# say why. The kernel's parser is used to check that the document is KTAP it reads
# (harness.kunit_parse_reads_the_tree in scripts/test-harness.sh).
set -euo pipefail
ktap=${1:?usage: junit.sh KTAP}

awk '
function esc(s) {
	gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s)
	gsub(/"/, "\\&quot;", s)
	return s
}
function suite_path(   p, i) {
	p = ""
	for (i = 1; i <= depth; i++)
		p = p (p == "" ? "" : "/") stack[i]
	return p == "" ? "main" : p
}
function flush() {
	if (name == "")
		return
	split(name, part, ".")
	s = suite
	if (!(s in cases)) {
		order[++nsuites] = s
		cases[s] = ""
	}
	tests[s]++
	c = sprintf("    <testcase classname=\"bhlock.%s\" name=\"%s\">", esc(part[1]), esc(name))
	if (state == "skip") {
		c = c "<skipped/>"
		skips[s]++
	} else if (state == "fail") {
		c = c sprintf("<failure message=\"not ok\">%s</failure>", esc(diag))
		fails[s]++
	}
	cases[s] = cases[s] c "</testcase>\n"
	name = ""
	diag = ""
}
{
	match($0, /^ */)
	level = RLENGTH / 2
	line = substr($0, RLENGTH + 1)
}
line ~ /^# Subtest: / {
	flush()
	depth = level
	stack[depth] = substr(line, 12)
	next
}
line ~ /^(not )?ok [0-9]+ / {
	flush()
	if (level < depth) {
		# The result line of the subtest that just ended.
		depth = level
		next
	}
	split(line, f, " ")
	fail = line ~ /^not ok/
	name = fail ? f[4] : f[3]
	state = fail ? "fail" : (line ~ / # SKIP/ ? "skip" : "pass")
	suite = suite_path()
	next
}
line ~ /^# / && state == "fail" && name != "" {
	diag = diag substr(line, 3) "\n"
}
END {
	flush()
	print "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
	print "<testsuites name=\"bhlock\">"
	for (i = 1; i <= nsuites; i++) {
		s = order[i]
		printf "  <testsuite name=\"%s\" tests=\"%d\" failures=\"%d\" skipped=\"%d\">\n",
			esc(s), tests[s], fails[s] + 0, skips[s] + 0
		printf "%s", cases[s]
		print "  </testsuite>"
	}
	print "</testsuites>"
}' "$ktap"
