//! Issue 8's defects, one test each: every NBL accepted is completed (none stuck behind a full NIC
//! ring, none blocked by a frame the NIC refuses, none truncated and called a success), a
//! signalling message of any legal length gets through, reserved VCIs are refused, and the lab's
//! own SSCOP recovers from a forged STAT.

mod common;

use std::time::Duration;

use atmmcm::NdisStatus;
use atmmcm_hw::host::{Client, VcHandle};
use atmmcm_hw::lab::{LabConfig, call_to};
use common::*;

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i as u8) ^ (len as u8)).collect()
}

fn completions_of(c: &Client, nbls: &[atmmcm_hw::host::Nbl]) -> Vec<Option<NdisStatus>> {
    let done = c.send_completions();
    nbls.iter()
        .map(|n| {
            let v: Vec<_> = done.iter().filter(|d| d.nbl == *n).collect();
            assert!(v.len() <= 1, "{n:?} completed {} times", v.len());
            v.first().map(|d| d.status)
        })
        .collect()
}

// ---- item 2: frames stuck behind a full NIC ring ------------------------------------------------------

/// One frame on each of 1 023 PVCs fills the NIC's shared transmit ring (512 descriptors) twice
/// over: the VCs that found it full must go again when *any* VC's frames leave it.
#[test]
fn one_frame_on_each_of_1023_pvcs_all_complete_though_the_nic_ring_fills() {
    let lab = lab_with(LabConfig::default().with_config(|c| c.max_vcs = 1100));
    let c = client(&lab);
    let vcs: Vec<VcHandle> = (0..1023u16).map(|i| pvc(&c, 100 + i, 9188)).collect();
    lab.settle();
    let mut nbls = Vec::new();
    for &vc in &vcs {
        nbls.extend(c.send(vc, vec![pattern(64)]));
    }
    lab.settle();
    lab.advance(Duration::from_secs(1));
    let st = completions_of(&c, &nbls);
    let missing = st.iter().filter(|s| s.is_none()).count();
    assert_eq!(missing, 0, "{missing} of {} NBLs never completed", nbls.len());
    assert!(st.iter().all(|s| *s == Some(NdisStatus::SUCCESS)), "all went out");
    for vc in vcs {
        assert_eq!(c.close_call(vc, None, None), NdisStatus::PENDING);
    }
    lab.advance(A_MOMENT);
    halt_clean(&lab);
}

// ---- items 3 and 4: frames the NIC cannot carry -------------------------------------------------------

/// A zero-length frame fails with INVALID_LENGTH at once and the VC keeps going: the next NBL
/// goes out and completes SUCCESS.
#[test]
fn a_zero_length_frame_fails_with_invalid_length_and_does_not_block_its_vc() {
    let lab = lab();
    let c = client(&lab);
    let vc = pvc(&c, 100, 65_535);
    lab.settle();
    let bad = c.send(vc, vec![Vec::new()]);
    let good = c.send(vc, vec![pattern(100)]);
    lab.settle();
    assert_eq!(completions_of(&c, &bad), [Some(NdisStatus::INVALID_LENGTH)]);
    assert_eq!(completions_of(&c, &good), [Some(NdisStatus::SUCCESS)], "the next NBL is not stuck behind it");
    assert_eq!(c.close_call(vc, None, None), NdisStatus::PENDING);
    lab.advance(A_MOMENT);
    halt_clean(&lab);
}

/// A frame over the AAL5 maximum (65 535 octets) is refused with INVALID_LENGTH, never cut to
/// 65 535 octets and called a success; nothing of it reaches the far end.
#[test]
fn a_frame_over_65535_octets_fails_with_invalid_length_and_nothing_is_delivered() {
    let (lab, a, avc, b, bvc) = two_nodes_with_pvc(65_535);
    for len in [65_536usize, 70_000, 131_071] {
        let nbls = a.send(avc, vec![pattern(len)]);
        lab.settle();
        assert_eq!(completions_of(&a, &nbls), [Some(NdisStatus::INVALID_LENGTH)], "{len} octets");
    }
    assert!(b.received_frames(bvc).is_empty(), "no truncated frame arrived");
    // The largest legal frame still crosses intact afterwards.
    let nbls = a.send(avc, vec![pattern(65_535)]);
    lab.settle();
    assert_eq!(completions_of(&a, &nbls), [Some(NdisStatus::SUCCESS)]);
    assert_eq!(b.received_frames(bvc), [pattern(65_535)]);
    assert_eq!(a.close_call(avc, None, None), NdisStatus::PENDING);
    assert_eq!(b.close_call(bvc, None, None), NdisStatus::PENDING);
    lab.settle();
    halt_clean(&lab);
}

