//! The fuzz bodies, shared by the cargo-fuzz targets (`fuzz_targets/*.rs`, nightly, by hand) and
//! their stable randomized twins in `cargo test` (`tests/fuzz_twins.rs`). Each body takes
//! arbitrary bytes and panics only when an oracle fails.
#![allow(dead_code)]

use std::time::Duration;

use atmmcm::saal::{Link, SaalConfig, SaalEvent};
use atmmcm::wire::aal5;
use atmmcm::wire::q2931::{BadIes, Message};
use atmmcm::wire::sscop::PduRepr;

/// Q.2931 decoder: never panics; what it accepts re-encodes and decodes to the same message,
/// less the non-mandatory IEs it dropped for invalid contents (Q.2931 5.6.8.2: recorded in
/// `bad_ies`, never emitted), so the re-encoding has none.
pub fn q2931(data: &[u8]) {
    let Ok(m) = Message::parse(data) else { return };
    let _ = m.check_mandatory();
    let mut out = vec![0u8; m.buffer_len()];
    let n = m.emit(&mut out).expect("a decoded message encodes");
    let back = Message::parse(&out[..n]).expect("an encoded message decodes");
    let want = Message { bad_ies: BadIes::EMPTY, ..m };
    assert_eq!(back, want, "decode(encode(decode(x))) == decode(x) without its bad IEs");
}

/// SSCOP PDU decoder: never panics; what it accepts round-trips.
pub fn sscop_pdu(data: &[u8]) {
    let Ok(p) = PduRepr::parse(data) else { return };
    let mut out = vec![0u8; p.buffer_len()];
    let n = p.emit(&mut out).expect("a decoded PDU encodes");
    assert_eq!(PduRepr::parse(&out[..n]).expect("an encoded PDU decodes"), p);
}

/// AAL5: decapsulating anything never panics; any SDU of 1 to 65 535 octets round-trips (an
/// empty one is refused: length 0 means "abort" in the CPCS trailer).
pub fn aal5(data: &[u8]) {
    let _ = aal5::decapsulate(data);
    let mut none = [0u8; 64];
    assert!(aal5::encapsulate(&[], 0, 0, &mut none).is_err(), "an empty SDU is refused");
    if (1..=aal5::MAX_SDU_LEN).contains(&data.len()) {
        let mut pdu = vec![0u8; aal5::pdu_len(data.len())];
        let n = aal5::encapsulate(data, 0, 0, &mut pdu).expect("encapsulates");
        assert_eq!(aal5::decapsulate(&pdu[..n]).expect("decapsulates"), data);
    }
}

/// The SSCOP/SSCF machine alone: the input is a script of PDUs (1-octet length, then the PDU)
/// and clock steps (length 0xFF: the next octet is the step in 100 ms). Never panics; every
/// message delivered is at most 4 096 octets; what it transmits decodes.
pub fn saal(data: &[u8]) {
    let Ok(mut link) = Link::new(SaalConfig::default()) else { return };
    let mut now = Duration::ZERO;
    let mut tx = |p: &[u8]| {
        assert!(PduRepr::parse(p).is_ok(), "the machine sends only well-formed PDUs: {p:?}");
    };
    let mut up = |e: SaalEvent<'_>| {
        if let SaalEvent::Data(m) = e {
            assert!(m.len() <= atmmcm::saal::MAX_MESSAGE);
        }
    };
    link.establish(now, &mut tx);
    let mut rest = data;
    while let Some((&len, tail)) = rest.split_first() {
        if len == 0xFF {
            let step = tail.first().copied().unwrap_or(1);
            now += Duration::from_millis(100 * u64::from(step));
            link.on_timer(now, &mut tx, &mut up);
            rest = tail.get(1..).unwrap_or(&[]);
            continue;
        }
        let n = usize::from(len).min(tail.len());
        link.receive(now, &tail[..n], &mut tx, &mut up);
        rest = &tail[n..];
        if rest.len().is_multiple_of(7) {
            let _ = link.send(now, &[0x09, 0x03, 0, 0, 1, 0x05, 0x80, 0, 0], &mut tx);
        }
    }
}

/// The whole driver in the lab, fed from the network side: the input is a script of Q.2931
/// messages in SDs (1-octet tag 0..=0x7F: the next two octets are the length, up to and past
/// 4 096; the message follows) and raw 0/5 frames (tag ≥ 0x80: one-octet length). Oracle: no
/// rule broken, an untouched PVC still carries data, and the halt is clean with nothing live.
pub fn lab_driver(data: &[u8]) {
    lab_driver_inner(data, false);
}

/// The lab oracle's negative control: the PVC is closed before the check, which must fail.
pub fn lab_driver_with_broken_pvc() {
    lab_driver_inner(&[], true);
}

fn lab_driver_inner(data: &[u8], break_pvc: bool) {
    use atmmcm::ndis::{VpiVci, call_flags};
    use atmmcm_hw::lab::{Lab, LabConfig, call_to};
    let lab = Lab::with(LabConfig::default().nodes(&[b"1001", b"1002"]));
    let (pa, pb) = (lab.node(0).port, lab.node(1).port);
    lab.network().add_pvc((pa, 0, 100), (pb, 0, 200));
    let a = lab.node(0).client();
    let b = lab.node(1).client();
    a.open_af().expect("AF");
    b.open_af().expect("AF");
    a.register_sap(None).expect("SAP");
    let pvc = |c: &atmmcm_hw::host::Client, vci: u16| {
        let vc = c.create_vc().expect("VC");
        let mut p = call_to(b"0");
        p.called = None;
        p.flags |= call_flags::PERMANENT_VC;
        p.media.connection_id = VpiVci { vpi: 0, vci };
        c.make_call(vc, p);
        vc
    };
    let (avc, bvc) = (pvc(&a, 100), pvc(&b, 200));
    lab.settle();
    let mut rest = data;
    while let Some((&tag, tail)) = rest.split_first() {
        if tag < 0x80 {
            let len = tail.get(..2).map_or(0, |l| usize::from(u16::from_be_bytes([l[0], l[1]])));
            let body = tail.get(2..).unwrap_or(&[]);
            let n = len.min(body.len());
            let now = lab.now();
            lab.network().send_raw(now, pa, &body[..n]);
            rest = &body[n..];
        } else {
            let Some((&len, frame)) = tail.split_first() else { break };
            let n = usize::from(len).min(frame.len());
            lab.network().inject_data(pa, 0, 5, &frame[..n]);
            rest = &frame[n..];
        }
        lab.advance(Duration::from_millis(200));
    }
    lab.advance(Duration::from_secs(40));
    if break_pvc {
        a.close_call(avc, None, None);
        lab.settle();
    }
    b.send(bvc, vec![vec![0x5A; 300]]);
    lab.settle();
    assert_eq!(a.received_frames(avc).last(), Some(&vec![0x5A; 300]), "the untouched PVC still carries data");
    lab.halt_all();
    for n in &lab.nodes {
        n.ndis.check_outstanding();
        let v = n.ndis.violations();
        assert!(v.is_empty(), "{}", v.iter().map(|v| format!("{v}\n")).collect::<String>());
        let l = n.adapter.live_objects();
        assert_eq!((l.afs, l.saps, l.vcs, l.calls, l.parties), (0, 0, 0, 0, 0), "live objects after halt");
    }
}
