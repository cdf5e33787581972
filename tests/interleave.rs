//! Random interleavings (issue 8, deliver 1): proptest drives two lab nodes through random client
//! operations — including misuse (stale handles, double delete, close during make, sends on
//! idle, closing and deleted VCs, frames of impossible lengths) — network events (offers with any
//! VCI, valid and garbage Q.2931 messages with any call reference, RESTART, STATUS ENQUIRY, raw
//! SSCOP garbage), link flaps, timer expiries, and real concurrent sender threads flooding a VC
//! while it closes.
//!
//! Oracle: the lab's verifier (every rule, tightened for issue 8 item 1) sees no violation; every
//! NBL a client sent is completed exactly once; after halt nothing is live (zero leaks).
//!
//! Cases: 10 000 in `cargo test` (`INTERLEAVE_CASES` for another count); the million-case run is
//! `cargo test --release --test interleave -- --ignored` (by hand). Shrunk failures are kept in
//! `tests/interleave.proptest-regressions` and replayed first.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use atmmcm_hw::host::{Client, Nbl, VcHandle};
use atmmcm_hw::lab::{Lab, LabConfig, call_to};
use atmmcm_hw::network::OfferParams;
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};

/// The 10 000 cases. They fit in `cargo test` because the lab (atmmcm-hw), the driver
/// crate and the dependencies are built with `opt-level = 1` in the dev profile (Cargo.toml;
/// overflow checks and debug assertions stay on) and each node is initialized for 64 VCs, not
/// 1 024: a case's cost is almost all adapter, NIC-model and SSCOP buffer set-up. About 12 ms of
/// CPU a case (was 63 ms at opt-level 0 with 1 024 VCs).
const DEFAULT_CASES: u32 = 10_000;

/// VCs, active VCs and parties each node is initialized for: the ops touch at most a few dozen
/// VCs, and the rings and tables of 1 024 (the registry default) dominated the run time.
const LAB_VCS: usize = 64;

#[derive(Clone, Debug)]
enum Op {
    /// A new VC on `side` and a call to the other node (or to the network's own number).
    MakeCall { side: usize, remote: bool },
    /// NdisClCloseCall on the `k`-th VC the side ever had (any state; with CloseData or not).
    Close { side: usize, k: usize, data: bool },
    /// NdisCoDeleteVc on the `k`-th VC (double delete, active VC: misuse included).
    Delete { side: usize, k: usize },
    /// `n` frames of `len` octets on the `k`-th VC (0 and > 65 535 included).
    Send { side: usize, k: usize, n: usize, len: usize },
    /// Four threads flood the `k`-th VC while the side closes it.
    FloodClose { side: usize, k: usize },
    /// An OID query on the `k`-th VC (or none), any OID, any buffer size.
    Oid { side: usize, k: usize, oid: u32, len: usize },
    /// The network offers a call to node `side` on VPI/VCI (reserved ones included).
    Offer { side: usize, vci: u16 },
    /// A hand-made Q.2931 message to node `side`: type, call reference (any), body bytes.
    Message { side: usize, ty: u8, cref: u32, body: Vec<u8> },
    /// Raw garbage on 0/5 (an SSCOP PDU that may not parse).
    SscopGarbage { side: usize, bytes: Vec<u8> },
    /// PHY down, some time, PHY up.
    Flap { side: usize, down_ms: u64 },
    /// Virtual time passes (timers expire).
    Advance { ms: u64 },
}

