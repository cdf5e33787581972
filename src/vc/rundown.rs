//! The per-VC rundown word: how close meets the hot path without a lock.
//!
//! One `AtomicU32`: bit 31 = closing, the low bits = how many senders/indicators are inside the
//! VC right now. A sender enters with [`Rundown::try_acquire`] (fails once closing), leaves with
//! [`Rundown::release`]; close sets the bit with [`Rundown::begin_close`] and is told — by
//! `begin_close` itself or by the last `release` — when the count reached zero.

use crate::ring::sync::{AtomicU32, Ordering};

const CLOSING: u32 = 1 << 31;
const COUNT: u32 = CLOSING - 1;

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
            if cur & CLOSING != 0 || cur & COUNT == COUNT {
                return false;
            }
            match self.word.compare_exchange_weak(cur, cur + 1, Ordering::Acquire, Ordering::Relaxed) {
                Ok(_) => return true,
                Err(now) => cur = now,
            }
        }
    }

    /// Leaves the VC. Returns `true` when this was the last one out of a closing VC: the caller
    /// must then tell the close path that the VC is drained.
    #[inline]
    pub fn release(&self) -> bool {
        let prev = self.word.fetch_sub(1, Ordering::Release);
        if prev & COUNT == 1 && prev & CLOSING != 0 {
            // Pairs with the other senders' Release decrements (the release sequence on the
            // word), so the close path that runs next sees every write they made inside the VC.
            crate::ring::sync::fence(Ordering::Acquire);
            return true;
        }
        false
    }

    /// Starts the close: no new entries from now on. Returns `true` when nobody is inside (already
    /// drained); otherwise the last [`Rundown::release`] reports it. Calling it twice returns
    /// `false` the second time, so exactly one caller ever owns the "drained" edge.
    pub fn begin_close(&self) -> bool {
        let prev = self.word.fetch_or(CLOSING, Ordering::AcqRel);
        prev & CLOSING == 0 && prev & COUNT == 0
    }

    /// Closing and nobody inside.
    pub fn is_drained(&self) -> bool {
        self.word.load(Ordering::Acquire) == CLOSING
    }

    /// Closing has begun.
    pub fn is_closing(&self) -> bool {
        self.word.load(Ordering::Acquire) & CLOSING != 0
    }

    /// How many are inside (diagnostics).
    pub fn active(&self) -> u32 {
        self.word.load(Ordering::Relaxed) & COUNT
    }

    /// Reopens a drained VC for its next call. Returns `false` (and changes nothing) unless the
    /// VC was closing and drained.
    pub fn reopen(&self) -> bool {
        self.word.compare_exchange(CLOSING, 0, Ordering::AcqRel, Ordering::Relaxed).is_ok()
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
    fn begin_close_on_idle_vc_reports_drained_at_once() {
        let r = Rundown::new();
        assert!(r.begin_close());
        assert!(r.is_drained());
        assert!(!r.reopen() || r.try_acquire());
    }
}
