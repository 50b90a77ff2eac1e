# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# shellcheck disable=SC2034,SC2154 # the caller's globals: those it sets, and covered_reason for it
# covered.sh: at gate size, what the kernels of the matrix tested already covers for the next
# one (scripts/check.sh). Source it. The caller sets kernels (the matrix, in order),
# BHLOCK_RESULTS (each kernel's NAME/covers), and for script_covered kselftests (the installed
# kselftest directory) and kdir (the kernel's build directory).

# gate_covered K: at gate size, the kernels of the matrix before K that cover checks for it, one
# per line as the module describes each (its `# kernel:` line): a check whose verdict depends
# only on properties in which K equals one of them is skipped on K (gate_skipped in
# selftests/bhlock/functions.sh). A kernel covers only once its clean boot has run every
# script and passed ($out/covers, written after it): not while it runs (BHLOCK_PARALLEL_JOBS),
# not after a boot that died partway, and never the probe's must-fail kernel, which runs
# test-kernel.sh alone.
gate_covered() {
	local other line
	[ "$(bhlock_scale)" = gate ] || return 0
	for other in "${kernels[@]}"; do
		[ "$other" != "$1" ] || break
		read -r line <"$BHLOCK_RESULTS/$other/covers" 2>/dev/null || continue
		[[ $line != "# kernel: "* ]] || echo "${line#\# kernel: }"
	done
}

# script_covered K SCRIPT: true when SCRIPT of the installed kselftest directory would skip
# itself whole in K's clean boot (its gate_skip_file right after setup_test, functions.sh):
# at gate size a kernel before K with K's value of the properties it names ran it
# (gate_covered); the reason the script itself would give goes to $covered_reason. The
# properties are read from the script; this can tell none (any kernel before K covers it) or
# preempt_rt (CONFIG_PREEMPT_RT in K's .config, as the module describes it) before K boots, and
# a script that names any other is not covered here: it runs, and decides for itself.
script_covered() {
	local gate_args props rt=0 line
	# The gate that skips the whole file comes first after setup_test (nothing before it could
	# print a result); its arguments, the properties and the reason why, split as the shell
	# would (xargs: an argument it cannot split leaves none, and the script runs).
	mapfile -t gate_args < <(awk '/^setup_test$/ { after = 1; next } after && /^[[:space:]]*(#|$)/ { next }
		after { if (sub(/^gate_skip_file /, "")) print; exit }' "$kselftests/bhlock/$2" |
		xargs -r printf '%s\n' 2>/dev/null)
	[ ${#gate_args[@]} -gt 0 ] || return 1
	props=${gate_args[0]}
	case $props in
	"" | preempt_rt) ;;
	*) return 1;;
	esac
	grep -qx 'CONFIG_PREEMPT_RT=y' "$kdir/.config" && rt=1
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		[ -z "$props" ] || [[ " $line " == *" preempt_rt=$rt "* ]] || continue
		# The wording of the script's own SKIP: gate_reason, from the library (in a shell of
		# its own: the library is the guest's).
		# shellcheck disable=SC2016 # for that shell
		covered_reason=$(covered_by=$line bash -c '. "$1/functions.sh" && gate_reason "$2" "$3"' \
			sh "$kselftests/bhlock" "$props" "${gate_args[1]:-}")
		return 0
	done < <(gate_covered "$1")
	return 1
}
