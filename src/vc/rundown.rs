//! The per-VC rundown word: how close meets the hot path without a lock.
//!
//! One `AtomicU64`: bits 32..64 = epoch (bumped by every [`Rundown::reopen`]), bit 31 = closing,
//! bit 30 = sealed, bits 15..30 = late senders, bits 0..15 = early senders and indicators inside
//! the VC right now. An indicator enters with [`Rundown::try_acquire`] (fails once closing); a
//! sender with [`Rundown::enter`], which counts it even on a closing VC, so the NBLs it rejects are
//! completed while it is still counted. Close sets the closing bit with [`Rundown::begin_close`]
//! and is told — by `begin_close` itself or by the last early [`Rundown::release`] — when the
//! early count reached zero: nobody who entered before the seal is inside, not even a sender
//! completing a rejected NBL.
//!
//! The seal ([`Rundown::seal`]) marks the moment the client's NdisClCloseCall returned: a client
//! must not send after it, so a sender entering later is *late*: counted apart, it still completes
//! its NBLs with CLOSING at once, but the close does not wait for it — a client flooding a closed
//! VC cannot keep it from draining.
//!
//! Late is late *for that call* only. The word stays closing and sealed while the VC is idle, so a
//! sender that comes while the VC's next call is being made enters late; once that call's data
//! path opens ([`Rundown::reopen`]) it is a sender of the new call, inside before its close, and
//! that close must wait for it (issue 8: NdisMCmDeactivateVc with such a sender still inside). So
//! `reopen` moves every late sender into the early count and starts a new epoch; a late entry
//! leaves from the late count only in the epoch it entered in, else from the early count.

use crate::ring::sync::{AtomicU64, Ordering};

const CLOSING: u64 = 1 << 31;
const SEALED: u64 = 1 << 30;
const LATE_SHIFT: u32 = 15;
const EARLY: u64 = (1 << LATE_SHIFT) - 1;
const LATE_ONE: u64 = 1 << LATE_SHIFT;
const LATE: u64 = EARLY << LATE_SHIFT;
const EPOCH_SHIFT: u32 = 32;
const EPOCH_ONE: u64 = 1 << EPOCH_SHIFT;

/// Everybody inside (early and late); never more than [`EARLY`], so `reopen` can fold the late
/// count into the early one.
#[inline]
fn inside(w: u64) -> u64 {
    (w & EARLY) + ((w & LATE) >> LATE_SHIFT)
}

#[inline]
fn epoch(w: u64) -> u32 {
    (w >> EPOCH_SHIFT) as u32
}

/// How a sender entered (see [`Rundown::enter`]); hand it back to [`Rundown::leave`].
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The VC takes sends; `false`: reject them (closing or not activated).
    pub open: bool,
    /// Entered after the seal: counted apart, not waited for (while the epoch lasts).
    pub late: bool,
    /// The epoch the sender entered in.
    epoch: u32,
}

/// See the module docs.
#[derive(Debug)]
pub struct Rundown {
    word: AtomicU64,
}

impl Default for Rundown {
    fn default() -> Self {
        Self::new()
    }
}

impl Rundown {
    /// Open, nobody inside.
    #[cfg(not(loom))]
    pub const fn new() -> Self {
        Rundown { word: AtomicU64::new(0) }
    }
    #[cfg(loom)]
    pub fn new() -> Self {
        Rundown { word: AtomicU64::new(0) }
    }

    /// Enters the VC; `false` once closing has begun (the caller completes its NBLs with
    /// NDIS_STATUS_CLOSING).
    #[inline]
    pub fn try_acquire(&self) -> bool {
        let mut cur = self.word.load(Ordering::Relaxed);
        loop {
            if cur & CLOSING != 0 || inside(cur) >= EARLY {
                return false;
            }
            match self.word.compare_exchange_weak(cur, cur + 1, Ordering::Acquire, Ordering::Relaxed) {
                Ok(_) => return true,
                Err(now) => cur = now,
            }
        }
    }

    /// Enters the VC whatever its state, counted (early, or late once sealed) until
    /// [`Rundown::leave`]. `None` only if the count is saturated (32 767 inside), when the caller
    /// must not touch the VC.
    #[inline]
    pub fn enter(&self) -> Option<Entry> {
        let mut cur = self.word.load(Ordering::Relaxed);
        loop {
            if inside(cur) >= EARLY {
                return None;
            }
            let late = cur & SEALED != 0;
            let add = if late { LATE_ONE } else { 1 };
            match self.word.compare_exchange_weak(cur, cur + add, Ordering::Acquire, Ordering::Relaxed) {
                Ok(_) => return Some(Entry { open: cur & CLOSING == 0, late, epoch: epoch(cur) }),
                Err(now) => cur = now,
            }
        }
    }

