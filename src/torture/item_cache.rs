// SPDX-License-Identifier: GPL-2.0

//! A per-CPU cache of preallocated buffers, modelled on `napi_alloc_cache` in
//! `net/core/skbuff.c`: a small stack of free buffers and a count, which every context of one
//! CPU pops from and pushes back to under `local_lock_nested_bh()`.
//!
//! Every operation is a plain read-modify-write of `count` and `stack`, as in the kernel's
//! cache, so two contexts that ever get in at once leave marks: a count out of range, a buffer
//! handed out twice, a stack slot that names a buffer already out, a broken canary.
//! [`ItemCache::check`] looks for all of them; [`ItemCache::round`] also catches a buffer taken
//! from under its owner, and a round that another round entered while it was inside.
//!
//! Every word is a relaxed atomic, for the `busted` negative control, which works on a cache
//! without the lock: its racing accesses are then defined behaviour, a lost update and no
//! more, and the compiler cannot keep a value in a register across the preemption point and
//! so hide the very race the control must show. On x86-64 a relaxed load or store is the
//! `mov` a plain access compiles to, but LLVM 19 does not fold an atomic load into the
//! instruction that uses it: under the lock, where the guard hands out `&mut`,
//! [`ItemCache::check_exclusive`] reads the cache plainly (and only the check: the round's
//! overlap check spans the forced interleaving, and stays atomic).

/// Buffers per CPU: half of what `napi_alloc_cache` holds in 7.3 (`NAPI_SKB_CACHE_SIZE`, 128).
pub(crate) const CACHE_SIZE: usize = 64;

use core::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering::Relaxed};
use kernel::prelude::*;

/// Buffers one [`ItemCache::round`] holds at once at most: half the kernel's bulk refill and
/// flush size (`NAPI_SKB_CACHE_BULK` and `NAPI_SKB_CACHE_FREE`, 32 in 7.3).
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
    /// Another round ran inside this one: the round counter moved between this round's
    /// entry and its exit, and this round's write-back overwrote that round's update.
    Overlapped,
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
            Self::Overlapped => "cache_round_overlapped",
        }
    }
}

/// One preallocated buffer.
struct Buffer {
    canary: AtomicU64,
    /// [`FREE`] while in the stack, else the tag of the round that holds it.
    owner: AtomicU32,
    /// Written by the holder; a stand-in for packet data.
    payload: AtomicU64,
}

/// One CPU's cache: `stack[..count]` are the indices of the free buffers.
pub(crate) struct ItemCache {
    head_canary: AtomicU64,
    count: AtomicUsize,
    /// Rounds completed. Each round reads it on entry and writes back what it read plus one
    /// on exit, as a per-CPU statistic is updated in C: a round that runs inside another is
    /// lost, and the outer round sees the counter moved.
    rounds: AtomicU64,
    stack: [AtomicU8; CACHE_SIZE],
    buffers: [Buffer; CACHE_SIZE],
    tail_canary: AtomicU64,
}

/// The payload a round writes into buffer `index`.
fn payload(tag: u32, index: u8) -> u64 {
    u64::from(tag) << 32 | u64::from(index)
}

/// The words of a cache that a check reads, read one way: the same check, written once
/// ([`ItemCache::check_with`]), for a cache shared with racing contexts and for one held alone.
trait CheckedWords {
    fn head_canary(&mut self) -> u64;
    fn tail_canary(&mut self) -> u64;
    fn count(&mut self) -> usize;
    /// Stack slot `i`, below [`CACHE_SIZE`].
    fn slot(&mut self, i: usize) -> u8;
    /// The canary of buffer `i`, below [`CACHE_SIZE`].
    fn canary(&mut self, i: usize) -> u64;
    /// The owner of buffer `i`, below [`CACHE_SIZE`].
    fn owner(&mut self, i: usize) -> u32;
}

/// Relaxed atomic loads: for a cache other contexts may be writing meanwhile.
struct Shared<'a>(&'a ItemCache);

/// Plain loads, through `&mut`, which the compiler folds into the comparisons that use them.
struct Exclusive<'a>(&'a mut ItemCache);

impl CheckedWords for Shared<'_> {
    #[inline(always)]
    fn head_canary(&mut self) -> u64 {
        self.0.head_canary.load(Relaxed)
    }
    #[inline(always)]
    fn tail_canary(&mut self) -> u64 {
        self.0.tail_canary.load(Relaxed)
    }
    #[inline(always)]
    fn count(&mut self) -> usize {
        self.0.count.load(Relaxed)
    }
    #[inline(always)]
    fn slot(&mut self, i: usize) -> u8 {
        self.0.stack[i].load(Relaxed)
    }
    #[inline(always)]
    fn canary(&mut self, i: usize) -> u64 {
        self.0.buffers[i].canary.load(Relaxed)
    }
    #[inline(always)]
    fn owner(&mut self, i: usize) -> u32 {
        self.0.buffers[i].owner.load(Relaxed)
    }
}

