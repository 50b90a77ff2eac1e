#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# compile-fail.sh KDIR KERNEL OUTDIR: builds every program in tests/compile-fail/ against the
# kernel in KDIR and prints one KTAP line each, compile_fail.<case>.<KERNEL>.
#
# A misuse case passes when rustc rejects it with exactly the error code its header names
# ("//! expect: E0597") and no other, or, for the lifetime errors that have no code, with no
# code and an error line holding the text the header names ("//! expect: lifetime may not
# live long enough"). The control, compile_pass.rs, passes when it builds: without it, a
# harness that cannot build anything would make every misuse case "pass". Every case builds
# against src/sync/ alone (plus, for a harness helper's bound, that helper's file), which
# checks that the guard API stands on its own. "//! expect: calls SYMBOL" with "//! cfg:
# CONFIG_X": built as for a kernel with option X, the object's code must call SYMBOL (its
# KUnit tests, which call the helpers to compare, do not count).
#
# At gate size (BHLOCK_SCALE), BHLOCK_COMPILE_FAIL_RAN: the kernels this ran on and passed, one
# per line, "NAME BUILD_DIRECTORY" (scripts/check.sh). A case builds against the kernel's Rust
# crates and the bindings of its headers, built with its Makefiles, and against bhlock's files
# that the cases name: where this kernel's configuration differs from one of those kernels'
# only in options that none of these mentions (rt-bhlock from rt: CONFIG_PREEMPT_RT_NEEDS_BH_LOCK,
# which only kernel/softirq.c reads), every case builds the same here, and each is skipped
# with that reason.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

kdir=${1:?usage: compile-fail.sh KDIR KERNEL OUTDIR}
kernel=${2:?kernel name missing}
out=${3:?output directory missing}
cases_dir=$BHLOCK_ROOT/tests/compile-fail
# llvm-objdump as the kernel's LLVM= names it: LLVM=-19 is llvm-objdump-19, LLVM=/path/ a
# prefix.
case $LLVM in
-*) objdump=llvm-objdump$LLVM;;
*/) objdump=${LLVM}llvm-objdump;;
*) objdump=llvm-objdump;;
esac

# calls_outside_tests OBJECT SYMBOL: whether a function of OBJECT other than the layer's own
# KUnit tests (which call the helpers on purpose, to compare) calls SYMBOL.
calls_outside_tests() {
	"$objdump" -dr --no-show-raw-insn "$1" 2>/dev/null | awk -v sym="$2" '
		/^[0-9a-f]+ <.*>:$/ { skip = ($2 ~ /5tests|kunit/) }
		!skip && $2 ~ /^R_X86_64_(PLT32|PC32)$/ && $3 ~ ("^" sym "[-+]") { found = 1 }
		END { exit !found }'
}

# The plan first, so that a run cut short is seen as one (scripts/ktap-tree.sh).
cases=("$cases_dir"/*.rs)
echo "TAP version 13"
echo "1..${#cases[@]}"
n=0

# read_by_the_cases OPTION: whether anything a case builds against mentions OPTION (a substring
# search, so CONFIG_X_MODULE counts for CONFIG_X): the kernel's headers, Rust crates and the
# Makefiles that give rustc its flags, the cases and the files of bhlock they name (#[path]; a
# mod.rs stands for its directory).
read_by_the_cases() {
	local src=$kdir/source file
	local -a inputs=("$src/include" "$src/arch/x86/include" "$src/rust" "$src/Makefile"
		"$src/arch/x86/Makefile" "$src"/scripts/Makefile.* "$cases_dir")
	while IFS= read -r file; do
		file=$cases_dir/$file
		[ "${file##*/}" != mod.rs ] || file=${file%/mod.rs}
		inputs+=("$file")
	done < <(sed -n 's|^ *#\[path = "\([^"]*\)"\]|\1|p' "$cases_dir"/*.rs "$cases_dir"/*.inc | sort -u)
	# Exit status 1 is "found nowhere"; an input that cannot be read (2) is not that.
	grep -rqF -- "$1" "${inputs[@]}"
	[ $? -ne 1 ]
}

# covering_kernel: "NAME: OPTIONS", the first kernel of BHLOCK_COMPILE_FAIL_RAN whose
# configuration differs from this kernel's only in OPTIONS, which read_by_the_cases finds
# nowhere.
covering_kernel() {
	local name ran options option generated
	# A kernel built from patched sources (configs/NAME.patch, bind-mounted over the shared
	# tree as DIR.src: scripts/build-kernel.sh) reads more than its source link shows.
	if [ ! -d "$kdir/source/include" ] || [ -e "$kdir.src" ]; then
		return 1
	fi
	while read -r name ran; do
		if [ ! -f "$ran/.config" ] || [ -e "$ran.src" ]; then
			continue
		fi
		# What the build generated for the Rust side must be the same file on both: the
		# bindings, the target, and the generated headers (but for the configuration's own,
		# autoconf.h and rustc_cfg, which list every option, and the build's time).
		for generated in rust/bindings/bindings_generated.rs rust/bindings/bindings_helpers_generated.rs \
			rust/uapi/uapi_generated.rs scripts/target.json; do
			[ ! -e "$ran/$generated" ] && [ ! -e "$kdir/$generated" ] ||
				cmp -s "$ran/$generated" "$kdir/$generated" || continue 2
		done
		diff -rq -x autoconf.h -x rustc_cfg -x utsversion.h "$ran/include/generated" "$kdir/include/generated" \
			>/dev/null || continue
		diff -rq "$ran/arch/x86/include/generated" "$kdir/arch/x86/include/generated" >/dev/null || continue
		options=$(diff <(grep '^CONFIG_' "$ran/.config" | sort) <(grep '^CONFIG_' "$kdir/.config" | sort) |
			sed -n 's/^[<>] \(CONFIG_[A-Za-z0-9_]*\)=.*/\1/p' | sort -u | paste -sd ' ')
		for option in $options; do
			! read_by_the_cases "$option" || continue 2
		done
		echo "$name: ${options:-no option}"
		return 0
	done <<<"${BHLOCK_COMPILE_FAIL_RAN:-}"
	return 1
}

