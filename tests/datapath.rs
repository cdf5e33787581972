//! The data path end to end: frames between two adapters through the network, byte-exact, on a
//! PVC and on a signalled call; teardown against a NIC that never reports "closed".

mod common;

use std::time::Duration;

use atmmcm::NdisStatus;
use atmmcm_hw::host::{Client, VcHandle};
use atmmcm_hw::lab::{Lab, LabConfig, call_to};
use common::*;

const MAX: usize = 65_535;

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i as u32).wrapping_mul(2_654_435_761).to_be_bytes()[0] ^ (len as u8)).collect()
}

/// Sends `sizes` from `a` on `avc` and checks `b` got exactly those frames on `bvc`, in order.
fn cross(lab: &Lab, a: &Client, avc: VcHandle, b: &Client, bvc: VcHandle, sizes: &[usize]) {
    let before = b.received_frames(bvc).len();
    for chunk in sizes.chunks(64) {
        a.send(avc, chunk.iter().map(|&n| pattern(n)).collect());
        lab.settle();
    }
    let got = b.received_frames(bvc);
    assert_eq!(got.len() - before, sizes.len(), "every frame delivered");
    for (f, &n) in got[before..].iter().zip(sizes) {
        assert!(f.len() == n && *f == pattern(n), "frame of {n} octets arrived as {} octets, or altered", f.len());
    }
}

/// 1..=1024 every size, then every 61st size to 65535, and the AAL5 cell boundaries.
fn sweep() -> Vec<usize> {
    let mut v: Vec<usize> = (1..=1024).collect();
    v.extend((1025..=MAX).step_by(61));
    for k in [1usize, 2, 3, 40, 100, 1000, 1365] {
        for d in [-9i64, -8, -1, 0, 1] {
            let n = (k * 48) as i64 + d;
            if (1..=MAX as i64).contains(&n) {
                v.push(n as usize);
            }
        }
    }
    v.push(MAX);
    v
}

#[test]
fn frames_of_sizes_1_to_65535_cross_two_adapters_on_a_pvc_byte_exact_both_ways() {
    let (lab, a, avc, b, bvc) = two_nodes_with_pvc(MAX as u32);
    let sizes = sweep();
    cross(&lab, &a, avc, &b, bvc, &sizes);
    cross(&lab, &b, bvc, &a, avc, &[1, 9188, MAX]);
    assert_eq!(a.close_call(avc, None, None), NdisStatus::PENDING);
    assert_eq!(b.close_call(bvc, None, None), NdisStatus::PENDING);
    lab.settle();
    halt_clean(&lab);
}

/// Every size from 1 to 65535 (by hand: `cargo test --release --test datapath -- --ignored`).
#[test]
#[ignore]
fn every_frame_size_1_to_65535_crosses_a_pvc_byte_exact() {
    let (lab, a, avc, b, bvc) = two_nodes_with_pvc(MAX as u32);
    let sizes: Vec<usize> = (1..=MAX).collect();
    cross(&lab, &a, avc, &b, bvc, &sizes);
    halt_clean(&lab);
}

#[test]
fn frames_cross_two_adapters_on_a_signalled_call() {
    let (lab, a, b) = two_nodes(LabConfig::default());
    let avc = a.create_vc().unwrap();
    let mut p = call_to(b"1002");
    p.media.transmit.max_sdu_size = MAX as u32;
    p.media.receive.max_sdu_size = MAX as u32;
    assert_eq!(a.make_call(avc, p).0, NdisStatus::PENDING);
    lab.advance(A_MOMENT);
    let bvc = b.incoming_calls()[0].vc;
    cross(&lab, &a, avc, &b, bvc, &[1, 47, 48, 49, 1500, 9188, 40_000, MAX]);
    cross(&lab, &b, bvc, &a, avc, &[2, 96, MAX]);
    assert_eq!(a.close_call(avc, None, None), NdisStatus::PENDING);
    lab.advance(A_MOMENT);
    halt_clean(&lab);
}

#[test]
fn a_nic_that_never_reports_closed_is_forced_closed_at_the_drain_deadline_and_counted() {
    let lab = lab();
    let c = client(&lab);
    let vc = outgoing_call(&lab, &c);
    lab.node(0).model.set_stall_close(true);
    assert_eq!(c.close_call(vc, None, None), NdisStatus::PENDING);
    lab.advance(Duration::from_millis(100));
    assert!(
        !lab.node(0).ndis.ndis_calls_on(vc).iter().any(|s| s.starts_with("NdisMCmCloseCallComplete")),
        "still draining"
    );
    lab.advance(A_MOMENT);
    assert!(lab.node(0).ndis.ndis_calls_on(vc).contains(&"NdisMCmCloseCallComplete(SUCCESS)".to_string()));
    if !lab.node(0).is_sys() {
        assert_eq!(lab.node(0).adapter.stats.forced_closes.load(std::sync::atomic::Ordering::Relaxed), 1);
    }
    halt_clean(&lab);
}

