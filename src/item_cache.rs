// SPDX-License-Identifier: GPL-2.0

//! A per-CPU cache of preallocated buffers, modelled on `napi_alloc_cache` in
//! `net/core/skbuff.c`: a small stack of free buffers and a count, which every context of one
//! CPU pops from and pushes back to under `local_lock_nested_bh()`.
//!
//! Every operation is a plain read-modify-write of `count` and `stack`, as in the kernel's
//! cache, so two contexts that ever get in at once leave marks: a count out of range, a buffer
//! handed out twice, a stack slot that names a buffer already out, a broken canary.
//! [`ItemCache::check`] looks for all of them; [`ItemCache::round`] also catches a buffer taken
//! from under its owner.

/// Buffers per CPU; `napi_alloc_cache` holds 64 (`NAPI_SKB_CACHE_SIZE`).
pub(crate) const CACHE_SIZE: usize = 64;

/// Buffers one [`ItemCache::round`] holds at once at most; the kernel's bulk size is 16.
pub(crate) const MAX_ROUND: usize = 16;

const HEAD_CANARY: u64 = 0xb41c_0c4c_4e5a_11fe;
const TAIL_CANARY: u64 = 0x7a11_0c4c_4e5a_11fe;
const BUFFER_CANARY: u64 = 0x0b0f_fe70_ca4a_4b1e;

/// The owner tag of a buffer that sits in the stack.
const FREE: u32 = 0;

/// What [`ItemCache::check`] or [`ItemCache::round`] found broken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CacheFault {
    /// `count` is above [`CACHE_SIZE`].
    CountOutOfRange,
    /// A canary of the cache or of a buffer was overwritten.
    CanaryBroken,
    /// The stack names a buffer twice, or names one that is out, or one that does not exist.
    StackCorrupt,
    /// A buffer was popped while someone else owned it, or changed owner while held.
    OwnedTwice,
    /// A pop found the stack empty, or a push found it full.
    CountMismatch,
}

impl CacheFault {
    /// A short name for reports.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::CountOutOfRange => "cache_count_out_of_range",
            Self::CanaryBroken => "cache_canary_broken",
            Self::StackCorrupt => "cache_stack_corrupt",
            Self::OwnedTwice => "cache_buffer_owned_twice",
            Self::CountMismatch => "cache_count_mismatch",
        }
    }
}

/// One preallocated buffer.
#[derive(Clone, Copy)]
struct Buffer {
    canary: u64,
    /// [`FREE`] while in the stack, else the tag of the round that holds it.
    owner: u32,
    /// Written by the holder; a stand-in for packet data.
    payload: u64,
}

/// One CPU's cache: `stack[..count]` are the indices of the free buffers.
pub(crate) struct ItemCache {
    head_canary: u64,
    count: usize,
    stack: [u8; CACHE_SIZE],
    buffers: [Buffer; CACHE_SIZE],
    tail_canary: u64,
}

impl ItemCache {
    /// A full cache: every buffer free and on the stack.
    pub(crate) fn new() -> Self {
        let mut stack = [0u8; CACHE_SIZE];
        for (i, slot) in stack.iter_mut().enumerate() {
            // CACHE_SIZE fits in a u8, so the cast is exact.
            *slot = i as u8;
        }
        Self {
            head_canary: HEAD_CANARY,
            count: CACHE_SIZE,
            stack,
            buffers: [Buffer {
                canary: BUFFER_CANARY,
                owner: FREE,
                payload: 0,
            }; CACHE_SIZE],
            tail_canary: TAIL_CANARY,
        }
    }

