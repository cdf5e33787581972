//! Loom models of the per-VC rundown word (`vc::Rundown`) racing senders against close.
//!
//! Run (seconds; `--nocapture` prints the executions explored per model):
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test --release --test loom_ring --test loom_rundown --test loom_slotset -- --nocapture`
//!
//! Every model yields after `thread::spawn` (loom 0.7.2 issue tokio-rs/loom#392, see
//! tests/loom_ring.rs). The "drained edge" is the one `true` that `begin_close` or the last
//! `release` returns: whoever gets it runs the close completion, which must see every write a
//! sender made while inside the VC (modelled as a loom `UnsafeCell`, so loom flags a missing
//! happens-before).
#![cfg(loom)]

mod loom_common;

use atmmcm::ring::sync::{AtomicBool, AtomicU32, Ordering, UnsafeCell};
use atmmcm::vc::Rundown;
use loom::sync::Arc;
use loom_common::{model, spawn};

/// The rundown operations the models drive, so the same models run against a deliberately
/// broken word (the negative control below).
trait Word: Send + Sync + 'static {
    fn try_acquire(&self) -> bool;
    fn release(&self) -> bool;
    fn begin_close(&self) -> bool;
}

impl Word for Rundown {
    fn try_acquire(&self) -> bool {
        Rundown::try_acquire(self)
    }
    fn release(&self) -> bool {
        Rundown::release(self)
    }
    fn begin_close(&self) -> bool {
        Rundown::begin_close(self)
    }
}

/// A VC as the models see it: the rundown word plus per-sender state a sender writes while
/// inside (its queued work) and the close completion reads.
struct Vc<W> {
    word: W,
    sent: [UnsafeCell<u32>; 2],
}

// SAFETY: the cells are only touched under the rundown protocol the models check (that is the
// point: loom reports any access the protocol leaves unordered).
unsafe impl<W: Word> Sync for Vc<W> {}

impl<W: Word> Vc<W> {
    fn new(word: W) -> Self {
        Vc { word, sent: [UnsafeCell::new(0), UnsafeCell::new(0)] }
    }

    /// One send: enter, write state, leave. Returns whether this sender got the drained edge
    /// (then it runs the close completion itself).
    fn send(&self, who: usize) -> bool {
        if !self.word.try_acquire() {
            return false;
        }
        // SAFETY: inside the VC; sender `who` is the only writer of its cell.
        self.sent[who].with_mut(|p| unsafe { *p += 1 });
        let edge = self.word.release();
        if edge {
            self.close_completion();
        }
        edge
    }

    /// What the holder of the drained edge does: read everything the senders left.
    fn close_completion(&self) -> u32 {
        // SAFETY: drained: no sender is inside; loom checks the writes happened-before.
        self.sent.iter().map(|c| c.with(|p| unsafe { *p })).sum()
    }
}

/// One sender against close: exactly one party sees the drained edge, and the close
/// completion observes the sender's write.
fn sender_vs_close<W: Word>(word: fn() -> W) {
    let vc = Arc::new(Vc::new(word()));
    let v = vc.clone();
    let sender = spawn(move || v.send(0));
    let closer_edge = vc.word.begin_close();
    if closer_edge {
        vc.close_completion();
    }
    let sender_edge = sender.join().unwrap();
    assert!(closer_edge ^ sender_edge, "exactly one drained edge (closer {closer_edge}, sender {sender_edge})");
}

#[test]
fn send_racing_close_exactly_one_drained_edge_and_close_sees_sends() {
    model!("rundown_1sender_close", || sender_vs_close(Rundown::new));
}

#[test]
fn two_senders_racing_close_exactly_one_drained_edge() {
    model!("rundown_2senders_close", || {
        let vc = Arc::new(Vc::new(Rundown::new()));
        let senders: Vec<_> = (0..2)
            .map(|i| {
                let v = vc.clone();
                spawn(move || v.send(i))
            })
            .collect();
        let closer_edge = vc.word.begin_close();
        if closer_edge {
            vc.close_completion();
        }
        let edges = senders.into_iter().map(|t| t.join().unwrap()).filter(|&e| e).count() + usize::from(closer_edge);
        assert_eq!(edges, 1, "exactly one drained edge");
    });
}

/// After `begin_close` (as far as a sender can tell) no `try_acquire` succeeds.
fn no_acquire_after_close<W: Word>(word: fn() -> W) {
    let r = Arc::new(word());
    let closed = Arc::new(AtomicBool::new(false));
    let (r2, c2) = (r.clone(), closed.clone());
    let sender = spawn(move || {
        // If the sender can tell close has begun, its acquire must fail.
        let saw_close = c2.load(Ordering::Acquire);
        let got = r2.try_acquire();
        if saw_close {
            assert!(!got, "sender admitted after begin_close");
        }
        got && r2.release()
    });
    let closer_edge = r.begin_close();
    closed.store(true, Ordering::Release);
    let sender_edge = sender.join().unwrap();
    assert!(closer_edge ^ sender_edge, "exactly one drained edge");
    assert!(!r.try_acquire(), "closer-side acquire admitted after begin_close");
}

#[test]
fn after_begin_close_no_acquire_succeeds() {
    model!("rundown_no_acquire_after_close", || no_acquire_after_close(Rundown::new));
}

/// A deliberately broken rundown: `release` is `Relaxed` and skips the acquire fence, so the
/// closer that sees the count reach zero is not ordered after the sender's writes.
struct RelaxedRelease(AtomicU32);

impl Word for RelaxedRelease {
    fn try_acquire(&self) -> bool {
        let cur = self.0.load(Ordering::Relaxed);
        cur & (1 << 31) == 0 && self.0.compare_exchange(cur, cur + 1, Ordering::Acquire, Ordering::Relaxed).is_ok()
    }
    fn release(&self) -> bool {
        let prev = self.0.fetch_sub(1, Ordering::Relaxed);
        prev == (1 << 31) | 1
    }
    fn begin_close(&self) -> bool {
        self.0.fetch_or(1 << 31, Ordering::Relaxed) == 0
    }
}

/// Negative control: the same model catches the broken word (loom reports the unordered read).
#[test]
#[should_panic(expected = "Causality violation")]
fn relaxed_release_is_caught_by_loom() {
    model!("rundown_relaxed_release (must fail)", || sender_vs_close(|| RelaxedRelease(AtomicU32::new(0))));
}

/// A broken rundown that ignores the closing bit in `try_acquire`.
struct IgnoresClosing(AtomicU32);

impl Word for IgnoresClosing {
    fn try_acquire(&self) -> bool {
        self.0.fetch_add(1, Ordering::Acquire);
        true
    }
    fn release(&self) -> bool {
        self.0.fetch_sub(1, Ordering::AcqRel) == (1 << 31) | 1
    }
    fn begin_close(&self) -> bool {
        self.0.fetch_or(1 << 31, Ordering::AcqRel) == 0
    }
}

/// Negative control for the no-acquire-after-close oracle.
#[test]
#[should_panic(expected = "admitted after begin_close")]
fn acquire_ignoring_close_is_caught() {
    model!("rundown_ignores_closing (must fail)", || no_acquire_after_close(|| IgnoresClosing(AtomicU32::new(0))));
}

/// A broken rundown whose `release` reports "drained" whenever the count reaches zero, closing
/// or not: a sender that finishes before close and the closer both claim the edge.
struct EdgeWithoutClosing(AtomicU32);

impl Word for EdgeWithoutClosing {
    fn try_acquire(&self) -> bool {
        let cur = self.0.load(Ordering::Relaxed);
        cur & (1 << 31) == 0 && self.0.compare_exchange(cur, cur + 1, Ordering::Acquire, Ordering::Relaxed).is_ok()
    }
    fn release(&self) -> bool {
        self.0.fetch_sub(1, Ordering::AcqRel) & !(1 << 31) == 1
    }
    fn begin_close(&self) -> bool {
        self.0.fetch_or(1 << 31, Ordering::AcqRel) & !(1 << 31) == 0
    }
}

/// Negative control for the exactly-one-edge oracle.
#[test]
#[should_panic(expected = "exactly one drained edge")]
fn edge_without_closing_is_caught() {
    model!("rundown_edge_without_closing (must fail)", || sender_vs_close(|| EdgeWithoutClosing(AtomicU32::new(0))));
}

/// Issue 8 item 1: a sender counted by `enter` — accepted, or rejecting on a closing VC — holds
/// the drain until it leaves: when it is inside at `begin_close` the drained edge is its own
/// `leave`, after its write (the completion it makes). (A
/// sender that enters only after the edge was reported is after the drain and reports it again
/// when it leaves; the teardown's quiet check re-reads the word.)
#[test]
fn rejecting_sender_is_waited_for_and_the_close_sees_its_completion() {
    model!("rundown_enter_reject_close", || {
        let vc = Arc::new(Vc::new(Rundown::new()));
        let v = vc.clone();
        let sender = spawn(move || {
            let Some(e) = v.word.enter() else { return false };
            // Accepted or rejected, the sender writes (queues or completes) while counted.
            // SAFETY: inside the VC; sender 0 is the only writer of its cell.
            v.sent[0].with_mut(|p| unsafe { *p += 1 });
            let edge = v.word.leave(e);
            if edge {
                v.close_completion();
            }
            edge
        });
        let closer_edge = vc.word.begin_close();
        let sender_edge = sender.join().unwrap();
        // A sender inside at begin_close owns the edge; one entering after it (rejecting) reports
        // "drained again" when it leaves — the teardown step it wakes is idempotent.
        assert!(closer_edge || sender_edge, "nobody reported the drain");
    });
}

/// After the seal, a late sender is not waited for: the early one's leaving is the drained edge
/// even with the late one still inside, and nobody else reports one.
#[test]
fn late_sender_after_the_seal_never_holds_the_drain() {
    model!("rundown_seal_late", || {
        let vc = Arc::new(Rundown::new());
        let early = vc.enter().unwrap();
        assert!(!vc.begin_close());
        vc.seal();
        let v = vc.clone();
        let late = spawn(move || {
            let e = v.enter().unwrap();
            assert!(!e.open && e.late);
            v.leave(e)
        });
        let early_edge = vc.leave(early);
        assert!(early_edge, "the early sender's leaving drains the VC");
        assert!(!late.join().unwrap(), "a late sender never reports the drained edge");
    });
}

/// The sealed-word operations the reopen model drives, so it also runs against the word as it was
/// before issue 8's fix (the negative control below).
trait SealWord: Send + Sync + 'static {
    type E: Copy + Send + 'static;
    fn enter(&self) -> Option<Self::E>;
    fn is_late(e: Self::E) -> bool;
    fn leave(&self, e: Self::E) -> bool;
    fn begin_close(&self) -> bool;
    fn seal(&self);
    fn reopen(&self) -> bool;
}

impl SealWord for Rundown {
    type E = atmmcm::vc::rundown::Entry;
    fn enter(&self) -> Option<Self::E> {
        Rundown::enter(self)
    }
    fn is_late(e: Self::E) -> bool {
        e.late
    }
    fn leave(&self, e: Self::E) -> bool {
        Rundown::leave(self, e)
    }
    fn begin_close(&self) -> bool {
        Rundown::begin_close(self)
    }
    fn seal(&self) {
        Rundown::seal(self)
    }
    fn reopen(&self) -> bool {
        Rundown::reopen(self)
    }
}

/// Issue 8 (the million-case run's DATA-DRAINED-AT-DEACT): a sender comes while the VC is idle —
/// its last call closed, the word closing and sealed — and races the next call's reopen and that
/// call's close. A sender that entered the sealed word (late) before the reopen is a sender of the
/// new call: the new close's drained edge must come after it left (loom checks the close
/// completion's read of what the sender wrote), and exactly one party reports that edge.
struct Idle<W> {
    word: W,
    sent: UnsafeCell<u32>,
}

// SAFETY: as for `Vc`: the cell is only touched under the rundown protocol the model checks.
unsafe impl<W: SealWord> Sync for Idle<W> {}

fn late_sender_across_reopen<W: SealWord>(word: fn() -> W) {
    let vc = Arc::new(Idle { word: word(), sent: UnsafeCell::new(0u32) });
    vc.word.begin_close();
    vc.word.seal();
    let v = vc.clone();
    let sender = spawn(move || {
        let Some(e) = v.word.enter() else { return (false, false) };
        let late = W::is_late(e);
        if late {
            // Entered before the reopen: it writes (completes its NBL) while counted.
            // SAFETY: inside the VC; the sender is the only writer of the cell.
            v.sent.with_mut(|p| unsafe { *p += 1 });
        }
        let edge = v.word.leave(e);
        if edge && late {
            // SAFETY: drained: nobody who entered before the new close is inside.
            v.sent.with(|p| unsafe { *p });
        }
        (late, edge)
    });
    // The next call: its data path opens, then it closes.
    vc.word.reopen();
    let closer_edge = vc.word.begin_close();
    if closer_edge {
        // The close completion: what every sender counted by this close wrote is visible.
        // SAFETY: drained; loom flags the read if a late sender's write is not ordered before it.
        vc.sent.with(|p| unsafe { *p });
    }
    let (late, sender_edge) = sender.join().unwrap();
    if late {
        assert!(closer_edge ^ sender_edge, "exactly one drained edge (closer {closer_edge}, sender {sender_edge})");
    }
}

#[test]
fn a_late_sender_inside_at_reopen_holds_the_next_close() {
    model!("rundown_late_sender_across_reopen", || late_sender_across_reopen(Rundown::new));
}

/// The word before issue 8's fix: late senders counted apart and never waited for, whatever the
/// call; `reopen` just clears the closing and sealed bits.
struct NoFold(AtomicU32);

const NF_CLOSING: u32 = 1 << 31;
const NF_SEALED: u32 = 1 << 30;
const NF_LATE: u32 = 1 << 15;

impl SealWord for NoFold {
    type E = bool;
    fn enter(&self) -> Option<bool> {
        let mut cur = self.0.load(Ordering::Relaxed);
        loop {
            let late = cur & NF_SEALED != 0;
            let add = if late { NF_LATE } else { 1 };
            match self.0.compare_exchange(cur, cur + add, Ordering::Acquire, Ordering::Relaxed) {
                Ok(_) => return Some(late),
                Err(now) => cur = now,
            }
        }
    }
    fn is_late(e: bool) -> bool {
        e
    }
    fn leave(&self, late: bool) -> bool {
        if late {
            self.0.fetch_sub(NF_LATE, Ordering::Release);
            return false;
        }
        let prev = self.0.fetch_sub(1, Ordering::AcqRel);
        prev & (NF_LATE - 1) == 1 && prev & NF_CLOSING != 0
    }
    fn begin_close(&self) -> bool {
        let prev = self.0.fetch_or(NF_CLOSING, Ordering::AcqRel);
        prev & NF_CLOSING == 0 && prev & (NF_LATE - 1) == 0
    }
    fn seal(&self) {
        let cur = self.0.load(Ordering::Relaxed);
        if cur & NF_CLOSING != 0 {
            self.0.fetch_or(NF_SEALED, Ordering::AcqRel);
        }
    }
    fn reopen(&self) -> bool {
        self.0.fetch_and(!(NF_CLOSING | NF_SEALED), Ordering::AcqRel) & NF_CLOSING != 0
    }
}

/// Negative control: the word without the fold lets the next close report "drained" while the
/// late sender is still inside; loom catches it.
#[test]
#[should_panic(expected = "Causality violation")]
fn a_word_that_does_not_fold_late_senders_is_caught_by_loom() {
    model!("rundown_no_fold (must fail)", || late_sender_across_reopen(|| NoFold(AtomicU32::new(0))));
}
