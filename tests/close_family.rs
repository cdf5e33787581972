//! The close-call family, end to end: the driver in the lab's emulated NDIS (with its verifier),
//! signalling over SSCOP/AAL5 on 0/5 to the network-side peer. Every test asserts the exact NDIS
//! call sequence on the VC, the messages on the wire where they matter, and a clean verifier.

mod common;

use std::time::Duration;

use atmmcm::ndis::CloseData;
use atmmcm::{NdisStatus, SignallingVariant};
use atmmcm_hw::host::{Accept, SendCompletion, When};
use atmmcm_hw::lab::{LabConfig, call_to, multipoint_call_to};
use atmmcm_hw::network::Answer;
use common::*;

fn seq(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

const OUTGOING: &[&str] = &[
    "ProtocolCoCreateVc->SUCCESS",
    "ProtocolCmMakeCall->PENDING",
    "NdisMCmActivateVc",
    "NdisMCmMakeCallComplete(SUCCESS)",
];

const INCOMING: &[&str] =
    &["NdisMCmCreateVc", "NdisMCmActivateVc", "NdisMCmDispatchIncomingCall", "NdisMCmDispatchCallConnected"];

fn with(prefix: &[&str], rest: &[&str]) -> Vec<String> {
    seq(prefix).into_iter().chain(seq(rest)).collect()
}

// ---- ProtocolCmCloseCall: PENDING while the release is outstanding, SUCCESS when it can ----------

#[test]
fn close_pends_while_release_is_outstanding_then_completes_exactly_once_with_success() {
    let lab = lab();
    let c = client(&lab);
    let vc = outgoing_call(&lab, &c);
    assert_eq!(c.close_call(vc, None, None), NdisStatus::PENDING);
    // Nothing completes before the network confirms the release.
    assert_eq!(lab.node(0).ndis.ndis_calls_on(vc), with(OUTGOING, &["ProtocolCmCloseCall->PENDING"]));
    lab.advance(A_MOMENT);
    assert_eq!(
        lab.node(0).ndis.ndis_calls_on(vc),
        with(
            OUTGOING,
            &[
                "ProtocolCmCloseCall->PENDING",
                "NdisMCmDeactivateVc",
                "NdisMCmCloseCallComplete(SUCCESS)",
                "ProtocolCoDeleteVc->SUCCESS",
            ]
        )
    );
    assert_eq!(wire(&lab), ["->SETUP", "<-CONNECT", "->CONNECT ACK", "->RELEASE", "<-RELEASE COMPLETE"]);
    halt_clean(&lab);
}

#[test]
fn close_completes_synchronously_when_the_remote_released_and_the_vc_is_drained() {
    let lab = lab();
    let c = client(&lab);
    c.close_on_incoming_close(When::Never);
    let vc = outgoing_call(&lab, &c);
    let cref = network_cref(&lab);
    let now = lab.now();
    lab.network().release(now, lab.node(0).port, cref, 16, None);
    lab.advance(A_MOMENT);
    // The VC was torn down while the client thought; RELEASE COMPLETE went out once it was.
    assert_eq!(wire(&lab)[3..], ["<-RELEASE", "->RELEASE COMPLETE"]);
    assert_eq!(c.close_call(vc, None, None), NdisStatus::SUCCESS);
    assert_eq!(
        lab.node(0).ndis.ndis_calls_on(vc),
        with(
            OUTGOING,
            &[
                "NdisMCmDispatchIncomingCloseCall(SUCCESS)",
                "NdisMCmDeactivateVc",
                "ProtocolCmCloseCall->SUCCESS",
                "ProtocolCoDeleteVc->SUCCESS",
            ]
        )
    );
    halt_clean(&lab);
}

// ---- CloseData ----------------------------------------------------------------------------------

#[test]
fn close_data_travels_in_the_release_user_user_ie_on_uni40() {
    let (lab, a, b) = two_nodes(LabConfig::default());
    b.close_on_incoming_close(When::Never);
    let vc = a.create_vc().unwrap();
    assert_eq!(a.make_call(vc, call_to(b"1002")).0, NdisStatus::PENDING);
    lab.advance(A_MOMENT);
    assert_eq!(a.close_call(vc, None, Some(b"goodbye")), NdisStatus::PENDING);
    lab.advance(A_MOMENT);
    let closes = b.incoming_closes();
    assert_eq!(closes.len(), 1);
    assert_eq!((closes[0].1, closes[0].2.as_slice()), (NdisStatus::SUCCESS, &b"goodbye"[..]));
    let bvc = closes[0].0;
    assert_eq!(b.close_call(bvc, None, None), NdisStatus::PENDING, "MCM-created VC completes through NDIS");
    lab.advance(A_MOMENT);
    halt_clean(&lab);
}

#[test]
fn close_data_is_refused_with_invalid_data_on_uni31_and_the_call_stays_up() {
    let lab = lab_with(LabConfig::default().variant(SignallingVariant::Uni31));
    let c = client(&lab);
    let vc = outgoing_call(&lab, &c);
    assert_eq!(c.close_call(vc, None, Some(b"x")), NdisStatus::INVALID_DATA);
    assert_eq!(wire(&lab).len(), 3, "nothing sent for the refused close");
    // No data: the close goes ahead.
    assert_eq!(c.close_call(vc, None, None), NdisStatus::PENDING);
    lab.advance(A_MOMENT);
    assert!(lab.node(0).ndis.ndis_calls_on(vc).contains(&"NdisMCmCloseCallComplete(SUCCESS)".to_string()));
    halt_clean(&lab);
}

#[test]
fn close_data_over_the_user_user_limit_is_refused_with_invalid_length_never_truncated() {
    let lab = lab();
    let c = client(&lab);
    let vc = outgoing_call(&lab, &c);
    assert_eq!(c.close_call(vc, None, Some(&[7u8; 129])), NdisStatus::INVALID_LENGTH);
    // A hostile Size is refused without a slice ever being built over it.
    let adapter = lab.node(0).driver();
    let ctx = lab.node(0).ndis.vc_context(vc).unwrap();
    assert_eq!(adapter.protocol_cm_close_call(ctx, None, CloseData::Oversized(usize::MAX)), NdisStatus::INVALID_LENGTH);
    assert_eq!(wire(&lab).len(), 3, "nothing sent for the refused closes");
    // Exactly the limit goes through, whole.
    assert_eq!(c.close_call(vc, None, Some(&[7u8; 128])), NdisStatus::PENDING);
    lab.advance(A_MOMENT);
    let log = lab.network();
    let release = log.log().iter().find(|e| e.name == "RELEASE").unwrap().raw.clone();
    drop(log);
    assert!(release.windows(128).any(|w| w == [7u8; 128]), "all 128 octets on the wire");
    halt_clean(&lab);
}

// ---- party handles ------------------------------------------------------------------------------

#[test]
fn multipoint_close_names_the_last_party_and_completes_with_that_party() {
    let lab = lab();
    let c = client(&lab);
    let vc = c.create_vc().unwrap();
    let (st, first) = c.make_call(vc, multipoint_call_to(REMOTE));
    assert_eq!(st, NdisStatus::PENDING);
    lab.advance(A_MOMENT);
    let first = first.unwrap();
    let (st, second) = c.add_party(vc, call_to(b"9998"));
    assert_eq!(st, NdisStatus::PENDING);
    lab.advance(A_MOMENT);
    let second = second.unwrap();
    // Two parties: neither may close the call.
    assert_eq!(c.close_call(vc, Some(first), None), NdisStatus::FAILURE);
    // The non-last party drops; the last one closes.
    assert_eq!(c.drop_party(second, None), NdisStatus::PENDING);
    lab.advance(A_MOMENT);
    assert_eq!(c.drop_party(first, None), NdisStatus::FAILURE, "the last party never drops");
    assert_eq!(c.close_call(vc, Some(first), None), NdisStatus::PENDING);
    lab.advance(A_MOMENT);
    let calls = lab.node(0).ndis.ndis_calls_on(vc);
    assert!(calls.ends_with(&seq(&[
        "ProtocolCmCloseCall->PENDING",
        "NdisMCmDeactivateVc",
        "NdisMCmCloseCallComplete(SUCCESS)",
        "ProtocolCoDeleteVc->SUCCESS"
    ])));
    assert!(wire(&lab).contains(&"->DROP PARTY".to_string()));
    if let Some(l) = live(&lab, 0) {
        assert_eq!(l.parties, 0, "every party context freed");
    }
    halt_clean(&lab);
}

#[test]
fn point_to_point_close_with_a_party_handle_is_refused() {
    let lab = lab();
    let c = client(&lab);
    let vc = outgoing_call(&lab, &c);
    let adapter = lab.node(0).driver();
    let ctx = lab.node(0).ndis.vc_context(vc).unwrap();
    let forged = atmmcm::ndis::PartyContext::from_usize(ctx.as_usize()).unwrap();
    assert_eq!(adapter.protocol_cm_close_call(ctx, Some(forged), CloseData::None), NdisStatus::INVALID_PARAMETER);
    assert_eq!(c.close_call(vc, None, None), NdisStatus::PENDING);
    lab.advance(A_MOMENT);
    halt_clean(&lab);
}

#[test]
fn remote_drop_of_a_non_last_party_is_dispatched_and_the_client_drop_completes_at_once() {
    let lab = lab();
    let c = client(&lab);
    c.close_on_incoming_close(When::Never);
    let vc = c.create_vc().unwrap();
    let (_, first) = c.make_call(vc, multipoint_call_to(REMOTE));
    lab.advance(A_MOMENT);
    let (_, second) = c.add_party(vc, call_to(b"9998"));
    lab.advance(A_MOMENT);
    let cref = network_cref(&lab);
    let port = lab.node(0).port;
    let now = lab.now();
    let ep = lab.network().calls(port)[0].parties.iter().map(|p| p.0).max().unwrap();
    lab.network().drop_party(now, port, cref, ep, 16);
    lab.advance(A_MOMENT);
    assert!(lab.node(0).ndis.ndis_calls().contains(&"NdisMCmDispatchIncomingDropParty(SUCCESS)".to_string()));
    assert_eq!(c.drop_party(second.unwrap(), None), NdisStatus::SUCCESS);
    assert_eq!(c.close_call(vc, first, None), NdisStatus::PENDING);
    lab.advance(A_MOMENT);
    if let Some(l) = live(&lab, 0) {
        assert_eq!(l.parties, 0);
    }
    halt_clean(&lab);
}

// ---- NdisMCmDispatchIncomingCloseCall ---------------------------------------------------------------

#[test]
fn remote_release_dispatches_incoming_close_success_and_the_clients_close_drives_teardown() {
    let lab = lab();
    let c = client(&lab);
    let vc = outgoing_call(&lab, &c);
    let cref = network_cref(&lab);
    let now = lab.now();
    lab.network().release(now, lab.node(0).port, cref, 16, None);
    lab.advance(A_MOMENT);
    // The client closes from inside ProtocolClIncomingCloseCall (re-entrantly): the close pends
    // until the VC is drained, then deactivate → complete; the client deletes its VC.
    assert_eq!(
        lab.node(0).ndis.ndis_calls_on(vc),
        with(
            OUTGOING,
            &[
                "NdisMCmDispatchIncomingCloseCall(SUCCESS)",
                "ProtocolCmCloseCall->PENDING",
                "NdisMCmDeactivateVc",
                "NdisMCmCloseCallComplete(SUCCESS)",
                "ProtocolCoDeleteVc->SUCCESS",
            ]
        )
    );
    assert_eq!(wire(&lab)[3..], ["<-RELEASE", "->RELEASE COMPLETE"]);
    halt_clean(&lab);
}

#[test]
fn link_loss_dispatches_incoming_close_with_dest_out_of_order_once_t309_expires() {
    let lab = lab();
    let c = client(&lab);
    let vc = outgoing_call(&lab, &c);
    lab.set_link(0, false);
    // Active calls survive T309 (10 s) waiting for the link.
    lab.advance(Duration::from_secs(9));
    assert!(!lab.node(0).ndis.ndis_calls_on(vc).iter().any(|s| s.starts_with("NdisMCmDispatchIncomingCloseCall")));
    lab.advance(Duration::from_secs(2));
    assert_eq!(
        lab.node(0).ndis.ndis_calls_on(vc),
        with(
            OUTGOING,
            &[
                "NdisMCmDispatchIncomingCloseCall(DEST_OUT_OF_ORDER)",
                "ProtocolCmCloseCall->PENDING",
                "NdisMCmDeactivateVc",
                "NdisMCmCloseCallComplete(SUCCESS)",
                "ProtocolCoDeleteVc->SUCCESS",
            ]
        )
    );
    assert!(lab.node(0).ndis.ndis_calls().contains(&"NdisMCoIndicateStatusEx(LINK_STATE)".to_string()));
    halt_clean(&lab);
}

#[test]
fn unsupportable_parameters_in_incoming_call_complete_dispatch_an_incoming_close_with_an_error() {
    let lab = lab();
    let c = client(&lab);
    c.accept_incoming(Accept::Pending);
    let (vc, _) = incoming_call(&lab, &c);
    let mut bad = c.incoming_calls()[0].params;
    bad.media.aal_type = atmmcm::ndis::AalType::Aal34;
    c.complete_incoming_with(vc, NdisStatus::SUCCESS, bad);
    lab.advance(A_MOMENT);
    assert_eq!(
        lab.node(0).ndis.ndis_calls_on(vc),
        seq(&[
            "NdisMCmCreateVc",
            "NdisMCmActivateVc",
            "NdisMCmDispatchIncomingCall",
            // From inside ProtocolCmIncomingCallComplete; the client closes re-entrantly.
            "NdisMCmDispatchIncomingCloseCall(AAL_PARAMS_UNSUPPORTED)",
            "ProtocolCmCloseCall->PENDING",
            "ProtocolCmIncomingCallComplete(SUCCESS)->()",
            "NdisMCmDeactivateVc",
            "NdisMCmCloseCallComplete(SUCCESS)",
            "NdisMCmDeleteVc",
        ])
    );
    assert!(wire(&lab).contains(&"->RELEASE COMPLETE".to_string()), "the call is refused on the network");
    halt_clean(&lab);
}

// ---- after a successful close the VC is unusable at once ---------------------------------------------

#[test]
fn incoming_call_close_deactivates_completes_then_deletes_the_vc_the_driver_created() {
    let lab = lab();
    let c = client(&lab);
    let (vc, _) = incoming_call(&lab, &c);
    assert_eq!(c.close_call(vc, None, None), NdisStatus::PENDING);
    lab.advance(A_MOMENT);
    assert_eq!(
        lab.node(0).ndis.ndis_calls_on(vc),
        with(
            INCOMING,
            &[
                "ProtocolCmCloseCall->PENDING",
                "NdisMCmDeactivateVc",
                "NdisMCmCloseCallComplete(SUCCESS)",
                "NdisMCmDeleteVc"
            ]
        )
    );
    halt_clean(&lab);
}

#[test]
fn client_created_vc_is_not_deleted_by_the_driver_but_waits_for_protocol_co_delete_vc() {
    let lab = lab();
    let c = client(&lab);
    c.set_policy(atmmcm_hw::host::Policy { delete_after_close: When::Never, ..c.policy() });
    let vc = outgoing_call(&lab, &c);
    assert_eq!(c.close_call(vc, None, None), NdisStatus::PENDING);
    lab.advance(A_MOMENT);
    let calls = lab.node(0).ndis.ndis_calls_on(vc);
    assert!(!calls.iter().any(|s| s == "NdisMCmDeleteVc"));
    assert_eq!(calls.last().map(String::as_str), Some("NdisMCmCloseCallComplete(SUCCESS)"));
    assert_eq!(c.delete_vc(vc), NdisStatus::SUCCESS);
    halt_clean(&lab);
}

#[test]
fn sends_after_the_close_started_complete_with_closing_and_nothing_is_indicated() {
    let lab = lab();
    let c = client(&lab);
    let vc = outgoing_call(&lab, &c);
    let early = c.send(vc, vec![vec![1; 100]]);
    lab.settle();
    assert_eq!(c.close_call(vc, None, None), NdisStatus::PENDING);
    let late = c.send(vc, vec![vec![2; 100], vec![3; 100]]);
    // The remote keeps sending into the closing VC: nothing reaches the client.
    let port = lab.node(0).port;
    let id = lab.network().calls(port)[0].vci;
    lab.network().inject_data(port, 0, id, &[9; 40]);
    lab.advance(A_MOMENT);
    let done = c.send_completions();
    let status_of = |n| done.iter().filter(|s: &&SendCompletion| s.nbl == n).map(|s| s.status).collect::<Vec<_>>();
    assert_eq!(status_of(early[0]), [NdisStatus::SUCCESS]);
    for n in late {
        assert_eq!(status_of(n), [NdisStatus::CLOSING], "exactly one completion, CLOSING");
    }
    assert!(c.received_frames(vc).is_empty());
    halt_clean(&lab);
}

// ---- halt -----------------------------------------------------------------------------------------------

#[test]
fn halt_with_calls_open_notifies_close_af_and_ends_with_zero_live_objects() {
    let lab = lab();
    let c = client(&lab);
    let out = outgoing_call(&lab, &c);
    let (inc, _) = incoming_call(&lab, &c);
    lab.halt(0);
    let calls = lab.node(0).ndis.ndis_calls();
    assert_eq!(calls.iter().filter(|s| *s == "NdisMCmNotifyCloseAddressFamily").count(), 1);
    assert!(lab.node(0).ndis.ndis_calls_on(out).contains(&"NdisMCmCloseCallComplete(SUCCESS)".to_string()));
    assert!(
        lab.node(0).ndis.ndis_calls_on(inc).ends_with(&seq(&["NdisMCmCloseCallComplete(SUCCESS)", "NdisMCmDeleteVc"]))
    );
    clean(&lab);
    if let Some(l) = live(&lab, 0) {
        assert_eq!((l.afs, l.saps, l.vcs, l.calls, l.parties), (0, 0, 0, 0, 0));
    }
}

// ---- races ---------------------------------------------------------------------------------------------

#[test]
fn remote_release_crossing_a_local_close_is_one_close_and_no_incoming_dispatch() {
    let lab = lab();
    let c = client(&lab);
    let vc = outgoing_call(&lab, &c);
    let port = lab.node(0).port;
    let cref = network_cref(&lab);
    lab.network().behaviour(port).release_complete = false;
    assert_eq!(c.close_call(vc, None, None), NdisStatus::PENDING);
    lab.settle();
    let now = lab.now();
    lab.network().release(now, port, cref, 16, None);
    lab.advance(A_MOMENT);
    let calls = lab.node(0).ndis.ndis_calls_on(vc);
    assert!(!calls.iter().any(|s| s.starts_with("NdisMCmDispatchIncomingCloseCall")));
    assert_eq!(calls.iter().filter(|s| s.starts_with("NdisMCmCloseCallComplete")).count(), 1);
    // A clear collision ends the call without a RELEASE COMPLETE from us.
    assert!(!wire(&lab).contains(&"->RELEASE COMPLETE".to_string()));
    halt_clean(&lab);
}

#[test]
fn link_loss_during_a_pending_close_completes_the_close() {
    let lab = lab();
    let c = client(&lab);
    let vc = outgoing_call(&lab, &c);
    lab.network().behaviour(lab.node(0).port).release_complete = false;
    assert_eq!(c.close_call(vc, None, None), NdisStatus::PENDING);
    lab.settle();
    lab.set_link(0, false);
    lab.advance(A_MOMENT);
    assert_eq!(
        lab.node(0).ndis.ndis_calls_on(vc),
        with(
            OUTGOING,
            &[
                "ProtocolCmCloseCall->PENDING",
                "NdisMCmDeactivateVc",
                "NdisMCmCloseCallComplete(SUCCESS)",
                "ProtocolCoDeleteVc->SUCCESS",
            ]
        )
    );
    halt_clean(&lab);
}

#[test]
fn close_during_a_pending_make_call_aborts_the_make_call_then_completes_the_close() {
    let lab = lab();
    let c = client(&lab);
    lab.network().behaviour(lab.node(0).port).answer = Answer::Ignore;
    let vc = c.create_vc().unwrap();
    assert_eq!(c.make_call(vc, call_to(REMOTE)).0, NdisStatus::PENDING);
    lab.settle();
    assert_eq!(c.close_call(vc, None, None), NdisStatus::PENDING);
    lab.advance(A_MOMENT);
    assert_eq!(
        lab.node(0).ndis.ndis_calls_on(vc),
        seq(&[
            "ProtocolCoCreateVc->SUCCESS",
            "ProtocolCmMakeCall->PENDING",
            // MakeCall completes (aborted) from inside the close handler, before it returns.
            "NdisMCmMakeCallComplete(REQUEST_ABORTED)",
            "ProtocolCmCloseCall->PENDING",
            "NdisMCmCloseCallComplete(SUCCESS)",
            "ProtocolCoDeleteVc->SUCCESS",
        ])
    );
    assert_eq!(wire(&lab), ["->SETUP", "->RELEASE", "<-RELEASE COMPLETE"]);
    halt_clean(&lab);
}

#[test]
fn unanswered_release_is_sent_again_with_cause_102_after_t308_then_the_close_completes() {
    let lab = lab();
    let c = client(&lab);
    let vc = outgoing_call(&lab, &c);
    lab.network().behaviour(lab.node(0).port).release_complete = false;
    assert_eq!(c.close_call(vc, None, None), NdisStatus::PENDING);
    lab.advance(Duration::from_secs(29));
    assert_eq!(wire(&lab).iter().filter(|s| *s == "->RELEASE").count(), 1);
    lab.advance(Duration::from_secs(2));
    assert_eq!(wire(&lab).iter().filter(|s| *s == "->RELEASE").count(), 2);
    let second = lab.network().log().iter().filter(|e| e.name == "RELEASE").nth(1).unwrap().causes.clone();
    assert_eq!(second, [16, 102]);
    assert!(!lab.node(0).ndis.ndis_calls_on(vc).iter().any(|s| s.starts_with("NdisMCmCloseCallComplete")));
    lab.advance(Duration::from_secs(30));
    assert_eq!(
        lab.node(0).ndis.ndis_calls_on(vc).iter().filter(|s| *s == "NdisMCmCloseCallComplete(SUCCESS)").count(),
        1
    );
    halt_clean(&lab);
}

#[test]
fn close_while_sends_are_in_flight_completes_every_nbl_exactly_once() {
    if is_sys() {
        // The state this test needs (frames both on the NIC and queued) comes from a knob of the
        // in-process driver's NIC layer; atmmcm.sys has no such knob.
        eprintln!("SKIPPED (atmmcm.sys): needs the in-process NIC layer's tx limit");
        return;
    }
    let lab = lab();
    let c = client(&lab);
    let vc = outgoing_call(&lab, &c);
    lab.node(0).model.set_tx_frames_per_step(3);
    lab.node(0).nic().set_tx_limit(4);
    let first = c.send(vc, (0..50).map(|i| vec![i as u8; 200]).collect());
    // Some frames reach the NIC, the rest wait in the ring when the close starts.
    lab.pump_once();
    lab.pump_once();
    assert_eq!(c.close_call(vc, None, None), NdisStatus::PENDING);
    let after = c.send(vc, vec![vec![0; 10]; 5]);
    lab.advance(A_MOMENT);
    let done = c.send_completions();
    for n in first.iter().chain(after.iter()) {
        assert_eq!(done.iter().filter(|s| s.nbl == *n).count(), 1, "{n:?} completed exactly once");
    }
    let ok = done.iter().filter(|s| s.status == NdisStatus::SUCCESS).count();
    let aborted = done.iter().filter(|s| s.status == NdisStatus::SEND_ABORTED).count();
    let closing = done.iter().filter(|s| s.status == NdisStatus::CLOSING).count();
    assert_eq!(closing, 5);
    assert_eq!(ok + aborted, 50);
    assert!(ok > 0 && aborted > 0, "both on-wire ({ok}) and queued ({aborted}) NBLs at close");
    assert!(lab.node(0).ndis.ndis_calls_on(vc).contains(&"NdisMCmCloseCallComplete(SUCCESS)".to_string()));
    halt_clean(&lab);
}

// ---- stale and forged contexts ---------------------------------------------------------------------

#[test]
fn stale_or_forged_contexts_are_answered_with_a_status() {
    let lab = lab();
    let c = client(&lab);
    let vc = outgoing_call(&lab, &c);
    let ctx = lab.node(0).ndis.vc_context(vc).unwrap();
    assert_eq!(c.close_call(vc, None, None), NdisStatus::PENDING);
    lab.advance(A_MOMENT);
    let a = lab.node(0).driver();
    // The VC was deleted: its context is dead.
    assert_eq!(a.protocol_cm_close_call(ctx, None, CloseData::None), NdisStatus::INVALID_PARAMETER);
    assert_eq!(a.protocol_co_delete_vc(ctx), NdisStatus::INVALID_PARAMETER);
    let forged = atmmcm::ndis::VcContext::from_usize(0xdead_0000_0001).unwrap();
    assert_eq!(a.protocol_cm_close_call(forged, None, CloseData::None), NdisStatus::INVALID_PARAMETER);
    let fp = atmmcm::ndis::PartyContext::from_usize(0x7777_0003).unwrap();
    assert_eq!(a.protocol_cm_drop_party(fp, CloseData::None), NdisStatus::INVALID_PARAMETER);
    halt_clean(&lab);
}
