#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# vng-run.sh [options] KDIR CONSOLE_LOG -- COMMAND...
#
# Boots the kernel built in KDIR under virtme-ng, runs COMMAND inside as root with the repo
# visible (read-only, as the host's root is) and $BHLOCK_RESULTS writable, and writes the
# whole kernel console to CONSOLE_LOG. Then it judges the boot:
#
#   - the command's exit status (vng returns 255 when the guest panicked or died);
#   - a hang timeout (BHLOCK_VNG_TIMEOUT seconds, default 600);
#   - the boot must reach scripts/guest-init.c's "ready" in BHLOCK_VNG_BOOT_TIMEOUT seconds
#     (default 180), else it is booted again, up to BHLOCK_VNG_BOOT_TRIES boots (default 2),
#     each stall reported on stderr as "vng-run: boot N ... stalled"; so is a boot in which
#     QEMU failed an assertion of its own before that ("vng-run: boot N ... QEMU died");
#   - `uname -v` must say PREEMPT_RT exactly when KDIR's .config has CONFIG_PREEMPT_RT=y;
#   - the console must be free of kernel badness (WARNING:, BUG:, Oops, lockdep reports, ...),
#     except for lines matching --expect, which must then occur at least once;
#   - the guest must have booted through scripts/guest-init.c, without udev.
#
# It also writes CONSOLE_LOG.phases: the guest's seconds in kernel boot, userspace setup, the
# command and power-off, then the host's wall time of the boot (scripts/check.sh tabulates
# them). BHLOCK_VNG_APPEND adds kernel parameters, BHLOCK_VNG_QEMU_OPTS options of QEMU's
# (`make bench` boots with `-icount shift=0`, see scripts/bench.sh).
#
# Exit status: 0 when all of that holds, else 1, with the reason on stderr.
# Options:
#   --expect ERE   a badness line matching ERE is expected (a negative control); the Call
#                  Trace that follows it is part of it.
#   --expect-file F  the same, one report pattern (a glob) per line, read from F after the
#                  guest has run: for a guest that learns what it expects from the module's
#                  scenario table (selftests/bhlock/test-splat.sh).
set -uo pipefail
. "$(dirname "$0")/lib.sh"

expect=
expect_file=
while [ $# -gt 0 ]; do
	case "$1" in
	--expect) expect=$2; shift 2;;
	--expect-file) expect_file=$2; rm -f "$expect_file"; shift 2;;
	--) shift; break;;
	-*) die "vng-run.sh: unknown option $1";;
	*) break;;
	esac
