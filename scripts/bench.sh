#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# bench.sh: `make bench`. For every benchmark kernel (nort, rt, rt-bhlock and perf, which has
# no lockdep and is built only here; BHLOCK_KERNELS_ONLY picks a subset), it builds the kernel
# (or finds it cached) and the module, counts the instructions of the Rust guard's fast path
# and of the C reference in the built .ko, boots the kernel once with `bhlock bench=1`, and
# collects the module's `bench:` lines; then it boots it again under QEMU's `-icount shift=0`,
# where the same figures are instruction counts. Then it prints the tables, also written to
# $BHLOCK_RESULTS/bench/table.md, and draws the ratios' spread and the hard-irq timer's
# lateness as ratios.svg and latency.svg beside it (scripts/bench-plots.sh).
#
# Figures, not a test: the exit status is 1 only if a figure is missing or not positive (or a
# build or boot failed). BHLOCK_BENCH_ARGS adds module parameters (bench_loops=,
# bench_seconds=, interval_us=).
set -uo pipefail
. "$(dirname "$0")/lib.sh"

read -r -a kernels <<<"${BHLOCK_KERNELS_ONLY:-${BHLOCK_KERNELS[*]} ${BHLOCK_KERNELS_NO_LOCKDEP[*]}}"
out=$BHLOCK_RESULTS/bench
rm -rf "$out"
mkdir -p "$out"
# The objdump of the LLVM the module was built with, named as Kbuild names its tools.
case $LLVM in
-*) objdump=llvm-objdump$LLVM;;
*/) objdump=${LLVM}llvm-objdump;;
*) objdump=llvm-objdump;;
esac
command -v "$objdump" >/dev/null || die "bench: no $objdump (LLVM=$LLVM)"
bad=()

# insns KO SYMBOL_ERE LISTING: the instructions of the function whose (mangled) name matches
# SYMBOL_ERE, not counting alignment padding, and its calls out of the function (calls and tail
# jumps: PLT32 relocations, cold paths included); the listing goes to LISTING.
insns() {
	"$objdump" -d --no-show-raw-insn -r "$1" |
		awk -v sym="$2" '
			/^[0-9a-f]+ <.*>:$/ { on = ($0 ~ "<" sym ">:$"); if (on) found++; next }
			on && /^ +[0-9a-f]+:/ { print; if ($2 !~ /^(int3|nop[lw]?)$/) n++ }
			on && /R_X86_64_/ { print; if (/R_X86_64_PLT32/) c++ }
			END { if (found != 1) exit 1; printf "%d %d\n", n, c > "/dev/stderr" }' \
		2>&1 >"$3" | tail -n 1
}

for k in "${kernels[@]}"; do
	kout=$out/$k
	mkdir -p "$kout"
	if ! kdir=$("$BHLOCK_ROOT/scripts/build-kernel.sh" "$k" 2>"$kout/kernel-build.log"); then
		bad+=("$k: kernel build failed ($kout/kernel-build.log)")
		continue
	fi
	if ! ko=$("$BHLOCK_ROOT/scripts/build-module.sh" "$kdir" "$kout/module" 2>"$kout/module-build.log"); then
		bad+=("$k: module build failed ($kout/module-build.log)")
		continue
	fi
	# The Rust fast path is bhlock_main::bench::lock_touch_unlock (v0-mangled), the C one
	# bhlock_ref_lock_touch_unlock.
	read -r rust_insns rust_calls < <(insns "$ko" '_R[A-Za-z0-9_]*5bench17lock_touch_unlock' "$kout/rust-fast-path.s")
	read -r c_insns c_calls < <(insns "$ko" 'bhlock_ref_lock_touch_unlock' "$kout/c-fast-path.s")
	# What the Rust fast path calls in the C helpers is part of its cost: C inlines the same macro.
	shim_insns=0
	for s in rust_helper___local_lock_nested_bh rust_helper___local_unlock_nested_bh; do
		grep -q "R_X86_64_PLT32[[:space:]]*$s-" "$kout/rust-fast-path.s" || continue
		read -r n _ < <(insns "$ko" "$s" "$kout/$s.s")
		shim_insns=$((shim_insns + ${n:-0}))
	done
	echo "insns rust=${rust_insns:-0} rust_shim=$shim_insns c=${c_insns:-0}" \
		"rust_calls=${rust_calls:-0} c_calls=${c_calls:-0}" >"$kout/insns.txt"
	log "kernel $k: benchmarks (console: $kout/console.log)"
	# shellcheck disable=SC2016 # expanded in the guest
	"$BHLOCK_ROOT/scripts/vng-run.sh" "$kdir" "$kout/console.log" -- \
		bash -c 'insmod "$0" bench=1 $1 && rmmod bhlock; dmesg | grep "bhlock: "' \
		"$ko" "${BHLOCK_BENCH_ARGS:-}" >"$kout/bench.log" 2>"$kout/vng.log" ||
		bad+=("$k: the boot failed ($kout/vng.log)")
	grep -q "End of bench: SUCCESS" "$kout/bench.log" ||
		bad+=("$k: no 'End of bench: SUCCESS' ($kout/bench.log)")
	# The same benchmarks again in a boot whose clock counts instructions: with QEMU's
	# `-icount shift=0` the guest's clock advances one nanosecond per instruction executed
	# (and the vCPUs take turns on one host thread), so every ns-per-operation figure of this
	# boot is instructions per operation, the same in every run up to the interrupts that fall
	# into a repetition. The guest calibrates its TSC against that clock: 1000 MHz, else the
	# figures are not instruction counts and the run fails. The timer's lateness means
	# nothing in this boot: one second of it.
	log "kernel $k: instruction counts (console: $kout/icount-console.log)"
	# shellcheck disable=SC2016 # expanded in the guest
	BHLOCK_VNG_QEMU_OPTS="-icount shift=0" "$BHLOCK_ROOT/scripts/vng-run.sh" "$kdir" \
		"$kout/icount-console.log" -- \
		bash -c 'insmod "$0" bench=1 bench_seconds=1 $1 && rmmod bhlock; dmesg | grep -e "bhlock: " -e "tsc: Refined"' \
		"$ko" "${BHLOCK_BENCH_ARGS:-}" >"$kout/icount.log" 2>"$kout/icount-vng.log" ||
		bad+=("$k: the -icount boot failed ($kout/icount-vng.log)")
	grep -q "End of bench: SUCCESS" "$kout/icount.log" ||
		bad+=("$k: no 'End of bench: SUCCESS' ($kout/icount.log)")
	# A repetition that waited for its last polls slept, and a sleep is idle time that the
	# clock counts as instructions too.
	grep -q "bench: napi .* drain_waits=0 " "$kout/icount.log" ||
		bad+=("$k: the -icount boot's NAPI repetitions waited for their polls: its NAPI figures are not instruction counts ($kout/icount.log)")
	mhz=$(sed -n 's/.*tsc: Refined TSC clocksource calibration: \([0-9.]*\) MHz.*/\1/p' "$kout/icount.log")
	awk -v m="${mhz:-0}" 'BEGIN { exit !(m > 999 && m < 1001) }' ||
		bad+=("$k: the -icount boot's TSC runs at ${mhz:-an unknown rate} MHz, not 1000: its figures are not instruction counts")
	[ "${rust_insns:-0}" -gt 0 ] && [ "${c_insns:-0}" -gt 0 ] ||
		bad+=("$k: no fast path in $ko")
