//! Correct sequences that must fire nothing: the real adapter as the driver, incoming calls
//! accepted late or rejected, multipoint drops and closes, halt with everything open, OIDs.

use super::*;

/// A device that does nothing: enough for the adapter to be built.
struct NullDevice;

impl atmmcm::nic::Device for NullDevice {
    fn open_connection(&self, _p: &atmmcm::nic::ConnParams) -> Result<atmmcm::nic::ConnId, NdisStatus> {
        Err(NdisStatus::RESOURCES)
    }
    fn close_connection(&self, _conn: atmmcm::nic::ConnId) {}
    fn transmit(&self, _c: atmmcm::nic::ConnId, _f: &[u8], _k: atmmcm::nic::TxCookie) -> Result<(), NdisStatus> {
        Err(NdisStatus::RESOURCES)
    }
    fn poll(&self, _budget: usize, _sink: &mut dyn FnMut(atmmcm::nic::DeviceEvent<'_>)) -> usize {
        0
    }
    fn link_up(&self) -> bool {
        false
    }
}

#[test]
fn the_real_adapter_plugs_into_the_emulated_ndis_as_a_driver() {
    let emu = EmuNdis::new(Arc::new(Clock::new()));
    let adapter = Arc::new(atmmcm::Adapter::initialize(emu.clone(), NullDevice, atmmcm::Config::DEFAULT).unwrap());
    emu.attach_arc(&adapter);
    let _ = emu.start();
    emu.run_dpc();
    emu.halt();
    let names: Vec<String> = emu.log().into_iter().map(|e| e.name).collect();
    assert!(names.contains(&"MiniportInitializeEx".to_string()), "{names:?}");
    assert!(names.contains(&"MiniportDpc->()".to_string()), "{names:?}");
    assert!(names.contains(&"MiniportHaltEx->()".to_string()), "{names:?}");
    drop(adapter);
    // With the adapter gone NDIS has nobody to call.
    assert_eq!(emu.start(), NdisStatus::FAILURE);
}

#[test]
fn pended_incoming_call_accepted_later_is_clean() {
    let l = lab();
    l.client.accept_incoming(Accept::Pending);
    let sap = l.sap();
    let vc = l.ndis().cm_create_vc(l.af, VcContext(tok(999))).unwrap();
    l.ndis().cm_activate_vc(vc, &params(false));
    assert_eq!(l.ndis().cm_dispatch_incoming_call(sap, vc, &params(false)), NdisStatus::PENDING);
    assert_eq!(l.client.state(vc), Some(VcState::Offered));
    l.client.complete_incoming(vc, NdisStatus::SUCCESS);
    assert_eq!(l.client.state(vc), Some(VcState::Accepted));
    l.ndis().cm_dispatch_call_connected(vc);
    assert_eq!(l.client.state(vc), Some(VcState::Connected));
    assert_eq!(l.client.incoming_calls().len(), 1);
    l.clean();
}

#[test]
fn rejected_incoming_call_then_deactivate_and_delete_is_clean() {
    let l = lab();
    l.client.accept_incoming(Accept::Reject(NdisStatus::NOT_ACCEPTED));
    let sap = l.sap();
    let vc = l.ndis().cm_create_vc(l.af, VcContext(tok(999))).unwrap();
    l.ndis().cm_activate_vc(vc, &params(false));
    assert_eq!(l.ndis().cm_dispatch_incoming_call(sap, vc, &params(false)), NdisStatus::NOT_ACCEPTED);
    assert_eq!(l.ndis().cm_deactivate_vc(vc), NdisStatus::SUCCESS);
    assert_eq!(l.ndis().cm_delete_vc(vc), NdisStatus::SUCCESS);
    assert_eq!(l.client.state(vc), Some(VcState::Deleted));
    l.clean();
}

#[test]
fn multipoint_drop_then_close_with_the_last_party_is_clean() {
    let l = lab();
    let (vc, p1) = l.multipoint_call();
    let p2 = l.add_party(vc);
    assert_eq!(l.client.parties(vc), vec![p1, p2]);
    assert_eq!(l.client.drop_party(p2, None), NdisStatus::PENDING);
    l.ndis().cm_drop_party_complete(NdisStatus::SUCCESS, p2);
    assert_eq!(l.client.close_call(vc, Some(p1), None), NdisStatus::PENDING);
    l.ndis().cm_deactivate_vc(vc);
    l.ndis().cm_close_call_complete(NdisStatus::SUCCESS, vc, Some(p1));
    assert_eq!(l.client.state(vc), Some(VcState::Deleted));
    l.emu.check_outstanding();
    l.clean();
}

#[test]
fn incoming_close_on_a_multipoint_call_drops_other_parties_first() {
    let l = lab();
    l.script(|s| s.drop_party = NdisStatus::SUCCESS);
    let (vc, p1) = l.multipoint_call();
    let _p2 = l.add_party(vc);
    l.ndis().cm_dispatch_incoming_close_call(NdisStatus::SUCCESS, vc, &[]);
    let seq = l.emu.ndis_calls_on(vc);
    let tail: Vec<&str> = seq.iter().rev().take(3).rev().map(|s| s.as_str()).collect();
    assert_eq!(
        tail,
        ["NdisMCmDispatchIncomingCloseCall(SUCCESS)", "ProtocolCmDropParty->SUCCESS", "ProtocolCmCloseCall->PENDING"]
    );
    l.ndis().cm_deactivate_vc(vc);
    l.ndis().cm_close_call_complete(NdisStatus::SUCCESS, vc, Some(p1));
    l.clean();
}

#[test]
fn deferred_incoming_close_waits_for_the_pump() {
    let l = lab();
    l.client.close_on_incoming_close(When::Deferred);
    let sap = l.sap();
    let vc = l.incoming_call(sap);
    l.ndis().cm_dispatch_incoming_close_call(NdisStatus::DEST_OUT_OF_ORDER, vc, &[]);
    assert_eq!(l.client.state(vc), Some(VcState::RemoteClosing));
    assert!(l.emu.run_pending());
    assert_eq!(l.client.state(vc), Some(VcState::Closing));
    l.finish_close(vc);
    l.ndis().cm_delete_vc(vc);
    l.clean();
}

#[test]
fn halt_with_calls_saps_and_parties_open_tears_everything_down_cleanly() {
    let l = lab();
    let _sap = l.sap();
    let (mvc, p1) = l.multipoint_call();
    let _p2 = l.add_party(mvc);
    let vc = l.client_call();
    let ivc = {
        let sap2 = l.sap();
        l.incoming_call(sap2)
    };
    let af = l.af;
    l.script(|s| {
        s.drop_party = NdisStatus::SUCCESS;
        s.close_call = NdisStatus::PENDING;
        s.on_halt = Some(Arc::new(move |n: &EmuNdis| {
            assert_eq!(n.cm_notify_close_address_family(af), NdisStatus::PENDING);
            // The driver finishes each close (as its DPC would), deleting the VC it created.
            n.cm_deactivate_vc(mvc);
            n.cm_close_call_complete(NdisStatus::SUCCESS, mvc, Some(p1));
            n.cm_deactivate_vc(vc);
            n.cm_close_call_complete(NdisStatus::SUCCESS, vc, None);
            n.cm_deactivate_vc(ivc);
            n.cm_close_call_complete(NdisStatus::SUCCESS, ivc, None);
            n.cm_delete_vc(ivc);
        }));
    });
    l.emu.halt();
    assert!(l.emu.log().iter().any(|e| e.name == "ProtocolCmNotifyCloseAfComplete(SUCCESS)"));
    assert_eq!(l.emu.live(), LiveCounts::default());
    l.clean();
}

#[test]
fn oid_requests_reach_the_driver_and_return_its_status() {
    let l = lab();
    let mut buf = [0u8; 8];
    assert_eq!(l.client.oid_request(None, 0x0001_0114, true, &mut buf).0, NdisStatus::NOT_SUPPORTED);
    assert_eq!(l.client.af_oid_request(None, 0x0001_0114, true, &mut buf).0, NdisStatus::NOT_SUPPORTED);
    assert!(l.emu.log().iter().any(|e| e.name == "MiniportCoOidRequest->NOT_SUPPORTED"));
    assert!(l.emu.log().iter().any(|e| e.name == "ProtocolCoOidRequest->NOT_SUPPORTED"));
}
