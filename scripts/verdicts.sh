#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# verdicts.sh [RESULTS]: the kernel-resource probes of a `make check` or `make soak` run as
# one table, resource x kernel, read from that run's results (default $BHLOCK_RESULTS): each
# cell is the verdict (ok or FAIL), what the module expected on that kernel (clean, or caught
# by the module), and for a caught case the time and forced round of the first fault. Every
# kernel.NAME.KERNEL result of test-kernel.sh counts (the clean boots', and the must-fail
# kernel's boots, one per resource). `make verdicts` runs it; `make check` prints it at its end.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

results=${1:-$BHLOCK_RESULTS}
mapfile -t logs < <(compgen -G "$results/*/clean.logs/test-kernel.sh"
	compgen -G "$results/*/kernel*.logs/test-kernel.sh")
[ ${#logs[@]} -gt 0 ] || die "no test-kernel.sh results under $results (run make check first)"

# One line per result: resource, kernel, verdict, expectation, first fault.
awk '
	match($0, /(not )?ok [0-9]+ kernel\.[a-z_0-9]+\.[a-z0-9-]+/) {
		flush()
		split(substr($0, RSTART, RLENGTH), w, " ")
		verdict = (w[1] == "not") ? "FAIL" : "ok"
		split(w[w[1] == "not" ? 4 : 3], n, ".")
		res = n[2]; k = n[3]; for (i = 4; i in n; i++) k = k "." n[i]
		# The must-fail kernel with nothing removed: its candidate fixes in.
		if (FILENAME ~ /\/kernel-fixed\.logs\//) k = k "+fix"
		expect = "?"; fault = "-"
		next
	}
	/expected on [^:]*: / { sub(/.*expected on [^:]*: /, ""); expect = $0 }
	/first cache fault after/ { sub(/.*first cache fault after /, ""); fault = $0 }
	function flush() { if (res != "") printf "%s\t%s\t%s\t%s\t%s\n", res, k, verdict, expect, fault; res = "" }
	END { flush() }
' "${logs[@]}" | sort -u | awk -F '\t' -v order="${BHLOCK_KERNELS[*]} ${BHLOCK_PROBE_KERNELS[*]}" '
	{ cell[$1 FS $2] = $3 ": " $4 ($5 == "-" ? "" : ", first fault after " $5)
	  if (!($1 in seen_r)) { seen_r[$1] = 1; rs[++nr] = $1 }
	  present[$2] = 1 }
	END {
		# The kernels in the matrix order of scripts/lib.sh, then any other.
		n = split(order, o, " ")
		for (i = 1; i <= n; i++) if (o[i] in present) { ks[++nk] = o[i]; matrix[o[i]] = 1; delete present[o[i]] }
		for (k in present) ks[++nk] = k
		# A kernel outside the matrix (rt-nolock+fix) only where it ran.
		for (i = 1; i <= nr; i++)
			for (j = 1; j <= nk; j++)
				if ((rs[i] FS ks[j]) in cell)
					printf "%-18s %-13s %s\n", rs[i], ks[j], cell[rs[i] FS ks[j]]
				else if (ks[j] in matrix)
					printf "%-18s %-13s %s\n", rs[i], ks[j], "not run"
	}'