    /// Leaves after [`Rundown::enter`]; `true` as [`Rundown::release`] says. A late entry whose
    /// epoch ended (the VC reopened meanwhile) was moved to the early count: it leaves from there
    /// and may be the drained edge of the new call's close.
    #[inline]
    pub fn leave(&self, e: Entry) -> bool {
        if !e.late {
            return self.release();
        }
        let mut cur = self.word.load(Ordering::Relaxed);
        loop {
            if epoch(cur) != e.epoch {
                // Reopened since: counted early now, for good (a reopen keeps the early count).
                return self.release();
            }
            match self.word.compare_exchange_weak(cur, cur - LATE_ONE, Ordering::Release, Ordering::Relaxed) {
                Ok(_) => return false,
                Err(now) => cur = now,
            }
        }
    }

    /// Leaves the VC (an early entry). Returns `true` when this was the last one out of a closing
    /// VC: the caller must then tell the close path that the VC is drained. With [`Rundown::enter`]
    /// a sender that came in after the drain (to reject) reports it again when it leaves; the
    /// close path's step is idempotent.
    #[inline]
    pub fn release(&self) -> bool {
        let prev = self.word.fetch_sub(1, Ordering::Release);
        if prev & EARLY == 1 && prev & CLOSING != 0 {
            // Pairs with the other senders' Release decrements (the release sequence on the
            // word), so the close path that runs next sees every write they made inside the VC.
            crate::ring::sync::fence(Ordering::Acquire);
            return true;
        }
        false
    }

    /// Starts the close: no new entries from now on. Returns `true` when nobody is inside (already
    /// drained); otherwise the last [`Rundown::release`] reports it. Calling it twice returns
    /// `false` the second time. Among `try_acquire` users exactly one caller owns the "drained"
    /// edge; a later rejecting [`Rundown::enter`] can report it again (see `release`).
    pub fn begin_close(&self) -> bool {
        let prev = self.word.fetch_or(CLOSING, Ordering::AcqRel);
        prev & CLOSING == 0 && prev & EARLY == 0
    }

    /// Seals a closing VC: senders entering from now on are late (see the module docs). Does
    /// nothing on an open VC.
    pub fn seal(&self) {
        let mut cur = self.word.load(Ordering::Relaxed);
        while cur & CLOSING != 0 && cur & SEALED == 0 {
            match self.word.compare_exchange_weak(cur, cur | SEALED, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => return,
                Err(now) => cur = now,
            }
        }
    }

    /// Closing and no early entry inside.
    pub fn is_drained(&self) -> bool {
        let w = self.word.load(Ordering::Acquire);
        w & CLOSING != 0 && w & EARLY == 0
    }

    /// Closing has begun.
    pub fn is_closing(&self) -> bool {
        self.word.load(Ordering::Acquire) & CLOSING != 0
    }

    /// How many early entries (senders and indicators the close waits for) are inside.
    pub fn early(&self) -> u32 {
        (self.word.load(Ordering::Acquire) & EARLY) as u32
    }

    /// How many are inside, early and late (diagnostics).
    pub fn active(&self) -> u32 {
        inside(self.word.load(Ordering::Relaxed)) as u32
    }