impl CheckedWords for Exclusive<'_> {
    #[inline(always)]
    fn head_canary(&mut self) -> u64 {
        *self.0.head_canary.get_mut()
    }
    #[inline(always)]
    fn tail_canary(&mut self) -> u64 {
        *self.0.tail_canary.get_mut()
    }
    #[inline(always)]
    fn count(&mut self) -> usize {
        *self.0.count.get_mut()
    }
    #[inline(always)]
    fn slot(&mut self, i: usize) -> u8 {
        *self.0.stack[i].get_mut()
    }
    #[inline(always)]
    fn canary(&mut self, i: usize) -> u64 {
        *self.0.buffers[i].canary.get_mut()
    }
    #[inline(always)]
    fn owner(&mut self, i: usize) -> u32 {
        *self.0.buffers[i].owner.get_mut()
    }
}

impl ItemCache {
    /// A full cache, every buffer free and on the stack, built where it will live: at about
    /// 1.7 KiB it is more than a kernel stack frame should hold.
    pub(crate) fn new() -> impl Init<Self, Error> {
        // SAFETY: Every field is an atomic integer (or an array of them, or of `Buffer`s, which
        // are made of atomic integers), for which all zero bytes are a valid value, so the
        // zeroed slot is an initialised `ItemCache`; `reset()` then gives it its canaries and a
        // full stack. Nothing is left to drop on any path, and the closure never fails.
        unsafe {
            pin_init::init_from_closure(|slot: *mut Self| {
                slot.write_bytes(0, 1);
                (*slot).reset();
                Ok(())
            })
        }
    }

    /// Makes the cache full and consistent again, as [`ItemCache::new`] builds it: after a
    /// fault has been counted, so that one fault is not found again by every later round.
    pub(crate) fn reset(&self) {
        self.head_canary.store(HEAD_CANARY, Relaxed);
        self.tail_canary.store(TAIL_CANARY, Relaxed);
        for (i, (slot, buffer)) in self.stack.iter().zip(&self.buffers).enumerate() {
            // CACHE_SIZE fits in a u8, so the cast is exact.
            slot.store(i as u8, Relaxed);
            buffer.canary.store(BUFFER_CANARY, Relaxed);
            buffer.owner.store(FREE, Relaxed);
            buffer.payload.store(0, Relaxed);
        }
        self.count.store(CACHE_SIZE, Relaxed);
    }

    /// Checks every invariant: count in range, canaries intact, the stack naming distinct, free
    /// buffers, and exactly `count` buffers free.
    ///
    /// For a cache that other contexts may be writing meanwhile: the `busted` control's, which
    /// they race for without the lock. Under the lock, [`ItemCache::check_exclusive`].
    #[inline]
    pub(crate) fn check(&self) -> Result<(), CacheFault> {
        Self::check_with(Shared(self))
    }

    /// [`ItemCache::check`] for a cache this context holds alone (through the nested-BH guard),
    /// finding the same faults: with plain loads, which the compiler folds into the
    /// comparisons as it does C's. LLVM 19 never folds a relaxed atomic load into the
    /// instruction that uses it, and a check makes some 260 of them.
    #[inline]
    pub(crate) fn check_exclusive(&mut self) -> Result<(), CacheFault> {
        Self::check_with(Exclusive(self))
    }

    /// The checks of [`ItemCache::check`], each word read through `w`.
    #[inline(always)]
    fn check_with(mut w: impl CheckedWords) -> Result<(), CacheFault> {
        if w.head_canary() != HEAD_CANARY || w.tail_canary() != TAIL_CANARY {
            return Err(CacheFault::CanaryBroken);
        }
        let count = w.count();
        if count > CACHE_SIZE {
            return Err(CacheFault::CountOutOfRange);
        }
        if !Self::stack_names_distinct_free_buffers(&mut w, count) {
            return Err(CacheFault::StackCorrupt);
        }
        let mut free = 0;
        for i in 0..CACHE_SIZE {
            if w.canary(i) != BUFFER_CANARY {
                return Err(CacheFault::CanaryBroken);
            }
            // Branch-free: at most CACHE_SIZE, so the sum cannot wrap.
            free = usize::wrapping_add(free, usize::from(w.owner(i) == FREE));
        }
        if free != count {
            return Err(CacheFault::OwnedTwice);
        }
        Ok(())
    }