// ---- item 5: signalling messages of any length on 0/5 ---------------------------------------------------

/// A Q.2931 STATUS ENQUIRY (call reference 0x123456, from the network) carrying one unrecognised
/// IE, `len` octets in all: legal at the transport, ignored or answered by Q.2931.
fn long_message(len: usize) -> Vec<u8> {
    let mut m = vec![0x09, 0x03, 0x12, 0x34, 0x56, 0x75, 0x80];
    let body = len - 9;
    m.extend_from_slice(&(body as u16).to_be_bytes());
    let ie = body - 4;
    m.extend_from_slice(&[0x7E, 0x80]);
    m.extend_from_slice(&(ie as u16).to_be_bytes());
    m.extend((0..ie).map(|i| i as u8));
    assert_eq!(m.len(), len);
    m
}

/// Every length up to the SSCF-UNI maximum (4 096) crosses 0/5 — the SSCOP trailer and padding
/// fit the receive limit — and a message over it is skipped in sequence instead of stalling the
/// link: after each, network→user signalling still works (a MakeCall completes SUCCESS).
#[test]
fn signalling_messages_of_4093_to_4096_octets_and_oversize_ones_never_stall_the_link() {
    let lab = lab();
    let c = client(&lab);
    let port = lab.node(0).port;
    for len in [4093usize, 4094, 4095, 4096, 4097, 5000, 9188] {
        let now = lab.now();
        lab.network().send_raw(now, port, &long_message(len));
        lab.advance(A_MOMENT);
        let vc = outgoing_call(&lab, &c);
        assert_eq!(c.close_call(vc, None, None), NdisStatus::PENDING, "{len} octets");
        lab.advance(A_MOMENT);
    }
    halt_clean(&lab);
}

// ---- item 6: reserved VCIs ------------------------------------------------------------------------------

/// A SETUP naming a reserved VCI (0/0, the F4 OAM VCIs 3 and 4, ILMI 0/16, anything below 32) is
/// refused with cause #35 "requested VPCI/VCI not available": nothing is offered to the client. VCI 32, the first free one, is accepted.
#[test]
fn a_setup_naming_a_reserved_vci_is_refused_with_cause_35_and_never_offered() {
    use atmmcm_hw::network::{Direction, OfferParams};
    let lab = lab();
    let c = client(&lab);
    c.register_sap(None).unwrap();
    let port = lab.node(0).port;
    for (vpi, vci) in [(0u16, 0u16), (0, 3), (0, 4), (0, 5), (0, 16), (0, 31), (1, 4), (2, 0)] {
        let now = lab.now();
        let cref =
            lab.network().offer_call(now, port, b"5555", OfferParams { vpi, vci: Some(vci), ..Default::default() });
        lab.advance(A_MOMENT);
        assert!(c.incoming_calls().is_empty(), "{vpi}/{vci} offered to the client");
        let answer = lab
            .network()
            .log()
            .iter()
            .rev()
            .find(|e| e.direction == Direction::FromUser && e.call_ref.is_some_and(|r| r.value == cref))
            .map(|e| (e.name, e.causes.clone()));
        assert_eq!(answer, Some(("RELEASE COMPLETE", vec![35])), "{vpi}/{vci}");
    }
    let now = lab.now();
    lab.network().offer_call(now, port, b"5555", OfferParams { vpi: 0, vci: Some(32), ..Default::default() });
    lab.advance(A_MOMENT);
    assert_eq!(c.incoming_calls().len(), 1, "0/32 is a user VCI");
    halt_clean(&lab);
}

// ---- item 9: the lab's SSCOP recovers as Q.2110 says ---------------------------------------------------