done

# The machine the figures come from.
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
accel=TCG
[ -n "${kdir:-}" ] && [ "$("$BHLOCK_ROOT/scripts/kvm-works.sh" "$kdir/arch/x86/boot/bzImage" 2>/dev/null)" = yes ] &&
	accel=KVM

awk -v date="$(date -u '+%Y-%m-%d %H:%M UTC')" -v cpu="$cpu ($(nproc) CPUs)" -v accel="$accel" \
	-v out="$out" -v kernels="${kernels[*]}" '
function kv(line, key,   m) {
	if (match(line, " " key "=[^ ]+")) return substr(line, RSTART + length(key) + 2, RLENGTH - length(key) - 2)
	return "-"
}
function us(ns) { return ns == "-" ? "-" : sprintf("%.1f", ns / 1000) }
# read_log(f): the figures of one guest log: the last line of each benchmark (one, each, napi),
# whether lockdep was on (ld), the hard-irq timer lateness (lmin, lmax, lsum, ln; the nb
# buckets of its histogram in hist, their names in hname), the TSC calibration (mhz).
function read_log(f,   line, s, j, b, hb, p) {
	one = each = napi = ""; ld = mhz = "-"; lmin = ""; lmax = lsum = ln = nb = 0
	for (b in hist) delete hist[b]
	while ((getline line < f) > 0) {
		if (line ~ /bench: lock_one_bh /) one = line
		if (line ~ /bench: lock_each_bh /) each = line
		if (line ~ /bench: napi /) napi = line
		if (line ~ /Start of test:/) ld = (line ~ /prove_locking=1/) ? "yes" : "no"
		if (line ~ /bench: latency /) {
			s = kv(line, "samples"); ln += s; lsum += kv(line, "avg_ns") * s
			if (lmin == "" || kv(line, "min_ns") + 0 < lmin) lmin = kv(line, "min_ns") + 0
			if (kv(line, "max_ns") + 0 > lmax) lmax = kv(line, "max_ns") + 0
			nb = split(kv(line, "hist_us"), hb, ",")
			for (j = 1; j <= nb; j++) { split(hb[j], p, ":"); hist[j] += p[2]; hname[j] = p[1] }
		}
		if (line ~ /tsc: Refined TSC clocksource calibration:/) { mhz = line; sub(/.*calibration: /, "", mhz); sub(/ MHz.*/, "", mhz) }
	}
	close(f)
}
BEGIN {
	nk = split(kernels, ks, " ")
	printf "bhlock bench, %s: %s, guests under QEMU %s, 2 vCPUs\n\n", date, cpu, accel
	printf "| kernel | lockdep | lock, 1 BH: Rust ns | C ns | Rust/C (min-max) | lock, BH each: Rust ns | C ns | Rust/C (min-max) | fast path insns Rust+shim/C (calls out) | NAPI Rust items/s | C items/s | Rust/C (min-max) | hard-irq timer late us min/avg/max |\n"
	printf "|---|---|---:|---:|---|---:|---:|---|---|---:|---:|---|---|\n"
	for (i = 1; i <= nk; i++) {
		k = ks[i]; ins = ""
		read_log(out "/" k "/bench.log")
		f = out "/" k "/insns.txt"; getline ins < f; close(f)
		printf "| %s | %s | %s | %s | %s (%s-%s) | %s | %s | %s (%s-%s) | %s/%s (%s/%s) | %s | %s | %s (%s-%s) | %s/%s/%s |\n", k, ld,
			kv(one, "rust_ns_per_op"), kv(one, "c_ns_per_op"), kv(one, "ratio"), kv(one, "ratio_min"), kv(one, "ratio_max"),
			kv(each, "rust_ns_per_op"), kv(each, "c_ns_per_op"), kv(each, "ratio"), kv(each, "ratio_min"), kv(each, "ratio_max"),
			kv(" " ins, "rust") "+" kv(" " ins, "rust_shim"), kv(" " ins, "c"), kv(" " ins, "rust_calls"), kv(" " ins, "c_calls"),
			kv(napi, "rust_items_per_s"), kv(napi, "c_items_per_s"), kv(napi, "ratio"), kv(napi, "ratio_min"), kv(napi, "ratio_max"),
			lmin == "" ? "-" : us(lmin), ln ? us(lsum / ln) : "-", ln ? us(lmax) : "-"
		hrow[k] = ""
		for (j = 1; j <= nb; j++) hrow[k] = hrow[k] " | " hist[j]
		hsamples[k] = ln
	}
	printf "\nHard-irq timer lateness histogram (all CPUs; period from interval_us, default 1000 us):\n\n| kernel | samples"
	for (j = 1; j <= nb; j++) printf " | %s us", hname[j]
	printf " |\n|---|---:"
	for (j = 1; j <= nb; j++) printf "|---:"
	printf "|\n"
	for (i = 1; i <= nk; i++) printf "| %s | %s%s |\n", ks[i], hsamples[ks[i]], hrow[ks[i]]
	printf "\nInstructions per operation, from a second boot of each kernel under QEMU -icount shift=0 (one instruction, one nanosecond; medians of the repetitions, Rust/C with the smallest and the largest of a repetition). The NAPI figures are per item polled, for the whole path (the kick, NET_RX, the poll); \"less empty\" subtracts the path of the empty C poll, leaving the work of each poll (for Rust also its kick and the calls of its poll into the NAPI core, which differ from those of C):\n\n"
	printf "| kernel | TSC MHz | reps | lock, 1 BH: Rust | C | Rust/C (min-max) | lock, BH each: Rust | C | Rust/C (min-max) | NAPI per item: Rust | C | empty poll | less empty: Rust | C | Rust/C |\n"
	printf "|---|---:|---:|---:|---:|---|---:|---:|---|---:|---:|---:|---:|---:|---:|\n"
	for (i = 1; i <= nk; i++) {
		k = ks[i]
		read_log(out "/" k "/icount.log")
		r = kv(napi, "rust_ns_per_item"); c = kv(napi, "c_ns_per_item"); e = kv(napi, "empty_ns_per_item")
		own_r = own_c = ratio = "-"
		if (r != "-" && c != "-" && e != "-") {
			own_r = sprintf("%.2f", r - e); own_c = sprintf("%.2f", c - e)
			if (c - e > 0) ratio = sprintf("%.3f", (r - e) / (c - e))
		}
		printf "| %s | %s | %s | %s | %s | %s (%s-%s) | %s | %s | %s (%s-%s) | %s | %s | %s | %s | %s | %s |\n", k, mhz, kv(napi, "reps"),
			kv(one, "rust_ns_per_op"), kv(one, "c_ns_per_op"), kv(one, "ratio"), kv(one, "ratio_min"), kv(one, "ratio_max"),
			kv(each, "rust_ns_per_op"), kv(each, "c_ns_per_op"), kv(each, "ratio"), kv(each, "ratio_min"), kv(each, "ratio_max"),
			r, c, e, own_r, own_c, ratio
	}
}' | tee "$out/table.md"

# The pictures: the ratios' spread and the timer's lateness (scripts/bench-plots.sh).
plotted=()
for k in "${kernels[@]}"; do
	[ -s "$out/$k/bench.log" ] && plotted+=("$k")
done
if [ ${#plotted[@]} -gt 0 ] && ! "$BHLOCK_ROOT/scripts/bench-plots.sh" "$out" "${plotted[@]}" 2>"$out/plots.log"; then
	bad+=("plots: $(tail -n 1 "$out/plots.log")")
fi

if [ ${#bad[@]} -gt 0 ]; then
	printf 'bench: %s\n' "${bad[@]}" >&2
	exit 1
fi
log "bench: table in $out/table.md, plots in $out/{ratios,latency}.svg; per kernel: bench.log, insns.txt, *-fast-path.s"