if [ "$(bhlock_scale)" = gate ] && covered=$(covering_kernel); then
	for src in "${cases[@]}"; do
		n=$((n + 1))
		echo "ok $n compile_fail.$(basename "$src" .rs).$kernel # SKIP gate size: builds as on ${covered%%: *}"
	done
	echo "# gate size: the configuration differs from that of ${covered%%: *} only in" \
		"${covered#*: }, which nothing the cases build against mentions"
	exit 0
fi
# not_ok: the KTAP line of a case that failed, counted: the exit status says whether any did
# (scripts/check.sh lets only a run that passed cover another kernel).
failures=0
not_ok() {
	echo "not ok $n $name"
	failures=$((failures + 1))
}
# The cases build in one make per set of "//! cfg:" lines rather than one each (make's own
# start took 0.75 CPU-s of the 1.1 a case took, on rt, 2026-12-07), one after another and
# past failures (-j1 -k): each case's output then follows Kbuild's "RUSTC [M] CASE.o" line,
# where it is cut into CASE.log, and the case built when CASE.o exists (Kbuild deletes the
# target of a failed command). A make that builds nothing leaves every log empty: no case
# passes then.
declare -A cfg_group
for src in "${cases[@]}"; do
	cfgs=$(sed -n 's|^//! cfg: \(.*\)$|--cfg \1|p' "$src")
	cfg_group[cfg:$cfgs]+=" $(basename "$src" .rs)"
done
mkdir -p "$out"
rm -f "$out"/*.o "$out"/*.log
for group in "${!cfg_group[@]}"; do
	read -r -a names <<<"${cfg_group[$group]}"
	cfgs=${group#cfg:}
	make -k -j1 -C "$kdir" M="$cases_dir" MO="$out" V=0 CASES="${names[*]}" "${kmake_args[@]}" \
		${cfgs:+KRUSTFLAGS="$cfgs"} "${names[@]/%/.o}" >>"$out/make.log" 2>&1
done
awk -v out="$out" '/^  RUSTC \[M\] [^ \/]+\.o$/ { if (f) close(f); f = out "/" $3; sub(/\.o$/, ".log", f) }
	f { print >f }' "$out/make.log"
for src in "${cases[@]}"; do
	case_name=$(basename "$src" .rs)
	expect=$(sed -n 's|^//! expect: \(.*\)$|\1|p' "$src")
	log=$out/$case_name.log
	touch "$log"
	built=1
	[ ! -f "$out/$case_name.o" ] || built=0
	codes=$(grep -o '^error\[E[0-9]\{4\}\]' "$log" | sort -u | sed 's/^error\[\(E[0-9]*\)\]/\1/' | tr '\n' ' ')
	n=$((n + 1))
	name="compile_fail.$case_name.$kernel"
	if [ "${expect#calls }" != "$expect" ]; then
		# "calls SYMBOL": it must build, and its code must call SYMBOL.
		sym=${expect#calls }
		if [ $built -eq 0 ] && calls_outside_tests "$out/$case_name.o" "$sym"; then
			echo "ok $n $name"
		else
			not_ok
			echo "# built: $([ $built -eq 0 ] && echo yes || echo "no (log: $log)"); $sym not called"
		fi
	elif [ "$expect" = none ]; then
		if [ $built -eq 0 ]; then
			echo "ok $n $name"
		else
			not_ok
			echo "# the control does not build (log: $log):"
			grep -m5 -A5 '^error' "$log" | sed 's/^/# /'
		fi
	elif [ $built -ne 0 ] && [ "$codes" = "$expect " ]; then
		echo "ok $n $name"
	elif [ $built -ne 0 ] && [ "${expect#E[0-9]}" = "$expect" ] && [ -z "$codes" ] &&
		grep -q "^error: .*$expect" "$log"; then
		echo "ok $n $name"
	else
		not_ok
		if [ $built -eq 0 ]; then
			echo "# unexpected success: the misuse builds (expected $expect)"
		else
			echo "# expected exactly \"$expect\", rustc said: ${codes:-no error code} (log: $log)"
			grep -m3 -A3 '^error' "$log" | sed 's/^/# /'
		fi
	fi
done
[ "$failures" -eq 0 ]
