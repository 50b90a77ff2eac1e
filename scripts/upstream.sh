#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# upstream.sh [OUTDIR]: the guard API (src/sync/) as the patch series a kernel Rust developer
# would post, checked as its reviewers would. Prints KTAP, upstream.<check>:
#
#   series      git format-patch writes three patches against Linux 7.3 into OUTDIR
#               (default $BHLOCK_RESULTS/upstream): the C
#               helpers (rust/helpers/), the BH token (rust/kernel/bh.rs), the lock
#               (rust/kernel/sync/local_lock_nested_bh.rs);
#   cover_letter  its cover letter, 0000-cover-letter.patch: the subject and text of
#               scripts/upstream-cover.txt, with format-patch's shortlog and diffstat;
#   checkpatch  scripts/checkpatch.pl --strict: no error, warning or check;
#   rustfmt     the kernel's rustfmt settings change nothing in the patched files;
#   apply       the series applies to the 7.3 source;
#   build       on each kernel of BHLOCK_UPSTREAM_KERNELS (default: nort rt), the kernel builds
#               with it, from a copy of that test kernel's cached build (lockdep on) with
#               CONFIG_RUST_KERNEL_DOCTESTS=y, incrementally (the source path must stay
#               the same for that, so the patched rust/ is bind-mounted over the shared
#               source's in a private mount namespace); no compiler warning in the new files;
#   build.patches_1_to_N  on nort, rust/ builds with each prefix of the series: it bisects;
#   rustdoc     on nort, `make rustdoc` builds with no warning in the series' files;
#   doctest.*   in a boot of that kernel, every `# Examples` block of the new files, run by
#               KUnit as rust_doctests_kernel; one line each, and one that none is missing;
#   kunit.*     in a second boot, the layer's own KUnit suites (#[kunit_tests] in src/sync/,
#               rust_* in the tree); one line each, and one that none is missing;
#   boot.clean  no kernel report (WARN, BUG, lockdep) in either boot.
# Checks on a kernel other than nort end in .KERNEL (upstream.doctest.count.rt).
#
# The files move unchanged but for the paths of their own crate: in the kernel tree `kernel::`
# is `crate::` (`$crate::` in macros) and the layer's `super::` imports are `crate::`.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

