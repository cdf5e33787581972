//! Real-thread stress tests: 1 M items through each multi-producer queue (and the SPSC ring),
//! checking every item arrives exactly once and each producer's items in its order.

use std::thread;
use std::vec::Vec;

use super::SendRing;
use super::lanes::Lanes;
use super::spsc::Spsc;

const ITEMS: u64 = 1_000_000;

/// An item: producer number in the high half, its sequence number in the low half.
fn item(producer: usize, seq: u64) -> u64 {
    ((producer as u64) << 32) | seq
}

/// The consumer's oracle: per producer, the next sequence number expected.
struct Checker {
    next: Vec<u64>,
    total: u64,
}

impl Checker {
    fn new(producers: usize) -> Self {
        Checker { next: std::vec![0; producers], total: 0 }
    }

    /// Accepts `v` if it is its producer's next item; otherwise says what is wrong.
    fn take(&mut self, v: u64) -> Result<(), &'static str> {
        let p = (v >> 32) as usize;
        let seq = v & 0xffff_ffff;
        let next = self.next.get_mut(p).ok_or("unknown producer")?;
        if seq < *next {
            return Err("duplicate (or reordered) item");
        }
        if seq > *next {
            return Err("item skipped (lost or reordered)");
        }
        *next += 1;
        self.total += 1;
        Ok(())
    }

    /// All `per_producer` items of every producer arrived.
    fn complete(&self, per_producer: u64) -> bool {
        self.next.iter().all(|&n| n == per_producer)
    }
}

/// Spin a little, then yield (the box has 2 cores; 5 threads share them).
fn wait(spins: &mut u32) {
    *spins += 1;
    if *spins < 64 {
        core::hint::spin_loop();
    } else {
        thread::yield_now();
    }
}

/// `producers` threads each send `ITEMS / producers` items with `push`; the calling thread
/// consumes with `pop_into` and checks.
fn run<R: Sync>(
    ring: &R,
    producers: usize,
    push: impl Fn(&R, usize, &[u64]) -> usize + Sync,
    pop_into: impl Fn(&R, &mut [u64]) -> usize,
    batch: usize,
) {
    let per = ITEMS / producers as u64;
    thread::scope(|s| {
        for p in 0..producers {
            let push = &push;
            s.spawn(move || {
                let mut buf = std::vec![0u64; batch];
                let mut seq = 0u64;
                let mut spins = 0;
                while seq < per {
                    let n = (per - seq).min(batch as u64) as usize;
                    for (i, b) in buf.iter_mut().take(n).enumerate() {
                        *b = item(p, seq + i as u64);
                    }
                    let done = push(ring, p, &buf[..n]);
                    if done == 0 {
                        wait(&mut spins);
                    } else {
                        spins = 0;
                        seq += done as u64;
                    }
                }
            });
        }
        let mut check = Checker::new(producers);
        let mut out = [0u64; 64];
        let mut spins = 0;
        while check.total < per * producers as u64 {
            let n = pop_into(ring, &mut out);
            if n == 0 {
                wait(&mut spins);
                continue;
            }
            spins = 0;
            for &v in &out[..n] {
                check.take(v).unwrap();
            }
        }
        assert!(check.complete(per));
    });
}

#[test]
fn send_ring_4_producers_single_pushes_1m_items_once_each_in_producer_order() {
    let r = SendRing::<u64>::new(1024, 4).unwrap();
    run(&r, 4, |r, lane, items| usize::from(r.push(lane, items[0]).is_ok()), |r, out| r.pop_batch(out), 1);
    assert!(r.is_empty());
}

#[test]
fn send_ring_2_producers_batch_pushes_1m_items_once_each_in_producer_order() {
    let r = SendRing::<u64>::new(256, 2).unwrap();
    run(&r, 2, |r, lane, items| r.push_batch(lane, items), |r, out| r.pop_batch(out), 16);
    assert!(r.is_empty());
}

#[test]
fn lanes_3_producers_1m_items_once_each_in_producer_order() {
    let r = Lanes::<u64>::new(256, 3).unwrap();
    run(
        &r,
        3,
        |r, lane, items| r.push_slice(lane, items),
        |r, out| r.consumer().map_or(0, |mut c| c.pop_slice(out)),
        8,
    );
    assert!(r.is_empty());
}

#[test]
fn spsc_1m_items_in_batches_arrive_in_order() {
    let r = Spsc::<u64>::new(512).unwrap();
    let mut p = r.producer().unwrap();
    let mut c = r.consumer().unwrap();
    thread::scope(|s| {
        s.spawn(move || {
            let (mut seq, mut spins) = (0u64, 0);
            while seq < ITEMS {
                let n = p.push_iter((seq..ITEMS).take(32).map(|i| item(0, i)));
                if n == 0 {
                    wait(&mut spins);
                } else {
                    spins = 0;
                    seq += n as u64;
                }
            }
        });
        let mut check = Checker::new(1);
        let (mut out, mut spins) = ([0u64; 48], 0);
        while check.total < ITEMS {
            let n = c.pop_slice(&mut out);
            if n == 0 {
                wait(&mut spins);
            }
            for &v in &out[..n] {
                check.take(v).unwrap();
            }
        }
        assert!(check.complete(ITEMS));
    });
}

#[test]
fn checker_rejects_duplicates_gaps_and_unknown_producers() {
    let mut c = Checker::new(2);
    assert_eq!(c.take(item(0, 0)), Ok(()));
    assert_eq!(c.take(item(1, 0)), Ok(()));
    assert!(c.take(item(0, 0)).is_err(), "duplicate");
    assert!(c.take(item(1, 2)).is_err(), "gap: item 1 of producer 1 missing");
    assert!(c.take(item(2, 0)).is_err(), "no producer 2");
    assert!(c.complete(1), "the rejected items changed nothing");
    assert_eq!(c.take(item(0, 1)), Ok(()));
    assert!(!c.complete(2), "producer 1 short");
}
