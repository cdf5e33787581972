//! Real threads against the real driver: several senders per VC, a DPC on its own thread, and
//! calls closed at random points. Every NBL must complete exactly once with the right status,
//! frames must arrive in order per sender, and nothing may be indicated after a close started
//! (the verifier's DATA-* rules watch every call).

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use atmmcm::NdisStatus;
use atmmcm_hw::host::{Nbl, VcState};
use atmmcm_hw::lab::{LabConfig, call_to};
use common::*;

fn frame(vc: usize, sender: usize, seq: u32, len: usize) -> Vec<u8> {
    let mut f = vec![0u8; len.max(8)];
    f[0..2].copy_from_slice(&(vc as u16).to_be_bytes());
    f[2] = sender as u8;
    f[3..7].copy_from_slice(&seq.to_be_bytes());
    for (i, b) in f.iter_mut().enumerate().skip(7) {
        *b = (i as u8) ^ (seq as u8);
    }
    f
}

/// Every sent NBL has exactly one completion, a status the close path may give, CLOSING when it
/// was sent after its VC's close returned; no completion for an NBL never sent. Counts per status.
fn check_completions(
    sent: &[(Nbl, usize, bool)],
    done: &[(Nbl, NdisStatus)],
) -> Result<HashMap<String, usize>, String> {
    let mut per_nbl: HashMap<Nbl, Vec<NdisStatus>> = HashMap::new();
    for (nbl, st) in done {
        per_nbl.entry(*nbl).or_default().push(*st);
    }
    let mut by_status: HashMap<String, usize> = HashMap::new();
    for (nbl, v, after_close) in sent {
        let st = per_nbl.get(nbl).cloned().unwrap_or_default();
        if st.len() != 1 {
            return Err(format!("NBL {nbl:?} on VC #{v} completed {} times", st.len()));
        }
        if *after_close && st[0] != NdisStatus::CLOSING {
            return Err(format!("NBL {nbl:?} sent after its VC's close returned completed with {:?}", st[0]));
        }
        if ![NdisStatus::SUCCESS, NdisStatus::SEND_ABORTED, NdisStatus::CLOSING].contains(&st[0]) {
            return Err(format!("unexpected status {:?}", st[0]));
        }
        *by_status.entry(format!("{:?}", st[0])).or_default() += 1;
    }
    if done.len() != sent.len() {
        return Err(format!("{} completions for {} NBLs sent", done.len(), sent.len()));
    }
    Ok(by_status)
}

/// Frames (far VC, bytes) arrive at most once, in order per (VC, sender), all of one VC's frames on
/// one far VC. Returns how many.
fn check_delivery(frames: &[(atmmcm_hw::host::VcHandle, Vec<u8>)]) -> Result<usize, String> {
    let mut seen: HashSet<(u16, u8, u32)> = HashSet::new();
    let mut last: HashMap<(u16, u8), u32> = HashMap::new();
    let mut far_vc_of: HashMap<u16, atmmcm_hw::host::VcHandle> = HashMap::new();
    for (vc, f) in frames {
        let v = u16::from_be_bytes([f[0], f[1]]);
        let (t, seq) = (f[2], u32::from_be_bytes([f[3], f[4], f[5], f[6]]));
        if !seen.insert((v, t, seq)) {
            return Err(format!("VC #{v} sender {t}: frame {seq} delivered twice"));
        }
        if let Some(prev) = last.insert((v, t), seq)
            && seq < prev
        {
            return Err(format!("VC #{v} sender {t}: {seq} after {prev}"));
        }
        if *far_vc_of.entry(v).or_insert(*vc) != *vc {
            return Err(format!("VC #{v}'s frames arrived on two far VCs"));
        }
    }
    Ok(frames.len())
}

