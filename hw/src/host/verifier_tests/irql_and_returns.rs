//! Rules IRQL-* (the IRQL of NDIS calls) and RET-* (what a handler may return).

use super::*;

// ---- IRQL ---------------------------------------------------------------------------------------------------

#[test]
fn rule_irql_passive_fires_on_register_af_at_dispatch() {
    let emu = EmuNdis::new(Arc::new(Clock::new()));
    emu.at_irql(Irql::Dispatch, || emu.cm_register_address_family_ex(&CoAddressFamily::Q2931_UNI31));
    assert_eq!(emu.fired(), vec![rule::IRQL_PASSIVE]);
    let ok = EmuNdis::new(Arc::new(Clock::new()));
    ok.cm_register_address_family_ex(&CoAddressFamily::Q2931_UNI31);
    assert!(ok.fired().is_empty());
}

#[test]
fn rule_irql_passive_fires_on_notify_close_af_from_dpc() {
    let l = lab();
    let af = l.af;
    l.script(|s| {
        s.on_dpc = Some(Arc::new(move |n: &EmuNdis| {
            n.cm_notify_close_address_family(af);
        }))
    });
    l.emu.run_dpc();
    l.only(rule::IRQL_PASSIVE);
}

#[test]
fn rule_irql_dispatch_fires_on_deactivate_vc_at_device_irql() {
    let l = lab();
    let vc = l.client_call();
    l.emu.at_irql(Irql::Device, || l.ndis().cm_deactivate_vc(vc));
    l.only(rule::IRQL_DISPATCH);
    let l = lab();
    let vc = l.client_call();
    l.emu.set_irql_dispatch_for(|| l.ndis().cm_deactivate_vc(vc));
    l.clean();
}

// ---- handler returns ---------------------------------------------------------------------------------------

#[test]
fn rule_ret_cocreatevc_fires_on_pending_from_protocol_co_create_vc() {
    let l = lab();
    l.script(|s| s.create_vc = NdisStatus::PENDING);
    assert_eq!(l.client.create_vc(), Err(NdisStatus::PENDING));
    l.only(rule::RET_COCREATEVC);
    let l = lab();
    l.client.create_vc().unwrap();
    l.clean();
}

#[test]
fn rule_ret_codeletevc_fires_on_pending_from_protocol_co_delete_vc() {
    let l = lab();
    let vc = l.client.create_vc().unwrap();
    l.script(|s| s.delete_vc = NdisStatus::PENDING);
    l.client.delete_vc(vc);
    l.only(rule::RET_CODELETEVC);
    let l = lab();
    let vc = l.client.create_vc().unwrap();
    assert_eq!(l.client.delete_vc(vc), NdisStatus::SUCCESS);
    l.clean();
}

#[test]
fn rule_ret_codeletevc_fires_on_success_for_an_active_vc() {
    let l = lab();
    let vc = l.client_call();
    l.client.delete_vc(vc);
    l.only(rule::RET_CODELETEVC);
    let l = lab();
    let vc = l.client_call();
    l.script(|s| s.delete_vc = NdisStatus::NOT_ACCEPTED);
    assert_eq!(l.client.delete_vc(vc), NdisStatus::NOT_ACCEPTED);
    l.clean();
}

#[test]
fn rule_ret_closecall_fires_on_invalid_data_without_close_data() {
    let l = lab();
    let vc = l.client_call();
    l.script(|s| s.close_call = NdisStatus::INVALID_DATA);
    l.client.close_call(vc, None, None);
    l.only(rule::RET_CLOSECALL);
    // With CloseData the same answer is allowed (UNI 3.1 cannot carry it).
    let l = lab();
    let vc = l.client_call();
    l.script(|s| s.close_call = NdisStatus::INVALID_DATA);
    assert_eq!(l.client.close_call(vc, None, Some(b"bye")), NdisStatus::INVALID_DATA);
    assert_eq!(l.client.state(vc), Some(VcState::Connected));
    l.clean();
}

#[test]
fn rule_ret_closecall_fires_on_a_non_error_non_success_status() {
    let l = lab();
    let vc = l.client_call();
    l.script(|s| s.close_call = NdisStatus::NOT_ACCEPTED);
    l.client.close_call(vc, None, None);
    l.only(rule::RET_CLOSECALL);
}

#[test]
fn rule_ret_dropparty_last_fires_on_success_dropping_the_last_party() {
    let l = lab();
    let (_vc, party) = l.multipoint_call();
    l.script(|s| s.drop_party = NdisStatus::SUCCESS);
    l.client.drop_party(party, None);
    l.only(rule::RET_DROPPARTY_LAST);
    let l = lab();
    let (_vc, party) = l.multipoint_call();
    l.script(|s| s.drop_party = NdisStatus::FAILURE);
    assert_eq!(l.client.drop_party(party, None), NdisStatus::FAILURE);
    l.clean();
}
