//! Rules VC-* (activate, deactivate and delete of a VC in the contract's order).

use super::*;

// ---- VC life -----------------------------------------------------------------------------------------------

#[test]
fn rule_vc_deact_before_complete_fires_on_close_complete_while_active() {
    let l = lab();
    let vc = l.closing_client_call();
    l.ndis().cm_close_call_complete(NdisStatus::SUCCESS, vc, None);
    l.only(rule::VC_DEACT_BEFORE_COMPLETE);
}

#[test]
fn rule_vc_deact_before_complete_fires_on_synchronous_close_success_while_active() {
    let l = lab();
    l.client.delete_after_close(When::Never);
    let vc = l.client_call();
    l.script(|s| s.close_call = NdisStatus::SUCCESS);
    l.client.close_call(vc, None, None);
    l.only(rule::VC_DEACT_BEFORE_COMPLETE);
}

#[test]
fn rule_vc_deact_once_fires_on_deactivating_twice() {
    let l = lab();
    let vc = l.client_call();
    l.client.close_call(vc, None, None);
    assert_eq!(l.ndis().cm_deactivate_vc(vc), NdisStatus::SUCCESS);
    assert_eq!(l.ndis().cm_deactivate_vc(vc), NdisStatus::NOT_ACCEPTED);
    l.only(rule::VC_DEACT_ONCE);
}

#[test]
fn rule_vc_delete_inactive_fires_on_deleting_an_active_vc_with_a_call() {
    let l = lab();
    let sap = l.sap();
    let vc = l.incoming_call(sap);
    assert_eq!(l.ndis().cm_delete_vc(vc), NdisStatus::NOT_ACCEPTED);
    l.only(rule::VC_DELETE_INACTIVE);
}

#[test]
fn rule_vc_delete_inactive_fires_on_deleting_a_deactivated_vc_whose_close_is_pending() {
    let l = lab();
    let sap = l.sap();
    let vc = l.incoming_call(sap);
    l.client.close_call(vc, None, None);
    l.ndis().cm_deactivate_vc(vc);
    l.ndis().cm_delete_vc(vc);
    l.only(rule::VC_DELETE_INACTIVE);
}

#[test]
fn rule_vc_delete_creator_fires_on_ndis_m_cm_delete_vc_of_a_client_vc() {
    let l = lab();
    let vc = l.closing_client_call();
    l.finish_close(vc);
    l.ndis().cm_delete_vc(vc);
    l.only(rule::VC_DELETE_CREATOR);
}

#[test]
fn rule_vc_activate_open_fires_on_activating_a_closing_vc() {
    let l = lab();
    let vc = l.client_call();
    l.client.close_call(vc, None, None);
    l.ndis().cm_deactivate_vc(vc);
    l.ndis().cm_activate_vc(vc, &params(false));
    l.only(rule::VC_ACTIVATE_OPEN);
}

#[test]
fn rule_vc_activate_open_fires_on_activating_after_a_close_during_make_on_the_same_thread() {
    let l = lab();
    let vc = l.client.create_vc().unwrap();
    l.client.make_call(vc, params(false));
    l.client.close_call(vc, None, None);
    l.ndis().cm_activate_vc(vc, &params(false));
    l.only(rule::VC_ACTIVATE_OPEN);
}

#[test]
fn rule_vc_activate_open_fires_on_activating_after_the_aborted_make_call_completed() {
    let l = lab();
    let vc = l.client.create_vc().unwrap();
    l.client.make_call(vc, params(false));
    let c = l.client.clone();
    std::thread::spawn(move || c.close_call(vc, None, None)).join().unwrap();
    l.ndis().cm_make_call_complete(NdisStatus::REQUEST_ABORTED, vc, None, None, ClientParams(0), &params(false));
    l.ndis().cm_activate_vc(vc, &params(false));
    l.only(rule::VC_ACTIVATE_OPEN);
}

#[test]
fn rule_vc_activate_open_allows_an_activation_overtaken_by_a_close_during_make_on_another_thread() {
    // The driver decided the activation before the close reached it (module doc).
    let l = lab();
    let vc = l.client.create_vc().unwrap();
    l.client.make_call(vc, params(false));
    let c = l.client.clone();
    std::thread::spawn(move || c.close_call(vc, None, None)).join().unwrap();
    l.ndis().cm_activate_vc(vc, &params(false));
    l.clean();
    // A close of an established call on another thread still forbids it.
    let l = lab();
    let vc = l.client_call();
    let c = l.client.clone();
    std::thread::spawn(move || c.close_call(vc, None, None)).join().unwrap();
    l.ndis().cm_deactivate_vc(vc);
    l.ndis().cm_activate_vc(vc, &params(false));
    l.only(rule::VC_ACTIVATE_OPEN);
}

#[test]
fn rule_vc_activate_open_fires_on_activating_a_client_vc_without_a_call() {
    let l = lab();
    let vc = l.client.create_vc().unwrap();
    l.ndis().cm_activate_vc(vc, &params(false));
    l.only(rule::VC_ACTIVATE_OPEN);
    // During a modify it is required.
    let l = lab();
    let vc = l.client_call();
    l.script(|s| s.modify_qos = NdisStatus::PENDING);
    l.client.modify_qos(vc, params(false));
    l.ndis().cm_activate_vc(vc, &params(false));
    l.ndis().cm_modify_call_qos_complete(NdisStatus::SUCCESS, vc, ClientParams(0), &params(false));
    l.clean();
}
