//! Call storms through the whole signalling stack: the driver's Q.2931 over its SSCOP, AAL5
//! frames on 0/5 to the lab's independent network-side SSCOP + Q.2931 peer, and a thin NDIS
//! whose client answers at once (`support`). Virtual protocol time, real wall time measured.
//!
//! One-shot (each case sets up thousands of calls first, which criterion's sampling would
//! repeat hundreds of times): every case runs `CALLS_RUNS` times (default 3) and prints
//! min / median / max. Ids are stable:
//!
//! - `calls/link_loss_teardown_{1000,10000,65534}`: that many connected calls (offered by the
//!   network, accepted), the PHY is lost, T309 expires, every call is cleared towards the
//!   client (NdisMCmDispatchIncomingCloseCall → NdisClCloseCall → … → NdisMCmDeleteVc). Time per
//!   call, wall clock from the loss to the last VC deleted.
//! - `calls/release_storm_10000`: the network releases 10 000 connected calls at once (RELEASE
//!   each; RELEASE COMPLETE once each VC is closed). Calls released per second of wall time.
//! - `calls/setup_storm_10000`: the client makes 10 000 calls at once (SETUP, CONNECT, CONNECT
//!   ACKNOWLEDGE, NdisMCmMakeCallComplete). Calls set up per second of wall time.
//!
//! `cargo bench --bench calls` (`CALLS_ONLY=<substring>` picks cases, `CALLS_RUNS=<n>`).

mod support;

use std::time::{Duration, Instant};

use atmmcm::NdisStatus;
use support::CallBench;

const MAX_VCS: usize = 65534;

fn link_loss(n: usize) -> Duration {
    let b = CallBench::new(MAX_VCS.max(n));
    b.incoming_calls(n);
    assert_eq!(b.ndis.client().connected, n as u64, "all {n} calls connected");
    perf_ctl("enable");
    let t = Instant::now();
    lose_link(&b);
    let wall = t.elapsed();
    perf_ctl("disable");
    let c = b.ndis.client();
    assert_eq!(c.closed, n as u64, "every call closed");
    assert_eq!(c.deleted, n as u64, "every driver VC deleted");
    drop(c);
    assert_eq!(b.adapter.live_objects().vcs, 0, "no VC left in the driver");
    wall
}