out=${1:-$BHLOCK_RESULTS/upstream}
rm -rf "$out"
mkdir -p "$out"
layer=$BHLOCK_ROOT/src/sync
n=0
failed=0
ok() {
	n=$((n + 1))
	echo "ok $n upstream.$1"
	[ $# -lt 2 ] || echo "# $2"
}
not_ok() {
	n=$((n + 1)); failed=1
	echo "not ok $n upstream.$1"
	[ $# -lt 2 ] || printf '%s\n' "$2" | sed 's/^/# /'
}
finish() { echo "1..$n"; exit $failed; }

echo "TAP version 13"
ksrc=$("$BHLOCK_ROOT/scripts/kernel-source.sh") || { not_ok series "no kernel source"; finish; }
base=$("$BHLOCK_ROOT/scripts/build-kernel.sh" nort) || { not_ok series "no nort kernel"; finish; }

# to_tree FILE: FILE as it reads in the kernel tree (comments are left alone: the examples
# already say `kernel::`, as doctests must). The layer's KUnit suites are bhlock_* in the
# module, which its test boots select, and rust_* in the tree, as the kernel crate's are.
to_tree() {
	# shellcheck disable=SC2016 # $crate is Rust, not shell
	sed -e '/^[[:space:]]*\/\//!{s/::kernel::/$crate::/g; s/\bkernel::/crate::/g; s/^use super::/use crate::/}' \
		-e 's/#\[kunit_tests(bhlock_/#[kunit_tests(rust_/' "$1"
}
# insert_before FILE LINE NEW: NEW on a line of its own before the line LINE of FILE.
insert_before() {
	grep -qxF -- "$2" "$1" || { echo "no line '$2' in $1" >&2; return 1; }
	awk -v at="$2" -v new="$3" '$0 == at { print new } { print }' "$1" >"$1.new" && mv "$1.new" "$1"
}

# --- the series, in a repository that holds just the files it touches ---
git_dir=$out/git
mkdir -p "$git_dir/rust/helpers" "$git_dir/rust/kernel/sync/local_lock_nested_bh"
for f in MAINTAINERS rust/helpers/helpers.c rust/kernel/lib.rs rust/kernel/sync.rs; do
	cp "$ksrc/$f" "$git_dir/$f"
done
ident=(-c user.name="bhlock developers" -c user.email="bhlock@example.org")
gitc() { git -C "$git_dir" "${ident[@]}" "$@"; }
commit() {
	gitc add -A && gitc commit -q -s -F - || return 1
}
series() {
	gitc init -q && gitc add -A && gitc commit -q -m "Linux $(make -s -C "$ksrc" kernelversion)" || return 1

	cp "$layer"/helpers/{bh,local_lock}.c "$git_dir/rust/helpers/"
	insert_before "$git_dir/rust/helpers/helpers.c" '#include "binder.c"' '#include "bh.c"' &&
	insert_before "$git_dir/rust/helpers/helpers.c" '#include "maple_tree.c"' '#include "local_lock.c"' &&
	insert_before "$git_dir/MAINTAINERS" $'F:\trust/helpers/mutex.c' $'F:\trust/helpers/bh.c' &&
	insert_before "$git_dir/MAINTAINERS" $'F:\trust/helpers/mutex.c' $'F:\trust/helpers/local_lock.c' ||
		return 1
	commit <<-'EOF' || return 1
	rust: helpers: add BH, nested-BH local lock and per-CPU helpers

	local_bh_disable(), local_bh_enable(), in_hardirq(), irqs_disabled(),
	lockdep_assert_in_softirq(), __local_lock_nested_bh(),
	__local_unlock_nested_bh(), __alloc_percpu(), per_cpu_ptr() and
	this_cpu_ptr() are macros or static inlines, which bindgen cannot bind.

	local_lock_init() gives every lock initialised at one call site one static
	lock class, so the init helper takes the class and name from its Rust
	caller, as __spin_lock_init() does for spinlock_t.

	The per-CPU helpers sit with the local lock's, in local_lock.c: the
	per-CPU series ("rust: Add Per-CPU Variable API") adds a percpu.c of its
	own, and whichever lands second drops its copies.

	The Rust users follow in the next two patches.
	EOF

	to_tree "$layer/bh.rs" >"$git_dir/rust/kernel/bh.rs"
	insert_before "$git_dir/rust/kernel/lib.rs" 'pub mod bits;' 'pub mod bh;' &&
	insert_before "$git_dir/MAINTAINERS" $'F:\trust/kernel/sync/lock.rs' $'F:\trust/kernel/bh.rs' ||
		return 1
	commit <<-'EOF' || return 1
	rust: bh: add LocalBhDisabled, a token for BH-disabled sections

	Nested-BH local locks (local_lock_nested_bh()) may only be taken with
	bottom halves disabled. On PREEMPT_RT such a section is preemptible and,
	without PREEMPT_RT_NEEDS_BH_LOCK, no longer excludes the other BH sections
	of its CPU; that lock is what keeps them apart.

	Add a token for such a section, shaped like LocalInterruptDisabled:
	local_bh_disable() returns an owned one that calls local_bh_enable() when
	dropped, and the unsafe LocalBhDisabled::assume_disabled() lends one to
	softirq handlers. Functions that need the context take it by shared
	reference, so one section can back several locks, as in C.

	local_bh_disable() refuses where local_bh_enable() is not allowed (hard
	irq, NMI, interrupts off). A token dropped with interrupts disabled (a
	LocalInterruptDisabled made inside the section) leaves the section open
	with a warning rather than call local_bh_enable(), which could run
	softirqs and, with TRACE_IRQFLAGS, would enable interrupts behind the
	interrupt token's back.

	A section makes the out-of-line calls C's makes and no more: on x86-64
	(not UML) the context checks read the interrupt flag (unless
	PARAVIRT_XXL) and the preempt count inline, as arch_local_save_flags()
	and preempt_count() do, local_bh_disable() is the inline preempt-count
	add where C inlines it (neither PREEMPT_RT, TRACE_IRQFLAGS, DEBUG_PREEMPT
	nor TRACE_PREEMPT_TOGGLE) and a direct call of __local_bh_disable_ip()
	where C calls it, and the drop calls __local_bh_enable_ip(); the helpers
	remain for the other configurations. A KUnit case compares the inline
	reads with the helpers in process context, with interrupts off, in a BH
	section and in a HARD hrtimer's callback.
	EOF

	to_tree "$layer/local_lock_nested_bh.rs" >"$git_dir/rust/kernel/sync/local_lock_nested_bh.rs"
	to_tree "$layer/local_lock_nested_bh/this_cpu.rs" \
		>"$git_dir/rust/kernel/sync/local_lock_nested_bh/this_cpu.rs"
	insert_before "$git_dir/rust/kernel/sync.rs" 'pub mod lock;' 'pub mod local_lock_nested_bh;' &&
	insert_before "$git_dir/MAINTAINERS" $'F:\trust/kernel/sync/lock.rs' \
		$'F:\trust/kernel/sync/local_lock_nested_bh.rs\nF:\trust/kernel/sync/local_lock_nested_bh/' ||
		return 1
	commit <<-'EOF' || return 1
	rust: sync: add LocalLockNestedBh, per-CPU data under a nested-BH lock

	LocalLockNestedBh<T> holds a local_lock_t and a T for every possible CPU.
	lock() takes a LocalBhDisabled token and returns a guard for the local
	CPU's copy that unlocks when dropped; the guard borrows the token, so it
	cannot outlive the BH-disabled section, and stays in its task.

	The C lock does not stop one context from taking it twice (on !RT without
	lockdep it compiles to nothing; on PREEMPT_RT a second lock deadlocks), so
	each copy records its owner task and a second lock() by it returns None.
	That check also makes one token enough for several locks.

	The type is invariant in T, as Lock<T> is, because lock(&self) hands out
	&mut T. Copies the per-CPU allocator would refuse fail to build. On x86-64
	without DEBUG_PREEMPT, this_cpu_ptr() and current are inline %gs loads, as
	in C; elsewhere the helpers are called.
	EOF
	gitc format-patch -q --cover-letter -o "$out" HEAD~3 || return 1
}
if series >"$out/series.log" 2>&1; then
	patches=("$out"/0[0-9][0-9][1-9]-*.patch)
	ok series "${#patches[@]} patches in $out"
else
	not_ok series "$(tail -n 5 "$out/series.log")"
	finish
fi
patches=("$out"/0[0-9][0-9][1-9]-*.patch)

# --- the cover letter: format-patch's, with the subject (the first line of the tree's text)
# and the rest of it after the blank line ---
cover=$out/0000-cover-letter.patch
cover_text=$BHLOCK_ROOT/scripts/upstream-cover.txt
# A subject and a text are required: awk reads a missing file as empty, and would fill both
# placeholders with nothing.
if [ -f "$cover" ] && [ -s "$cover_text" ] && awk -v text="$cover_text" '
	/\*\*\* SUBJECT HERE \*\*\*/ { getline subject <text; sub(/\*\*\* SUBJECT HERE \*\*\*/, subject); print; next }
	/^\*\*\* BLURB HERE \*\*\*$/ { getline line <text; while ((getline line <text) > 0) print line; next }
	{ print }' "$cover" >"$cover.new" && mv "$cover.new" "$cover" &&
	! grep -q '\*\*\* .* HERE \*\*\*' "$cover" && grep -q '^Subject: \[PATCH 0/[0-9]*\] [^ ]' "$cover"; then
	ok cover_letter "$(sed -n 's/^Subject: //p' "$cover")"
else
	not_ok cover_letter "no cover letter, no text for it ($cover_text), or its placeholders are left in $cover"
fi

# --- checkpatch and rustfmt ---
if (cd "$ksrc" && scripts/checkpatch.pl --strict --terse "${patches[@]}") >"$out/checkpatch.log" 2>&1; then
	ok checkpatch "${#patches[@]} patches: 0 errors, 0 warnings, 0 checks"
else
	not_ok checkpatch "$(grep -v '^$' "$out/checkpatch.log" | head -n 20)"
fi
rs_files=("$git_dir"/rust/kernel/bh.rs "$git_dir"/rust/kernel/sync/local_lock_nested_bh.rs
	"$git_dir"/rust/kernel/sync/local_lock_nested_bh/this_cpu.rs)
mapfile -t rustfmt_cmd < <(rustfmt_cmd)
if [ ${#rustfmt_cmd[@]} -eq 0 ]; then
	not_ok rustfmt "no rustfmt"
elif "${rustfmt_cmd[@]}" --edition 2021 --config-path "$ksrc/.rustfmt.toml" --check \
	"${rs_files[@]}" >"$out/rustfmt.log" 2>&1; then
	ok rustfmt
else
	not_ok rustfmt "$(head -n 20 "$out/rustfmt.log")"
fi

# --- apply, build and boot, on each kernel of BHLOCK_UPSTREAM_KERNELS ---
# The number of examples the layer's files hold, and its KUnit suites (rust_* in the tree):
# a doctest or a suite that silently stops running is a failure.
examples=$(( $(grep -c '^[[:space:]]*/// ```$' "$layer/bh.rs") / 2 +
	$(grep -c '^[[:space:]]*/// ```$' "$layer/local_lock_nested_bh.rs") / 2 ))
mapfile -t suites < <(grep -rhoE '#\[kunit_tests\(bhlock_[a-z0-9_]+\)\]' "$layer" |
	sed -E 's/.*\(bhlock_(.*)\)\]/rust_\1/' | sort)
# The layer's suite names share "rust_" and nothing else that KUnit's one glob could select
# without the kernel crate's own suites: they run in a boot of their own.
suite_glob='rust_*bh*'
for suite in "${suites[@]}"; do
	# shellcheck disable=SC2053 # the glob is the point
	[[ $suite == $suite_glob ]] || { not_ok kunit.glob "suite $suite is not selected by $suite_glob"; finish; }
done
# The layer's files in the tree, for a build's warnings.
own_files='kernel/(bh|sync/local_lock_nested_bh)|helpers/(bh|local_lock)\.c'

# kbuild KDIR SRC TARGET...: make TARGET... in KDIR with the patched rust/ of SRC over the
# shared source's (RUSTDOC builds the doctests; it is not in kmake_args, so the base
# kernel's objects stay valid).
kbuild() {
	local kdir=$1 src=$2
	shift 2
	kernel_make "$ksrc" "$kdir" "$src/rust:$ksrc/rust" -- RUSTDOC="$RUSTDOC" "$@" \
		-j"$(($(nproc) + 1))"
}
# own_warnings LOG: the compiler's warnings about the layer's files in LOG, each whole (from
# its "warning:" line to the blank line after it).
own_warnings() {
	awk -v own="$own_files" '/^warning/ { block = ""; in_block = 1 }
		in_block { block = block $0 "\n" }
		in_block && /^$/ { if (block ~ own) printf "%s", block; in_block = 0 }' "$1" 2>/dev/null
}

# kunit_boot KDIR FILTER OUT: a boot of KDIR that runs the KUnit cases FILTER selects; its
# console in OUT.console.log, vng-run.sh's verdict in OUT.vng.log and its exit status.
kunit_boot() {
	BHLOCK_VNG_CPUS=1 BHLOCK_KUNIT_FILTER=$2 "$BHLOCK_ROOT/scripts/vng-run.sh" "$1" "$3.console.log" -- true \
		>"$3.vng.log" 2>&1
}
# verdicts CHECK SUFFIX EXPECTED NOUN CONSOLE: a check CHECK.NAME.SUFFIX for each line "ok NAME"
# or "not ok NAME" of stdin, and CHECK.count.SUFFIX: that EXPECTED of them (NOUN) ran, so that
# one that silently stops running is a failure. In this shell (not a pipeline's subshell), as
# it counts the checks.
verdicts() {
	local seen=0 verdict name
	while read -r verdict name; do
		seen=$((seen + 1))
		[ "$verdict" = not ] && name=${name#ok }
		if [ "$verdict" = ok ]; then ok "$1.$name$2"; else not_ok "$1.$name$2"; fi
	done
	if [ "$seen" -eq "$3" ]; then
		ok "$1.count$2" "$seen of $3 $4 ran"
	else
		not_ok "$1.count$2" "$seen of $3 $4 ran (console: $5)"
	fi
}

# upstream_kernel K: the series applied to a copy of test kernel K's build with the kernel
# crate's doctests on (configs/upstream.config), built, cached by everything that goes into
# it, and booted twice, side by side: the doctests of the layer's files, and its KUnit suites.
# BHLOCK_UPSTREAM_BUILD_ONLY=1 stops after the build (make check builds ahead). On nort (the
# first), each prefix of the series builds too (rust/, where the series lives), so the series
# bisects, and so does the kernel's rustdoc. Checks are named upstream.CHECK on nort and
# upstream.CHECK.K elsewhere.
upstream_kernel() {
	local k=$1 sfx='' base key kdir src p i applied start
	[ "$k" = nort ] || sfx=.$k
	base=$("$BHLOCK_ROOT/scripts/build-kernel.sh" "$k") || { not_ok "build$sfx" "no $k kernel"; return; }
	key=$( { basename "$base"; cat "${patches[@]}" "$BHLOCK_ROOT/configs/upstream.config"; } |
		sed '/^From [0-9a-f]\{40\}/d; /^Date: /d' | sha256sum | cut -c1-12)
	kdir=$BHLOCK_CACHE/kernels/upstream-$k-$(basename "$base" | sed -E 's/^.*-([0-9]+\.[0-9.]+)-[0-9a-f]+$/\1/')-$key
	# The patched source: rust/ (what the build reads of the series) and MAINTAINERS.
	src=$kdir.src
	# One build of K's series kernel at a time (make check builds it ahead, beside its tests,
	# and its upstream job waits here for that build).
	local lock
	exec {lock}>"$BHLOCK_CACHE/kernels/upstream-$k.lock"
	flock "$lock"
	if [ -f "$kdir/.bhlock-built" ] && [ -d "$src/rust" ]; then
		ok "apply$sfx" "cached"
		ok "build$sfx" "kernel cached in $kdir"
	else
		# Older series' kernels of K only fill the cache: each is a copy of K.
		rm -rf "$kdir" "$src" "$BHLOCK_CACHE/kernels/upstream-$k-"*
		[ "$k" != nort ] || rm -rf "$BHLOCK_CACHE"/kernels/upstream-[0-9]*
		mkdir -p "$src"
		cp -a "$ksrc/rust" "$ksrc/MAINTAINERS" "$src/"
		start=$SECONDS
		cp -a "$base" "$kdir.tmp" && rm -f "$kdir.tmp/.bhlock-built" && mv "$kdir.tmp" "$kdir"
		"$ksrc/scripts/kconfig/merge_config.sh" -m -O "$kdir" "$kdir/.config" \
			"$BHLOCK_ROOT/configs/upstream.config" >/dev/null
		kbuild "$kdir" "$src" -s olddefconfig >"$kdir/build.log" 2>&1
		applied=0
		for ((i = 0; i < ${#patches[@]}; i++)); do
			p=${patches[i]}
			git -C "$src" apply --include='rust/*' --include=MAINTAINERS "$p" >>"$out/apply.log" 2>&1 ||
				break
			applied=$((i + 1))
			# Each prefix but the whole series: rust/ alone, its log kept with the kernel.
			if [ "$k" != nort ] || [ "$applied" -eq ${#patches[@]} ]; then
				continue
			fi
			if kbuild "$kdir" "$src" rust/ >"$kdir/build-patch-$applied.log" 2>&1 &&
				[ -z "$(own_warnings "$kdir/build-patch-$applied.log")" ]; then
				echo ok >"$kdir/build-patch-$applied.verdict"
			else
				echo not-ok >"$kdir/build-patch-$applied.verdict"
			fi
		done
		if [ "$applied" -ne ${#patches[@]} ]; then
			not_ok "apply$sfx" "$(tail -n 5 "$out/apply.log")"
			exec {lock}>&-
			return
		fi
		ok "apply$sfx"
		if kbuild "$kdir" "$src" >>"$kdir/build.log" 2>&1 &&
			grep -qx 'CONFIG_RUST_KERNEL_DOCTESTS=y' "$kdir/.config"; then
			[ "$k" != nort ] || kbuild "$kdir" "$src" rustdoc >"$kdir/rustdoc.log" 2>&1 ||
				echo "make rustdoc failed" >>"$kdir/rustdoc.log"
			touch "$kdir/.bhlock-built"
			ok "build$sfx" "$((SECONDS - start)) s from a copy of $(basename "$base")"
		else
			not_ok "build$sfx" "$(tail -n 20 "$kdir/build.log")"
			exec {lock}>&-
			return
		fi
	fi
	exec {lock}>&-
	# Only the kernel (make check's build_ahead): the checks and boots come with the job.
	[ -z "${BHLOCK_UPSTREAM_BUILD_ONLY:-}" ] || return
	if [ -z "$(own_warnings "$kdir/build.log")" ]; then
		ok "build.no_warnings$sfx"
	else
		not_ok "build.no_warnings$sfx" "$(own_warnings "$kdir/build.log")"
	fi
	if [ "$k" = nort ]; then
		for ((i = 1; i < ${#patches[@]}; i++)); do
			if [ "$(cat "$kdir/build-patch-$i.verdict" 2>/dev/null)" = ok ]; then
				ok "build.patches_1_to_$i" "rust/ builds with the first $i patches, no warning in the series' files"
			else
				not_ok "build.patches_1_to_$i" "$(own_warnings "$kdir/build-patch-$i.log")
$(tail -n 15 "$kdir/build-patch-$i.log" 2>/dev/null)"
			fi
		done
		if grep -q 'make rustdoc failed' "$kdir/rustdoc.log"; then
			not_ok rustdoc "$(tail -n 15 "$kdir/rustdoc.log")"
		elif [ -n "$(own_warnings "$kdir/rustdoc.log")" ]; then
			not_ok rustdoc "$(own_warnings "$kdir/rustdoc.log" | head -n 20)"
		else
			ok rustdoc "no warning in the series' files ($(grep -c '^warning' "$kdir/rustdoc.log") in the rest of the crate)"
		fi
	fi

	# The doctests, in a boot, and the layer's KUnit suites, in a boot of their own (the
	# console scan of vng-run.sh fails a boot on any kernel report), side by side with one CPU
	# each (kunit_boot): KUnit runs its cases one after another as the kernel boots, so each
	# boot is one thread's work, and two guests of two vCPUs on two cores wait on each other's.
	local doctests_pid kunit_pid
	mkdir -p "$out/$k"
	kunit_boot "$kdir" 'rust_doctests_kernel.rust_doctest_kernel_*bh_rs_*' "$out/$k/doctests" &
	doctests_pid=$!
	kunit_boot "$kdir" "$suite_glob" "$out/$k/kunit" &
	kunit_pid=$!
	wait "$doctests_pid" || not_ok "boot$sfx" "$(tail -n 5 "$out/$k/doctests.vng.log")"
	verdicts doctest "$sfx" "$examples" examples "$out/$k/doctests.console.log" < <(
		grep -oE '(not ok|ok) [0-9]+ rust_doctest_kernel_[a-z_]*bh_rs_[0-9]+' "$out/$k/doctests.console.log" |
			sed -E 's/ [0-9]+ rust_doctest_kernel_/ /')
	wait "$kunit_pid" || not_ok "boot.kunit$sfx" "$(tail -n 5 "$out/$k/kunit.vng.log")"
	verdicts kunit "$sfx" ${#suites[@]} "suites (${suites[*]})" "$out/$k/kunit.console.log" < <(
		tr -d '\r' <"$out/$k/kunit.console.log" | grep -oE '\] (not ok|ok) [0-9]+ rust_[a-z0-9_]+$' |
			sed -E 's/^\] //; s/ [0-9]+ / /')

	local reports
	reports=$(cat "$out/$k/doctests.console.log" "$out/$k/kunit.console.log" |
		grep -E '(WARNING|BUG|INFO): |possible (circular|recursive)' || true)
	if [ -z "$reports" ]; then
		ok "boot.clean$sfx"
	else
		not_ok "boot.clean$sfx" "$(head -n 10 <<<"$reports")"
	fi
}
for k in ${BHLOCK_UPSTREAM_KERNELS:-nort rt}; do
	upstream_kernel "$k"
done
finish