fn op() -> impl Strategy<Value = Op> {
    let side = 0usize..2;
    let k = 0usize..6;
    prop_oneof![
        4 => (side.clone(), any::<bool>()).prop_map(|(side, remote)| Op::MakeCall { side, remote }),
        3 => (side.clone(), k.clone(), any::<bool>()).prop_map(|(side, k, data)| Op::Close { side, k, data }),
        1 => (side.clone(), k.clone()).prop_map(|(side, k)| Op::Delete { side, k }),
        4 => (side.clone(), k.clone(), 1usize..6, prop_oneof![8 => 1usize..2000, 1 => Just(0usize), 1 => 65_535usize..70_000])
            .prop_map(|(side, k, n, len)| Op::Send { side, k, n, len }),
        1 => (side.clone(), k.clone()).prop_map(|(side, k)| Op::FloodClose { side, k }),
        1 => (side.clone(), k.clone(), prop_oneof![Just(0x0001_0107u32), Just(0x0001_0114), Just(0x0808_0107), Just(0x0808_010B), any::<u32>()], 0usize..16)
            .prop_map(|(side, k, oid, len)| Op::Oid { side, k, oid, len }),
        2 => (side.clone(), prop_oneof![0u16..40, 32u16..2000]).prop_map(|(side, vci)| Op::Offer { side, vci }),
        2 => (side.clone(), prop_oneof![Just(0x4Du8), Just(0x5A), Just(0x75), Just(0x7D), Just(0x46), Just(0x07), Just(0x02), any::<u8>()],
              prop_oneof![0u32..8, any::<u32>()], proptest::collection::vec(any::<u8>(), 0..24))
            .prop_map(|(side, ty, cref, body)| Op::Message { side, ty, cref, body }),
        1 => (side.clone(), proptest::collection::vec(any::<u8>(), 0..40)).prop_map(|(side, bytes)| Op::SscopGarbage { side, bytes }),
        1 => (side.clone(), 0u64..3000).prop_map(|(side, down_ms)| Op::Flap { side, down_ms }),
        3 => (0u64..40_000).prop_map(|ms| Op::Advance { ms }),
    ]
}

/// The side's `k`-th VC (modulo how many it ever had), counting the incoming ones the driver
/// created; deleted ones stay in the list (stale handles).
fn pick(c: &Client, vcs: &mut Vec<VcHandle>, k: usize) -> Option<VcHandle> {
    for call in c.incoming_calls() {
        if !vcs.contains(&call.vc) {
            vcs.push(call.vc);
        }
    }
    if vcs.is_empty() { None } else { vcs.get(k % vcs.len()).copied() }
}

struct World {
    lab: Lab,
    clients: [Client; 2],
    vcs: [Vec<VcHandle>; 2],
    /// (side, NBL) sent.
    sent: Vec<(usize, Nbl)>,
}

impl World {
    fn new() -> World {
        let lab = Lab::with(LabConfig::default().nodes(&[b"1001", b"1002"]).with_config(|c| {
            c.max_vcs = LAB_VCS;
            c.max_active_vcs = LAB_VCS;
            c.max_parties = LAB_VCS;
        }));
        let a = lab.node(0).client();
        let b = lab.node(1).client();
        for c in [&a, &b] {
            c.open_af().expect("open AF");
            c.register_sap(None).expect("wildcard SAP");
        }
        World { lab, clients: [a, b], vcs: [Vec::new(), Vec::new()], sent: Vec::new() }
    }

