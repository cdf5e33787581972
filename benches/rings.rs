//! Ring throughput: threads moving 1 M `u64` items through a 1024-slot ring, against rtrb and
//! crossbeam's ArrayQueue. Indicative only (wall clock on a shared 2-core box); see BENCHMARKS.md.
//!
//! `cargo bench --bench rings -- --warm-up-time 1 --measurement-time 3 --noplot`
//! Paired A/B ratios (more robust on a shared box): `RING_AB=31 cargo bench --bench rings`
//! (`RING_AB_ONLY=b32` keeps the pairs whose ids contain `b32`).

use std::hint::black_box;
use std::thread;
use std::time::{Duration, Instant};

use atmmcm::ring::SendRing;
use atmmcm::ring::lanes::Lanes;
use atmmcm::ring::spsc::Spsc;
use criterion::{Criterion, Throughput, criterion_group};
use crossbeam_queue::ArrayQueue;
use rtrb::chunks::ChunkError;

const ITEMS: u64 = 1_000_000;
const CAP: usize = 1024;
const BATCH: usize = 32;

/// Sum of 0..ITEMS, the consumer's check that every item arrived once.
const SUM: u64 = ITEMS * (ITEMS - 1) / 2;

/// Spins before a waiting side yields its core (`RING_SPINS` overrides; read once per wait).
const SPINS: u32 = 64;

/// The same wait policy for every contender: spin a little, then give the core away (the box
/// has 2 cores and the two-producer cases run 3 threads).
struct Backoff(u32);
impl Backoff {
    fn new() -> Self {
        Backoff(0)
    }
    fn reset(&mut self) {
        self.0 = 0;
    }
    fn snooze(&mut self) {
        if self.0 < SPINS {
            std::hint::spin_loop();
            self.0 += 1;
        } else {
            thread::yield_now();
        }
    }
}

/// Runs the producers and the consumer on their own threads; returns the wall time from the
/// start to the consumer's last item.
fn run<P: FnOnce() + Send>(producers: Vec<P>, consume: impl FnOnce() -> u64 + Send) -> Duration {
    thread::scope(|s| {
        let start = Instant::now();
        for p in producers {
            s.spawn(p);
        }
        let sum = s.spawn(consume).join().unwrap();
        let t = start.elapsed();
        assert_eq!(sum, SUM);
        t
    })
}

/// The items producer `i` of `n` sends.
fn share(i: usize, n: usize) -> impl Iterator<Item = u64> {
    (i as u64..ITEMS).step_by(n)
}

/// Consumer loop for single-item pops.
fn consume_b1(mut pop: impl FnMut() -> Option<u64>) -> u64 {
    let (mut sum, mut got, mut b) = (0u64, 0u64, Backoff::new());
    while got < ITEMS {
        match pop() {
            Some(v) => {
                sum += v;
                got += 1;
                b.reset();
            }
            None => b.snooze(),
        }
    }
    sum
}

/// Producer loop for single-item pushes.
fn produce_b1(items: impl Iterator<Item = u64>, mut push: impl FnMut(u64) -> bool) {
    let mut b = Backoff::new();
    for v in items {
        while !push(v) {
            b.snooze();
        }
        b.reset();
    }
}

fn atmmcm_spsc_b1() -> Duration {
    let r = Spsc::<u64>::new(CAP).unwrap();
    run(
        vec![|| {
            let mut p = r.producer().unwrap();
            produce_b1(0..ITEMS, |v| p.push(v).is_ok());
        }],
        || {
            let mut c = r.consumer().unwrap();
            consume_b1(|| c.pop())
        },
    )
}

fn atmmcm_spsc_b32() -> Duration {
    let r = Spsc::<u64>::new(CAP).unwrap();
    run(
        vec![|| {
            let mut p = r.producer().unwrap();
            let (mut next, mut b) = (0u64, Backoff::new());
            while next < ITEMS {
                let n = p.push_iter(next..(next + BATCH as u64).min(ITEMS));
                if n == 0 {
                    b.snooze();
                } else {
                    next += n as u64;
                    b.reset();
                }
            }
        }],
        || {
            let mut c = r.consumer().unwrap();
            let (mut sum, mut got, mut b) = (0u64, 0u64, Backoff::new());
            while got < ITEMS {
                let n = c.pop_each(BATCH, |v| sum += v);
                if n == 0 {
                    b.snooze();
                    continue;
                }
                b.reset();
                got += n as u64;
            }
            sum
        },
    )
}

fn rtrb_b1() -> Duration {
    let (mut p, mut c) = rtrb::RingBuffer::<u64>::new(CAP);
    run(vec![move || produce_b1(0..ITEMS, |v| p.push(v).is_ok())], move || consume_b1(|| c.pop().ok()))
}