    /// Reopens a closed VC for its next call; `false` if it was not closing. Everybody still
    /// inside — a sender rejecting an NBL it sent while the call was being made, late or not — is
    /// counted early from now on: the next close waits for it. A new epoch begins (the late
    /// entries of the last one leave from the early count).
    pub fn reopen(&self) -> bool {
        let mut cur = self.word.load(Ordering::Relaxed);
        loop {
            // `inside` never exceeds EARLY (`enter` and `try_acquire` refuse at EARLY).
            let next = (cur & !(EPOCH_ONE - 1)).wrapping_add(EPOCH_ONE) | inside(cur);
            match self.word.compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => return cur & CLOSING != 0,
                Err(now) => cur = now,
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn acquire_fails_after_close_and_last_release_reports_drained() {
        let r = Rundown::new();
        assert!(r.try_acquire());
        assert!(r.try_acquire());
        assert!(!r.begin_close(), "two inside: not drained yet");
        assert!(!r.try_acquire(), "closing: no new entries");
        assert!(!r.release());
        assert!(r.release(), "last one out reports the drained edge");
        assert!(r.is_drained());
        assert!(!r.begin_close(), "second begin_close does not report the edge again");
        assert!(r.reopen());
        assert!(r.try_acquire());
    }

    #[test]
    fn enter_counts_a_sender_on_a_closing_vc_so_the_drain_waits_for_it() {
        let r = Rundown::new();
        let a = r.enter().unwrap();
        assert_eq!((a.open, a.late), (true, false));
        assert!(!r.begin_close());
        let b = r.enter().unwrap();
        assert_eq!((b.open, b.late), (false, false), "closing: counted, told to reject");
        assert!(!r.leave(a));
        assert!(!r.is_drained(), "the rejecting sender is still inside");
        assert!(r.leave(b), "its leaving is the drained edge");
        assert!(r.is_drained());
        let c = r.enter().unwrap();
        assert!(r.reopen(), "reopened with a sender inside");
        assert_eq!(r.active(), 1);
        assert!(!r.leave(c));
        assert_eq!(r.enter().map(|e| (e.open, e.late)), Some((true, false)));
    }

    #[test]
    fn a_sender_after_the_seal_is_late_and_not_waited_for() {
        let r = Rundown::new();
        r.seal();
        assert_eq!(r.enter().map(|e| e.late), Some(false), "seal does nothing on an open VC");
        assert!(!r.begin_close());
        r.seal();
        let late = r.enter().unwrap();
        assert_eq!((late.open, late.late), (false, true));
        assert!(r.release(), "the early one leaving drains the VC though a late one is inside");
        assert!(r.is_drained());
        assert_eq!(r.active(), 1);
        assert!(!r.leave(late));
        assert_eq!(r.active(), 0);
        assert!(r.reopen());
        assert_eq!(r.enter().map(|e| (e.open, e.late)), Some((true, false)), "reopen clears the seal");
    }

    #[test]
    fn begin_close_on_idle_vc_reports_drained_at_once() {
        let r = Rundown::new();
        assert!(r.begin_close());
        assert!(r.is_drained());
        assert!(!r.reopen() || r.try_acquire());
    }

    /// Issue 8: a sender that entered the sealed word of the last call (late) is still inside
    /// when the next call reopens the VC: it is that call's sender now, and its close waits for it.
    #[test]
    fn a_late_sender_still_inside_at_reopen_holds_the_next_close() {
        let r = Rundown::new();
        assert!(r.begin_close());
        r.seal();
        let late = r.enter().unwrap();
        assert_eq!((late.open, late.late), (false, true));
        assert!(r.reopen());
        assert_eq!(r.early(), 1, "moved to the early count");
        let open = r.enter().unwrap();
        assert_eq!((open.open, open.late), (true, false));
        assert!(!r.begin_close(), "two inside: not drained");
        r.seal();
        let late2 = r.enter().unwrap();
        assert!(late2.late);
        assert!(!r.leave(open));
        assert!(!r.is_drained(), "the sender from before the reopen is still inside");
        assert!(r.leave(late), "its leaving is the drained edge");
        assert!(r.is_drained());
        assert_eq!(r.active(), 1, "the new call's late sender is still counted apart");
        assert!(!r.leave(late2), "a late sender of this call never reports the edge");
        assert_eq!(r.active(), 0);
    }

    /// Two reopens while a late sender is inside: it stays counted early (a reopen keeps the early
    /// count) and leaves from there.
    #[test]
    fn a_late_sender_across_two_reopens_leaves_from_the_early_count() {
        let r = Rundown::new();
        r.begin_close();
        r.seal();
        let late = r.enter().unwrap();
        assert!(r.reopen());
        assert!(!r.begin_close());
        r.seal();
        assert!(r.reopen());
        assert_eq!((r.early(), r.active()), (1, 1));
        assert!(!r.begin_close(), "closing already");
        assert!(!r.is_drained());
        assert!(r.leave(late));
        assert!(r.is_drained());
        assert_eq!(r.active(), 0);
    }

    /// The count saturates on everybody inside, early and late together, so a reopen never
    /// carries the late count past the early field.
    #[test]
    fn enter_saturates_on_early_and_late_together() {
        let r = Rundown::new();
        let mut es = alloc::vec::Vec::new();
        for _ in 0..10 {
            es.push(r.enter().unwrap());
        }
        r.begin_close();
        r.seal();
        let mut n = 10;
        while let Some(e) = r.enter() {
            es.push(e);
            n += 1;
        }
        assert_eq!(n, EARLY as usize);
        assert!(!r.try_acquire());
        assert!(r.reopen());
        assert_eq!(r.early(), EARLY as u32);
        let mut edges = 0;
        r.begin_close();
        for e in es {
            edges += usize::from(r.leave(e));
        }
        assert_eq!(edges, 1);
        assert!(r.is_drained());
        assert_eq!(r.active(), 0);
    }
}