#[test]
fn a_nic_that_reports_closed_is_never_forced() {
    let lab = lab();
    let c = client(&lab);
    let vc = outgoing_call(&lab, &c);
    assert_eq!(c.close_call(vc, None, None), NdisStatus::PENDING);
    lab.advance(A_MOMENT);
    if !lab.node(0).is_sys() {
        assert_eq!(lab.node(0).adapter.stats.forced_closes.load(std::sync::atomic::Ordering::Relaxed), 0);
    }
    halt_clean(&lab);
}

#[test]
fn send_completions_and_receive_indications_are_batched_per_vc() {
    let (lab, a, avc, b, bvc) = two_nodes_with_pvc(MAX as u32);
    a.send(avc, (0..8).map(|i| pattern(100 + i)).collect());
    lab.settle();
    assert_eq!(b.received_frames(bvc).len(), 8);
    let count =
        |node: usize, vc, name: &str| lab.node(node).ndis.ndis_calls_on(vc).iter().filter(|s| *s == name).count();
    let indications = count(1, bvc, "NdisMCoIndicateReceiveNetBufferLists");
    let completions = count(0, avc, "NdisMCoSendNetBufferListsComplete");
    assert!(indications < 8, "8 frames in {indications} indications");
    assert!(completions < 8, "8 NBLs in {completions} completions");
    assert_eq!(a.send_completions().len(), 8, "yet every NBL completed");
    assert_eq!(a.close_call(avc, None, None), NdisStatus::PENDING);
    assert_eq!(b.close_call(bvc, None, None), NdisStatus::PENDING);
    lab.settle();
    halt_clean(&lab);
}

#[test]
fn a_chain_larger_than_the_send_ring_completes_the_overflow_with_resources_exactly_once() {
    // 16: the INF's minimum RingSize (atmmcm.sys reads it from the registry and refuses less).
    let lab = lab_with(LabConfig::default().with_config(|c| c.ring_size = 16));
    let c = client(&lab);
    let vc = outgoing_call(&lab, &c);
    let nbls = c.send(vc, (0..36).map(|i| pattern(64 + i)).collect());
    lab.settle();
    let done = c.send_completions();
    for n in &nbls {
        assert_eq!(done.iter().filter(|d| d.nbl == *n).count(), 1, "{n:?} completed exactly once");
    }
    let full = done.iter().filter(|d| d.status == NdisStatus::RESOURCES).count();
    let ok = done.iter().filter(|d| d.status == NdisStatus::SUCCESS).count();
    assert_eq!((ok, full), (16, 20), "the ring holds 16; the other 20 are refused at once");
    assert_eq!(c.close_call(vc, None, None), NdisStatus::PENDING);
    lab.advance(A_MOMENT);
    halt_clean(&lab);
}

/// `MaxActiveVcs` rings for `MaxVcs` VCs: a call beyond the pool is refused with a status (no
/// panic, no half-open VC), and a ring comes back when its call's NIC connection closes, so the
/// next call gets it and carries data.
#[test]
fn calls_beyond_the_ring_pool_are_refused_and_a_closed_call_gives_its_ring_back() {
    let lab = lab_with(LabConfig::default().with_config(|c| c.max_active_vcs = 2));
    let port = lab.node(0).port;
    let c = lab.node(0).client();
    c.open_af().unwrap();
    let a = pvc(&c, 100, MAX as u32);
    let b = pvc(&c, 101, MAX as u32);
    lab.settle();
    let third = c.create_vc().unwrap();
    let p = pvc_params(102, MAX as u32);
    assert_eq!(c.make_call(third, p).0, NdisStatus::RESOURCES, "the pool of 2 is in use");
    assert_eq!(c.close_call(a, None, None), NdisStatus::PENDING);
    lab.settle();
    // A fresh VC (the lab client keeps the refused one in its failed state).
    let third = c.create_vc().unwrap();
    let st = c.make_call(third, p).0;
    assert_eq!(st, NdisStatus::PENDING, "the closed call's ring is free again\n{}", lab.node(0).ndis.dump_log());
    lab.settle();
    lab.network().add_pvc((port, 0, 102), (port, 0, 200));
    c.send(third, vec![pattern(64)]);
    c.send(b, vec![pattern(64)]);
    lab.settle();
    let done = c.send_completions();
    assert_eq!(done.iter().filter(|s| s.status == NdisStatus::SUCCESS).count(), 2, "{done:?}");
    lab.node(0).ndis.assert_clean();
}

