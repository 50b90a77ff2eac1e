#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# bench-plots.sh OUT KERNEL...: the pictures of a `make bench` whose logs are in OUT/KERNEL/
# bench.log (scripts/bench.sh calls it), as SVG, with gnuplot:
#
#   OUT/ratios.svg   each benchmark's Rust/C ratio per kernel: the median of the repetitions
#                    and their smallest and largest (under TCG the spread is the point: a
#                    median is only as good as the bar around it);
#   OUT/latency.svg  the hard-irq timer's lateness per kernel: the share of callbacks in each
#                    bucket, all CPUs together.
#
# Each plot's data is beside it (ratios-KERNEL.dat, latency.dat). Exit status 1 when gnuplot
# is missing or a log lacks a figure.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=${1:?usage: bench-plots.sh OUT KERNEL...}
shift
[ $# -gt 0 ] || die "bench-plots.sh: no kernel"
command -v gnuplot >/dev/null || die "bench-plots.sh: no gnuplot (scripts/setup.sh installs gnuplot-nox)"

# kv LINE KEY: the value of KEY=... in LINE.
kv() { sed -nE "s/.* $2=([^ ]+).*/\1/p" <<<"$1"; }
for k in "$@"; do
	log=$out/$k/bench.log
	: >"$out/ratios-$k.dat"
	i=0
	# The order of the x axis below.
	for b in lock_one_bh:"lock, 1 BH" lock_each_bh:"lock, BH each" napi:"NAPI items/s"; do
		i=$((i + 1))
		line=$(grep -m1 "bench: ${b%%:*} " "$log") || die "bench-plots.sh: no ${b%%:*} in $log"
		printf '%d "%s" %s %s %s\n' "$i" "${b#*:}" "$(kv "$line" ratio)" "$(kv "$line" ratio_min)" \
			"$(kv "$line" ratio_max)" >>"$out/ratios-$k.dat"
	done
done
# latency.dat: a row per bucket, a column per kernel: the percentage of its callbacks.
for k in "$@"; do
	grep 'bench: latency ' "$out/$k/bench.log" | sed -nE 's/.* hist_us=([^ ]+).*/\1/p' |
		tr ',' '\n' | awk -F: -v k="$k" '{ n[$1] += $2; if (!($1 in seen)) { seen[$1] = 1; order[++m] = $1 } t += $2 }
			END { if (!t) exit 1; for (i = 1; i <= m; i++) printf "%s %s %.2f\n", k, order[i], 100 * n[order[i]] / t }'
done >"$out/latency.long" || die "bench-plots.sh: a log without latency figures"
awk -v ks="$*" 'BEGIN { nk = split(ks, k, " ") }
	{ v[$1, $2] = $3; if (!($2 in seen)) { seen[$2] = 1; order[++m] = $2 } }
	END {
		printf "bucket"; for (i = 1; i <= nk; i++) printf " %s", k[i]; printf "\n"
		for (j = 1; j <= m; j++) {
			printf "\"%s us\"", order[j]
			for (i = 1; i <= nk; i++) printf " %s", v[k[i], order[j]]
			printf "\n"
		}
	}' "$out/latency.long" >"$out/latency.dat"
rm -f "$out/latency.long"

gnuplot <<GNUPLOT
set terminal svg size 720,400 dynamic font "sans,12"
set output "$out/ratios.svg"
set title "Rust/C per benchmark: median of the repetitions, bars from the smallest to the largest"
set ylabel "Rust/C (lock: ns, NAPI: items/s)"
set xrange [0.5:3.5]
set xtics ("lock, 1 BH" 1, "lock, BH each" 2, "NAPI items/s" 3)
set grid ytics
set key outside right
ks = "$*"
n = words(ks)
plot 1 with lines dashtype 2 linecolor "gray" notitle, \
	for [i=1:n] sprintf("$out/ratios-%s.dat", word(ks, i)) \
	using (\$1 + (i - (n + 1) / 2.0) * 0.12):3:4:5 with yerrorbars pointtype 7 title word(ks, i)

set output "$out/latency.svg"
set title "Hard-irq timer lateness: share of callbacks per bucket"
set ylabel "% of callbacks (log scale: the tail is what matters)"
set xrange [*:*]
unset xtics
set xtics
set logscale y
set yrange [0.01:100]
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set xtics rotate by -30
plot for [i=2:n+1] "$out/latency.dat" using i:xtic(1) title columnheader(i)
GNUPLOT