/// A forged STAT with an impossible N(R) makes the driver's SSCOP start error recovery (ER). The
/// lab's network side must reset its sequence state on ER as Q.2110 does (and as src/saal does),
/// or the two sides disagree on N(S) for ever: the link must settle, with no further recovery,
/// and carry a call afterwards.
#[test]
fn a_forged_stat_ends_in_one_recovery_and_the_link_carries_calls_again() {
    use atmmcm_hw::network::codec::sscop::Pdu;
    let lab = lab();
    let c = client(&lab);
    let port = lab.node(0).port;
    // Some traffic first, so both sides' sequence numbers are away from zero.
    for _ in 0..3 {
        let vc = outgoing_call(&lab, &c);
        assert_eq!(c.close_call(vc, None, None), NdisStatus::PENDING);
        lab.advance(A_MOMENT);
    }
    let forged = Pdu::Stat { nps: 1, nmr: 700, nr: 600, list: Vec::new() }.emit();
    lab.network().inject_data(port, 0, 5, &forged);
    lab.advance(Duration::from_secs(5));
    let ers = || lab.network().sscop(port).unwrap().stats.ers_received;
    let settled = ers();
    assert!(settled >= 1, "the forged STAT started a recovery");
    lab.advance(Duration::from_secs(30));
    assert_eq!(ers(), settled, "no recovery loop: ER / ERAK every 0.75 s");
    let vc = outgoing_call(&lab, &c);
    assert_eq!(c.close_call(vc, None, None), NdisStatus::PENDING);
    lab.advance(A_MOMENT);
    halt_clean(&lab);
}

// ---- fault injection: a receive NBL returned twice ----------------------------------------------------

/// A receive NBL handed back twice (a pooled NBL still carrying the driver's tag) is ignored and
/// counted: the VC's count of indicated NBLs does not wrap, so its close still drains and
/// completes, and nothing leaks.
#[test]
fn a_receive_nbl_returned_twice_is_ignored_and_the_vc_still_closes() {
    use atmmcm::Ndis;
    use atmmcm_hw::host::ReturnReceives;
    let (lab, a, avc, b, bvc) = two_nodes_with_pvc(9188);
    b.return_receives(ReturnReceives::Hold);
    a.send(avc, vec![pattern(100)]);
    lab.settle();
    let held = lab.node(1).ndis.held_receives();
    assert_eq!(held.len(), 1, "one indication held");
    let ndis = &lab.node(1).ndis;
    let tag = ndis.rx_nbl_tag(held[0]);
    assert_eq!(b.return_pending_receives(), 1);
    // The same (pooled) NBL comes back again.
    let again = ndis.rx_nbl_alloc(tag, b"again").unwrap();
    lab.node(1).adapter.miniport_return_net_buffer_lists(again, 0);
    assert_eq!(b.close_call(bvc, None, None), NdisStatus::PENDING);
    assert_eq!(a.close_call(avc, None, None), NdisStatus::PENDING);
    lab.advance(A_MOMENT);
    assert!(
        lab.node(1).ndis.ndis_calls_on(bvc).contains(&"NdisMCmCloseCallComplete(SUCCESS)".to_string()),
        "the close drained and completed"
    );
    assert_eq!(lab.node(1).adapter.stats.rx_double_return.load(std::sync::atomic::Ordering::Relaxed), 1);
    halt_clean(&lab);
}

// ---- fault injection on the signalling wire and the cells -------------------------------------------

/// SSCOP PDUs on 0/5 lost, duplicated, reordered and corrupted (10 % each, both ways) while calls
/// come and go: SSCOP and Q.2931 recover what they can, nothing breaks a rule, nothing leaks,
/// and once the wire is clean again the link is up and a call connects. (It found that a link
/// released by the faults — the peer's END, no response — was never established again.)
#[test]
fn sscop_pdu_loss_duplication_reordering_and_corruption_end_in_a_working_link_and_no_leak() {
    use atmmcm_hw::network::SigFaults;
    for seed in [1u64, 2, 3, 4] {
        let lab = lab();
        let c = client(&lab);
        let port = lab.node(0).port;
        lab.network().set_sig_faults(port, Some(SigFaults::new(100, 100, 100, 100, seed)));
        let mut connected = 0;
        for _ in 0..8 {
            let vc = c.create_vc().unwrap();
            c.make_call(vc, call_to(REMOTE));
            lab.advance(Duration::from_secs(5));
            if c.state(vc) == Some(atmmcm_hw::host::VcState::Connected) {
                connected += 1;
            }
            c.close_call(vc, None, None);
            lab.advance(Duration::from_secs(5));
        }
        let counts = lab.network().sig_fault_counts(port);
        assert!(counts.iter().all(|&n| n > 0), "every kind of fault happened: {counts:?}");
        lab.network().set_sig_faults(port, None);
        lab.advance(Duration::from_secs(60));
        assert!(lab.node(0).adapter.signalling_up(), "seed {seed}: the link came back (re-established)");
        let vc = outgoing_call(&lab, &c);
        assert_eq!(c.close_call(vc, None, None), NdisStatus::PENDING);
        lab.advance(Duration::from_secs(5));
        println!("seed {seed}: {connected}/8 calls connected through the faults {counts:?}");
        halt_clean(&lab);
    }
}