    fn apply(&mut self, op: &Op) {
        let lab = &self.lab;
        match *op {
            Op::MakeCall { side, remote } => {
                let c = &self.clients[side];
                if let Ok(vc) = c.create_vc() {
                    self.vcs[side].push(vc);
                    let to: &[u8] = if remote {
                        b"9999"
                    } else if side == 0 {
                        b"1002"
                    } else {
                        b"1001"
                    };
                    c.make_call(vc, call_to(to));
                }
                lab.settle();
            }
            Op::Close { side, k, data } => {
                if let Some(vc) = pick(&self.clients[side], &mut self.vcs[side], k) {
                    let d: Option<&[u8]> = if data { Some(b"bye") } else { None };
                    self.clients[side].close_call(vc, None, d);
                }
                lab.settle();
            }
            Op::Delete { side, k } => {
                if let Some(vc) = pick(&self.clients[side], &mut self.vcs[side], k) {
                    self.clients[side].delete_vc(vc);
                }
                lab.settle();
            }
            Op::Send { side, k, n, len } => {
                if let Some(vc) = pick(&self.clients[side], &mut self.vcs[side], k) {
                    let frames = (0..n).map(|i| vec![i as u8; len]).collect();
                    let nbls = self.clients[side].send(vc, frames);
                    self.sent.extend(nbls.into_iter().map(|x| (side, x)));
                }
                lab.settle();
            }
            Op::FloodClose { side, k } => {
                let Some(vc) = pick(&self.clients[side], &mut self.vcs[side], k) else { return };
                let c = self.clients[side].clone();
                let sent = std::sync::Mutex::new(Vec::new());
                lab.threaded(|_| {
                    std::thread::scope(|s| {
                        for t in 0..4u8 {
                            let (c, sent) = (c.clone(), &sent);
                            s.spawn(move || {
                                let mut mine = Vec::new();
                                for _ in 0..30 {
                                    mine.extend(c.send(vc, vec![vec![t; 64]]));
                                }
                                sent.lock().unwrap().extend(mine);
                            });
                        }
                        std::thread::yield_now();
                        c.close_call(vc, None, None);
                    });
                });
                self.sent.extend(sent.into_inner().unwrap().into_iter().map(|x| (side, x)));
            }
            Op::Oid { side, k, oid, len } => {
                let vc = pick(&self.clients[side], &mut self.vcs[side], k);
                let mut buf = vec![0u8; len];
                self.clients[side].oid_request(vc, oid, true, &mut buf);
            }
            Op::Offer { side, vci } => {
                let now = lab.now();
                let port = lab.node(side).port;
                lab.network().offer_call(
                    now,
                    port,
                    b"5555",
                    OfferParams { vpi: 0, vci: Some(vci), ..Default::default() },
                );
                lab.settle();
            }
            Op::Message { side, ty, cref, ref body } => {
                let c = cref & 0x00FF_FFFF;
                let mut m = vec![0x09, 0x03, (c >> 16) as u8, (c >> 8) as u8, c as u8, ty, 0x80];
                m.extend_from_slice(&(body.len() as u16).to_be_bytes());
                m.extend_from_slice(body);
                let now = lab.now();
                let port = lab.node(side).port;
                lab.network().send_raw(now, port, &m);
                lab.settle();
            }
            Op::SscopGarbage { side, ref bytes } => {
                let port = lab.node(side).port;
                lab.network().inject_data(port, 0, 5, bytes);
                lab.settle();
            }
            Op::Flap { side, down_ms } => {
                lab.set_link(side, false);
                lab.advance(Duration::from_millis(down_ms));
                lab.set_link(side, true);
            }
            Op::Advance { ms } => lab.advance(Duration::from_millis(ms)),
        }
    }

    /// Runs the world out, halts both nodes and checks the oracle.
    fn finish(self) -> Result<(), String> {
        let lab = &self.lab;
        lab.advance(Duration::from_secs(60));
        lab.halt_all();
        for (i, n) in lab.nodes.iter().enumerate() {
            n.ndis.check_outstanding();
            let v = n.ndis.violations();
            if !v.is_empty() {
                let calls: Vec<String> = v
                    .iter()
                    .filter_map(|x| x.vc)
                    .flat_map(|vc| n.ndis.ndis_calls_on(vc))
                    .filter(|c| !c.contains("SendNetBufferLists"))
                    .collect();
                return Err(format!(
                    "node {i}: {}\ncalls on the VC (sends left out): {calls:?}",
                    v.iter().map(|v| format!("{v}\n")).collect::<String>()
                ));
            }
            let l = n.adapter.live_objects();
            if (l.afs, l.saps, l.vcs, l.calls, l.parties) != (0, 0, 0, 0, 0) {
                return Err(format!("node {i}: live objects after halt: {l:?}"));
            }
        }
        let mut done: HashMap<(usize, Nbl), usize> = HashMap::new();
        for (side, c) in self.clients.iter().enumerate() {
            for d in c.send_completions() {
                *done.entry((side, d.nbl)).or_default() += 1;
            }
        }
        for key in &self.sent {
            let n = done.get(key).copied().unwrap_or(0);
            if n != 1 {
                return Err(format!("{key:?} completed {n} times"));
            }
        }
        if done.len() != self.sent.len() {
            return Err(format!("{} NBLs completed, {} sent", done.len(), self.sent.len()));
        }
        Ok(())
    }
}

