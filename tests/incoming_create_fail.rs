//! Issue 8: an incoming SETUP opens a NIC connection (and takes a send ring from the pool) before
//! the driver asks NDIS for a VC. When NdisMCmCreateVc fails, the call is refused on the network
//! with RELEASE COMPLETE #47 "resource unavailable", the NIC connection closes, the ring goes back
//! to the pool, the VC slot is freed, and the client never hears of the call.

mod common;

use atmmcm::NdisStatus;
use atmmcm_hw::lab::LabConfig;
use atmmcm_hw::network::{Direction, OfferParams};
use common::*;

/// (name, causes) of the messages node 0 sent to the network.
fn from_node(lab: &atmmcm_hw::lab::Lab) -> Vec<(String, Vec<u8>)> {
    let port = lab.node(0).port;
    lab.network()
        .log()
        .iter()
        .filter(|e| e.port == port && e.direction == Direction::FromUser)
        .map(|e| (e.name.to_string(), e.causes.clone()))
        .collect()
}

fn refused_when_create_vc_fails(status: NdisStatus) {
    // One send ring in the pool: a ring kept by the failed call would refuse the next one (#35).
    let lab = lab_with(LabConfig::default().with_config(|c| c.max_active_vcs = 1));
    let c = client(&lab);
    c.register_sap(None).expect("wildcard SAP");
    let open_before = lab.node(0).model.connections_open();
    let port = lab.node(0).port;

    lab.node(0).ndis.fail_next_create_vc(status, 1);
    let now = lab.now();
    lab.network().offer_call(now, port, b"5555", OfferParams::default());
    lab.advance(A_MOMENT);

    let sent = from_node(&lab);
    assert_eq!(
        sent.last().map(|(n, c)| (n.as_str(), c.as_slice())),
        Some(("RELEASE COMPLETE", &[47u8][..])),
        "the SETUP is refused with #47: {sent:?}"
    );
    assert!(c.incoming_calls().is_empty(), "the client never hears of the call");
    assert!(lab.network().calls(port).is_empty(), "the network has cleared the call");
    assert_eq!(lab.node(0).model.connections_open(), open_before, "the NIC connection was closed");
    if let Some(l) = live(&lab, 0) {
        assert_eq!((l.vcs, l.calls), (0, 0), "no VC or call left: {l:?}");
    }

    // The ring (the only one) and the NIC connection are back: the next call is accepted and
    // carries data.
    let now = lab.now();
    lab.network().offer_call(now, port, b"5556", OfferParams::default());
    lab.advance(A_MOMENT);
    let vc = c.incoming_calls().last().expect("the second call is offered").vc;
    assert_eq!(c.state(vc), Some(atmmcm_hw::host::VcState::Connected));
    assert_eq!(c.send(vc, vec![vec![7u8; 100]]).len(), 1);
    lab.advance(A_MOMENT);
    assert!(c.send_completions().iter().any(|d| d.status == NdisStatus::SUCCESS), "the second call's frame went out");
    halt_clean(&lab);
}

#[test]
fn an_incoming_call_whose_create_vc_fails_with_resources_is_refused_with_47_and_gives_back_its_connection() {
    refused_when_create_vc_fails(NdisStatus::RESOURCES);
}

#[test]
fn an_incoming_call_whose_create_vc_the_client_refuses_is_refused_with_47_and_gives_back_its_connection() {
    refused_when_create_vc_fails(NdisStatus::FAILURE);
}
