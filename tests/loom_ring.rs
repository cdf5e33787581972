//! Loom models of the rings: every interleaving (up to the preemption bound) of the real code,
//! with loom checking each slot access against the happens-before the atomics give.
//!
//! Run (seconds; `--nocapture` prints the executions explored per model):
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test --release --test loom_ring --test loom_rundown --test loom_slotset -- --nocapture`
//!
//! Two loom 0.7.2 limits shape the models:
//! - tokio-rs/loom#392 (open): right after `thread::spawn` loom can mark the new thread "skip"
//!   and explore ONE execution. Every model yields in the spawning thread ([`spawn`]);
//!   `loom_explores_both_orders_after_spawn` checks the workaround still works.
//! - loom has no "eventually visible": a thread that spins until another's store shows up can
//!   keep reading the old value, and the model never ends. So no model waits unboundedly: each
//!   push/pop is retried a bounded number of times ([`TRIES`]), and whatever is left is drained
//!   after the joins (when everything is visible) and checked there.
#![cfg(loom)]

mod loom_common;

use atmmcm::ring::SendRing;
use atmmcm::ring::lanes::Lanes;
use atmmcm::ring::mpsc::Mpsc;
use atmmcm::ring::spsc::Spsc;
use atmmcm::ring::sync::Ordering;
use loom::sync::Arc;
use loom::thread;
use loom_common::{model, spawn};

/// Attempts per push or pop inside a model before giving up (see the top).
const TRIES: usize = 2;

/// Calls `f` until it returns `true`, at most [`TRIES`] times, yielding in between.
fn retry(mut f: impl FnMut() -> bool) -> bool {
    for _ in 0..TRIES {
        if f() {
            return true;
        }
        thread::yield_now();
    }
    false
}

#[test]
fn loom_explores_both_orders_after_spawn() {
    use std::sync::Mutex;
    static SEEN: Mutex<Vec<usize>> = Mutex::new(Vec::new());
    model!("harness_store_load", || {
        let a = Arc::new(atmmcm::ring::sync::AtomicUsize::new(0));
        let b = a.clone();
        let t = spawn(move || {
            let _ = b.load(Ordering::Relaxed);
            b.store(1, Ordering::Relaxed);
        });
        let v = a.load(Ordering::Relaxed);
        t.join().unwrap();
        let mut seen = SEEN.lock().unwrap();
        if !seen.contains(&v) {
            seen.push(v);
        }
    });
    let mut seen = SEEN.lock().unwrap().clone();
    seen.sort();
    assert_eq!(seen, [0, 1], "loom must explore the load both before and after the store");
}

#[test]
fn spsc_push_pop_across_wrap_capacity_2_keeps_fifo() {
    model!("spsc_wrap_cap2", || {
        let r = Arc::new(Spsc::<u32>::new(2).unwrap());
        let rp = r.clone();
        // Three items through two slots: the third reuses slot 0 once the consumer freed it.
        let t = spawn(move || {
            let mut p = rp.producer().unwrap();
            let mut sent = 0u32;
            for v in 1..=3u32 {
                if !retry(|| p.push(v).is_ok()) {
                    break;
                }
                sent += 1;
            }
            sent
        });
        let mut want = 1u32;
        {
            let mut c = r.consumer().unwrap();
            for _ in 0..3 {
                if let Some(v) = c.pop() {
                    assert_eq!(v, want, "FIFO across the wrap");
                    want += 1;
                }
            }
        }
        let sent = t.join().unwrap();
        let mut c = r.consumer().unwrap();
        while let Some(v) = c.pop() {
            assert_eq!(v, want);
            want += 1;
        }
        assert_eq!(want - 1, sent, "every accepted item comes out exactly once");
    });
}

#[test]
fn spsc_batch_commit_is_seen_whole_or_not_at_all() {
    model!("spsc_batch_commit", || {
        let r = Arc::new(Spsc::<u32>::new(4).unwrap());
        // Move both indices to 2 first, so the batch of 3 wraps (slots 2, 3, 0).
        assert_eq!(r.producer().unwrap().push_slice(&[8, 9]), 2);
        assert_eq!(r.consumer().unwrap().pop_slice(&mut [0; 2]), 2);
        let rp = r.clone();
        let t = spawn(move || {
            let mut p = rp.producer().unwrap();
            assert_eq!(p.push_slice(&[1, 2, 3]), 3);
        });
        let mut c = r.consumer().unwrap();
        let mut out = [0u32; 4];
        let n = c.pop_slice(&mut out);
        assert!(n == 0 || n == 3, "one commit publishes the whole (wrapped) batch, saw {n}");
        if n == 3 {
            assert_eq!(&out[..3], &[1, 2, 3]);
        }
        drop(c);
        t.join().unwrap();
    });
}

#[test]
fn spsc_two_batches_against_two_chunk_reads_see_whole_batches_in_order() {
    model!("spsc_two_batches", || {
        let r = Arc::new(Spsc::<u32>::new(4).unwrap());
        // Indices at 3: the first batch wraps (slots 3, 0), the second reuses freed slots.
        assert_eq!(r.producer().unwrap().push_slice(&[7, 7, 7]), 3);
        assert_eq!(r.consumer().unwrap().pop_slice(&mut [0; 3]), 3);
        let rp = r.clone();
        let t = spawn(move || {
            let mut p = rp.producer().unwrap();
            assert_eq!(p.push_slice(&[1, 2]), 2);
            assert_eq!(p.push_iter([3, 4]), 2);
        });
        let mut c = r.consumer().unwrap();
        let mut seen = Vec::new();
        for _ in 0..2 {
            let n = c.pop_each(4, |v| seen.push(v));
            assert!(n.is_multiple_of(2), "a chunk read sees whole batches only, saw {n}");
        }
        t.join().unwrap();
        c.pop_each(4, |v| seen.push(v));
        assert_eq!(seen, [1, 2, 3, 4]);
    });
}

#[test]
fn spsc_full_ring_refuses_and_empty_ring_yields_nothing() {
    model!("spsc_full_empty", || {
        let r = Arc::new(Spsc::<u32>::new(2).unwrap());
        let rp = r.clone();
        let t = spawn(move || {
            let mut p = rp.producer().unwrap();
            let mut ok = 0u32;
            for v in 1..=3u32 {
                if p.push(v).is_ok() {
                    ok += 1;
                } else {
                    // Refused only when two are really in the ring: both earlier pushes landed.
                    assert_eq!(ok, 2);
                    break;
                }
            }
            ok
        });
        let mut c = r.consumer().unwrap();
        let first = c.pop();
        assert!(first.is_none() || first == Some(1), "empty yields nothing, else the oldest");
        let pushed = t.join().unwrap();
        let mut popped = u32::from(first.is_some());
        while let Some(v) = c.pop() {
            popped += 1;
            assert_eq!(v, popped);
        }
        assert_eq!(popped, pushed, "every accepted item comes out once");
    });
}

/// Two producers (two items each), one consumer: every accepted item exactly once, each
/// producer's items in its order.
fn two_producers_one_consumer<R: Send + Sync + 'static>(
    ring: R,
    push: fn(&R, usize, u32) -> bool,
    pop: fn(&R) -> Option<u32>,
) {
    let r = Arc::new(ring);
    let producers: Vec<_> = (0..2usize)
        .map(|i| {
            let r = r.clone();
            spawn(move || {
                let mut sent = 0u32;
                for k in 0..2u32 {
                    if !retry(|| push(&r, i, (i as u32) * 10 + k)) {
                        break;
                    }
                    sent += 1;
                }
                sent
            })
        })
        .collect();
    let mut next = [0u32, 10];
    let mut take = |v: u32| {
        let p = (v / 10) as usize;
        assert_eq!(v, next[p], "producer {p} out of order or duplicated");
        next[p] += 1;
    };
    for _ in 0..4 {
        if let Some(v) = pop(&r) {
            take(v);
        }
    }
    let sent: Vec<u32> = producers.into_iter().map(|t| t.join().unwrap()).collect();
    while let Some(v) = pop(&r) {
        take(v);
    }
    assert_eq!(next, [sent[0], 10 + sent[1]], "every accepted item arrives");
}

#[test]
fn send_ring_two_producers_one_consumer_exactly_once_in_order() {
    model!("send_ring_2p1c_cap2", || {
        two_producers_one_consumer(
            SendRing::<u32>::new(2, 2).unwrap(),
            |r, lane, v| r.push(lane, v).is_ok(),
            |r| {
                let mut out = [0u32; 1];
                (r.pop_batch(&mut out) == 1).then_some(out[0])
            },
        );
    });
}

#[test]
fn send_ring_batch_push_two_producers() {
    model!("send_ring_batch_2p1c", || {
        let r = Arc::new(SendRing::<u32>::new(4, 2).unwrap());
        let producers: Vec<_> = (0..2u32)
            .map(|i| {
                let r = r.clone();
                spawn(move || r.push_batch(i as usize, &[i * 10, i * 10 + 1, i * 10 + 2]))
            })
            .collect();
        // Concurrent pop while the batches land.
        let mut out = [0u32; 8];
        let early = r.pop_batch(&mut out);
        let sent: Vec<usize> = producers.into_iter().map(|t| t.join().unwrap()).collect();
        assert!((4..=6).contains(&(sent[0] + sent[1])), "batches are cut to fit, 4 slots fill");
        let late = r.pop_batch(&mut out[early..]);
        let got = &out[..early + late];
        assert_eq!(got.len(), sent[0] + sent[1], "every accepted item arrives");
        let mine = |p: u32| got.iter().copied().filter(|v| v / 10 == p).collect::<Vec<_>>();
        assert_eq!(mine(0), (0..sent[0] as u32).collect::<Vec<_>>(), "producer 0 in order");
        assert_eq!(mine(1), (10..10 + sent[1] as u32).collect::<Vec<_>>(), "producer 1 in order");
    });
}

/// The TX DPC's protocol with a [`SendRing`]: a sender pushes, then marks its VC ready (an
/// AcqRel read-modify-write, as `SlotSet::mark`); the DPC takes the mark (`SlotSet::take_all`'s
/// swap), then pops at most [`SendConsumer::claimed`] items, with no pop to find the ring empty.
/// Nothing is stranded: after the senders are done, one more take-and-pump has every item
/// popped exactly once. With `claimed` read before the mark is taken (`snapshot_first`, the
/// wrong order) an item pushed in between is left in the ring with its mark already taken.
///
/// [`SendConsumer::claimed`]: atmmcm::ring::SendConsumer::claimed
fn pump_bounded_by_claimed(snapshot_first: bool) {
    use loom::sync::atomic::AtomicBool;
    let r = Arc::new(SendRing::<u32>::new(2, 2).unwrap());
    let mark = Arc::new(AtomicBool::new(false));
    let producers: Vec<_> = (0..2u32)
        .map(|i| {
            let (r, mark) = (r.clone(), mark.clone());
            spawn(move || {
                assert!(r.push(i as usize, i).is_ok(), "two items fit two slots");
                mark.swap(true, Ordering::AcqRel);
            })
        })
        .collect();
    let mut got = Vec::new();
    let pump = |got: &mut Vec<u32>| {
        let mut c = r.consumer().expect("the only consumer");
        let early = c.claimed();
        if !mark.swap(false, Ordering::AcqRel) {
            return;
        }
        let n = if snapshot_first { early } else { c.claimed() };
        for _ in 0..n {
            match c.pop() {
                Some(v) => got.push(v),
                None => break,
            }
        }
    };
    pump(&mut got);
    for t in producers {
        t.join().unwrap();
    }
    pump(&mut got);
    got.sort_unstable();
    assert_eq!(got, [0, 1], "an item was stranded in the ring after its mark was taken");
}

#[test]
fn send_ring_pump_bounded_by_claimed_strands_nothing() {
    model!("send_ring_pump_claimed", || pump_bounded_by_claimed(false));
}

/// Negative control: the snapshot taken before the mark strands an item, and loom finds it.
#[test]
#[should_panic(expected = "stranded")]
fn send_ring_claimed_read_before_the_mark_is_caught_by_loom() {
    model!("send_ring_pump_claimed_early (must fail)", || pump_bounded_by_claimed(true));
}

#[test]
fn lanes_two_producers_one_consumer_exactly_once_in_order() {
    model!("lanes_2p1c_cap2", || {
        two_producers_one_consumer(
            Lanes::<u32>::new(2, 2).unwrap(),
            |r, lane, v| r.push(lane, v).is_ok(),
            |r| r.consumer().and_then(|mut c| c.pop()),
        );
    });
}

/// Negative control: with the SPSC commit stores weakened to `Relaxed`, the consumer reads a slot
/// the producer's write is not ordered before, and loom reports the race.
#[test]
#[should_panic(expected = "Causality violation")]
fn spsc_relaxed_commit_is_caught_by_loom() {
    model!("spsc_relaxed_commit (must fail)", || {
        let mut ring = Spsc::<u32>::new(2).unwrap();
        ring.loom_set_commit_ordering(Ordering::Relaxed);
        let r = Arc::new(ring);
        let rp = r.clone();
        let t = spawn(move || {
            let _ = rp.producer().unwrap().push(7);
        });
        if let Some(v) = r.consumer().unwrap().pop() {
            assert_eq!(v, 7);
        }
        t.join().unwrap();
    });
}

/// Negative control for the MPSC: `Relaxed` slot publish is caught the same way.
#[test]
#[should_panic(expected = "Causality violation")]
fn mpsc_relaxed_publish_is_caught_by_loom() {
    model!("mpsc_relaxed_publish (must fail)", || {
        let mut ring = Mpsc::<u32>::new(2).unwrap();
        ring.loom_set_publish_ordering(Ordering::Relaxed);
        let r = Arc::new(ring);
        let rp = r.clone();
        let t = spawn(move || {
            let _ = rp.push(7);
        });
        if let Some(v) = r.consumer().unwrap().pop() {
            assert_eq!(v, 7);
        }
        t.join().unwrap();
    });
}
