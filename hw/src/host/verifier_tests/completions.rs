//! Rules CMP-* (every pended request completed once, close completions in order), and the
//! correct completions they must not flag.

use super::*;

// ---- completions -------------------------------------------------------------------------------------------

#[test]
fn rule_cmp_close_notpending_fires_on_close_complete_with_pending() {
    let l = lab();
    let vc = l.client_call();
    l.client.close_call(vc, None, None);
    l.ndis().cm_deactivate_vc(vc);
    l.ndis().cm_close_call_complete(NdisStatus::PENDING, vc, None);
    l.only(rule::CMP_CLOSE_NOTPENDING);
}

#[test]
fn rule_cmp_close_once_fires_on_a_second_close_completion() {
    let l = lab();
    let vc = l.closing_client_call();
    l.finish_close(vc);
    l.ndis().cm_close_call_complete(NdisStatus::SUCCESS, vc, None);
    l.only(rule::CMP_CLOSE_ONCE);
}

#[test]
fn rule_cmp_close_once_fires_on_completion_inside_a_close_that_returns_success() {
    let l = lab();
    l.client.delete_after_close(When::Never);
    let vc = l.client_call();
    l.close_inline(vc);
    l.script(|s| s.close_call = NdisStatus::SUCCESS);
    l.client.close_call(vc, None, None);
    l.only(rule::CMP_CLOSE_ONCE);
}

#[test]
fn rule_cmp_close_once_fires_on_a_pended_close_never_completed() {
    let l = lab();
    let vc = l.client_call();
    l.client.close_call(vc, None, None);
    l.ndis().cm_deactivate_vc(vc);
    l.emu.check_outstanding();
    l.only(rule::CMP_CLOSE_ONCE);
}

#[test]
fn completion_before_the_close_handler_returns_pending_is_clean() {
    // COISDN: CompleteCmCloseCall inline, then PENDING.
    let l = lab();
    let vc = l.client_call();
    l.close_inline(vc);
    assert_eq!(l.client.close_call(vc, None, None), NdisStatus::PENDING);
    l.emu.check_outstanding();
    l.clean();
}

#[test]
fn rule_cmp_close_once_fires_on_a_second_close_accepted_while_one_is_outstanding() {
    let l = lab();
    let vc = l.client_call();
    assert_eq!(l.client.close_call(vc, None, None), NdisStatus::PENDING);
    l.client.close_call(vc, None, None);
    l.only(rule::CMP_CLOSE_ONCE);
    // Right: the client's second NdisClCloseCall is refused; the first close completes once.
    let l = lab();
    let vc = l.client_call();
    assert_eq!(l.client.close_call(vc, None, None), NdisStatus::PENDING);
    l.script(|s| s.close_call = NdisStatus::CLOSING);
    assert_eq!(l.client.close_call(vc, None, None), NdisStatus::CLOSING);
    l.finish_close(vc);
    l.clean();
}

#[test]
fn rule_cmp_close_inprogress_fires_on_close_complete_without_close_call() {
    let l = lab();
    let vc = l.client_call();
    l.ndis().cm_deactivate_vc(vc);
    l.ndis().cm_close_call_complete(NdisStatus::SUCCESS, vc, None);
    l.only(rule::CMP_CLOSE_INPROGRESS);
}

#[test]
fn rule_cmp_close_party_fires_on_null_party_for_a_multipoint_close() {
    let l = lab();
    let (vc, party) = l.multipoint_call();
    l.client.close_call(vc, Some(party), None);
    l.ndis().cm_deactivate_vc(vc);
    l.ndis().cm_close_call_complete(NdisStatus::SUCCESS, vc, None);
    l.only(rule::CMP_CLOSE_PARTY);
    let l = lab();
    let (vc, party) = l.multipoint_call();
    l.client.close_call(vc, Some(party), None);
    l.ndis().cm_deactivate_vc(vc);
    l.ndis().cm_close_call_complete(NdisStatus::SUCCESS, vc, Some(party));
    l.clean();
}

#[test]
fn rule_cmp_close_party_fires_on_a_party_for_a_point_to_point_close() {
    let l = lab();
    let (_mvc, party) = l.multipoint_call();
    let vc = l.client_call();
    l.client.close_call(vc, None, None);
    l.ndis().cm_deactivate_vc(vc);
    l.ndis().cm_close_call_complete(NdisStatus::SUCCESS, vc, Some(party));
    l.only(rule::CMP_CLOSE_PARTY);
}