done
kdir=${1:?usage: vng-run.sh [--expect ERE] KDIR CONSOLE_LOG -- COMMAND...}
console=${2:?console log path missing}
shift 2
[ "${1:-}" = "--" ] && shift
[ $# -gt 0 ] || die "vng-run.sh: no command"
image=$kdir/arch/x86/boot/bzImage
[ -f "$image" ] || die "no kernel image at $image"

# ere_quote: each line of stdin, a literal string, as an ERE that matches it.
ere_quote() { sed 's/[][\\.*^$+?(){}|]/\\&/g'; }
# glob_to_ere: each line of stdin, a report pattern (a glob, see src/scenario/expect.rs), as an
# ERE.
glob_to_ere() { ere_quote | sed 's/\\\*/.*/g'; }
# Lines that start a kernel report: the one list the module and the selftests read too. A
# "Call Trace:" on its own is a report too (dump_stack()).
badness=$(grep -v -e '^#' -e '^$' "$BHLOCK_ROOT/selftests/bhlock/report-banners" | ere_quote | paste -sd'|')
# Known benign lines that the patterns above would catch; each with the reason it is benign.
# None is needed yet; an entry is an ERE matched against the whole console line.
allow=()
allow_re=$(IFS='|'; echo "${allow[*]:-^\$never^}")

mkdir -p "$BHLOCK_RESULTS" "$(dirname "$console")"
uname_file=$(mktemp "$BHLOCK_RESULTS/.uname.XXXXXX")

accel_args=()
if [ "$("$BHLOCK_ROOT/scripts/kvm-works.sh" "$image")" != yes ]; then
	accel_args=(--disable-kvm)
fi

timeout_s=${BHLOCK_VNG_TIMEOUT:-600}
# KUnit runs only bhlock's suites (at module load: bhlock's own and the guard API's,
# bhlock_*), not the kernel's own built-in suites at
# boot: they test other code, cost boot time, and on 7.3.4 PREEMPT_RT the kernel crate's
# rust_spinlock_irq_condvar test WARNs by itself (it asserts IRQs off after
# SpinLockIrq::lock(), which leaves them on under PREEMPT_RT). BHLOCK_KUNIT_FILTER widens it.
kunit_filter=${BHLOCK_KUNIT_FILTER:-bhlock*}
# Boot time (found with initcall_debug under TCG; the figures are in
# Documentation/measurements.rst):
#   - pty.legacy_count=0: pty_init() registers 256 legacy BSD pty pairs;
#   - 8250.nr_uarts=1: the console is ttyS0, the other three ports are only probed;
#   - the root's 9p without a cache makes every exec of a dynamic binary read it and its
#     libraries from the host again: cache=loose, with the options virtme-ng 1.42 passes (the
#     last rootflags= wins). The guest's root is read-only and nothing changes it during a
#     boot; $BHLOCK_RESULTS is a mount of its own, uncached.
# One vCPU more than the boot brings up (maxcpus=): a possible CPU that stays offline, so that
# per-CPU code meets possible CPUs that are not online. (A QEMU `-smp N,maxcpus=M` topology
# does not do it under TCG: x86 Linux counts the MADT's absent CPUs only under a hypervisor
# it recognises.) The test kernels have NR_CPUS=8.
vcpus=${BHLOCK_VNG_CPUS:-2}
boot_args="pty.legacy_count=0 8250.nr_uarts=1"
boot_args+=" rootflags=version=9p2000.L,trans=virtio,access=any,msize=524288,cache=loose"
# vng's -v sends the kernel console to stderr; the command's own output stays on stdout.
# vng runs its helpers (virtme-run) from PATH. Killing vng leaves its QEMU running, so vng
# gets a process group of its own (setsid) and a hang ends the whole group.
hung_flag=$uname_file.hung
# The command, between two console lines that time its phases (see phases below), goes to the
# guest as a script in $BHLOCK_RESULTS, not on the kernel command line: vng passes its command
# there (base64, in virtme.exec=), which x86 cuts at 2048 bytes, and what it cuts then is the
# init= vng appends after it: the guest panics before the command starts. A command's length
# depends on the paths of the checkout and on the kernels run before it (BHLOCK_GATE_COVERED).
command_file=$uname_file.command
{
	echo 'echo "bhlock-vng: script start" >/dev/kmsg'
	printf 'uname -v >%q\n' "$uname_file"
	printf '%q ' "$@"
	# shellcheck disable=SC2016 # expanded in the guest
	printf '\nrc=$?\necho "bhlock-vng: script end, exit $rc" >/dev/kmsg\nexit $rc\n'
} >"$command_file"
# The init vng boots is bhlock's, built from this tree (a reinstalled virtme-ng puts its own
# back, whose log line is checked for).
if [ -z "$VNG_GUEST_INIT" ] || grep -qa 'basic initialization done' "$VNG_GUEST_INIT" ||
	[ "$(cat "$VNG_GUEST_INIT.source" 2>/dev/null)" != "$(sha256sum <"$BHLOCK_ROOT/scripts/guest-init.c")" ]; then
	die "virtme-ng's init is not built from this tree's scripts/guest-init.c: run scripts/setup.sh"
fi
# A boot that never reaches scripts/guest-init.c's "ready" within boot_timeout_s has stalled
# before any of bhlock's code ran (seen once, in CI: a nort splat boot with no 'ready' and no
# command run until the hang timeout, between boots of the same kernel that were fine). It is
# killed and booted again,
# up to boot_tries boots, each stall reported with the console's last lines; a guest that
# died or that a check failed in is never booted again.
boot_timeout_s=${BHLOCK_VNG_BOOT_TIMEOUT:-180}
boot_tries=${BHLOCK_VNG_BOOT_TRIES:-2}
# kill_guest: ends vng's process group, QEMU with it.
kill_guest() {
	kill -TERM -- -"$vng_pid" 2>/dev/null
	sleep 15
	kill -KILL -- -"$vng_pid" 2>/dev/null
}
# boot_once: one boot; its exit status in $status, "stalled" for a boot stopped before init,
# "qemu_died" for one whose QEMU aborted before init.
boot_once() {
	local watchdog console_fd console_cat
	rm -f "$hung_flag" "$stall_flag"
	wall_start=$EPOCHREALTIME
	# The console reaches its file through a pipe: QEMU opens vng's stderr again by its path,
	# and the guest command's stderr, which vng writes there too, would otherwise overwrite
	# the console from its start (seen: a command's stderr line over the first boot line).
	exec {console_fd}> >(exec cat >"$console")
	console_cat=$!
	# --force-9p: the root and $BHLOCK_RESULTS are 9p mounts anyway (the rootflags above);
	# without it vng first starts a virtiofsd for each, waits for it to fail (Debian 12's
	# does) and then falls back to 9p, on every boot.
	PATH=$(dirname "$VNG"):$PATH setsid "$VNG" -v --run "$image" "${accel_args[@]}" --force-9p \
		--cpus "$((vcpus + 1))" --append "maxcpus=$vcpus" --memory "${BHLOCK_VNG_MEMORY:-1G}" \
		--user root --append root=/dev/root --append "kunit.filter_glob=$kunit_filter" \
		--append "$boot_args" ${BHLOCK_VNG_APPEND:+--append "$BHLOCK_VNG_APPEND"} \
		${BHLOCK_VNG_QEMU_OPTS:+--qemu-opts "$BHLOCK_VNG_QEMU_OPTS"} \
		--cwd "$BHLOCK_ROOT" --rwdir "$BHLOCK_RESULTS" \
		-- bash "$command_file" </dev/null 2>&"$console_fd" &
	vng_pid=$!
	exec {console_fd}>&-
	# vng has a session of its own, which a Ctrl-C of `make check` (or the end of the run
	# that started this) does not reach: its guest would go on, a core busy, until its
	# command ends.
	trap 'kill -TERM -- -"$vng_pid" 2>/dev/null; exit 130' INT TERM
	(
		local waited=0
		until grep -q -e 'bhlock-init: ready' -e 'bhlock-init: FATAL' "$console" 2>/dev/null; do
			kill -0 "$vng_pid" 2>/dev/null || exit 0
			if [ "$waited" -ge "$boot_timeout_s" ]; then
				touch "$stall_flag"
				kill_guest
				exit 0
			fi
			sleep 1
			waited=$((waited + 1))
		done
		# A killed sleep (the guest exited in time) must not count as a hang.
		sleep "$((timeout_s > waited ? timeout_s - waited : 1))" || exit 0
		touch "$hung_flag"
		kill_guest
	) 2>/dev/null &
	watchdog=$!
	wait "$vng_pid"
	status=$?
	wall_end=$EPOCHREALTIME
	pkill -P "$watchdog" 2>/dev/null
	kill "$watchdog" 2>/dev/null
	wait "$watchdog" 2>/dev/null
	wait "$console_cat"
	if [ -e "$stall_flag" ]; then
		status=stalled
	elif [ -e "$hung_flag" ]; then
		status=124
	elif [ "$status" != 0 ] && ! grep -q 'bhlock-init: ready' "$console" &&
		grep -q "$qemu_assert_re" "$console"; then
		status=qemu_died
	fi
	rm -f "$hung_flag" "$stall_flag"
}
# console_tail: the console's last lines, for a boot that ended without a verdict of its own.
console_tail() {
	printf 'vng-run: the console (%s) ended with:\n' "$console" >&2
	tail -n 15 "$console" | sed 's/^/    /' >&2
}
stall_flag=$uname_file.stalled
# QEMU itself can fail an assertion and abort before the guest gets anywhere: seen once, in the
# upstream series' rt boot of a make check (TCG, QEMU 7.2: "msix_table_mmio_write: Assertion
# ... failed" while the kernel probed PCI). Such a boot, with no 'bhlock-init: ready', is booted
# again as a stalled one is; an abort after init is the guest's doing and fails as it is.
qemu_assert_re='^qemu-system-[^:]*: .*Assertion .* failed'
for ((attempt = 1; ; attempt++)); do
	boot_once
	case $status in
	stalled)
		printf "vng-run: boot %d of at most %d stalled: no 'bhlock-init: ready' within %ss\n" \
			"$attempt" "$boot_tries" "$boot_timeout_s" >&2;;
	qemu_died)
		printf 'vng-run: boot %d of at most %d: QEMU died before init: %s\n' "$attempt" \
			"$boot_tries" "$(grep -m 1 "$qemu_assert_re" "$console")" >&2;;
	*) break;;
	esac
	console_tail
	[ "$attempt" -lt "$boot_tries" ] || break
	mv "$console" "$console.$status-$attempt"
