// SPDX-License-Identifier: GPL-2.0
/*
 * The C helpers of the sync layer, built into bhlock.ko. Each file under
 * helpers/ is what `make upstream` adds to rust/helpers/ unchanged: one helper
 * per C macro or static inline the layer calls, which bindgen cannot bind.
 * In the kernel tree rust/helpers/helpers.c defines __rust_helper (inline
 * there with CONFIG_RUST_INLINE_HELPERS); in a module they are plain calls.
 */

#include <linux/compiler_types.h>

#define __rust_helper

#include "helpers/bh.c"
#include "helpers/local_lock.c"