#[test]
fn rule_cmp_makecall_fires_on_success_before_activate() {
    let l = lab();
    let vc = l.client.create_vc().unwrap();
    l.client.make_call(vc, params(false));
    l.ndis().cm_make_call_complete(NdisStatus::SUCCESS, vc, None, None, ClientParams(0), &params(false));
    l.only(rule::CMP_MAKECALL);
}

#[test]
fn rule_cmp_makecall_fires_on_a_second_make_call_completion() {
    let l = lab();
    let vc = l.client_call();
    l.ndis().cm_make_call_complete(NdisStatus::SUCCESS, vc, None, None, ClientParams(0), &params(false));
    l.only(rule::CMP_MAKECALL);
}

#[test]
fn rule_cmp_makecall_fires_on_a_pended_make_call_never_completed() {
    let l = lab();
    let vc = l.client.create_vc().unwrap();
    l.client.make_call(vc, params(false));
    l.emu.check_outstanding();
    l.only(rule::CMP_MAKECALL);
}

#[test]
fn failed_make_call_completion_lets_the_client_delete_its_vc_cleanly() {
    let l = lab();
    let vc = l.client.create_vc().unwrap();
    l.client.make_call(vc, params(false));
    l.ndis().cm_make_call_complete(NdisStatus::DEST_OUT_OF_ORDER, vc, None, None, ClientParams(0), &params(false));
    assert_eq!(l.client.state(vc), Some(VcState::Deleted));
    l.emu.check_outstanding();
    l.clean();
}

#[test]
fn rule_cmp_once_fires_on_open_af_complete_without_a_pended_open() {
    let l = lab();
    l.ndis().cm_open_address_family_complete(NdisStatus::SUCCESS, l.af, AfContext(tok(l.af.0)));
    l.only(rule::CMP_ONCE);
}

#[test]
fn rule_cmp_once_fires_on_a_second_register_sap_completion() {
    let l = lab();
    l.script(|s| s.register_sap = NdisStatus::PENDING);
    let sap = l.client.register_sap(None).unwrap();
    l.ndis().cm_register_sap_complete(NdisStatus::SUCCESS, sap, SapContext(tok(sap.0)));
    l.clean();
    l.ndis().cm_register_sap_complete(NdisStatus::SUCCESS, sap, SapContext(tok(sap.0)));
    l.only(rule::CMP_ONCE);
}

#[test]
fn rule_cmp_once_fires_on_a_pended_deregister_sap_never_completed() {
    let l = lab();
    let sap = l.sap();
    l.script(|s| s.deregister_sap = NdisStatus::PENDING);
    l.client.deregister_sap(sap);
    l.emu.check_outstanding();
    l.only(rule::CMP_ONCE);
}

#[test]
fn rule_cmp_once_fires_on_a_second_dispatch_call_connected() {
    let l = lab();
    let sap = l.sap();
    let vc = l.incoming_call(sap);
    l.ndis().cm_dispatch_call_connected(vc);
    l.only(rule::CMP_ONCE);
}

#[test]
fn rule_cmp_once_fires_on_drop_party_complete_without_a_drop() {
    let l = lab();
    let (vc, _p1) = l.multipoint_call();
    let p2 = l.add_party(vc);
    l.ndis().cm_drop_party_complete(NdisStatus::SUCCESS, p2);
    l.only(rule::CMP_ONCE);
    let l = lab();
    let (vc, _p1) = l.multipoint_call();
    let p2 = l.add_party(vc);
    assert_eq!(l.client.drop_party(p2, None), NdisStatus::PENDING);
    l.ndis().cm_drop_party_complete(NdisStatus::SUCCESS, p2);
    assert_eq!(l.client.parties(vc).len(), 1);
    l.clean();
}

#[test]
fn rule_cmp_once_fires_on_a_modify_qos_completed_twice() {
    let l = lab();
    let vc = l.client_call();
    l.client.modify_qos(vc, params(false));
    l.ndis().cm_activate_vc(vc, &params(false));
    l.ndis().cm_modify_call_qos_complete(NdisStatus::SUCCESS, vc, ClientParams(0), &params(false));
    l.clean();
    l.ndis().cm_modify_call_qos_complete(NdisStatus::SUCCESS, vc, ClientParams(0), &params(false));
    l.only(rule::CMP_ONCE);
}

#[test]
fn rule_cmp_once_fires_on_notify_close_af_while_one_is_outstanding() {
    let l = lab();
    let _vc = l.client_call();
    // The close pends, so the notify stays outstanding.
    assert_eq!(l.ndis().cm_notify_close_address_family(l.af), NdisStatus::PENDING);
    l.clean();
    l.ndis().cm_notify_close_address_family(l.af);
    l.only(rule::CMP_ONCE);
}