#[test]
fn the_completion_oracle_rejects_a_double_a_missing_and_a_wrong_status_completion() {
    let (n1, n2) = (Nbl(1), Nbl(2));
    let sent = [(n1, 0, false), (n2, 0, true)];
    assert!(check_completions(&sent, &[(n1, NdisStatus::SUCCESS), (n2, NdisStatus::CLOSING)]).is_ok());
    assert!(
        check_completions(&sent, &[(n1, NdisStatus::SUCCESS), (n1, NdisStatus::SUCCESS), (n2, NdisStatus::CLOSING)])
            .is_err()
    );
    assert!(check_completions(&sent, &[(n2, NdisStatus::CLOSING)]).is_err());
    assert!(check_completions(&sent, &[(n1, NdisStatus::SUCCESS), (n2, NdisStatus::SUCCESS)]).is_err());
    assert!(check_completions(&sent, &[(n1, NdisStatus::FAILURE), (n2, NdisStatus::CLOSING)]).is_err());
}

#[test]
fn the_delivery_oracle_rejects_reordered_duplicated_and_split_frames() {
    let (x, y) = (atmmcm_hw::host::VcHandle(1), atmmcm_hw::host::VcHandle(2));
    let f = |seq| frame(3, 1, seq, 20);
    assert_eq!(check_delivery(&[(x, f(0)), (x, f(1)), (x, f(5))]), Ok(3));
    assert!(check_delivery(&[(x, f(1)), (x, f(0))]).is_err());
    assert!(check_delivery(&[(x, f(1)), (x, f(1))]).is_err());
    assert!(check_delivery(&[(x, f(0)), (y, f(1))]).is_err());
}

