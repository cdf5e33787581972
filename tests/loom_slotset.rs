//! Loom models of `datapath::SlotSet`, the two-level bitmap senders mark (`tx_ready`, `teardown`,
//! the NIC's `freed`/`close_local`) and the DPC takes: every interleaving (up to the preemption
//! bound) of the real code.
//!
//! Run (seconds; `--nocapture` prints the executions explored per model):
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test --release --test loom_slotset -- --nocapture`
//!
//! The claims: a slot marked is taken, once per mark that reported it new — none lost between
//! its word and the summary, none taken twice — and the taker sees what the marker wrote before
//! marking (a loom `UnsafeCell` per slot, so loom flags a missing happens-before). Every model
//! yields after `thread::spawn` (loom 0.7.2 issue tokio-rs/loom#392, see tests/loom_ring.rs), and
//! none waits for another thread: the taker takes once while the markers run, and once more after
//! the joins. Negative controls run the same models against broken copies of the algorithm.
#![cfg(loom)]

mod loom_common;

use atmmcm::datapath::SlotSet;
use atmmcm::ring::sync::{AtomicU64, Ordering, UnsafeCell};
use loom::sync::Arc;
use loom_common::{model, spawn};

/// Slots in every model's set: two bitmap words under one summary word.
const SLOTS: usize = 128;

/// The set operations the models drive, so the same models run against broken copies.
trait Set: Send + Sync + 'static {
    fn with_slots(n: usize) -> Self;
    fn mark(&self, slot: usize) -> bool;
    fn take_all(&self, f: &mut dyn FnMut(usize));
}

impl Set for SlotSet {
    fn with_slots(n: usize) -> Self {
        SlotSet::new(n).unwrap()
    }
    fn mark(&self, slot: usize) -> bool {
        SlotSet::mark(self, slot)
    }
    fn take_all(&self, f: &mut dyn FnMut(usize)) {
        SlotSet::take_all(self, f)
    }
}

/// The set plus one payload cell per slot: a marker writes its slot's cell before marking, the
/// taker reads it when it takes the slot (as the DPC reads the ring a sender filled).
struct Shared<S> {
    set: S,
    payload: Vec<UnsafeCell<u32>>,
}

// SAFETY: a cell is written by its slot's only marker before the mark and read by the taker after
// taking it; loom reports any pair of those accesses the set leaves unordered (the point).
unsafe impl<S: Set> Sync for Shared<S> {}

impl<S: Set> Shared<S> {
    fn new() -> Self {
        Shared { set: S::with_slots(SLOTS), payload: (0..SLOTS).map(|_| UnsafeCell::new(0)).collect() }
    }

    /// Writes `slot`'s payload, then marks it.
    fn publish(&self, slot: usize, value: u32) -> bool {
        // SAFETY: this thread is `slot`'s only marker, and it has not marked it yet.
        self.payload[slot].with_mut(|p| unsafe { *p = value });
        self.set.mark(slot)
    }

    /// Takes every marked slot, reading its payload; returns (slot, payload) in take order.
    fn take(&self) -> Vec<(usize, u32)> {
        let mut got = Vec::new();
        self.set.take_all(&mut |slot| {
            // SAFETY: taken, so its marker's write is done; loom checks it happened-before.
            let v = self.payload[slot].with(|p| unsafe { *p });
            got.push((slot, v));
        });
        got
    }
}

/// Two markers, one slot each, racing one take; a last take after the joins. Each slot is taken
/// exactly once overall, with its marker's payload.
fn two_markers_vs_taker<S: Set>(a: usize, b: usize) {
    let sh = Arc::new(Shared::<S>::new());
    let markers: Vec<_> = [(a, 11u32), (b, 22)]
        .into_iter()
        .map(|(slot, v)| {
            let sh = sh.clone();
            spawn(move || assert!(sh.publish(slot, v), "slot {slot} was not marked before"))
        })
        .collect();
    let mut taken = sh.take();
    for m in markers {
        m.join().unwrap();
    }
    taken.extend(sh.take());
    for (slot, v) in [(a, 11u32), (b, 22)] {
        let n = taken.iter().filter(|t| t.0 == slot).count();
        assert!(n != 0, "slot {slot} lost: taken {taken:?}");
        assert!(n == 1, "slot {slot} taken {n} times: {taken:?}");
        assert!(taken.contains(&(slot, v)), "slot {slot} taken without its payload: {taken:?}");
    }
    assert_eq!(taken.len(), 2, "only the marked slots are taken: {taken:?}");
}

#[test]
fn two_markers_in_one_word_racing_a_take_lose_no_slot_and_take_none_twice() {
    model!("slotset_same_word", || two_markers_vs_taker::<SlotSet>(3, 5));
}

#[test]
fn two_markers_in_two_words_racing_a_take_lose_no_slot_and_take_none_twice() {
    // Two bitmap words under one summary word: both first marks raise a summary bit.
    model!("slotset_two_words", || two_markers_vs_taker::<SlotSet>(3, 64 + 5));
}

/// Two threads mark the same slot while the taker takes: the slot is taken once per mark that
/// reported it new (a mark finding it already marked merges with the pending one), at least once.
fn one_slot_marked_twice_vs_taker<S: Set>() {
    let s = Arc::new(S::with_slots(SLOTS));
    let markers: Vec<_> = (0..2)
        .map(|_| {
            let s = s.clone();
            spawn(move || s.mark(7))
        })
        .collect();
    let mut taken = 0usize;
    s.take_all(&mut |slot| {
        assert_eq!(slot, 7);
        taken += 1;
    });
    let new_marks = markers.into_iter().map(|m| m.join().unwrap()).filter(|&n| n).count();
    s.take_all(&mut |slot| {
        assert_eq!(slot, 7);
        taken += 1;
    });
    assert!(new_marks >= 1, "the first mark reports the slot new");
    assert_eq!(taken, new_marks, "slot taken {taken} times for {new_marks} new marks");
}

#[test]
fn one_slot_marked_from_two_threads_is_taken_once_per_new_mark() {
    model!("slotset_same_slot", one_slot_marked_twice_vs_taker::<SlotSet>);
}

// ---- negative controls: the same models catch broken sets --------------------------------------------

/// `SlotSet`'s algorithm with a chosen mark: `fetch_or` or a load-then-store (a read-modify-write
/// that is not atomic), with the orderings given.
struct Broken<const LOAD_STORE: bool, const RELAXED: bool> {
    words: Vec<AtomicU64>,
    summary: Vec<AtomicU64>,
}

impl<const LOAD_STORE: bool, const RELAXED: bool> Broken<LOAD_STORE, RELAXED> {
    fn ord(o: Ordering) -> Ordering {
        if RELAXED { Ordering::Relaxed } else { o }
    }

    fn or(a: &AtomicU64, bits: u64) -> u64 {
        if LOAD_STORE {
            let prev = a.load(Self::ord(Ordering::Acquire));
            a.store(prev | bits, Self::ord(Ordering::Release));
            prev
        } else {
            a.fetch_or(bits, Self::ord(Ordering::AcqRel))
        }
    }
}

impl<const LOAD_STORE: bool, const RELAXED: bool> Set for Broken<LOAD_STORE, RELAXED> {
    fn with_slots(n: usize) -> Self {
        let words = n.div_ceil(64);
        Broken {
            words: (0..words).map(|_| AtomicU64::new(0)).collect(),
            summary: (0..words.div_ceil(64)).map(|_| AtomicU64::new(0)).collect(),
        }
    }
    fn mark(&self, slot: usize) -> bool {
        let (i, bit) = (slot / 64, 1u64 << (slot % 64));
        let prev = Self::or(&self.words[i], bit);
        if prev == 0 {
            Self::or(&self.summary[i / 64], 1 << (i % 64));
        }
        prev & bit == 0
    }
    fn take_all(&self, f: &mut dyn FnMut(usize)) {
        for (j, s) in self.summary.iter().enumerate() {
            if s.load(Self::ord(Ordering::Acquire)) == 0 {
                continue;
            }
            let mut words = s.swap(0, Self::ord(Ordering::AcqRel));
            while words != 0 {
                let i = j * 64 + words.trailing_zeros() as usize;
                words &= words - 1;
                let mut bits = self.words[i].swap(0, Self::ord(Ordering::AcqRel));
                while bits != 0 {
                    f(i * 64 + bits.trailing_zeros() as usize);
                    bits &= bits - 1;
                }
            }
        }
    }
}

/// The copy itself is right with `fetch_or` and acquire/release: the controls below fail for the
/// change they make, not for a slip in the copy.
#[test]
fn the_broken_copy_with_nothing_broken_passes() {
    model!("slotset_copy_intact", || two_markers_vs_taker::<Broken<false, false>>(3, 5));
}

/// Every ordering `Relaxed`: the taker's read of a slot's payload is not ordered after the
/// marker's write.
#[test]
#[should_panic(expected = "Causality violation")]
fn relaxed_orderings_are_caught_by_loom() {
    model!("slotset_relaxed (must fail)", || two_markers_vs_taker::<Broken<false, true>>(3, 64 + 5));
}

/// A mark that loads then stores the word: two markers in one word overwrite each other's bit.
#[test]
#[should_panic(expected = "lost")]
fn a_non_atomic_mark_is_caught_losing_a_slot() {
    model!("slotset_load_store (must fail)", || two_markers_vs_taker::<Broken<true, false>>(3, 5));
}
