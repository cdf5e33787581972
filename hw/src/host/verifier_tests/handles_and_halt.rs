//! Rules HDL-* (dead handles, one dispatch per close or drop), HALT-* (the AF notified, quiet
//! and nothing leaked after MiniportHaltEx) and STS-LINK.

use super::*;

// ---- handles ------------------------------------------------------------------------------------------------

#[test]
fn rule_hdl_dead_fires_on_deactivating_a_deleted_vc() {
    let l = lab();
    let sap = l.sap();
    let vc = l.incoming_call(sap);
    l.client.close_call(vc, None, None);
    l.finish_close(vc);
    assert_eq!(l.ndis().cm_delete_vc(vc), NdisStatus::SUCCESS);
    l.clean();
    l.ndis().cm_deactivate_vc(vc);
    l.only(rule::HDL_DEAD);
}

#[test]
fn rule_hdl_dead_fires_on_dispatching_a_call_to_a_deregistered_sap() {
    let l = lab();
    let sap = l.sap();
    assert_eq!(l.client.deregister_sap(sap), NdisStatus::SUCCESS);
    let vc = l.ndis().cm_create_vc(l.af, VcContext(tok(999))).unwrap();
    l.ndis().cm_activate_vc(vc, &params(false));
    l.ndis().cm_dispatch_incoming_call(sap, vc, &params(false));
    l.only(rule::HDL_DEAD);
}

#[test]
fn rule_hdl_dead_fires_on_naming_a_dropped_party() {
    let l = lab();
    let (vc, _p1) = l.multipoint_call();
    let p2 = l.add_party(vc);
    l.script(|s| s.drop_party = NdisStatus::SUCCESS);
    l.client.drop_party(p2, None);
    l.clean();
    l.ndis().cm_dispatch_incoming_drop_party(NdisStatus::SUCCESS, p2, &[]);
    l.only(rule::HDL_DEAD);
}

#[test]
fn rule_hdl_dispatch_once_fires_on_a_second_incoming_close() {
    let l = lab();
    let vc = l.network_closed_call();
    l.ndis().cm_dispatch_incoming_close_call(NdisStatus::SUCCESS, vc, &[]);
    l.only(rule::HDL_DISPATCH_ONCE);
}

#[test]
fn rule_hdl_dispatch_once_fires_on_an_incoming_close_after_close_call() {
    let l = lab();
    let sap = l.sap();
    let vc = l.incoming_call(sap);
    l.client.close_call(vc, None, None);
    l.ndis().cm_dispatch_incoming_close_call(NdisStatus::SUCCESS, vc, &[]);
    l.only(rule::HDL_DISPATCH_ONCE);
}

#[test]
fn rule_hdl_drop_dispatch_fires_on_incoming_drop_of_the_last_party() {
    let l = lab();
    l.client.close_on_incoming_close(When::Never);
    let (_vc, p1) = l.multipoint_call();
    l.ndis().cm_dispatch_incoming_drop_party(NdisStatus::SUCCESS, p1, &[]);
    l.only(rule::HDL_DROP_DISPATCH);
    let l = lab();
    let (vc, _p1) = l.multipoint_call();
    let p2 = l.add_party(vc);
    l.ndis().cm_dispatch_incoming_drop_party(NdisStatus::SUCCESS, p2, &[]);
    // The client answered with NdisClDropParty at once.
    assert!(l.emu.log().iter().any(|e| e.name == "ProtocolCmDropParty->PENDING"));
    l.clean();
}

// ---- halt and resources -----------------------------------------------------------------------------------

#[test]
fn rule_halt_notify_af_fires_on_halt_without_notify_close_af() {
    let l = lab();
    l.emu.halt();
    l.only(rule::HALT_NOTIFY_AF);
}

#[test]
fn rule_halt_notify_af_fires_on_halt_returning_before_the_af_closed() {
    let l = lab();
    let _vc = l.client_call();
    // The close pends and the driver never completes it: the AF cannot close.
    l.notify_close_af_at_halt();
    l.emu.halt();
    assert_eq!(l.emu.fired().first(), Some(&rule::HALT_NOTIFY_AF));
}

#[test]
fn rule_halt_quiet_fires_on_an_indication_after_halt() {
    let l = lab();
    l.notify_close_af_at_halt();
    l.emu.halt();
    l.clean();
    l.ndis().co_indicate_status_ex(None, StatusIndication::LinkState(LinkState { connected: false, speed_bps: 0 }));
    l.only(rule::HALT_QUIET);
}

#[test]
fn rule_halt_no_leak_fires_on_allocation_counter_not_zero() {
    let l = lab();
    let count = Arc::new(Mutex::new(1usize));
    let c2 = count.clone();
    l.emu.register_alloc_counter("party contexts", move || *c2.lock().unwrap());
    l.notify_close_af_at_halt();
    l.emu.halt();
    l.only(rule::HALT_NO_LEAK);
    assert!(l.emu.violations()[0].message.contains("party contexts=1"));
}

#[test]
fn rule_halt_no_leak_fires_on_an_rx_nbl_never_freed() {
    let l = lab();
    l.ndis().rx_nbl_alloc(1, b"lost").unwrap();
    l.notify_close_af_at_halt();
    l.emu.halt();
    l.only(rule::HALT_NO_LEAK);
}

#[test]
fn rule_sts_link_fires_on_a_phy_change_not_indicated() {
    let l = lab();
    l.emu.phy_link_changed(false);
    l.emu.check_link_indicated();
    l.only(rule::STS_LINK);
    let l = lab();
    l.emu.phy_link_changed(false);
    l.ndis().co_indicate_status_ex(None, StatusIndication::LinkState(LinkState { connected: false, speed_bps: 0 }));
    l.emu.check_link_indicated();
    l.clean();
}

#[test]
fn rule_sts_link_fires_on_a_link_change_with_a_wrong_status_code() {
    let l = lab();
    l.emu.indicate_status_code(None, NdisStatus::RESET_START, Some(false));
    l.only(rule::STS_LINK);
    // NDIS 5 style is accepted.
    let l = lab();
    l.emu.phy_link_changed(false);
    l.emu.indicate_status_code(None, NdisStatus::MEDIA_DISCONNECT, Some(false));
    l.emu.check_link_indicated();
    l.clean();
}
#[test]
fn rule_halt_no_leak_fires_on_a_driver_vc_never_deleted() {
    let l = lab();
    // The driver lets the client close the AF while its own VC still exists, and never deletes it.
    let vc = l.ndis().cm_create_vc(l.af, VcContext(tok(999))).unwrap();
    assert_eq!(l.client.close_af(), NdisStatus::SUCCESS);
    l.emu.halt();
    l.only(rule::HALT_NO_LEAK);
    assert!(l.emu.violations()[0].message.contains("vcs: 1"), "{}", l.emu.violations()[0]);
    let _ = vc;
}

#[test]
fn rule_hdl_dead_fires_on_create_vc_on_a_closed_af() {
    let l = lab();
    assert_eq!(l.client.close_af(), NdisStatus::SUCCESS);
    l.clean();
    assert_eq!(l.ndis().cm_create_vc(l.af, VcContext(tok(999))), Err(NdisStatus::FAILURE));
    l.only(rule::HDL_DEAD);
}
