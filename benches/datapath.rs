//! The send path, driver only: MiniportCoSendNetBufferLists → per-VC ring → DPC → NIC transmit
//! descriptor → NIC completion → NdisMCoSendNetBufferListsComplete, on a null NIC and a thin
//! NDIS (`support`), so what is timed is the driver's own work. One iteration sends 32 frames and
//! runs the DPC once (the completions of one iteration are reaped by the next DPC, so NBLs
//! alternate between two sets); criterion's per-iteration time / 32 = time per frame.
//!
//! `cargo bench --bench datapath -- --noplot` (ids below are stable; see BENCHMARKS.md).
//! `DATAPATH_AB=31 cargo bench --bench datapath`: the round-robin goal as a paired A/B (`ab`).

mod support;

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group};
use support::DataBench;

const FRAMES: usize = 32;

/// `vcs` active VCs in a table of `max_vcs`; each iteration sends 32 frames of `len` octets,
/// `chain` NBLs per call, on `spread` consecutive VCs (round robin across iterations).
fn send_case(c: &mut Criterion, id: &str, max_vcs: usize, vcs: usize, len: usize, chain: usize) {
    let b = DataBench::new(max_vcs, vcs, 2 * FRAMES, len);
    let mut group = c.benchmark_group("datapath");
    group.throughput(Throughput::Elements(FRAMES as u64));
    let mut iter = 0usize;
    let mut next_vc = 0usize;
    if let Ok(n) = std::env::var("DATAPATH_IR_ITERS") {
        // One-shot for callgrind: `--toggle-collect=datapath::step`, Ir / (iterations × 32).
        for _ in 0..n.parse::<usize>().unwrap_or(1000) {
            step(&b, &mut iter, &mut next_vc, chain);
        }
    } else {
        group.bench_function(id, |bch| bch.iter(|| step(&b, &mut iter, &mut next_vc, chain)));
    }
    group.finish();
    // Everything sent was completed once, successfully (the last iteration's completions are
    // reaped by one more DPC).
    b.run_dpc();
    let done = b.ndis.0.completed.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(done, (iter * FRAMES) as u64, "{id}: every NBL completed exactly once");
    assert_eq!(b.ndis.0.completed_failed.load(std::sync::atomic::Ordering::Relaxed), 0, "{id}: none failed");
}

/// One iteration: 32 frames sent, the DPC run once.
#[inline(never)]
fn step(b: &DataBench, iter: &mut usize, next_vc: &mut usize, chain: usize) {
    let half = (*iter & 1) * FRAMES;
    *iter += 1;
    let mut k = 0;
    while k < FRAMES {
        let vc = b.vcs[*next_vc];
        *next_vc += 1;
        if *next_vc == b.vcs.len() {
            *next_vc = 0;
        }
        let head = b.ndis.chain(half + k, chain);
        b.adapter.miniport_co_send_net_buffer_lists(black_box(vc), head, 0);
        k += chain;
    }
    b.run_dpc();
}

/// Paired A/B of the round-robin goal in one process (`DATAPATH_AB=<rounds>`): 1 VC and 1 024 VCs
/// round robin (ids `send_64B_1vc_single`, `send_64B_1024vc_rr_single`), timed alternately in
/// short batches (`DATAPATH_AB_ITERS` iterations of 32 frames, default 2 000; the order flips
/// every round), so both see the same load. Prints ns/frame min / median / max per id, the
/// ratio of the minima (the least-disturbed cost of each) and min / median / max of the
/// per-round ratios.
fn ab(rounds: usize) {
    use std::time::Instant;
    let iters = std::env::var("DATAPATH_AB_ITERS").ok().and_then(|v| v.parse().ok()).unwrap_or(2000usize);
    let ids = ["send_64B_1vc_single", "send_64B_1024vc_rr_single"];
    let benches = [DataBench::new(1024, 1, 2 * FRAMES, 64), DataBench::new(1024, 1024, 2 * FRAMES, 64)];
    let mut state = [(0usize, 0usize); 2];
    let mut ns = [Vec::new(), Vec::new()];
    let batch = |k: usize, state: &mut [(usize, usize); 2]| {
        let (iter, next_vc) = &mut state[k];
        let t = Instant::now();
        for _ in 0..iters {
            step(&benches[k], iter, next_vc, 1);
        }
        t.elapsed().as_nanos() as f64 / (iters * FRAMES) as f64
    };
    for k in 0..2 {
        batch(k, &mut state); // warm-up
    }
    for r in 0..rounds {
        let order = if r % 2 == 0 { [0, 1] } else { [1, 0] };
        for k in order {
            let t = batch(k, &mut state);
            ns[k].push(t);
        }
    }
    let stats = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        (v[0], v[v.len() / 2], v[v.len() - 1])
    };
    let ratios: Vec<f64> = ns[1].iter().zip(&ns[0]).map(|(rr, one)| rr / one).collect();
    for k in 0..2 {
        let (lo, med, hi) = stats(&ns[k]);
        println!("ab datapath/{}: ns/frame min {lo:.1} median {med:.1} max {hi:.1} ({rounds} rounds)", ids[k]);
    }
    let (lo, med, hi) = stats(&ratios);
    println!(
        "ab round robin / 1 VC: ratio of minima {:.3}; per-round ratio min {lo:.3} median {med:.3} max {hi:.3}",
        stats(&ns[1]).0 / stats(&ns[0]).0
    );
    for (k, b) in benches.iter().enumerate() {
        b.run_dpc();
        let done = b.ndis.0.completed.load(std::sync::atomic::Ordering::Relaxed);
        assert_eq!(done, (state[k].0 * FRAMES) as u64, "{}: every NBL completed exactly once", ids[k]);
        assert_eq!(b.ndis.0.completed_failed.load(std::sync::atomic::Ordering::Relaxed), 0, "{}: none failed", ids[k]);
    }
}

fn benches(c: &mut Criterion) {
    let only = std::env::var("DATAPATH_ONLY").ok();
    let cases: &[(&str, usize, usize, usize, usize)] = &[
        // id, MaxVcs, active VCs, frame octets, NBLs per call
        ("send_64B_1vc_single", 1024, 1, 64, 1),
        ("send_64B_1vc_chain32", 1024, 1, 64, 32),
        ("send_64B_1024vc_rr_single", 1024, 1024, 64, 1),
        ("send_9180B_1vc_single", 1024, 1, 9180, 1),
        ("send_9180B_1vc_chain32", 1024, 1, 9180, 32),
        ("send_64B_1vc_single_maxvcs65534", 65534, 1, 64, 1),
        ("send_64B_1vc_chain32_maxvcs65534", 65534, 1, 64, 32),
    ];
    for &(id, max_vcs, vcs, len, chain) in cases {
        if only.as_deref().is_some_and(|o| !id.contains(o) || (std::env::var("DATAPATH_IR_ITERS").is_ok() && id != o)) {
            continue;
        }
        send_case(c, id, max_vcs, vcs, len, chain);
    }
}

criterion_group!(datapath, benches);

fn main() {
    if let Some(rounds) = std::env::var("DATAPATH_AB").ok().and_then(|v| v.parse().ok()) {
        ab(rounds);
        return;
    }
    datapath();
    Criterion::default().configure_from_args().final_summary();
}