/// With `CALLS_PERF_CTL=<fifo>` (perf record's `--control=fifo:<fifo>` with `-D -1`), the
/// timed region alone is sampled: `perf record -e cpu-clock -D -1 --control=fifo:ctl …`.
/// perf acts on the fifo asynchronously: a sleep (no cpu-clock samples) on the outside of the
/// region lets it catch up, so neither the set-up before nor the drop after is sampled.
fn perf_ctl(cmd: &str) {
    if let Ok(path) = std::env::var("CALLS_PERF_CTL") {
        use std::io::Write;
        if cmd == "disable" {
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut f = std::fs::OpenOptions::new().write(true).open(&path).expect("CALLS_PERF_CTL fifo");
        writeln!(f, "{cmd}").expect("write to CALLS_PERF_CTL fifo");
        drop(f);
        if cmd == "enable" {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The timed part of the link-loss teardown (`--toggle-collect=calls::lose_link`).
#[inline(never)]
fn lose_link(b: &CallBench) {
    b.nic().set_link(false);
    let now = Duration::from_micros(b.ndis.now_us());
    b.net.lock().unwrap().set_link(now, b.port, false);
    b.advance(Duration::from_secs(11));
    // Not a tail call: callgrind's `--toggle-collect` needs this frame around `advance`.
    std::hint::black_box(b);
}

fn release_storm(n: usize) -> Duration {
    let b = CallBench::new(MAX_VCS);
    let refs = b.incoming_calls(n);
    assert_eq!(b.ndis.client().connected, n as u64);
    let t = Instant::now();
    release_all(&b, &refs);
    let wall = t.elapsed();
    assert_eq!(b.ndis.client().closed, n as u64, "every call closed");
    assert_eq!(b.adapter.live_objects().vcs, 0);
    assert!(b.net.lock().unwrap().calls(b.port).is_empty(), "the network holds no call");
    wall
}

/// The timed part of the release storm (a function of its own for callgrind's
/// `--toggle-collect=calls::release_all`).
#[inline(never)]
fn release_all(b: &CallBench, refs: &[u32]) {
    let now = Duration::from_micros(b.ndis.now_us());
    {
        let mut net = b.net.lock().unwrap();
        for &r in refs {
            net.release(now, b.port, r, 16, None);
        }
    }
    b.advance(Duration::from_millis(100));
    std::hint::black_box(b);
}

fn setup_storm(n: usize) -> Duration {
    let b = CallBench::new(MAX_VCS);
    let mut vcs = Vec::with_capacity(n);
    for _ in 0..n {
        let h = b.ndis.new_handle();
        let vc = b.adapter.protocol_co_create_vc(b.af, h).expect("create vc");
        b.ndis.remember_client_vc(h, vc);
        vcs.push(vc);
    }
    let t = Instant::now();
    for &vc in &vcs {
        let mut p = atmmcm_hw::lab::call_to(b"9999");
        let (st, _) = b.adapter.protocol_cm_make_call(vc, &mut p, (), None);
        assert_eq!(st, NdisStatus::PENDING);
    }
    for _ in 0..3000 {
        b.advance(Duration::from_millis(10));
        let c = b.ndis.client();
        if c.made_ok + c.made_failed == n as u64 {
            break;
        }
    }
    let wall = t.elapsed();
    let c = b.ndis.client();
    assert_eq!(c.made_ok + c.made_failed, n as u64, "every MakeCall completed");
    if c.made_failed > 0 {
        println!("  setup storm: {} of {n} calls failed ({:?})", c.made_failed, b.adapter.control_stats());
    }
    wall
}

fn stats(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (v[0], v[v.len() / 2], v[v.len() - 1])
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: run one tiny case.
    let args: Vec<String> = std::env::args().collect();
    let smoke = !args.iter().any(|a| a == "--bench");
    let runs: usize = std::env::var("CALLS_RUNS").ok().and_then(|s| s.parse().ok()).unwrap_or(3);
    let only = std::env::var("CALLS_ONLY").ok();
    let want = |id: &str| only.as_deref().is_none_or(|o| id.contains(o));
    if smoke {
        link_loss(50);
        release_storm(50);
        setup_storm(50);
        println!("calls: smoke run passed (use `cargo bench --bench calls` to measure)");
        return;
    }
    let sizes: Vec<usize> = match std::env::var("CALLS_TEARDOWN_SIZES") {
        Ok(v) => v.split(',').filter_map(|x| x.parse().ok()).collect(),
        Err(_) => vec![1000, 10_000, 65_534],
    };
    for n in sizes {
        let id = format!("calls/link_loss_teardown_{n}");
        if !want(&id) {
            continue;
        }
        let per_call: Vec<f64> = (0..runs).map(|_| link_loss(n).as_secs_f64() * 1e6 / n as f64).collect();
        let (lo, med, hi) = stats(per_call);
        println!("{id}: µs per call min {lo:.2} median {med:.2} max {hi:.2}");
    }
    let id = "calls/release_storm_10000";
    if want(id) {
        let rate: Vec<f64> = (0..runs).map(|_| 10_000.0 / release_storm(10_000).as_secs_f64()).collect();
        let (lo, med, hi) = stats(rate);
        println!("{id}: calls/s min {lo:.0} median {med:.0} max {hi:.0}");
    }
    let id = "calls/setup_storm_10000";
    if want(id) {
        let rate: Vec<f64> = (0..runs).map(|_| 10_000.0 / setup_storm(10_000).as_secs_f64()).collect();
        let (lo, med, hi) = stats(rate);
        println!("{id}: calls/s min {lo:.0} median {med:.0} max {hi:.0}");
    }
}
