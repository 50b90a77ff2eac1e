#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# check-frames.sh KO KDIR: fails, naming each function, when a function of the built module
# KO has a stack frame larger than the kernel's CONFIG_FRAME_WARN (read from KDIR/.config).
# C code gets this check from the compiler (-Wframe-larger-than); rustc has no such flag, so
# the frames are read back from the disassembly.
#
# A function's frame is what its prologue takes from the stack: every `sub $N, %rsp` (a
# frame above a page is taken in page-sized steps, each probed) plus 8 bytes for each
# register it pushes first. The return address is not counted, as the compiler does not
# count it. (The kernel's scripts/checkstack.pl counts the epilogue's `add $N, %rsp` too on
# this objdump's output, so it reports twice these figures.)
#
# Prints the largest frames, largest first, as "BYTES FUNCTION"; the first line is the limit.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ko=${1:?usage: check-frames.sh KO KDIR}
kdir=${2:?usage: check-frames.sh KO KDIR}
limit=$(sed -n 's/^CONFIG_FRAME_WARN=//p' "$kdir/.config")
if [ -z "$limit" ] || [ "$limit" -le 0 ]; then
	die "$kdir/.config sets no CONFIG_FRAME_WARN"
fi

frames=$("llvm-objdump$LLVM" -d --no-show-raw-insn --demangle "$ko" | awk '
	# hex(S): the value of the hexadecimal digits S (mawk has no strtonum()).
	function hex(s,   v, i) {
		v = 0
		for (i = 1; i <= length(s); i++)
			v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
		return v
	}
	# A function starts at "ADDRESS <NAME>:".
	/^[0-9a-f]+ <.*>:$/ {
		if (name != "") print size, name
		name = $0; sub(/^[0-9a-f]+ </, "", name); sub(/>:$/, "", name)
		size = 0; in_prologue = 1; next
	}
	name == "" || !/^ +[0-9a-f]+:/ { next }
	{
		insn = $0; sub(/^ +[0-9a-f]+:[ \t]+/, "", insn); sub(/[ \t]*#.*$/, "", insn)
		if (insn ~ /^sub[q]?[ \t]+\$0x[0-9a-f]+, %rsp$/) {
			imm = insn; sub(/^sub[q]?[ \t]+\$0x/, "", imm); sub(/, %rsp$/, "", imm)
			size += hex(imm); next
		}
		if (in_prologue && insn ~ /^push[q]?[ \t]+%r/) { size += 8; next }
		if (insn !~ /^(endbr64|nop)/) in_prologue = 0
	}
	END { if (name != "") print size, name }' | sort -rn)
[ -n "$frames" ] || die "no functions found in $ko"

echo "CONFIG_FRAME_WARN=$limit"
head -n 10 <<<"$frames"
over=$(awk -v limit="$limit" '$1 > limit' <<<"$frames")
if [ -n "$over" ]; then
	printf 'bhlock: error: stack frames above CONFIG_FRAME_WARN=%s in %s:\n' "$limit" "$ko" >&2
	mapfile -t over_lines <<<"$over"
	printf '  %s\n' "${over_lines[@]}" >&2
	exit 1
fi
