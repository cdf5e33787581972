//! Issue 8's defects, one test each: every NBL accepted is completed (none stuck behind a full NIC
//! ring, none blocked by a frame the NIC refuses, none truncated and called a success), a
//! signalling message of any legal length gets through, reserved VCIs are refused, and the lab's
//! own SSCOP recovers from a forged STAT.

mod common;

use std::time::Duration;

use atmmcm::NdisStatus;
use atmmcm::ndis::{VpiVci, call_flags};
use atmmcm_hw::host::{Client, VcHandle};
use atmmcm_hw::lab::{Lab, LabConfig, call_to};
use common::*;

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i as u8) ^ (len as u8)).collect()
}

/// A PVC on node `node`'s client at 0/`vci` (no network route needed: cells just leave).
fn pvc(c: &Client, vci: u16, max_sdu: u32) -> VcHandle {
    let vc = c.create_vc().unwrap();
    let mut p = call_to(b"0");
    p.called = None;
    p.flags |= call_flags::PERMANENT_VC;
    p.media.connection_id = VpiVci { vpi: 0, vci };
    p.media.transmit.max_sdu_size = max_sdu;
    p.media.receive.max_sdu_size = max_sdu;
    assert_eq!(c.make_call(vc, p).0, NdisStatus::PENDING);
    vc
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
    let lab = lab_with(LabConfig::default().nodes(&[b"1001", b"1002"]));
    let (pa, pb) = (lab.node(0).port, lab.node(1).port);
    lab.network().add_pvc((pa, 0, 100), (pb, 0, 200));
    let a = lab.node(0).client();
    let b = lab.node(1).client();
    a.open_af().unwrap();
    b.open_af().unwrap();
    let avc = pvc(&a, 100, 65_535);
    let bvc = pvc(&b, 200, 65_535);
    lab.settle();
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
