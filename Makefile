# SPDX-License-Identifier: GPL-2.0
# bhlock: the developer's entry points. Kbuild builds the module itself from ./Kbuild.
#
#   make                  build bhlock.ko against KDIR (default: the cached test kernel KERNEL)
#   make run              set up, build, boot KERNEL under virtme-ng, load and unload bhlock,
#                         print its report
#   make check            set up, then the whole matrix (nort, rt, rt-bhlock); ends with
#                         "N passed, N failed"
#   make kernels          build (or find cached) all three test kernels
#   make setup            install the toolchain pieces that are missing
#   make clean            remove build outputs and results from the tree (never the cache)
#
# Variables: KDIR (your own kernel build tree), KSRC (your own 7.3 source tree),
# KERNEL (nort|rt|rt-bhlock, default nort), BHLOCK_CACHE, BHLOCK_RESULTS,
# BHLOCK_ARGS (module parameters for the test run), BHLOCK_KERNELS_ONLY (a subset for check).

KERNEL ?= nort
export KDIR KSRC KERNEL BHLOCK_CACHE BHLOCK_RESULTS BHLOCK_ARGS BHLOCK_KERNELS_ONLY

.PHONY: all module run check kernels setup clean

all: module

module:
	@kdir=$$(scripts/kdir.sh) && scripts/build-module.sh "$$kdir"

run:
	@scripts/run.sh

check:
	@scripts/setup.sh && scripts/check.sh

kernels:
	@scripts/setup.sh && for k in nort rt rt-bhlock; do scripts/build-kernel.sh $$k || exit; done

setup:
	@scripts/setup.sh

clean:
	rm -rf results build.log
	find src . -maxdepth 2 \( -name '*.o' -o -name '*.ko' -o -name '*.mod' -o -name '*.mod.c' \
		-o -name '.*.cmd' -o -name '*.d' -o -name '*.rmeta' -o -name 'modules.order' \
		-o -name 'Module.symvers' -o -name '.*.o.d' \) -delete