done

fail=0
complain() { printf 'vng-run: %s\n' "$*" >&2; fail=1; }
case $status in
0) ;;
stalled) complain "the guest stalled before init in each of $boot_tries boots (BHLOCK_VNG_BOOT_TRIES)";;
qemu_died) complain "QEMU died before init in each of $boot_tries boots (BHLOCK_VNG_BOOT_TRIES)";;
124) complain "guest hung: no exit within ${timeout_s}s (BHLOCK_VNG_TIMEOUT)";;
255) complain "guest died (panic or unexpected exit), exit 255";;
*) complain "command exited $status";;
esac
case $status in 124 | 255) console_tail;; esac

want_rt=no
grep -qx 'CONFIG_PREEMPT_RT=y' "$kdir/.config" && want_rt=yes
uname_v=$(cat "$uname_file" 2>/dev/null)
rm -f "$uname_file" "$command_file"
if [ -z "$uname_v" ]; then
	complain "the guest never ran the command (no uname -v)"
else
	have_rt=no
	case "$uname_v" in *PREEMPT_RT*) have_rt=yes;; esac
	[ "$have_rt" = "$want_rt" ] ||
		complain "uname -v is '$uname_v': PREEMPT_RT expected: $want_rt"
fi

# The boot went through scripts/guest-init.c, as fast as it should.
if grep -q 'bhlock-init: FATAL' "$console"; then
	complain "$(grep -o 'bhlock-init: FATAL.*' "$console" | head -n 1)"
