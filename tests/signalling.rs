//! Signalling under load and on the wire: bursts, backlog, tshark as a third opinion.

mod common;

use std::time::Duration;

use atmmcm::NdisStatus;
use atmmcm_hw::lab::{Lab, LabConfig, call_to};
use common::*;

fn connected(lab: &Lab, vcs: &[atmmcm_hw::host::VcHandle]) -> usize {
    vcs.iter()
        .filter(|v| {
            lab.node(0).ndis.ndis_calls_on(**v).last().map(String::as_str) == Some("NdisMCmMakeCallComplete(SUCCESS)")
        })
        .count()
}

#[test]
fn a_burst_of_300_setups_beyond_the_sscop_window_loses_no_message() {
    let (lab, a, _b) = two_nodes(LabConfig::default());
    let vcs: Vec<_> = (0..300)
        .map(|_| {
            let vc = a.create_vc().unwrap();
            assert_eq!(a.make_call(vc, call_to(b"1002")).0, NdisStatus::PENDING);
            vc
        })
        .collect();
    lab.advance(Duration::from_secs(8));
    assert_eq!(connected(&lab, &vcs), 300);
    if !lab.node(0).is_sys() {
        let st = lab.node(0).adapter.control_stats();
        assert!(st.backlogged > 0, "the burst did exceed the SSCOP queue: {st:?}");
        assert_eq!(st.messages_lost, 0);
    }
    for vc in &vcs {
        assert_eq!(a.close_call(*vc, None, None), NdisStatus::PENDING);
    }
    lab.advance(Duration::from_secs(8));
    if let Some(l) = common::live(&lab, 0) {
        assert_eq!(l.vcs, 0, "every client VC closed and deleted");
    }
    halt_clean(&lab);
}

#[test]
fn tshark_decodes_the_drivers_release_with_cause_16_and_the_release_complete() {
    if std::process::Command::new("tshark").arg("--version").output().is_err() {
        eprintln!("SKIPPED: tshark not installed (apt-get install tshark)");
        return;
    }
    let path = std::env::temp_dir().join(format!("atmmcm-close-{}.pcap", std::process::id()));
    let lab = lab_with(LabConfig { pcap: Some(path.clone()), ..LabConfig::default() });
    let c = client(&lab);
    let vc = outgoing_call(&lab, &c);
    assert_eq!(c.close_call(vc, None, Some(b"bye")), NdisStatus::PENDING);
    lab.advance(A_MOMENT);
    halt_clean(&lab);
    drop(lab);
    let out = std::process::Command::new("tshark")
        .args([
            "-r",
            path.to_str().unwrap(),
            "-Y",
            "q2931",
            "-T",
            "fields",
            "-e",
            "q2931.message_type",
            "-e",
            "q2931.cause.value",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<&str> = text.lines().collect();
    // SETUP, CONNECT, CONNECT ACK, RELEASE (#16), RELEASE COMPLETE, as tshark reads them.
    assert!(rows.contains(&"0x05\t"), "{rows:?}");
    assert!(rows.contains(&"0x4d\t0x10"), "RELEASE with cause 16: {rows:?}");
    assert!(rows.iter().any(|r| r.starts_with("0x5a")), "RELEASE COMPLETE: {rows:?}");
    eprintln!("tshark rows: {rows:?}");
    let _ = std::fs::remove_file(path);
}

/// A SETUP from the network (call reference 0x12, flag 0) with every IE the driver needs.
fn setup_bytes() -> Vec<u8> {
    use atmmcm::wire::q2931::{
        AalParams, BearerCapability, CallRef, ConnectionId, Message, MessageType, PartyNumber, QosParams,
        TrafficDescriptor,
    };
    let mut m = Message::new(MessageType::Setup, CallRef { value: 0x12, flag: false });
    m.aal = Some(AalParams::aal5(9188, 9188));
    m.traffic = Some(TrafficDescriptor::ubr(1000, 1000));
    m.bearer = Some(BearerCapability::bcob_x());
    m.called = Some(PartyNumber::e164(b"1001").unwrap());
    m.qos = Some(QosParams { forward: 0, backward: 0 });
    m.connection_id = Some(ConnectionId::exclusive(0, 77));
    let mut buf = [0u8; 512];
    let n = m.emit(&mut buf).unwrap();
    buf[..n].to_vec()
}

#[test]
fn every_truncation_and_corruption_of_a_setup_is_answered_or_ignored_never_a_crash() {
    let lab = lab();
    let c = client(&lab);
    c.register_sap(None).unwrap();
    c.accept_incoming(atmmcm_hw::host::Accept::Reject(NdisStatus::FAILURE));
    let good = setup_bytes();
    let port = lab.node(0).port;
    let mut variants: Vec<Vec<u8>> = (0..good.len()).map(|k| good[..k].to_vec()).collect();
    for i in 0..good.len() {
        for v in [0x00u8, 0xff, good[i] ^ 0x80, good[i].wrapping_add(1)] {
            let mut m = good.clone();
            m[i] = v;
            variants.push(m);
        }
    }
    for m in &variants {
        let now = lab.now();
        lab.network().send_raw(now, port, m);
        lab.settle();
    }
    // Malformed SETUPs that could be addressed were answered with a Q.2931 cause.
    let causes: Vec<u8> = lab
        .network()
        .log()
        .iter()
        .filter(|e| e.direction == atmmcm_hw::network::Direction::FromUser && e.name == "RELEASE COMPLETE")
        .flat_map(|e| e.causes.clone())
        .collect();
    assert!(
        causes.contains(&96) && causes.contains(&100),
        "mandatory-IE-missing and invalid-contents answers: {causes:?}"
    );
    if !lab.node(0).is_sys() {
        assert_eq!(lab.node(0).adapter.control_stats().internal_errors, 0);
    }
    lab.advance(Duration::from_secs(30));
    // The driver still works: a call goes up and down.
    let vc = outgoing_call(&lab, &c);
    assert_eq!(c.close_call(vc, None, None), NdisStatus::PENDING);
    lab.advance(A_MOMENT);
    println!("{} malformed variants; answers with causes {:?}", variants.len(), {
        let mut u = causes.clone();
        u.sort_unstable();
        u.dedup();
        u
    });
    halt_clean(&lab);
}
