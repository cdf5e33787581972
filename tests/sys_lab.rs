//! The lab with every node running the real `atmmcm.sys`: the same EmuNdis, verifier, scriptable
//! client, NIC model, switch and network as the in-process driver, reached through the image's
//! registered handlers. Skipped (and says so) when the image was not built.
#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

mod common;

use atmmcm::NdisStatus;
use atmmcm_hw::lab::{Lab, LabConfig, LabDriver, call_to};
use atmmcm_hw::sys::default_image_path;

use common::{A_MOMENT, REMOTE};

fn sys_cfg() -> Option<LabConfig> {
    let p = default_image_path();
    if !p.exists() {
        eprintln!("SKIPPED: {} not built (run scripts/build-sys)", p.display());
        return None;
    }
    Some(LabConfig::default().driver(LabDriver::Sys(p)))
}

fn no_findings(lab: &Lab) {
    for n in &lab.nodes {
        if let Some(s) = n.sys() {
            s.assert_no_findings();
            assert!(s.max_stack_depth() < 24 * 1024, "driver stack {} bytes > 24 KiB", s.max_stack_depth());
        }
        assert!(n.model.violations().is_empty(), "{}: NIC model: {:?}", n.name, n.model.violations());
    }
}

#[test]
fn sys_lab_signalling_link_comes_up_and_an_outgoing_call_connects_and_clears() {
    let Some(cfg) = sys_cfg() else { return };
    let lab = Lab::with(cfg);
    let port = lab.node(0).port;
    assert!(lab.network().sscop(port).is_some_and(|s| s.is_ready()), "SSCOP up on 0/5");
    let c = lab.node(0).client();
    c.open_af().expect("open AF");
    let vc = c.create_vc().expect("create VC");
    let (st, _) = c.make_call(vc, call_to(REMOTE));
    assert_eq!(st, NdisStatus::PENDING);
    lab.advance(A_MOMENT);
    let calls = lab.node(0).ndis.ndis_calls_on(vc);
    assert_eq!(calls.last().map(String::as_str), Some("NdisMCmMakeCallComplete(SUCCESS)"), "{calls:?}");
    assert_eq!(c.close_call(vc, None, None), NdisStatus::PENDING);
    lab.advance(A_MOMENT);
    let calls = lab.node(0).ndis.ndis_calls_on(vc);
    assert!(
        calls.ends_with(&["NdisMCmDeactivateVc".into(), "NdisMCmCloseCallComplete(SUCCESS)".into()])
            || calls.contains(&"NdisMCmCloseCallComplete(SUCCESS)".to_string()),
        "{calls:?}"
    );
    let _ = c.close_af();
    lab.advance(A_MOMENT);
    lab.halt_all();
    common::clean(&lab);
    no_findings(&lab);
}
