#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# junit.sh KTAP: prints the KTAP results of `make check` (results/ktap.txt) as JUnit XML, for
# CI systems' test views: one testcase per result line, its class the name's first part
# (build, lint, vm, scenario, ...), a failure carrying the diagnostic lines that follow it.
set -euo pipefail
ktap=${1:?usage: junit.sh KTAP}

awk '
function esc(s) {
	gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s)
	gsub(/"/, "\\&quot;", s)
	return s
}
function flush() {
	if (name == "")
		return
	n++
	split(name, part, ".")
	out = out sprintf("    <testcase classname=\"bhlock.%s\" name=\"%s\">", esc(part[1]), esc(name))
	if (state == "skip") {
		out = out "<skipped/>"
		skipped++
	} else if (state == "fail") {
		out = out sprintf("<failure message=\"not ok\">%s</failure>", esc(diag))
		failed++
	}
	out = out "</testcase>\n"
	name = ""
	diag = ""
}
/^ok [0-9]+ / {
	flush()
	name = $3
	state = / # SKIP/ ? "skip" : "pass"
	next
}
/^not ok [0-9]+ / {
	flush()
	name = $4
	state = "fail"
	next
}
/^# / && state == "fail" && name != "" {
	diag = diag substr($0, 3) "\n"
}
END {
	flush()
	print "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
	printf "<testsuites>\n  <testsuite name=\"bhlock\" tests=\"%d\" failures=\"%d\" skipped=\"%d\">\n", n, failed, skipped
	printf "%s", out
	print "  </testsuite>\n</testsuites>"
}' "$ktap"
