//! The per-VC rundown word: how close meets the hot path without a lock.
//!
//! One `AtomicU32`: bit 31 = closing, bit 30 = sealed, bits 15..30 = late senders, bits 0..15 =
//! early senders and indicators inside the VC right now. An indicator enters with
//! [`Rundown::try_acquire`] (fails once closing); a sender with [`Rundown::enter`], which counts
//! it even on a closing VC, so the NBLs it rejects are completed while it is still counted.
//! Close sets the closing bit with [`Rundown::begin_close`] and is told — by `begin_close` itself
//! or by the last early [`Rundown::release`] — when the early count reached zero: nobody who
//! entered before the seal is inside, not even a sender completing a rejected NBL.
//!
//! The seal ([`Rundown::seal`]) marks the moment the client's NdisClCloseCall returned: a client
//! must not send after it, so a sender entering later is *late*: counted apart, it still completes
//! its NBLs with CLOSING at once, but the close does not wait for it — a client flooding a closed
//! VC cannot keep it from draining.

use crate::ring::sync::{AtomicU32, Ordering};

const CLOSING: u32 = 1 << 31;
const SEALED: u32 = 1 << 30;
const LATE_SHIFT: u32 = 15;
const EARLY: u32 = (1 << LATE_SHIFT) - 1;
const LATE_ONE: u32 = 1 << LATE_SHIFT;
const LATE: u32 = EARLY << LATE_SHIFT;

/// How a sender entered (see [`Rundown::enter`]); hand it back to [`Rundown::leave`].
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The VC takes sends; `false`: reject them (closing or not activated).
    pub open: bool,
    /// Entered after the seal: counted apart, not waited for.
    pub late: bool,
}

/// See the module docs.
#[derive(Debug)]
pub struct Rundown {
    word: AtomicU32,
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
        Rundown { word: AtomicU32::new(0) }
    }
    #[cfg(loom)]
    pub fn new() -> Self {
        Rundown { word: AtomicU32::new(0) }
    }

    /// Enters the VC; `false` once closing has begun (the caller completes its NBLs with
    /// NDIS_STATUS_CLOSING).
    #[inline]
    pub fn try_acquire(&self) -> bool {
        let mut cur = self.word.load(Ordering::Relaxed);
        loop {
            if cur & CLOSING != 0 || cur & EARLY == EARLY {
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
            let late = cur & SEALED != 0;
            let (full, add) = if late { (cur & LATE == LATE, LATE_ONE) } else { (cur & EARLY == EARLY, 1) };
            if full {
                return None;
            }
            match self.word.compare_exchange_weak(cur, cur + add, Ordering::Acquire, Ordering::Relaxed) {
                Ok(_) => return Some(Entry { open: cur & CLOSING == 0, late }),
                Err(now) => cur = now,
            }
        }
    }

    /// Leaves after [`Rundown::enter`]; `true` as [`Rundown::release`] says.
    #[inline]
    pub fn leave(&self, e: Entry) -> bool {
        if e.late {
            self.word.fetch_sub(LATE_ONE, Ordering::Release);
            return false;
        }
        self.release()
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
        self.word.load(Ordering::Acquire) & EARLY
    }

    /// How many are inside, early and late (diagnostics).
    pub fn active(&self) -> u32 {
        let w = self.word.load(Ordering::Relaxed);
        (w & EARLY) + ((w & LATE) >> LATE_SHIFT)
    }

    /// Reopens a closed VC for its next call; `false` if it was not closing. A sender still
    /// inside (one rejecting an NBL sent on the idle VC) stays counted and leaves normally.
    pub fn reopen(&self) -> bool {
        self.word.fetch_and(!(CLOSING | SEALED), Ordering::AcqRel) & CLOSING != 0
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
        assert_eq!(a, Entry { open: true, late: false });
        assert!(!r.begin_close());
        let b = r.enter().unwrap();
        assert_eq!(b, Entry { open: false, late: false }, "closing: counted, told to reject");
        assert!(!r.leave(a));
        assert!(!r.is_drained(), "the rejecting sender is still inside");
        assert!(r.leave(b), "its leaving is the drained edge");
        assert!(r.is_drained());
        let c = r.enter().unwrap();
        assert!(r.reopen(), "reopened with a sender inside");
        assert_eq!(r.active(), 1);
        assert!(!r.leave(c));
        assert_eq!(r.enter(), Some(Entry { open: true, late: false }));
    }

    #[test]
    fn a_sender_after_the_seal_is_late_and_not_waited_for() {
        let r = Rundown::new();
        r.seal();
        assert_eq!(r.enter().map(|e| e.late), Some(false), "seal does nothing on an open VC");
        assert!(!r.begin_close());
        r.seal();
        let late = r.enter().unwrap();
        assert_eq!(late, Entry { open: false, late: true });
        assert!(r.release(), "the early one leaving drains the VC though a late one is inside");
        assert!(r.is_drained());
        assert_eq!(r.active(), 1);
        assert!(!r.leave(late));
        assert_eq!(r.active(), 0);
        assert!(r.reopen());
        assert_eq!(r.enter(), Some(Entry { open: true, late: false }), "reopen clears the seal");
    }

    #[test]
    fn begin_close_on_idle_vc_reports_drained_at_once() {
        let r = Rundown::new();
        assert!(r.begin_close());
        assert!(r.is_drained());
        assert!(!r.reopen() || r.try_acquire());
    }
}
