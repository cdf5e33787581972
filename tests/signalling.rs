//! Signalling under load and on the wire: bursts, backlog, tshark as a third opinion.

mod common;

use std::time::Duration;

use atmmcm::NdisStatus;
use atmmcm_hw::lab::{Lab, LabConfig, call_to};
use common::*;

fn connected(lab: &Lab, vcs: &[atmmcm_hw::host::VcHandle]) -> usize {
    vcs.iter()
        .filter(|v| lab.node(0).ndis.ndis_calls_on(**v).last().map(String::as_str) == Some("NdisMCmMakeCallComplete(SUCCESS)"))
        .count()
}

#[test]
fn a_burst_of_300_setups_beyond_the_sscop_window_loses_no_message() {
    let lab = lab_with(LabConfig::default().nodes(&[b"1001", b"1002"]));
    let a = lab.node(0).client();
    let b = lab.node(1).client();
    a.open_af().unwrap();
    b.open_af().unwrap();
    b.register_sap(None).unwrap();
    let vcs: Vec<_> = (0..300)
        .map(|_| {
            let vc = a.create_vc().unwrap();
            assert_eq!(a.make_call(vc, call_to(b"1002")).0, NdisStatus::PENDING);
            vc
        })
        .collect();
    lab.advance(Duration::from_secs(8));
    assert_eq!(connected(&lab, &vcs), 300);
    let st = lab.node(0).adapter.control_stats();
    assert!(st.backlogged > 0, "the burst did exceed the SSCOP queue: {st:?}");
    assert_eq!(st.messages_lost, 0);
    for vc in &vcs {
        assert_eq!(a.close_call(*vc, None, None), NdisStatus::PENDING);
    }
    lab.advance(Duration::from_secs(8));
    assert_eq!(lab.node(0).adapter.live_objects().vcs, 0, "every client VC closed and deleted");
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
        .args(["-r", path.to_str().unwrap(), "-Y", "q2931", "-T", "fields", "-e", "q2931.message_type", "-e", "q2931.cause.value"])
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