elif ! grep -q 'bhlock-init: ready' "$console"; then
	complain "the guest did not boot through scripts/guest-init.c (no 'bhlock-init: ready')"
fi
grep -q 'virtme-ng-init: triggering udev' "$console" &&
	complain "udev ran in the guest: scripts/guest-init.c no longer hides it"

# Guest time per phase, from the console's timestamps, to $console.phases: the kernel's boot
# (to "Run ... as init process"), userspace setup (to the script's start), the test (to its
# end), power-off (to the last line); then the host's wall time of the whole boot.
awk -v wall_start="$wall_start" -v wall_end="$wall_end" '
	/^\[ *[0-9]+\.[0-9]+\]/ {
		t = substr($0, 2, index($0, "]") - 2) + 0
		if (init == "" && / as init process/) init = t
		if (start == "" && /bhlock-vng: script start/) start = t
		if (end == "" && /bhlock-vng: script end/) end = t
		last = t
	}
	END {
		wall = wall_end - wall_start
		if (init == "" || start == "" || end == "") { printf "- - - - %.1f\n", wall; exit }
		printf "%.1f %.1f %.1f %.1f %.1f\n", init, start - init, end - start, last - end, wall
	}' "$console" >"$console.phases"

if [ -n "$expect_file" ] && [ -s "$expect_file" ]; then
	expect=$( (echo "$expect"; glob_to_ere <"$expect_file") | grep -v '^$' | paste -sd'|')
fi

# whole_lines: the console without the partial copies of a line that the kernel printed again
# whole: a line cut short by another context's output is followed by "** replaying previous
# printk message **" and the full line (seen on rt: "BUG: sleepi", then the whole banner).
whole_lines() {
	awk '/\*\* replaying previous printk message \*\*/ { held = 0; next }
		{ if (held) print prev; prev = $0; held = 1 }
		END { if (held) print prev }' "$console"
}

# Report lines: a banner starts a report; a Call Trace belongs to the report before it until
# its end marker. Expected reports (--expect) and their traces are counted, not failed.
# The patterns go through the environment: awk -v would take their backslashes as escapes.
scan=$(BAD=$badness ALLOW=$allow_re EXPECT=$expect awk '
	BEGIN { bad = ENVIRON["BAD"]; allow = ENVIRON["ALLOW"]; expect = ENVIRON["EXPECT"] }
	$0 ~ allow { next }
	/---\[ end trace|<\/TASK>/ { in_expected = 0 }
	$0 !~ bad { next }
	/Call Trace:/ { if (!in_expected) print "unexpected: " $0; next }
	expect != "" && $0 ~ expect { print "expected: " $0; in_expected = 1; next }
	{ print "unexpected: " $0; in_expected = 0 }
' < <(whole_lines))
if grep -q '^unexpected: ' <<<"$scan"; then
	complain "kernel badness on the console ($console):"
	grep '^unexpected: ' <<<"$scan" | head -n 20 | sed 's/^unexpected: /    /' >&2
fi
if [ -n "$expect" ] && ! grep -q '^expected: ' <<<"$scan"; then
	complain "unexpected success: no console line matched the expected report /$expect/"
fi
exit $fail