    /// Whether the first `count` stack slots name distinct buffers, each of them free, read
    /// through `w`.
    ///
    /// A `bool` rather than the fault itself: the loop then only breaks out, and the compiler
    /// does not set up the error value again in every iteration (`make bench` counts the
    /// instructions of every poll).
    #[inline(always)]
    fn stack_names_distinct_free_buffers(w: &mut impl CheckedWords, count: usize) -> bool {
        let mut seen = 0u64;
        // `count` is at most CACHE_SIZE already (the caller checked); the `min` lets the
        // compiler see it and drop the bounds checks of the slots.
        for i in 0..count.min(CACHE_SIZE) {
            let index = usize::from(w.slot(i));
            if index >= CACHE_SIZE || seen & (1 << index) != 0 || w.owner(index) != FREE {
                return false;
            }
            seen |= 1 << index;
        }
        true
    }

    /// Pops up to `n` buffers (at most [`MAX_ROUND`]), tags them with `tag` (not zero), writes
    /// and reads back their payload, and pushes them back in reverse order, as a poll that
    /// allocates a batch and frees it again would.
    ///
    /// Returns how many buffers went round.
    #[inline]
    pub(crate) fn round(&self, n: usize, tag: u32) -> Result<usize, CacheFault> {
        self.round_with(n, tag, || ())
    }

    /// [`ItemCache::round`], calling `inside` while the buffers are out: the point where the
    /// forced interleaving ([`super::forced`]) lets another context of this CPU in.
    #[inline]
    pub(crate) fn round_with(
        &self,
        n: usize,
        tag: u32,
        inside: impl FnOnce(),
    ) -> Result<usize, CacheFault> {
        let entered = self.rounds.load(Relaxed);
        let tag = tag.max(1);
        let mut held = [0u8; MAX_ROUND];
        let n = n.min(MAX_ROUND);
        let mut taken = 0;
        let mut fault = None;
        while taken < n {
            let count = self.count.load(Relaxed);
            if count == 0 || count > CACHE_SIZE {
                fault = Some(CacheFault::CountMismatch);
                break;
            }
            let index = self.stack[count - 1].load(Relaxed);
            self.count.store(count - 1, Relaxed);
            let Some(buffer) = self.buffers.get(usize::from(index)) else {
                fault = Some(CacheFault::StackCorrupt);
                break;
            };
            if buffer.owner.load(Relaxed) != FREE {
                fault = Some(CacheFault::OwnedTwice);
            }
            buffer.owner.store(tag, Relaxed);
            buffer.payload.store(payload(tag, index), Relaxed);
            held[taken] = index;
            taken += 1;
        }
        inside();
        for &index in held[..taken].iter().rev() {
            let buffer = &self.buffers[usize::from(index)];
            if buffer.owner.load(Relaxed) != tag
                || buffer.payload.load(Relaxed) != payload(tag, index)
            {
                fault.get_or_insert(CacheFault::OwnedTwice);
            }
            buffer.owner.store(FREE, Relaxed);
            let count = self.count.load(Relaxed);
            if count >= CACHE_SIZE {
                fault.get_or_insert(CacheFault::CountMismatch);
                continue;
            }
            self.stack[count].store(index, Relaxed);
            self.count.store(count + 1, Relaxed);
        }
        if self.rounds.load(Relaxed) != entered {
            fault.get_or_insert(CacheFault::Overlapped);
        }
        self.rounds.store(entered.wrapping_add(1), Relaxed);
        match fault {
            Some(fault) => Err(fault),
            None => Ok(taken),
        }
    }

    /// Corrupts the cache the way `fault` names, as a context racing for it without the lock
    /// would: the negative control of [`ItemCache::check`] and [`ItemCache::round`].
    #[cfg_attr(not(CONFIG_KUNIT), allow(dead_code))]
    pub(crate) fn inject(&self, fault: CacheFault) {
        match fault {
            CacheFault::CountOutOfRange => self.count.store(CACHE_SIZE + 1, Relaxed),
            CacheFault::CanaryBroken => {
                self.buffers[CACHE_SIZE / 2].canary.fetch_xor(1, Relaxed);
            }
            // Two pushes of one buffer: a stack slot names it twice.
            CacheFault::StackCorrupt => self.stack[1].store(self.stack[0].load(Relaxed), Relaxed),
            // A pop whose count update was lost to another context: the buffer is out of the
            // stack but still marked free, so two owners can hold it.
            CacheFault::OwnedTwice => {
                self.count.fetch_sub(1, Relaxed);
            }
            // Every buffer popped by someone else meanwhile.
            CacheFault::CountMismatch => {
                for buffer in &self.buffers {
                    buffer.owner.store(u32::MAX, Relaxed);
                }
                self.count.store(0, Relaxed);
            }
            // Another round's update of the round counter: called from a round's `inside`,
            // which is where another context's round would run.
            CacheFault::Overlapped => {
                self.rounds.fetch_add(1, Relaxed);
            }
        }
    }
}