/// Cells with a bad HEC and AAL5 frames with a bad CRC are dropped by the NIC and counted; the
/// VC carries the next good frame.
#[test]
fn cells_with_hec_errors_and_frames_with_crc_errors_are_dropped_and_the_vc_goes_on() {
    let (lab, a, avc, b, bvc) = two_nodes_with_pvc(9188);
    let model = &lab.node(1).model;
    // A frame whose AAL5 CRC is wrong: the payload altered after the trailer was computed.
    let mut cells = atmmcm_hw::switch::segment(0, 200, &pattern(200)).unwrap();
    cells[1][5 + 5] ^= 0x40;
    for cell in &cells {
        model.put_cell(cell);
    }
    // A cell whose header checksum is wrong (the first of a good frame: the frame is lost too).
    let mut more = atmmcm_hw::switch::segment(0, 200, &pattern(40)).unwrap();
    more[0][4] ^= 0x01;
    for cell in &more {
        model.put_cell(cell);
    }
    lab.settle();
    let hw = model.counters();
    assert!(hw.crc_errors >= 1 && hw.hec_errors >= 1, "counted: {hw:?}");
    assert!(b.received_frames(bvc).is_empty(), "nothing bad indicated");
    a.send(avc, vec![pattern(300)]);
    lab.settle();
    assert_eq!(b.received_frames(bvc), [pattern(300)], "the next good frame arrives");
    assert_eq!(a.close_call(avc, None, None), NdisStatus::PENDING);
    assert_eq!(b.close_call(bvc, None, None), NdisStatus::PENDING);
    lab.settle();
    halt_clean(&lab);
}

/// Surprise removal with calls open and sends in flight: the NIC goes silent (loss of signal, no
/// "closed" events), NDIS reports the removal, then halts. Every call is torn down, every NBL is
/// completed exactly once, no rule breaks and nothing leaks.
#[test]
fn surprise_removal_with_calls_open_and_sends_in_flight_halts_clean() {
    let lab = lab();
    let c = client(&lab);
    let out = outgoing_call(&lab, &c);
    let (inc, _) = incoming_call(&lab, &c);
    let mut nbls = Vec::new();
    for vc in [out, inc] {
        nbls.extend(c.send(vc, (0..40).map(|i| pattern(1000 + i)).collect()));
    }
    let node = lab.node(0);
    node.model.set_stall_close(true);
    node.model.set_los(true);
    node.ndis.surprise_removed();
    lab.advance(Duration::from_secs(60));
    halt_clean(&lab);
    let done = c.send_completions();
    for n in &nbls {
        assert_eq!(done.iter().filter(|d| d.nbl == *n).count(), 1, "{n:?} completed exactly once");
    }
}

/// Receive buffers run out (the client holds every indication; the receive NBL pool has 16):
/// further frames are dropped and counted, nothing is indicated without a buffer, and once the
/// client returns what it holds the VC receives again; the close drains and nothing leaks.
#[test]
fn receive_buffer_exhaustion_drops_and_counts_then_recovers_when_buffers_come_back() {
    use atmmcm_hw::host::ReturnReceives;
    let (lab, a, avc, b, bvc) = two_nodes_with_pvc(9188);
    lab.node(1).ndis.set_rx_pool_limit(16);
    b.return_receives(ReturnReceives::Hold);
    for chunk in 0..8 {
        a.send(avc, (0..8).map(|i| pattern(100 + chunk * 8 + i)).collect());
        lab.settle();
    }
    let got = b.received_frames(bvc).len();
    let dropped = lab.node(1).adapter.stats.rx_dropped.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(got, 16, "as many indicated as there are buffers");
    assert_eq!(dropped, 64 - 16, "the rest dropped and counted");
    b.return_receives(ReturnReceives::Immediate);
    b.return_pending_receives();
    a.send(avc, vec![pattern(777)]);
    lab.settle();
    assert_eq!(b.received_frames(bvc).last(), Some(&pattern(777)), "receiving again");
    assert_eq!(a.close_call(avc, None, None), NdisStatus::PENDING);
    assert_eq!(b.close_call(bvc, None, None), NdisStatus::PENDING);
    lab.settle();
    halt_clean(&lab);
}