fn run(vcs_n: usize, senders: usize, frames_per_sender: usize, seed: u64) {
    let (lab, a, b) = two_nodes(LabConfig::default().with_config(|c| c.max_vcs = vcs_n + 16));
    let vcs: Vec<_> = (0..vcs_n)
        .map(|_| {
            let vc = a.create_vc().unwrap();
            assert_eq!(a.make_call(vc, call_to(b"1002")).0, NdisStatus::PENDING);
            vc
        })
        .collect();
    for _ in 0..80 {
        lab.advance(Duration::from_millis(250));
        if vcs.iter().all(|v| a.state(*v) == Some(VcState::Connected)) {
            break;
        }
    }
    assert!(vcs.iter().all(|v| a.state(*v) == Some(VcState::Connected)), "all calls up");

    let closed: Vec<AtomicBool> = (0..vcs_n).map(|_| AtomicBool::new(false)).collect();
    // (nbl, vc index, sent after the VC's close returned)
    let sent: Mutex<Vec<(Nbl, usize, bool)>> = Mutex::new(Vec::new());
    let closes_done = AtomicU64::new(0);
    let sends_done = AtomicU64::new(0);
    let total = (vcs_n * senders * frames_per_sender) as u64;
    lab.threaded(|_| {
        std::thread::scope(|s| {
            for t in 0..senders {
                let (a, vcs, closed, sent, sends_done) = (a.clone(), &vcs, &closed, &sent, &sends_done);
                s.spawn(move || {
                    let mut rng = Rng(seed ^ (t as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
                    let mut order: Vec<usize> = (0..vcs.len()).collect();
                    for seq in 0..frames_per_sender as u32 {
                        for i in (1..order.len()).rev() {
                            order.swap(i, rng.below(i + 1));
                        }
                        let mut mine = Vec::new();
                        for &v in &order {
                            let after_close = closed[v].load(Ordering::Acquire);
                            let len = 8 + rng.below(300);
                            for nbl in a.send(vcs[v], vec![frame(v, t, seq, len)]) {
                                mine.push((nbl, v, after_close));
                            }
                            sends_done.fetch_add(1, Ordering::Relaxed);
                        }
                        sent.lock().unwrap().extend(mine);
                    }
                });
            }
            // The closer: half the calls at random points while the senders run.
            let (a, vcs, closed, closes_done, sends_done) = (a.clone(), &vcs, &closed, &closes_done, &sends_done);
            s.spawn(move || {
                let mut rng = Rng(seed);
                let mut order: Vec<usize> = (0..vcs.len()).collect();
                for i in (1..order.len()).rev() {
                    order.swap(i, rng.below(i + 1));
                }
                // Each close waits for a random point of the send stream (sorted, so they spread
                // over the whole run).
                let half = vcs.len() / 2;
                let mut points: Vec<u64> = (0..half).map(|_| rng.next() % total.max(1)).collect();
                points.sort_unstable();
                for (&v, &at) in order.iter().take(half).zip(&points) {
                    while sends_done.load(Ordering::Relaxed) < at {
                        std::thread::yield_now();
                    }
                    let st = a.close_call(vcs[v], None, None);
                    assert!(st == NdisStatus::PENDING || st == NdisStatus::SUCCESS, "close {v}: {st:?}");
                    closed[v].store(true, Ordering::Release);
                    closes_done.fetch_add(1, Ordering::Relaxed);
                }
            });
        });
    });
    // The other half closes now.
    for (v, vc) in vcs.iter().enumerate() {
        if !closed[v].load(Ordering::Acquire) {
            assert_eq!(a.close_call(*vc, None, None), NdisStatus::PENDING);
        }
    }
    lab.advance(Duration::from_secs(3));

    // Every NBL completed exactly once, with the right status.
    let sent = sent.into_inner().unwrap();
    let done: Vec<(Nbl, NdisStatus)> = a.send_completions().iter().map(|c| (c.nbl, c.status)).collect();
    let by_status = match check_completions(&sent, &done) {
        Ok(m) => m,
        Err(e) => {
            if std::env::var_os("STRESS_DEBUG").is_some() {
                lab.advance(Duration::from_secs(30));
                let done2 = a.send_completions();
                eprintln!("after 30 s more: {} completions (was {})", done2.len(), done.len());
                eprintln!("node0 stats {:?}", lab.node(0).adapter.stats);
                eprintln!("live {:?} nic {:?}", lab.node(0).adapter.live_objects(), lab.node(0).nic().stats);
                eprintln!("violations {:?}", lab.node(0).ndis.violations().len());
                let missing: Vec<_> = sent.iter().filter(|(n, _, _)| !done2.iter().any(|d| d.nbl == *n)).collect();
                eprintln!("missing: {} e.g. {:?}", missing.len(), missing.iter().take(5).collect::<Vec<_>>());
                if let Some((_, v, _)) = missing.first() {
                    eprintln!(
                        "calls on VC: {:?}",
                        lab.node(0)
                            .ndis
                            .ndis_calls_on(vcs[*v])
                            .iter()
                            .filter(|s| !s.starts_with("NdisMCoSend") && !s.starts_with("MiniportCoSend"))
                            .collect::<Vec<_>>()
                    );
                }
            }
            panic!("{e}")
        }
    };
    // Frames arrive in order per (VC, sender), each at most once, on one VC at the far end.
    let far: Vec<(atmmcm_hw::host::VcHandle, Vec<u8>)> = b
        .incoming_calls()
        .iter()
        .flat_map(|call| b.received_frames(call.vc).into_iter().map(move |f| (call.vc, f)))
        .collect();
    let delivered = match check_delivery(&far) {
        Ok(n) => n,
        Err(e) => panic!("{e}"),
    };
    // The client never used a VC it was deleting: no send reached the driver on a dead context.
    if !lab.node(0).is_sys() {
        assert_eq!(lab.node(0).adapter.stats.stale_context.load(Ordering::Relaxed), 0);
    }
    let ok = by_status.get("NDIS_STATUS_SUCCESS").copied().unwrap_or(0);
    assert!(delivered <= ok, "delivered {delivered} > sent on the wire {ok}");
    assert!(delivered > 0);
    println!(
        "stress: {vcs_n} VCs x {senders} senders x {frames_per_sender} frames: {} NBLs sent, completions {by_status:?}, \
         {delivered} frames delivered in order, {} closes raced the senders",
        sent.len(),
        closes_done.load(Ordering::Relaxed)
    );
    halt_clean(&lab);
}

#[test]
fn four_senders_per_vc_on_256_vcs_with_random_closes_complete_every_nbl_once_in_order() {
    run(256, 4, 8, 0x5EED_0001);
}

/// The long run (by hand): `cargo test --release --test stress -- --ignored --nocapture`.
#[test]
#[ignore]
fn soak_four_senders_per_vc_on_256_vcs_many_rounds() {
    for seed in 1..=5 {
        run(256, 4, 40, seed);
    }
}

/// Issue 8 item 1: four threads flood one VC while it closes. Every NBL the driver rejects
/// (CLOSING) is completed while the sender still holds the VC's rundown, so the close waits for
/// it: no send that began before the close is still in the driver at NdisMCmDeactivateVc, and no
/// completion of one follows NdisMCmDeleteVc. Node 1001's VC is client-created, node 1002's
/// driver-created (the incoming call); `closer` picks which side closes. The lab holds a
/// rejecting sender inside the completion for 300 µs (`set_send_preemption`), as a busy machine
/// would, so a close that does not wait for its senders is caught in every round.
fn flood_one_vc_while_it_closes(closer: usize, rounds: usize) {
    let (lab, a, b) = two_nodes(LabConfig::default());
    for n in &lab.nodes {
        n.ndis.set_send_preemption(Duration::from_millis(20));
    }
    let mut totals: HashMap<String, usize> = HashMap::new();
    for round in 0..rounds {
        let avc = a.create_vc().unwrap();
        assert_eq!(a.make_call(avc, call_to(b"1002")).0, NdisStatus::PENDING);
        lab.advance(Duration::from_secs(1));
        assert_eq!(a.state(avc), Some(VcState::Connected), "round {round}: call up");
        let bvc = b.incoming_calls().last().unwrap().vc;
        assert_eq!(b.state(bvc), Some(VcState::Connected));
        // (side, NBL): NBL ids are per node.
        let sent: Mutex<Vec<(usize, Nbl)>> = Mutex::new(Vec::new());
        let started = AtomicU64::new(0);
        lab.threaded(|_| {
            std::thread::scope(|s| {
                for t in 0..4 {
                    for (side, c, vc) in [(0usize, &a, avc), (1, &b, bvc)] {
                        let (c, sent, started) = (c.clone(), &sent, &started);
                        s.spawn(move || {
                            let mut mine = Vec::new();
                            started.fetch_add(1, Ordering::Relaxed);
                            // Until the VC is gone (the client refuses to send on a deleted VC);
                            // a client-created VC stays after its close: stop after a while.
                            for seq in 0..4000u32 {
                                let nbls = c.send(vc, vec![frame(0, t, seq, 64)]);
                                if nbls.is_empty() {
                                    break;
                                }
                                mine.extend(nbls.into_iter().map(|n| (side, n)));
                            }
                            sent.lock().unwrap().extend(mine);
                        });
                    }
                }
                while started.load(Ordering::Relaxed) < 8 {
                    std::thread::yield_now();
                }
                std::thread::sleep(Duration::from_millis(2));
                let st = if closer == 0 { a.close_call(avc, None, None) } else { b.close_call(bvc, None, None) };
                assert!(st == NdisStatus::PENDING || st == NdisStatus::SUCCESS, "close: {st:?}");
            });
        });
        lab.advance(Duration::from_secs(3));
        let sent = sent.into_inner().unwrap();
        let mut done: HashMap<(usize, Nbl), Vec<NdisStatus>> = HashMap::new();
        for (side, c) in [(0, &a), (1, &b)] {
            for d in c.send_completions() {
                done.entry((side, d.nbl)).or_default().push(d.status);
            }
        }
        for n in &sent {
            let st = done.get(n).cloned().unwrap_or_default();
            assert_eq!(st.len(), 1, "round {round}: {n:?} completed {} times", st.len());
            *totals.entry(format!("{:?}", st[0])).or_default() += 1;
        }
        for n in &lab.nodes {
            let v = n.ndis.violations();
            assert!(v.is_empty(), "round {round}: {}", v.iter().map(|v| format!("{v}\n")).collect::<String>());
        }
    }
    println!("flood (closer {closer}, {rounds} rounds): completions {totals:?}");
    halt_clean(&lab);
}

#[test]
fn four_senders_flooding_a_vc_while_the_client_created_side_closes_never_outlive_deactivate_or_delete() {
    flood_one_vc_while_it_closes(0, 10);
}

#[test]
fn four_senders_flooding_a_vc_while_the_driver_created_side_closes_never_outlive_deactivate_or_delete() {
    flood_one_vc_while_it_closes(1, 10);
}
