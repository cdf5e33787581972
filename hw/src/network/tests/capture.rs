//! The log, PVC cross-connects, and the pcap capture checked against tshark.

use super::*;

// ----- log, PVC ------------------------------------------------------------------------------

#[test]
fn log_records_both_directions_with_causes_and_raw_bytes() {
    let mut l = lab();
    l.a.send(&mut l.net, ms(1), release(user_ref(42), cause::NORMAL_CLEARING));
    l.a.take(&mut l.net, ms(1));
    let log = l.net.log();
    assert_eq!(log.len(), 2);
    assert_eq!((log[0].direction, log[0].name, log[0].causes.clone()), (Direction::FromUser, "RELEASE", vec![16]));
    assert_eq!(
        (log[1].direction, log[1].name, log[1].causes.clone()),
        (Direction::ToUser, "RELEASE COMPLETE", vec![81])
    );
    assert_eq!(log[0].raw, release(user_ref(42), cause::NORMAL_CLEARING).emit());
    assert_eq!(log[1].call_ref, Some(CallRef { flag: true, value: 42 }));
}

#[test]
fn pvc_cross_connects_both_ways() {
    let mut l = lab();
    l.net.add_pvc((l.a.port, 1, 100), (l.b.port, 2, 200));
    l.net.from_user(ms(1), l.a.port, 1, 100, b"ab");
    l.net.from_user(ms(1), l.b.port, 2, 200, b"ba");
    l.a.pump(&mut l.net, ms(1));
    l.b.pump(&mut l.net, ms(1));
    assert_eq!(l.b.data, vec![(2, 200, b"ab".to_vec())]);
    assert_eq!(l.a.data, vec![(1, 100, b"ba".to_vec())]);
}

#[test]
fn clearing_one_call_removes_its_cross_connects_both_ways_and_keeps_the_others() {
    let mut l = lab();
    l.net.add_pvc((l.a.port, 1, 100), (l.b.port, 2, 200));
    let t = ms(1);
    let mut vcs = Vec::new();
    for cref in [1, 2] {
        l.a.send(&mut l.net, t, setup(cref, b"1002"));
        let a_vci = l.a.expect(&mut l.net, t, mt::CALL_PROCEEDING).connection_id().unwrap().vci;
        let s = l.b.expect(&mut l.net, t, mt::SETUP);
        let b_vci = s.connection_id().unwrap().vci;
        l.b.send(&mut l.net, t, Message::new(answer_ref(&s), mt::CONNECT));
        l.b.expect(&mut l.net, t, mt::CONNECT_ACK);
        l.a.expect(&mut l.net, t, mt::CONNECT);
        assert_eq!(l.net.cross_connects(l.a.port, 0, a_vci), &[(l.b.port, 0, b_vci)]);
        assert_eq!(l.net.cross_connects(l.b.port, 0, b_vci), &[(l.a.port, 0, a_vci)]);
        vcs.push((a_vci, b_vci));
    }
    l.a.send(&mut l.net, t, release(user_ref(1), cause::NORMAL_CLEARING));
    l.a.expect(&mut l.net, t, mt::RELEASE_COMPLETE);
    let (a1, b1) = vcs[0];
    assert!(l.net.cross_connects(l.a.port, 0, a1).is_empty(), "A's leg of the cleared call");
    assert!(l.net.cross_connects(l.b.port, 0, b1).is_empty(), "B's leg of the cleared call");
    let (a2, b2) = vcs[1];
    assert_eq!(l.net.cross_connects(l.a.port, 0, a2), &[(l.b.port, 0, b2)], "the other call, A to B");
    assert_eq!(l.net.cross_connects(l.b.port, 0, b2), &[(l.a.port, 0, a2)], "the other call, B to A");
    assert_eq!(l.net.cross_connects(l.a.port, 1, 100), &[(l.b.port, 2, 200)], "the PVC");
    assert_eq!(l.net.cross_connects(l.b.port, 2, 200), &[(l.a.port, 1, 100)], "the PVC back");
}

// ----- pcap + tshark -------------------------------------------------------------------------

