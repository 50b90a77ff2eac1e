# SPDX-License-Identifier: GPL-2.0
# bhlock: the developer's entry points. Kbuild builds the module itself from ./Kbuild.
#
#   make                  build bhlock.ko against KDIR (default: the cached test kernel KERNEL);
#                         objects go to build/, the module is copied to ./bhlock.ko
#   make run              set up, build, boot KERNEL under virtme-ng, load and unload bhlock,
#                         print its report
#   make check            set up, then the whole matrix (nort, rt, rt-bhlock, and rt-nolock for
#                         the kernel probe), every test at gate size (BHLOCK_SCALE=gate: the
#                         size that shows each check works and can fail); ends with
#                         "N passed, N failed"
#   make soak             the same tests at full scale (BHLOCK_SCALE=soak: 100 load cycles,
#                         20-run repeats under each load, a hotplug storm, minute-long runs),
#                         with every test's figures in the output (not part of check)
#   make bench            set up, then benchmark the Rust guard and consumer against C and time
#                         the hard-irq timer on nort, rt, rt-bhlock and perf (nort without
#                         lockdep, built only here), then count the same benchmarks'
#                         instructions in a boot under QEMU -icount; prints the tables (not
#                         part of check)
#   make repeat           set up, then run one scenario case (REPEAT_CASE, default busted)
#                         REPEAT_RUNS times (default 20) per kernel, CPUs idle and busy, to show
#                         that its verdict does not depend on luck (not part of check)
#   make upstream         set up, then write the guard API (src/sync/) as a patch series for
#                         Linux 7.3 into results/upstream/, checkpatch and rustfmt it, build
#                         each prefix of it, its rustdoc, and it whole into copies of the nort
#                         and rt kernels, and run its examples (KUnit doctests) and its KUnit
#                         suites in boots of both (part of check, as upstream.*)
#   make kernels          build (or find cached) every test kernel
#   make cache-key        print the cache key of each test kernel (BHLOCK_KERNELS_ONLY picks),
#                         one per line: the name of its directory in $(BHLOCK_CACHE)/kernels
#   make seed-key         the same for the cached kernel each one starts from, if any
#   make list-kernels     the kernels `make check` boots, one per line (scripts/lib.sh, the
#                         one list: CI's matrix reads it here)
#   make verdicts         the kernel-resource probes of the last check or soak, resource x
#                         kernel: verdict, expectation, time and round of the first fault
#   make docs             build Documentation/ to HTML in results/docs (Sphinx, warnings as errors)
#   make doc-tables       regenerate Documentation/generated/ (the parameter and scenario tables;
#                         DOC_TABLES_DIR writes them elsewhere) from the module of the last
#                         check; check fails while they differ
#   make setup            install the toolchain pieces that are missing
#   make clean            remove build outputs and results from the tree (never the cache)
#
# Variables: KDIR (your own kernel build tree), KSRC (your own 7.3 source tree),
# KERNEL (nort|rt|rt-bhlock, default nort), BHLOCK_CACHE, BHLOCK_RESULTS, BHLOCK_SCALE,
# BHLOCK_ARGS (module parameters for the test run), BHLOCK_BENCH_ARGS (for bench),
# BHLOCK_KERNELS_ONLY (a subset for check or bench),
# SCENARIOS (a subset of the scenario table for check), REPEAT_CASE and REPEAT_RUNS (for repeat).

KERNEL ?= nort
export KDIR KSRC KERNEL BHLOCK_CACHE BHLOCK_RESULTS BHLOCK_SCALE BHLOCK_ARGS BHLOCK_BENCH_ARGS BHLOCK_KERNELS_ONLY \
	SCENARIOS REPEAT_CASE REPEAT_RUNS

.PHONY: all module run check soak bench repeat upstream kernels cache-key seed-key list-kernels verdicts \
	docs doc-tables setup clean

all: module

# Out of tree (MO=) even here: Kbuild refuses an MO= build of a source tree that holds an
# in-tree build's modules.order, and make check builds that way for every kernel.
module:
	@kdir=$$(scripts/kdir.sh) && ko=$$(scripts/build-module.sh "$$kdir" "$(CURDIR)/build") && \
		cp "$$ko" bhlock.ko && echo "$(CURDIR)/bhlock.ko"

run:
	@scripts/run.sh

check:
	@scripts/check.sh

soak:
	@BHLOCK_SCALE=soak scripts/check.sh

bench:
	@scripts/setup.sh && scripts/bench.sh

repeat:
	@scripts/setup.sh && scripts/repeat.sh

upstream:
	@scripts/setup.sh && scripts/upstream.sh

docs:
	@scripts/setup.sh && out=$${BHLOCK_RESULTS:-results}/docs && \
		sphinx-build -W --keep-going -q -b html Documentation "$$out" && echo "$$out/index.html"

doc-tables:
	@scripts/doc-tables.sh "$${BHLOCK_RESULTS:-}" "$${DOC_TABLES_DIR:-Documentation/generated}"

# Every kernel `make check` boots: the matrix and the probe's must-fail kernel (scripts/lib.sh).
ALL_KERNELS = $(shell bash -c '. scripts/lib.sh && echo $${BHLOCK_KERNELS[*]} $${BHLOCK_PROBE_KERNELS[*]}')

kernels:
	@scripts/setup.sh && for k in $(ALL_KERNELS); do scripts/build-kernel.sh $$k || exit; done

cache-key:
	@for k in $${BHLOCK_KERNELS_ONLY:-$(ALL_KERNELS)}; do scripts/build-kernel.sh --key $$k || exit; done

# The cache key of the kernel each one is built from when that is cached (rt for rt-bhlock),
# nothing for a kernel built from scratch (scripts/lib.sh, BHLOCK_KERNEL_SEED).
seed-key:
	@for k in $${BHLOCK_KERNELS_ONLY:-$(ALL_KERNELS)}; do \
		seed=$$(bash -c '. scripts/lib.sh && echo "$${BHLOCK_KERNEL_SEED[$$0]:-}"' "$$k"); \
		[ -z "$$seed" ] || scripts/build-kernel.sh --key "$$seed" || exit; \
	done

list-kernels:
	@for k in $(ALL_KERNELS); do echo "$$k"; done

verdicts:
	@scripts/verdicts.sh

setup:
	@scripts/setup.sh

clean:
	rm -rf results build bhlock.ko