fn rtrb_b32() -> Duration {
    let (mut p, mut c) = rtrb::RingBuffer::<u64>::new(CAP);
    run(
        vec![move || {
            let (mut next, mut b) = (0u64, Backoff::new());
            while next < ITEMS {
                let want = (ITEMS - next).min(BATCH as u64) as usize;
                let chunk = match p.write_chunk_uninit(want) {
                    Ok(c) => Some(c),
                    Err(ChunkError::TooFewSlots(k)) if k > 0 => p.write_chunk_uninit(k).ok(),
                    Err(_) => None,
                };
                match chunk {
                    Some(chunk) => {
                        next += chunk.fill_from_iter(next..ITEMS) as u64;
                        b.reset();
                    }
                    None => b.snooze(),
                }
            }
        }],
        move || {
            let (mut sum, mut got, mut b) = (0u64, 0u64, Backoff::new());
            while got < ITEMS {
                let chunk = match c.read_chunk(BATCH) {
                    Ok(c) => Some(c),
                    Err(ChunkError::TooFewSlots(k)) if k > 0 => c.read_chunk(k).ok(),
                    Err(_) => None,
                };
                match chunk {
                    Some(chunk) => {
                        let (a, z) = chunk.as_slices();
                        sum += a.iter().sum::<u64>() + z.iter().sum::<u64>();
                        got += chunk.len() as u64;
                        chunk.commit_all();
                        b.reset();
                    }
                    None => b.snooze(),
                }
            }
            sum
        },
    )
}

fn crossbeam_b1() -> Duration {
    let q = ArrayQueue::<u64>::new(CAP);
    run(vec![|| produce_b1(0..ITEMS, |v| q.push(v).is_ok())], || consume_b1(|| q.pop()))
}

fn atmmcm_mpsc_b1() -> Duration {
    let r = SendRing::<u64>::new(CAP, 2).unwrap();
    let r = &r;
    run((0..2).map(|i| move || produce_b1(share(i, 2), |v| r.push(i, v).is_ok())).collect(), || {
        let mut c = r.consumer().unwrap();
        consume_b1(|| c.pop())
    })
}

fn atmmcm_lanes_b1() -> Duration {
    // Same total capacity as the others: two lanes of CAP / 2.
    let r = Lanes::<u64>::new(CAP / 2, 2).unwrap();
    let r = &r;
    run((0..2).map(|i| move || produce_b1(share(i, 2), |v| r.push(i, v).is_ok())).collect(), || {
        let mut c = r.consumer().unwrap();
        consume_b1(|| c.pop())
    })
}

fn crossbeam_mpsc_b1() -> Duration {
    let q = ArrayQueue::<u64>::new(CAP);
    let q = &q;
    run((0..2).map(|i| move || produce_b1(share(i, 2), |v| q.push(v).is_ok())).collect(), || consume_b1(|| q.pop()))
}

/// One thread, no cross-core traffic: push a batch, pop it, 1 M items. Isolates the code's own
/// cost (instructions, bounds checks, copies) from the cache-line ping-pong the 2-thread cases
/// measure, and is far less noisy on a shared box.
fn atmmcm_spsc_b32_1t() -> Duration {
    let r = Spsc::<u64>::new(CAP).unwrap();
    let (mut p, mut c) = (r.producer().unwrap(), r.consumer().unwrap());
    let start = Instant::now();
    let (mut next, mut sum) = (0u64, 0u64);
    while next < ITEMS {
        next += p.push_iter(next..(next + BATCH as u64).min(ITEMS)) as u64;
        c.pop_each(BATCH, |v| sum += v);
    }
    let t = start.elapsed();
    assert_eq!(sum, SUM);
    t
}

fn rtrb_b32_1t() -> Duration {
    let (mut p, mut c) = rtrb::RingBuffer::<u64>::new(CAP);
    let start = Instant::now();
    let (mut next, mut sum) = (0u64, 0u64);
    while next < ITEMS {
        let want = (ITEMS - next).min(BATCH as u64) as usize;
        next += p.write_chunk_uninit(want).unwrap().fill_from_iter(next..ITEMS) as u64;
        let chunk = c.read_chunk(c.slots()).unwrap();
        let (a, z) = chunk.as_slices();
        sum += a.iter().sum::<u64>() + z.iter().sum::<u64>();
        chunk.commit_all();
    }
    let t = start.elapsed();
    assert_eq!(sum, SUM);
    t
}

fn atmmcm_spsc_b1_1t() -> Duration {
    let r = Spsc::<u64>::new(CAP).unwrap();
    let (mut p, mut c) = (r.producer().unwrap(), r.consumer().unwrap());
    let start = Instant::now();
    let mut sum = 0u64;
    for v in 0..ITEMS {
        let _ = p.push(black_box(v));
        sum += c.pop().unwrap();
    }
    let t = start.elapsed();
    assert_eq!(sum, SUM);
    t
}