fn tshark() -> Option<std::path::PathBuf> {
    let out = std::process::Command::new("which").arg("tshark").output().ok()?;
    out.status.success().then(|| std::path::PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

fn tshark_fields(path: &std::path::Path) -> Vec<String> {
    let out = std::process::Command::new("tshark")
        .arg("-r")
        .arg(path)
        .args(["-T", "fields", "-e", "q2931.message_type", "-e", "q2931.cause.value", "-e", "atm.vci"])
        .output()
        .expect("tshark runs");
    String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect()
}

#[test]
fn pcap_of_a_call_decodes_in_tshark() {
    if tshark().is_none() {
        println!("SKIPPED: tshark not installed");
        return;
    }
    let dir = std::env::temp_dir().join(format!("atmmcm-network-pcap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("call.pcap");
    let mut l = lab();
    l.net.tap(crate::pcap::Pcap::create(&path).unwrap());
    let (a_vci, s) = routed_call(&mut l);
    l.net.from_user(ms(2), l.a.port, 0, a_vci, b"data frame");
    l.a.send(&mut l.net, ms(3), release(user_ref(1), cause::NORMAL_CLEARING));
    l.a.take(&mut l.net, ms(3));
    l.b.take(&mut l.net, ms(3));
    l.b.send(&mut l.net, ms(4), Message::new(answer_ref(&s), mt::RELEASE_COMPLETE));
    l.net.set_pcap(None);
    let lines = tshark_fields(&path);
    let q: Vec<(String, String)> = lines
        .iter()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (!f[0].is_empty()).then(|| (f[0].to_owned(), f.get(1).copied().unwrap_or("").to_owned()))
        })
        .collect();
    let types: Vec<&str> = q.iter().map(|(t, _)| t.as_str()).collect();
    // The routed call only (the bring-up was before the tap): SETUP, CALL PROCEEDING, SETUP,
    // CONNECT, CONNECT ACK, CONNECT, RELEASE, RELEASE COMPLETE, RELEASE, RELEASE COMPLETE.
    assert_eq!(
        types,
        vec!["0x05", "0x02", "0x05", "0x07", "0x0f", "0x07", "0x4d", "0x5a", "0x4d", "0x5a"],
        "{lines:?}"
    );
    assert_eq!(q[6].1, "0x10");
    assert_eq!(q[8].1, "0x10");
    // The data frame is on its own VC and not decoded as signalling.
    assert!(lines.iter().any(|l| l.ends_with(&format!("\t{a_vci}")) && l.starts_with('\t')), "{lines:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn tshark_oracle_rejects_a_wrong_capture() {
    // The oracle must see a difference: a capture of a RELEASE with cause #31 is not #16.
    if tshark().is_none() {
        println!("SKIPPED: tshark not installed");
        return;
    }
    let dir = std::env::temp_dir().join(format!("atmmcm-network-pcap-neg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("neg.pcap");
    let mut p = crate::pcap::Pcap::create(&path).unwrap();
    let sd = Pdu::Sd { ns: 0, data: release(user_ref(1), cause::NORMAL_UNSPECIFIED).emit() }.emit();
    p.write(ms(1), false, 0, 5, &sd).unwrap();
    // Same SD on a data VC as type raw: must not decode as Q.2931.
    p.write(ms(2), false, 0, 40, &sd).unwrap();
    drop(p);
    let lines = tshark_fields(&path);
    assert_eq!(lines[0].split('\t').take(2).collect::<Vec<_>>(), vec!["0x4d", "0x1f"]);
    assert!(lines[1].starts_with('\t'), "data VC decoded as signalling: {lines:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// tshark as a third opinion on this codec: every PDU type and IE written here decodes there
/// to the same field values.
#[test]
fn codec_output_decodes_identically_in_tshark() {
    if tshark().is_none() {
        println!("SKIPPED: tshark not installed");
        return;
    }
    let dir = std::env::temp_dir().join(format!("atmmcm-network-codec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("codec.pcap");
    let mut p = crate::pcap::Pcap::create(&path).unwrap();
    let mut s = p2mp_setup(1, b"1002")
        .with(Ie::new(
            id::CALLING,
            Body::Calling(PartyNumber { ton: 1, plan: 1, presentation: Some(0x01), digits: b"1001".to_vec() }),
        ))
        .with(Ie::new(id::CONNECTION_ID, Body::ConnectionId(ie::ConnectionId::exclusive(0, 33))))
        .with(Ie::new(id::USER_USER, Body::UserUser(4, b"hi".to_vec())));
    s.ies.push(Ie::new(
        id::CALLED,
        Body::Called(PartyNumber { ton: 0, plan: PartyNumber::NSAP, presentation: None, digits: vec![0x47; 20] }),
    ));
    let msgs = vec![
        s,
        Message::new(user_ref(1), mt::STATUS)
            .with(Ie::new(id::CALL_STATE, Body::CallState(10)))
            .with(Ie::cause(2, 30, &[]))
            .with(Ie::new(id::ENDPOINT_REF, Body::EndpointRef(ie::EndpointRef { flag: true, value: 3 })))
            .with(Ie::new(id::ENDPOINT_STATE, Body::EndpointState(10))),
        Message::new(CallRef::GLOBAL, mt::RESTART)
            .with(Ie::new(id::CONNECTION_ID, Body::ConnectionId(ie::ConnectionId::exclusive(0, 40))))
            .with(Ie::new(id::RESTART, Body::Restart(0))),
        release(user_ref(1), 16).with(Ie::cause(2, 102, b"308")),
    ];
    for (i, m) in msgs.into_iter().enumerate() {
        p.write(ms(i as u64), false, 0, 5, &Pdu::Sd { ns: i as u32, data: m.emit() }.emit()).unwrap();
    }
    for (i, pdu) in [
        Pdu::Bgn { nsq: 1, nmr: 64, uu: vec![] },
        Pdu::Bgak { nmr: 64, uu: vec![] },
        Pdu::Poll { nps: 1, ns: 4 },
        Pdu::Stat { nps: 1, nmr: 68, nr: 2, list: vec![2, 3] },
        Pdu::Ustat { nmr: 70, nr: 2, list: [2, 3] },
        Pdu::End { source: true, uu: vec![] },
        Pdu::Endak,
    ]
    .into_iter()
    .enumerate()
    {
        p.write(ms(10 + i as u64), true, 0, 5, &pdu.emit()).unwrap();
    }
    drop(p);
    let fields = [
        "sscop.type",
        "sscop.s",
        "sscop.ps",
        "sscop.mr",
        "sscop.r",
        "q2931.message_type",
        "q2931.cause.value",
        "q2931.cause.timer",
        "q2931.call_state",
        "q2931.restart_indicator",
        "q2931.conn_id.vci",
    ];
    let out = std::process::Command::new("tshark")
        .arg("-r")
        .arg(&path)
        .args(["-T", "fields"])
        .args(fields.iter().flat_map(|f| ["-e", f]))
        .output()
        .unwrap();
    let rows: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect();
    let expected = [
        "0x08\t0\t\t\t\t0x05\t\t\t\t\t33",
        "0x08\t1\t\t\t\t0x7d\t0x1e\t\t0x0a\t\t",
        "0x08\t2\t\t\t\t0x46\t\t\t\t0x00\t40",
        "0x08\t3\t\t\t\t0x4d\t0x10,0x66\t308\t\t\t",
        "0x01\t\t\t64\t\t\t\t\t\t\t",
        "0x02\t\t\t64\t\t\t\t\t\t\t",
        "0x0a\t4\t1\t\t\t\t\t\t\t\t",
        "0x0b\t\t1\t68\t2\t\t\t\t\t\t",
        "0x0c\t\t\t70\t2\t\t\t\t\t\t",
        "0x03\t\t\t\t\t\t\t\t\t\t",
        "0x04\t\t\t\t\t\t\t\t\t\t",
    ];
    assert_eq!(rows, expected);
    let _ = std::fs::remove_dir_all(&dir);
}