    /// Checks every invariant: count in range, canaries intact, the stack naming distinct, free
    /// buffers, and exactly `count` buffers free.
    pub(crate) fn check(&self) -> Result<(), CacheFault> {
        if self.head_canary != HEAD_CANARY || self.tail_canary != TAIL_CANARY {
            return Err(CacheFault::CanaryBroken);
        }
        if self.count > CACHE_SIZE {
            return Err(CacheFault::CountOutOfRange);
        }
        let mut seen = 0u64;
        // Indexed rather than `&self.stack[..self.count]`: the slice iterator's `into_iter()`
        // is not inlined across crates and cost a call on every poll (`make bench`).
        for i in 0..self.count {
            let index = usize::from(self.stack[i]);
            if index >= CACHE_SIZE || seen & (1 << index) != 0 {
                return Err(CacheFault::StackCorrupt);
            }
            seen |= 1 << index;
            if self.buffers[index].owner != FREE {
                return Err(CacheFault::StackCorrupt);
            }
        }
        let mut free = 0;
        for buffer in &self.buffers {
            if buffer.canary != BUFFER_CANARY {
                return Err(CacheFault::CanaryBroken);
            }
            // Branch-free: at most CACHE_SIZE, so the sum cannot wrap.
            free = usize::wrapping_add(free, usize::from(buffer.owner == FREE));
        }
        if free != self.count {
            return Err(CacheFault::OwnedTwice);
        }
        Ok(())
    }

    /// Pops up to `n` buffers (at most [`MAX_ROUND`]), tags them with `tag` (not zero), writes
    /// and reads back their payload, and pushes them back in reverse order, as a poll that
    /// allocates a batch and frees it again would.
    ///
    /// Returns how many buffers went round.
    pub(crate) fn round(&mut self, n: usize, tag: u32) -> Result<usize, CacheFault> {
        let tag = tag.max(1);
        let mut held = [0u8; MAX_ROUND];
        let n = n.min(MAX_ROUND);
        let mut taken = 0;
        let mut fault = None;
        while taken < n {
            let count = self.count;
            if count == 0 || count > CACHE_SIZE {
                fault = Some(CacheFault::CountMismatch);
                break;
            }
            let index = self.stack[count - 1];
            self.count = count - 1;
            let Some(buffer) = self.buffers.get_mut(usize::from(index)) else {
                fault = Some(CacheFault::StackCorrupt);
                break;
            };
            if buffer.owner != FREE {
                fault = Some(CacheFault::OwnedTwice);
            }
            buffer.owner = tag;
            buffer.payload = u64::from(tag) << 32 | u64::from(index);
            held[taken] = index;
            taken += 1;
        }
        for &index in held[..taken].iter().rev() {
            let buffer = &mut self.buffers[usize::from(index)];
            if buffer.owner != tag || buffer.payload != (u64::from(tag) << 32 | u64::from(index)) {
                fault.get_or_insert(CacheFault::OwnedTwice);
            }
            buffer.owner = FREE;
            let count = self.count;
            if count >= CACHE_SIZE {
                fault.get_or_insert(CacheFault::CountMismatch);
                continue;
            }
            self.stack[count] = index;
            self.count = count + 1;
        }
        match fault {
            Some(fault) => Err(fault),
            None => Ok(taken),
        }
    }

    /// Corrupts the cache the way `fault` names, as a context racing for it without the lock
    /// would: the negative control of [`ItemCache::check`] and [`ItemCache::round`].
    #[cfg_attr(not(CONFIG_KUNIT), allow(dead_code))]
    pub(crate) fn inject(&mut self, fault: CacheFault) {
        match fault {
            CacheFault::CountOutOfRange => self.count = CACHE_SIZE + 1,
            CacheFault::CanaryBroken => self.buffers[CACHE_SIZE / 2].canary ^= 1,
            // Two pushes of one buffer: a stack slot names it twice.
            CacheFault::StackCorrupt => self.stack[1] = self.stack[0],
            // A pop whose count update was lost to another context: the buffer is out of the
            // stack but still marked free, so two owners can hold it.
            CacheFault::OwnedTwice => self.count -= 1,
            // Every buffer popped by someone else meanwhile.
            CacheFault::CountMismatch => {
                for buffer in &mut self.buffers {
                    buffer.owner = u32::MAX;
                }
                self.count = 0;
            }
        }
    }
}