fn rtrb_b1_1t() -> Duration {
    let (mut p, mut c) = rtrb::RingBuffer::<u64>::new(CAP);
    let start = Instant::now();
    let mut sum = 0u64;
    for v in 0..ITEMS {
        let _ = p.push(black_box(v));
        sum += c.pop().unwrap();
    }
    let t = start.elapsed();
    assert_eq!(sum, SUM);
    t
}

fn rings_1thread(c: &mut Criterion) {
    let mut g = c.benchmark_group("ring_1thread");
    g.sample_size(10);
    g.throughput(Throughput::Elements(ITEMS));
    let cases: [Case; 4] = [
        ("atmmcm_spsc_b1", atmmcm_spsc_b1_1t),
        ("rtrb_b1", rtrb_b1_1t),
        ("atmmcm_spsc_b32", atmmcm_spsc_b32_1t),
        ("rtrb_b32", rtrb_b32_1t),
    ];
    for (id, case) in cases {
        g.bench_function(id, |b| b.iter_custom(|iters| (0..iters).map(|_| black_box(case())).sum()));
    }
    g.finish();
}

/// A bench id and the function that moves the 1 M items once.
type Case = (&'static str, fn() -> Duration);

fn rings(c: &mut Criterion) {
    let mut g = c.benchmark_group("ring");
    g.sample_size(10);
    g.throughput(Throughput::Elements(ITEMS));
    let cases: [Case; 8] = [
        ("atmmcm_spsc_b1", atmmcm_spsc_b1),
        ("atmmcm_spsc_b32", atmmcm_spsc_b32),
        ("rtrb_b1", rtrb_b1),
        ("rtrb_b32", rtrb_b32),
        ("crossbeam_b1", crossbeam_b1),
        ("atmmcm_mpsc_b1", atmmcm_mpsc_b1),
        ("atmmcm_lanes_b1", atmmcm_lanes_b1),
        ("crossbeam_mpsc_b1", crossbeam_mpsc_b1),
    ];
    for (id, case) in cases {
        g.bench_function(id, |b| b.iter_custom(|iters| (0..iters).map(|_| black_box(case())).sum()));
    }
    g.finish();
}

/// Paired A/B mode (`RING_AB=<rounds>`): runs each contender pair alternately, once each per
/// round (order flipped every round), and prints per-pair medians and the median of the
/// per-round ratios. On a shared 2-core box the load changes from second to second; a ratio
/// taken within one round sees (nearly) the same load on both sides, which criterion's
/// one-id-after-another blocks do not.
fn ab(rounds: usize) {
    let pairs: [(Case, Case); 5] = [
        (("atmmcm_spsc_b32", atmmcm_spsc_b32), ("rtrb_b32", rtrb_b32)),
        (("atmmcm_spsc_b1", atmmcm_spsc_b1), ("rtrb_b1", rtrb_b1)),
        (("atmmcm_spsc_b1", atmmcm_spsc_b1), ("crossbeam_b1", crossbeam_b1)),
        (("atmmcm_mpsc_b1", atmmcm_mpsc_b1), ("crossbeam_mpsc_b1", crossbeam_mpsc_b1)),
        (("atmmcm_mpsc_b1", atmmcm_mpsc_b1), ("atmmcm_lanes_b1", atmmcm_lanes_b1)),
    ];
    let median = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    let only = std::env::var("RING_AB_ONLY").unwrap_or_default();
    for ((an, af), (bn, bf)) in pairs {
        if !an.contains(only.as_str()) && !bn.contains(only.as_str()) {
            continue;
        }
        let (mut ta, mut tb, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..rounds {
            let (a, b) = if round % 2 == 0 {
                let a = af();
                (a, bf())
            } else {
                let b = bf();
                (af(), b)
            };
            let (a, b) = (a.as_secs_f64() * 1e3, b.as_secs_f64() * 1e3);
            ta.push(a);
            tb.push(b);
            // Speed ratio A over B: > 1 means A is faster.
            ratio.push(b / a);
        }
        let (ma, mb, mr) = (median(&mut ta), median(&mut tb), median(&mut ratio));
        println!(
            "ab {an} vs {bn}: median {ma:.2} ms vs {mb:.2} ms, min {:.2} vs {:.2} ms, median speed ratio {mr:.2} (rounds {rounds})",
            ta[0], tb[0]
        );
    }
}

criterion_group!(benches, rings, rings_1thread);

fn main() {
    if let Some(rounds) = std::env::var("RING_AB").ok().and_then(|v| v.parse().ok()) {
        ab(rounds);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
