#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# kvm-works.sh BZIMAGE: prints "yes" if a guest really runs under KVM here, else "no".
#
# /dev/kvm can exist while guests hang (no nested virtualisation), so opening it proves
# nothing: boot BZIMAGE under KVM and wait for its first console line. The answer is kept for
# this machine's boot (/dev/shm) so that a matrix run probes once. BHLOCK_KVM=yes|no skips it.
set -uo pipefail
if [ -n "${BHLOCK_KVM:-}" ]; then
	echo "$BHLOCK_KVM"
	exit 0
fi
memo=/dev/shm/bhlock-kvm-works.$(cat /proc/sys/kernel/random/boot_id 2>/dev/null)
if [ -f "$memo" ]; then
	cat "$memo"
	exit 0
fi
answer=no
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	# A working KVM prints the kernel banner in well under a second; TCG would too, in a few,
	# so the accelerator is forced to KVM and 20 s is far more than it needs.
	banner=$(timeout 20 qemu-system-x86_64 -accel kvm -cpu host -m 256 -smp 1 -nographic \
		-no-reboot -kernel "${1:?usage: kvm-works.sh BZIMAGE}" \
		-append "console=ttyS0 earlyprintk=serial panic=-1" </dev/null 2>/dev/null |
		grep -m1 'Linux version')
	[ -n "$banner" ] && answer=yes
fi
echo "$answer" | tee "$memo"