fn run(ops: &[Op]) -> Result<(), String> {
    let mut w = World::new();
    for op in ops {
        w.apply(op);
    }
    w.finish()
}

/// The seed `cargo test` explores (a fixed one, so CI runs the same cases every time);
/// `INTERLEAVE_SEED=<u64>` picks another, `INTERLEAVE_SEED=random` a fresh one per run (by hand,
/// with `INTERLEAVE_CASES` for long explorations).
const DEFAULT_SEED: u64 = 0x0a71_ac3e_5eed_0001;

fn seed() -> proptest::test_runner::RngSeed {
    use proptest::test_runner::RngSeed;
    match std::env::var("INTERLEAVE_SEED").as_deref() {
        Ok("random") => RngSeed::Random,
        Ok(s) => RngSeed::Fixed(s.parse().unwrap_or(DEFAULT_SEED)),
        Err(_) => RngSeed::Fixed(DEFAULT_SEED),
    }
}

fn config(cases: u32) -> Config {
    Config {
        cases,
        rng_seed: seed(),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct("tests/interleave.proptest-regressions"))),
        ..Config::default()
    }
}

fn cases() -> u32 {
    std::env::var("INTERLEAVE_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_CASES)
}

proptest! {
    #![proptest_config(config(cases()))]
    #[test]
    fn random_interleavings_keep_every_rule_complete_every_nbl_once_and_leak_nothing(
        ops in proptest::collection::vec(op(), 1..24)
    ) {
        if let Err(e) = run(&ops) {
            prop_assert!(false, "{}", e);
        }
    }
}

/// The long run, by hand: `cargo test --release --test interleave -- --ignored --nocapture`.
/// `INTERLEAVE_LONG_CASES=n` runs `n` cases instead of 1 000 000, so the million can be split
/// across processes with different `INTERLEAVE_SEED`s (one per CPU).
#[test]
#[ignore]
fn a_million_random_interleavings() {
    let cases = std::env::var("INTERLEAVE_LONG_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let mut runner = proptest::test_runner::TestRunner::new(config(cases));
    // Progress on stderr every 10 000 cases (with --nocapture), so a run stopped early still says
    // how far it got and at what rate.
    let start = std::time::Instant::now();
    let done = std::sync::atomic::AtomicU64::new(0);
    let r = runner.run(&proptest::collection::vec(op(), 1..24), |ops| {
        let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        if n.is_multiple_of(10_000) {
            let s = start.elapsed().as_secs_f64();
            eprintln!("interleave: {n} cases in {s:.0} s ({:.0} cases/s)", n as f64 / s);
        }
        run(&ops).map_err(proptest::test_runner::TestCaseError::fail)
    });
    eprintln!("interleave: {} cases run in {:.0} s", done.into_inner(), start.elapsed().as_secs_f64());
    if let Err(e) = r {
        panic!("{e}");
    }
}

/// The oracle itself can fail: a world where an NBL is sent and the check is told of a phantom
/// one reports it.
#[test]
fn the_oracle_rejects_a_never_completed_nbl() {
    let mut w = World::new();
    w.sent.push((0, Nbl(u32::MAX as _)));
    assert!(w.finish().is_err());
}

/// Found by the 10 000-case release run (issue 8): after this sequence node 1's halt returned
/// before its address family was closed (HALT-NOTIFY-AF, CMP-ONCE). Kept as a regression case; it passes since the merges of this session (cause not isolated).
#[test]
fn halt_closes_the_af_after_garbage_a_flooded_close_and_offers_on_both_sides() {
    let ops = vec![
        Op::MakeCall { side: 1, remote: true },
        Op::SscopGarbage { side: 1, bytes: vec![23, 227, 155, 209, 1, 119, 38, 206, 1, 155, 181, 159] },
        Op::Send { side: 0, k: 0, n: 2, len: 1967 },
        Op::Close { side: 1, k: 0, data: true },
        Op::Message {
            side: 1,
            ty: 7,
            cref: 0,
            body: vec![
                232, 159, 196, 2, 73, 208, 107, 92, 173, 229, 116, 112, 196, 157, 193, 71, 241, 66, 142, 192, 126, 61,
                90,
            ],
        },
        Op::Close { side: 0, k: 0, data: true },
        Op::Send { side: 1, k: 0, n: 5, len: 1228 },
        Op::MakeCall { side: 1, remote: false },
        Op::Send { side: 0, k: 3, n: 4, len: 1544 },
        Op::Offer { side: 1, vci: 37 },
        Op::SscopGarbage { side: 1, bytes: vec![190, 201, 114, 39, 189, 163, 150, 30] },
        Op::FloodClose { side: 1, k: 4 },
        Op::Close { side: 1, k: 3, data: true },
        Op::Offer { side: 1, vci: 1444 },
        Op::Offer { side: 1, vci: 77 },
        Op::Offer { side: 0, vci: 128 },
        Op::Advance { ms: 2473 },
        Op::Message { side: 1, ty: 156, cref: 2773220261, body: vec![35, 199, 212, 118] },
        Op::Offer { side: 1, vci: 24 },
        Op::Send { side: 0, k: 0, n: 4, len: 185 },
    ];
    if let Err(e) = run(&ops) {
        panic!("{e}");
    }
}

/// Found on main after the T316 merge (`INTERLEAVE_CASES` default run): node 0 calls node 1, its
/// delete is refused (call up), SSCOP garbage reaches node 0, then node 0 closes the call twice.
/// The second ProtocolCmCloseCall returns CLOSING while the first still pends; the first's
/// NdisMCmCloseCallComplete must still end the close, so the halt's teardown deletes the VC and
/// closes the AF (HALT-NOTIFY-AF, CMP-ONCE on NotifyCloseAf).
#[test]
fn halt_closes_the_af_after_a_redundant_close_call_returned_closing() {
    let ops = vec![
        Op::MakeCall { side: 0, remote: false },
        Op::Delete { side: 0, k: 0 },
        Op::MakeCall { side: 1, remote: true },
        Op::SscopGarbage { side: 0, bytes: vec![0, 0, 0, 1, 249, 0, 0, 0] },
        Op::Close { side: 0, k: 0, data: false },
        Op::Close { side: 0, k: 0, data: false },
    ];
    if let Err(e) = run(&ops) {
        panic!("{e}");
    }
}

/// Arms node 0's NDIS so that, on the thread about to make the next NdisMCmActivateVc (the
/// drainer, its op taken), the client's close of `vc` runs on another thread first and pends.
/// The flag says the hook ran.
fn close_on_another_thread_before_the_next_activation(
    w: &World,
    a: &Client,
    vc: VcHandle,
) -> std::sync::Arc<std::sync::atomic::AtomicBool> {
    let ran = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (closer, flag) = (a.clone(), ran.clone());
    w.lab.node(0).ndis.before_next_activate(move || {
        let st = std::thread::spawn(move || closer.close_call(vc, None, None)).join().expect("closer thread");
        assert_eq!(st, atmmcm::ndis::NdisStatus::PENDING, "the close of a call being made pends");
        flag.store(true, std::sync::atomic::Ordering::SeqCst);
    });
    ran
}

/// The flaky 10 000-case failure (regression `cc 73d7cbfc…`, VC-ACTIVATE-OPEN "NdisMCmActivateVc
/// with call phase Closing"), made deterministic: node 0's call is answered, the drainer takes the
/// activation under the control lock and — before it makes NdisMCmActivateVc — the client closes
/// the still-pending call on another thread (a FloodClose closer). The driver decided the
/// activation while the call was being made; the close then aborts the MakeCall, deactivates the
/// VC and completes. The verifier must stay clean and nothing may leak.
#[test]
fn a_close_during_make_on_another_thread_overtaking_the_activation_is_clean() {
    let mut w = World::new();
    let a = w.clients[0].clone();
    let vc = a.create_vc().expect("create VC");
    w.vcs[0].push(vc);
    let ran = close_on_another_thread_before_the_next_activation(&w, &a, vc);
    a.make_call(vc, call_to(b"1002"));
    w.lab.settle();
    assert!(ran.load(std::sync::atomic::Ordering::SeqCst), "the activation was made (and the close ran before it)");
    if let Err(e) = w.finish() {
        panic!("{e}");
    }
}

/// The same race on a PVC: no signalling, so the close during make can settle (network done, data
/// path drained) before the overtaken activation returns; the VC must still be deactivated before
/// the close completes, and the verifier stay clean.
#[test]
fn a_close_during_a_pvc_make_overtaking_the_activation_still_deactivates_first() {
    let mut w = World::new();
    let a = w.clients[0].clone();
    let vc = a.create_vc().expect("create VC");
    w.vcs[0].push(vc);
    let ran = close_on_another_thread_before_the_next_activation(&w, &a, vc);
    let mut p = call_to(b"0");
    p.called = None;
    p.flags |= atmmcm::ndis::call_flags::PERMANENT_VC;
    p.media.connection_id = atmmcm::ndis::VpiVci { vpi: 0, vci: 100 };
    a.make_call(vc, p);
    w.lab.settle();
    assert!(ran.load(std::sync::atomic::Ordering::SeqCst), "the activation was made (and the close ran before it)");
    let calls = w.lab.node(0).ndis.ndis_calls_on(vc);
    let at = |name: &str| calls.iter().position(|c| c.starts_with(name));
    assert!(
        at("NdisMCmDeactivateVc") < at("NdisMCmCloseCallComplete"),
        "deactivated before the close completed: {calls:?}"
    );
    assert!(at("NdisMCmDeactivateVc").is_some(), "{calls:?}");
    if let Err(e) = w.finish() {
        panic!("{e}");
    }
}

/// Issue 8, the million-case run's DATA-DRAINED-AT-DEACT (seed 20261207, case 192 333), made
/// deterministic. A client VC's first call closes (its rundown stays closing and sealed while the
/// VC is idle); the client makes a second call on it and, while that call is still being made, a
/// sender comes in: it enters the sealed rundown (so it counted as a *late* sender of the old
/// call), begins its send (the verifier's start: after the MakeCall, before any close) and is
/// preempted there holding its rejected NBL. The call connects (the rundown reopens), the client
/// closes it — and the close must wait for that sender before NdisMCmDeactivateVc: it began
/// before this close and is the new call's sender, whatever the word said when it came in.
#[test]
fn a_sender_entering_before_the_next_call_connects_is_waited_for_at_deactivate() {
    use std::sync::mpsc;
    let mut w = World::new();
    let a = w.clients[0].clone();
    // The client keeps its VC for the next call.
    a.set_policy(atmmcm_hw::host::Policy { delete_after_close: atmmcm_hw::host::When::Never, ..a.policy() });
    let vc = a.create_vc().expect("create VC");
    w.vcs[0].push(vc);
    a.make_call(vc, call_to(b"1002"));
    w.lab.settle();
    a.close_call(vc, None, None);
    w.lab.settle();
    let deactivations = |w: &World| {
        w.lab.node(0).ndis.ndis_calls_on(vc).iter().filter(|c| c.starts_with("NdisMCmDeactivateVc")).count()
    };
    assert_eq!(deactivations(&w), 1, "the first call was made and closed");

    // The second call is being made (SETUP sent, no CONNECT yet) when the sender comes.
    a.make_call(vc, call_to(b"1002"));
    let (parked_tx, parked_rx) = mpsc::channel::<()>();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    w.lab.node(0).ndis.after_next_send_start(move || {
        parked_tx.send(()).expect("test thread");
        go_rx.recv().expect("test thread");
    });
    let sender = {
        let a = a.clone();
        std::thread::spawn(move || a.send(vc, vec![vec![7u8; 64]]))
    };
    if parked_rx.recv_timeout(Duration::from_secs(20)).is_err() {
        panic!("the sender was not parked: {:?}", w.lab.node(0).ndis.ndis_calls_on(vc));
    }

    // CONNECT: the rundown reopens, the VC is activated, MakeCall completes; then the close.
    w.lab.settle();
    assert!(
        w.lab.node(0).ndis.ndis_calls_on(vc).iter().filter(|c| c.starts_with("NdisMCmActivateVc")).count() == 2,
        "the second call connected while the sender was parked"
    );
    let st = a.close_call(vc, None, None);
    w.lab.settle();
    let deact_while_parked = deactivations(&w);
    go_tx.send(()).expect("sender thread");
    let nbls = sender.join().expect("sender thread");
    w.sent.extend(nbls.into_iter().map(|x| (0, x)));
    w.lab.settle();
    let v = w.lab.node(0).ndis.violations();
    assert!(v.is_empty(), "verifier: {}", v.iter().map(|v| format!("{v}\n")).collect::<String>());
    assert_eq!(st, atmmcm::ndis::NdisStatus::PENDING, "the close waits (network release, data path)");
    assert_eq!(deact_while_parked, 1, "NdisMCmDeactivateVc made while a sender of the call was inside");
    assert_eq!(deactivations(&w), 2, "the close deactivated the VC once the sender left");
    if let Err(e) = w.finish() {
        panic!("{e}");
    }
}

/// Issue 8 (found by reading): a close of a PVC still being made whose data path drains on
/// another CPU while the overtaken NdisMCmActivateVc is in flight. The drainer took the
/// activation and is inside NdisMCmActivateVc (parked by the hook) when the client closes the
/// call on another thread and the DPC drains the data path and queues the close completion — the
/// VC not active yet as far as the driver knows. The activation then succeeds: the close must
/// still deactivate the VC before NdisMCmCloseCallComplete (never complete on an active VC).
#[test]
fn a_pvc_close_drained_while_the_overtaken_activation_is_in_flight_still_deactivates_first() {
    use std::sync::mpsc;
    let mut w = World::new();
    let a = w.clients[0].clone();
    let vc = a.create_vc().expect("create VC");
    w.vcs[0].push(vc);
    let (parked_tx, parked_rx) = mpsc::channel::<()>();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    w.lab.node(0).ndis.before_next_activate(move || {
        parked_tx.send(()).expect("test thread");
        go_rx.recv().expect("test thread");
    });
    let mut p = call_to(b"0");
    p.called = None;
    p.flags |= atmmcm::ndis::call_flags::PERMANENT_VC;
    p.media.connection_id = atmmcm::ndis::VpiVci { vpi: 0, vci: 100 };
    // The maker's thread becomes the drainer and parks inside its NdisMCmActivateVc.
    let maker = {
        let a = a.clone();
        std::thread::spawn(move || a.make_call(vc, p))
    };
    parked_rx.recv().expect("the drainer reached NdisMCmActivateVc");
    let st = a.close_call(vc, None, None);
    assert_eq!(st, atmmcm::ndis::NdisStatus::PENDING, "the close of a call being made pends");
    // Another CPU: the DPC drains the data path and the close's completion is decided.
    w.lab.settle();
    let calls = w.lab.node(0).ndis.ndis_calls_on(vc);
    assert!(
        !calls.iter().any(|c| c.starts_with("NdisMCmCloseCallComplete")),
        "the drainer is parked: nothing performed yet: {calls:?}"
    );
    go_tx.send(()).expect("maker thread");
    maker.join().expect("maker thread");
    w.lab.settle();
    let v = w.lab.node(0).ndis.violations();
    assert!(v.is_empty(), "verifier: {}", v.iter().map(|v| format!("{v}\n")).collect::<String>());
    let calls = w.lab.node(0).ndis.ndis_calls_on(vc);
    let at = |name: &str| calls.iter().position(|c| c.starts_with(name));
    assert!(at("NdisMCmActivateVc").is_some(), "{calls:?}");
    assert!(at("NdisMCmCloseCallComplete").is_some(), "{calls:?}");
    assert!(
        at("NdisMCmDeactivateVc").is_some_and(|d| Some(d) < at("NdisMCmCloseCallComplete")),
        "deactivated before the close completed: {calls:?}"
    );
    if let Err(e) = w.finish() {
        panic!("{e}");
    }
}