/// The RELEASE COMPLETE causes node 0 sent to the network, in order.
fn release_complete_causes(lab: &Lab) -> Vec<u8> {
    let port = lab.node(0).port;
    lab.network()
        .log()
        .iter()
        .filter(|e| {
            e.port == port && e.direction == atmmcm_hw::network::Direction::FromUser && e.name == "RELEASE COMPLETE"
        })
        .flat_map(|e| e.causes.clone())
        .collect()
}

/// `MaxActiveVcs` bounds the calls in progress, not only the rings: a call's state (parameters,
/// user-user data) comes from a pool of that size taken when the call starts. With the pool of 2
/// in use (one outgoing, one incoming call), a MakeCall is refused at once with
/// NDIS_STATUS_RESOURCES and no SETUP goes out; an incoming SETUP is answered with RELEASE
/// COMPLETE #47 (resource unavailable) and never offered to the client. A closed call gives its
/// entry back: the next outgoing and incoming calls connect.
#[test]
fn calls_beyond_max_active_vcs_are_refused_with_resources_or_cause_47_and_a_closed_call_gives_its_entry_back() {
    let lab = lab_with(LabConfig::default().with_config(|c| c.max_active_vcs = 2));
    let port = lab.node(0).port;
    let c = client(&lab);
    let out = outgoing_call(&lab, &c);
    let (inc, _) = incoming_call(&lab, &c);
    let setups = |lab: &Lab| wire(lab).iter().filter(|m| *m == "->SETUP").count();
    let before = setups(&lab);

    let refused = c.create_vc().unwrap();
    assert_eq!(c.make_call(refused, call_to(REMOTE)).0, NdisStatus::RESOURCES, "the pool of 2 is in use");
    lab.advance(A_MOMENT);
    assert_eq!(setups(&lab), before, "no SETUP for a refused MakeCall");

    let now = lab.now();
    lab.network().offer_call(now, port, b"5556", atmmcm_hw::network::OfferParams::default());
    lab.advance(A_MOMENT);
    assert_eq!(c.incoming_calls().len(), 1, "the SETUP beyond the pool is not offered");
    assert_eq!(release_complete_causes(&lab).last(), Some(&47), "answered with #47 resource unavailable");

    // Close both calls: each gives its entry back.
    assert_eq!(c.close_call(out, None, None), NdisStatus::PENDING);
    assert_eq!(c.close_call(inc, None, None), NdisStatus::PENDING);
    lab.advance(A_MOMENT);
    let again = c.create_vc().unwrap();
    assert_eq!(c.make_call(again, call_to(REMOTE)).0, NdisStatus::PENDING);
    lab.advance(A_MOMENT);
    assert_eq!(
        lab.node(0).ndis.ndis_calls_on(again).last().map(String::as_str),
        Some("NdisMCmMakeCallComplete(SUCCESS)")
    );
    let now = lab.now();
    lab.network().offer_call(now, port, b"5557", atmmcm_hw::network::OfferParams::default());
    lab.advance(A_MOMENT);
    let calls = c.incoming_calls();
    assert_eq!(calls.len(), 2, "the next incoming call is offered");
    assert_eq!(calls[1].answer, NdisStatus::SUCCESS);
    assert_eq!(c.close_call(again, None, None), NdisStatus::PENDING);
    assert_eq!(c.close_call(calls[1].vc, None, None), NdisStatus::PENDING);
    lab.advance(A_MOMENT);
    halt_clean(&lab);
}

/// More NBLs on one VC than it may have with the NIC at once (64): the pump stops at a full
/// in-flight queue and the completions that make room restart it, so every NBL is sent and
/// completed exactly once, in order, without another send to wake the VC.
#[test]
fn a_chain_longer_than_the_in_flight_limit_is_sent_whole_and_completed_once_each() {
    let (lab, a, avc, b, bvc) = two_nodes_with_pvc(MAX as u32);
    let sizes: Vec<usize> = (0..200).map(|i| 40 + i).collect();
    let nbls = a.send(avc, sizes.iter().map(|&n| pattern(n)).collect());
    lab.settle();
    let done = a.send_completions();
    for n in &nbls {
        let mine: Vec<_> = done.iter().filter(|d| d.nbl == *n).collect();
        assert_eq!(mine.len(), 1, "{n:?} completed exactly once");
        assert_eq!(mine[0].status, NdisStatus::SUCCESS);
    }
    let got = b.received_frames(bvc);
    assert_eq!(got.len(), sizes.len(), "every frame delivered");
    for (f, &n) in got.iter().zip(&sizes) {
        assert!(f.len() == n && *f == pattern(n), "frame of {n} octets arrived altered or out of order");
    }
    assert_eq!(a.close_call(avc, None, None), NdisStatus::PENDING);
    assert_eq!(b.close_call(bvc, None, None), NdisStatus::PENDING);
    lab.settle();
    halt_clean(&lab);
}
