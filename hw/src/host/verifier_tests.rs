//! The verifier's own tests: for every rule id, a deliberately wrong call sequence (a scripted
//! fake driver calling the `Ndis` methods directly, or returning a wrong status from a handler)
//! fires exactly that rule; the matching correct sequence fires nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use atmmcm::adapter::OidRequest;
use atmmcm::ndis::{
    AalType, AfContext, AtmFlowParameters, AtmMediaParameters, CallParameters, CloseData, CoAddressFamily, LinkState,
    PartyContext, Sap, SapContext, StatusIndication, Token, VcContext, VpiVci, call_flags, receive_flags,
};
use atmmcm::{Ndis, NdisStatus};

use super::*;
use crate::clock::Clock;

type Hook = Arc<dyn Fn(&EmuNdis) + Send + Sync>;

/// What the fake driver's handlers return, and what they do inline.
struct Script {
    open_af: NdisStatus,
    close_af: NdisStatus,
    register_sap: NdisStatus,
    deregister_sap: NdisStatus,
    create_vc: NdisStatus,
    delete_vc: NdisStatus,
    make_call: NdisStatus,
    close_call: NdisStatus,
    add_party: NdisStatus,
    drop_party: NdisStatus,
    modify_qos: NdisStatus,
    on_close: Option<Hook>,
    on_halt: Option<Hook>,
    on_dpc: Option<Hook>,
    /// Runs inside MiniportCoSendNetBufferLists (after the NBLs are recorded).
    on_send: Option<Hook>,
}

impl Default for Script {
    fn default() -> Self {
        Script {
            open_af: NdisStatus::SUCCESS,
            close_af: NdisStatus::SUCCESS,
            register_sap: NdisStatus::SUCCESS,
            deregister_sap: NdisStatus::SUCCESS,
            create_vc: NdisStatus::SUCCESS,
            delete_vc: NdisStatus::SUCCESS,
            make_call: NdisStatus::PENDING,
            close_call: NdisStatus::PENDING,
            add_party: NdisStatus::PENDING,
            drop_party: NdisStatus::PENDING,
            modify_qos: NdisStatus::PENDING,
            on_close: None,
            on_halt: None,
            on_dpc: None,
            on_send: None,
        }
    }
}

/// A misbehaving-on-request driver: returns what the script says, does nothing else.
struct Fake {
    ndis: EmuNdis,
    s: Mutex<Script>,
    sends: Mutex<Vec<Nbl>>,
    returned: Mutex<Vec<Nbl>>,
}

fn tok(i: u32) -> Token {
    Token::new(i as usize % Token::MAX_SLOTS, 1).unwrap()
}

fn res<T>(s: NdisStatus, v: T) -> Result<T, NdisStatus> {
    if s == NdisStatus::SUCCESS { Ok(v) } else { Err(s) }
}

impl Driver for Fake {
    fn start(&self) -> NdisStatus {
        self.ndis.cm_register_address_family_ex(&CoAddressFamily::Q2931_UNI31)
    }
    fn halt(&self, _idle: &mut dyn FnMut()) {
        let h = self.s.lock().unwrap().on_halt.clone();
        if let Some(h) = h {
            h(&self.ndis);
        }
    }
    fn pause(&self) -> NdisStatus {
        NdisStatus::SUCCESS
    }
    fn restart(&self) -> NdisStatus {
        NdisStatus::SUCCESS
    }
    fn shutdown(&self) {}
    fn surprise_removed(&self) {}
    fn dpc(&self) {
        let h = self.s.lock().unwrap().on_dpc.clone();
        if let Some(h) = h {
            h(&self.ndis);
        }
    }
    fn timer(&self) {}
    fn miniport_co_send_net_buffer_lists(&self, _vc: VcContext, nbls: Nbl, _flags: u32) {
        let mut cur = Some(nbls);
        while let Some(n) = cur {
            self.sends.lock().unwrap().push(n);
            cur = self.ndis.nbl_next(n);
        }
        let h = self.s.lock().unwrap().on_send.clone();
        if let Some(h) = h {
            h(&self.ndis);
        }
    }
    fn miniport_return_net_buffer_lists(&self, nbls: Nbl, _flags: u32) {
        let mut cur = Some(nbls);
        while let Some(n) = cur {
            self.returned.lock().unwrap().push(n);
            cur = self.ndis.nbl_next(n);
            self.ndis.rx_nbl_free(n);
        }
    }
    fn miniport_co_oid_request(&self, _vc: Option<VcContext>, _req: &mut OidRequest<'_>) -> NdisStatus {
        NdisStatus::NOT_SUPPORTED
    }
    fn protocol_cm_open_af(&self, _af: &CoAddressFamily, ndis_af: AfHandle) -> Result<AfContext, NdisStatus> {
        res(self.s.lock().unwrap().open_af, AfContext(tok(ndis_af.0)))
    }
    fn protocol_cm_close_af(&self, _af: AfContext) -> NdisStatus {
        self.s.lock().unwrap().close_af
    }
    fn protocol_cm_register_sap(
        &self,
        _af: AfContext,
        _sap: &Sap,
        ndis_sap: SapHandle,
    ) -> Result<SapContext, NdisStatus> {
        res(self.s.lock().unwrap().register_sap, SapContext(tok(ndis_sap.0)))
    }
    fn protocol_cm_deregister_sap(&self, _sap: SapContext) -> NdisStatus {
        self.s.lock().unwrap().deregister_sap
    }
    fn protocol_co_create_vc(&self, _af: AfContext, ndis_vc: VcHandle) -> Result<VcContext, NdisStatus> {
        res(self.s.lock().unwrap().create_vc, VcContext(tok(ndis_vc.0)))
    }
    fn protocol_co_delete_vc(&self, _vc: VcContext) -> NdisStatus {
        self.s.lock().unwrap().delete_vc
    }
    fn protocol_cm_make_call(
        &self,
        _vc: VcContext,
        _params: &mut CallParameters,
        _client: ClientParams,
        ndis_party: Option<PartyHandle>,
    ) -> (NdisStatus, Option<PartyContext>) {
        (self.s.lock().unwrap().make_call, ndis_party.map(|p| PartyContext(tok(p.0))))
    }
    fn protocol_cm_close_call(&self, _vc: VcContext, _party: Option<PartyContext>, _data: CloseData<'_>) -> NdisStatus {
        let (ret, hook) = {
            let s = self.s.lock().unwrap();
            (s.close_call, s.on_close.clone())
        };
        if let Some(h) = hook {
            h(&self.ndis);
        }
        ret
    }
    fn protocol_cm_incoming_call_complete(&self, _status: NdisStatus, _vc: VcContext, _params: &CallParameters) {}
    fn protocol_cm_add_party(
        &self,
        _vc: VcContext,
        _params: &mut CallParameters,
        _client: ClientParams,
        ndis_party: PartyHandle,
    ) -> Result<(NdisStatus, PartyContext), NdisStatus> {
        let s = self.s.lock().unwrap().add_party;
        if s == NdisStatus::SUCCESS || s == NdisStatus::PENDING {
            Ok((s, PartyContext(tok(ndis_party.0))))
        } else {
            Err(s)
        }
    }
    fn protocol_cm_drop_party(&self, _party: PartyContext, _data: CloseData<'_>) -> NdisStatus {
        self.s.lock().unwrap().drop_party
    }
    fn protocol_cm_modify_call_qos(
        &self,
        _vc: VcContext,
        _params: &CallParameters,
        _client: ClientParams,
    ) -> NdisStatus {
        self.s.lock().unwrap().modify_qos
    }
    fn protocol_co_oid_request(
        &self,
        _af: AfContext,
        _vc: Option<VcContext>,
        _party: Option<PartyContext>,
        _req: &mut OidRequest<'_>,
    ) -> NdisStatus {
        NdisStatus::NOT_SUPPORTED
    }
    fn protocol_cm_notify_close_af_complete(&self, _status: NdisStatus, _af: AfContext) {}
}

struct Lab {
    emu: EmuNdis,
    client: Client,
    fake: Arc<Fake>,
    af: AfHandle,
    next_ctx: Mutex<u32>,
}

fn params(multipoint: bool) -> CallParameters {
    CallParameters {
        flags: if multipoint { call_flags::MULTIPOINT_VC } else { 0 },
        media_flags: 0,
        media: AtmMediaParameters {
            connection_id: VpiVci { vpi: 0, vci: 100 },
            aal_type: AalType::Aal5,
            transmit: AtmFlowParameters::ubr(1000),
            receive: AtmFlowParameters::ubr(1000),
        },
        called: None,
        calling: None,
    }
}

/// An emulated NDIS with the fake driver attached, the AF registered and opened.
fn lab() -> Lab {
    let emu = EmuNdis::new(Arc::new(Clock::new()));
    let fake = Arc::new(Fake {
        ndis: emu.clone(),
        s: Mutex::new(Script::default()),
        sends: Mutex::new(Vec::new()),
        returned: Mutex::new(Vec::new()),
    });
    let weak: Weak<dyn Driver> = Arc::downgrade(&(fake.clone() as Arc<dyn Driver>));
    emu.attach(weak);
    assert_eq!(emu.start(), NdisStatus::SUCCESS);
    let client = emu.client();
    let af = client.open_af().unwrap();
    Lab { emu, client, fake, af, next_ctx: Mutex::new(1000) }
}

impl Lab {
    fn script(&self, f: impl FnOnce(&mut Script)) {
        f(&mut self.fake.s.lock().unwrap());
    }

    fn ndis(&self) -> &EmuNdis {
        &self.emu
    }

    /// A client-created, connected, active point-to-point VC (MakeCall pended, then completed).
    fn client_call(&self) -> VcHandle {
        let vc = self.client.create_vc().unwrap();
        assert_eq!(self.client.make_call(vc, params(false)).0, NdisStatus::PENDING);
        assert_eq!(self.ndis().cm_activate_vc(vc, &params(false)), NdisStatus::SUCCESS);
        self.ndis().cm_make_call_complete(NdisStatus::SUCCESS, vc, None, None, ClientParams(0), &params(false));
        assert_eq!(self.client.state(vc), Some(VcState::Connected));
        vc
    }

    /// A multipoint client call with its first party.
    fn multipoint_call(&self) -> (VcHandle, PartyHandle) {
        let vc = self.client.create_vc().unwrap();
        let (s, party) = self.client.make_call(vc, params(true));
        assert_eq!(s, NdisStatus::PENDING);
        let party = party.unwrap();
        self.ndis().cm_activate_vc(vc, &params(true));
        self.ndis().cm_make_call_complete(
            NdisStatus::SUCCESS,
            vc,
            Some(party),
            Some(PartyContext(tok(party.0))),
            ClientParams(0),
            &params(true),
        );
        (vc, party)
    }

    /// A second party on a multipoint call, added and completed.
    fn add_party(&self, vc: VcHandle) -> PartyHandle {
        let (s, p) = self.client.add_party(vc, params(true));
        assert_eq!(s, NdisStatus::PENDING);
        let p = p.unwrap();
        self.ndis().cm_add_party_complete(
            NdisStatus::SUCCESS,
            p,
            Some(PartyContext(tok(p.0))),
            ClientParams(0),
            &params(true),
        );
        p
    }

    fn sap(&self) -> SapHandle {
        self.client.register_sap(None).unwrap()
    }

    /// A driver-created VC with an accepted, connected incoming call.
    fn incoming_call(&self, sap: SapHandle) -> VcHandle {
        let ctx = {
            let mut n = self.next_ctx.lock().unwrap();
            *n += 1;
            VcContext(tok(*n))
        };
        let vc = self.ndis().cm_create_vc(self.af, ctx).unwrap();
        self.ndis().cm_activate_vc(vc, &params(false));
        assert_eq!(self.ndis().cm_dispatch_incoming_call(sap, vc, &params(false)), NdisStatus::SUCCESS);
        self.ndis().cm_dispatch_call_connected(vc);
        vc
    }

    /// An accepted incoming call the client keeps open when the network closes it.
    fn held_incoming_call(&self) -> VcHandle {
        self.client.close_on_incoming_close(When::Never);
        let sap = self.sap();
        self.incoming_call(sap)
    }

    /// [`Self::held_incoming_call`] after NdisMCmDispatchIncomingCloseCall: the close has started,
    /// the client has not answered.
    fn network_closed_call(&self) -> VcHandle {
        let vc = self.held_incoming_call();
        self.ndis().cm_dispatch_incoming_close_call(NdisStatus::SUCCESS, vc, &[]);
        vc
    }

    /// A [`Self::client_call`] the client has asked to close (ProtocolCmCloseCall pended, not
    /// completed) and will not delete once closed.
    fn closing_client_call(&self) -> VcHandle {
        self.client.delete_after_close(When::Never);
        let vc = self.client_call();
        self.client.close_call(vc, None, None);
        vc
    }

    /// The fake driver deactivates `vc` and completes its close inside ProtocolCmCloseCall
    /// (COISDN style), then returns what the script says (PENDING unless changed).
    fn close_inline(&self, vc: VcHandle) {
        self.script(|s| {
            s.on_close = Some(Arc::new(move |n: &EmuNdis| {
                n.cm_deactivate_vc(vc);
                n.cm_close_call_complete(NdisStatus::SUCCESS, vc, None);
            }))
        });
    }

    /// The fake driver calls NdisMCmNotifyCloseAddressFamily for the AF inside MiniportHaltEx.
    fn notify_close_af_at_halt(&self) {
        let af = self.af;
        self.script(|s| {
            s.on_halt = Some(Arc::new(move |n: &EmuNdis| {
                n.cm_notify_close_address_family(af);
            }))
        });
    }

    /// The correct local close of an active VC, driver side: deactivate, complete.
    fn finish_close(&self, vc: VcHandle) {
        assert_eq!(self.ndis().cm_deactivate_vc(vc), NdisStatus::SUCCESS);
        self.ndis().cm_close_call_complete(NdisStatus::SUCCESS, vc, None);
    }

    fn rx(&self, vc: VcHandle, flags: u32) -> Nbl {
        let n = self.ndis().rx_nbl_alloc(7, b"hello").unwrap();
        self.ndis().co_indicate_receive_net_buffer_lists(vc, n, 1, flags);
        n
    }

    #[track_caller]
    fn only(&self, rule: &str) {
        let fired = self.emu.fired();
        assert_eq!(fired, vec![rule], "expected exactly {rule}; log:\n{}", self.emu.dump_log());
    }

    #[track_caller]
    fn clean(&self) {
        let fired = self.emu.fired();
        assert!(fired.is_empty(), "expected no violation, got {fired:?}; log:\n{}", self.emu.dump_log());
    }
}

// ---- the harness itself --------------------------------------------------------------------------------

#[test]
fn correct_client_call_lifecycle_is_clean_and_logged_in_order() {
    let l = lab();
    let vc = l.client_call();
    assert_eq!(l.client.close_call(vc, None, None), NdisStatus::PENDING);
    l.finish_close(vc);
    assert_eq!(l.client.state(vc), Some(VcState::Deleted), "the client deletes its VC after the close");
    assert_eq!(
        l.emu.ndis_calls_on(vc),
        vec![
            "ProtocolCoCreateVc->SUCCESS",
            "ProtocolCmMakeCall->PENDING",
            "NdisMCmActivateVc",
            "NdisMCmMakeCallComplete(SUCCESS)",
            "ProtocolCmCloseCall->PENDING",
            "NdisMCmDeactivateVc",
            "NdisMCmCloseCallComplete(SUCCESS)",
            "ProtocolCoDeleteVc->SUCCESS",
        ]
    );
    l.emu.check_outstanding();
    l.clean();
}

#[test]
fn incoming_close_is_answered_reentrantly_with_ndis_cl_close_call() {
    let l = lab();
    let sap = l.sap();
    let vc = l.incoming_call(sap);
    l.ndis().cm_dispatch_incoming_close_call(NdisStatus::SUCCESS, vc, &[]);
    // The client's NdisClCloseCall ran inside the dispatch: ProtocolCmCloseCall returned PENDING.
    assert_eq!(l.client.state(vc), Some(VcState::Closing));
    l.finish_close(vc);
    assert_eq!(l.ndis().cm_delete_vc(vc), NdisStatus::SUCCESS);
    assert_eq!(
        l.emu.ndis_calls_on(vc),
        vec![
            "NdisMCmCreateVc",
            "NdisMCmActivateVc",
            "NdisMCmDispatchIncomingCall",
            "NdisMCmDispatchCallConnected",
            "NdisMCmDispatchIncomingCloseCall(SUCCESS)",
            "ProtocolCmCloseCall->PENDING",
            "NdisMCmDeactivateVc",
            "NdisMCmCloseCallComplete(SUCCESS)",
            "NdisMCmDeleteVc",
        ]
    );
    l.clean();
}

#[test]
fn receives_are_held_and_returned_on_request() {
    let l = lab();
    let vc = l.client_call();
    l.client.return_receives(ReturnReceives::Hold);
    let n = l.rx(vc, 0);
    assert_eq!(l.client.received_frames(vc), vec![b"hello".to_vec()]);
    assert!(l.fake.returned.lock().unwrap().is_empty());
    assert_eq!(l.client.return_pending_receives(), 1);
    assert_eq!(*l.fake.returned.lock().unwrap(), vec![n]);
    assert_eq!(l.emu.rx_nbls_live(), 0);
    l.clean();
}

#[test]
fn notify_close_af_tears_down_calls_saps_and_the_af() {
    let l = lab();
    let sap = l.sap();
    let vc = l.client_call();
    let _ = sap;
    // The driver completes each close inline (COISDN style) and returns PENDING.
    let e = l.emu.clone();
    l.close_inline(vc);
    let af = l.af;
    l.script(|s| {
        s.on_halt =
            Some(Arc::new(move |n: &EmuNdis| assert_eq!(n.cm_notify_close_address_family(af), NdisStatus::SUCCESS)))
    });
    e.halt();
    assert_eq!(l.client.state(vc), Some(VcState::Deleted));
    assert_eq!(l.emu.live(), LiveCounts::default());
    l.clean();
}

#[test]
fn dpc_and_timer_run_at_dispatch_and_lock_raises_irql() {
    let l = lab();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    l.script(|s| s.on_dpc = Some(Arc::new(move |_n: &EmuNdis| s2.lock().unwrap().push(current_irql()))));
    l.emu.request_dpc();
    assert!(l.emu.run_pending());
    assert_eq!(*seen.lock().unwrap(), vec![Irql::Dispatch]);
    assert!(!l.emu.take_dpc_request());
    l.emu.set_timer(std::time::Duration::from_secs(30));
    assert_eq!(l.emu.timer_due(), Some(std::time::Duration::from_secs(30)));
    assert!(!l.emu.run_pending(), "not due yet");
    l.emu.clock().advance(std::time::Duration::from_secs(30));
    assert!(l.emu.run_pending());
    assert_eq!(l.emu.timer_due(), None);
    assert_eq!(current_irql(), Irql::Passive);
    l.clean();
}

#[test]
fn every_rule_has_a_firing_test_below() {
    let src = include_str!("verifier_tests.rs");
    for r in rule::ALL {
        let snake = r.to_lowercase().replace('-', "_");
        assert!(src.contains(&format!("fn rule_{snake}_fires_on_")), "no test for {r}");
    }
}

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

// ---- data --------------------------------------------------------------------------------------------------

#[test]
fn rule_data_send_once_fires_on_completing_an_nbl_twice() {
    let l = lab();
    let vc = l.client_call();
    let nbls = l.client.send(vc, vec![b"a".to_vec(), b"b".to_vec()]);
    assert_eq!(*l.fake.sends.lock().unwrap(), nbls);
    l.ndis().co_send_net_buffer_lists_complete(vc, nbls[0], 0);
    assert_eq!(l.client.send_completions().len(), 2, "the chain of two completes");
    l.clean();
    l.ndis().co_send_net_buffer_lists_complete(vc, nbls[1], 0);
    l.only(rule::DATA_SEND_ONCE);
}

#[test]
fn rule_data_send_once_fires_on_completing_on_another_vc() {
    let l = lab();
    let vc = l.client_call();
    let other = l.client_call();
    let nbls = l.client.send(vc, vec![b"a".to_vec()]);
    l.ndis().co_send_net_buffer_lists_complete(other, nbls[0], 0);
    l.only(rule::DATA_SEND_ONCE);
}

#[test]
fn rule_data_send_once_fires_on_a_send_never_completed() {
    let l = lab();
    let vc = l.client_call();
    l.client.send(vc, vec![b"a".to_vec()]);
    l.emu.check_outstanding();
    l.only(rule::DATA_SEND_ONCE);
}

#[test]
fn rule_data_drained_at_deact_fires_on_deactivate_with_a_send_outstanding() {
    let l = lab();
    let vc = l.client_call();
    let nbls = l.client.send(vc, vec![b"a".to_vec()]);
    l.client.close_call(vc, None, None);
    l.ndis().cm_deactivate_vc(vc);
    l.only(rule::DATA_DRAINED_AT_DEACT);
    let l = lab();
    let vc = l.client_call();
    let nbls2 = l.client.send(vc, vec![b"a".to_vec()]);
    l.client.close_call(vc, None, None);
    l.ndis().co_send_net_buffer_lists_complete(vc, nbls2[0], 0);
    l.finish_close(vc);
    l.clean();
    let _ = nbls;
}

#[test]
fn rule_data_drained_at_deact_fires_on_deactivate_with_a_receive_not_returned() {
    let l = lab();
    let vc = l.client_call();
    l.client.return_receives(ReturnReceives::Hold);
    l.rx(vc, 0);
    l.client.close_call(vc, None, None);
    l.ndis().cm_deactivate_vc(vc);
    l.only(rule::DATA_DRAINED_AT_DEACT);
    // An indication with the RESOURCES flag is not owed back.
    let l = lab();
    let vc = l.client_call();
    l.client.return_receives(ReturnReceives::Hold);
    l.rx(vc, receive_flags::RESOURCES);
    l.client.close_call(vc, None, None);
    l.finish_close(vc);
    l.clean();
}

#[test]
fn rule_data_no_ind_inactive_fires_on_indicating_before_activation() {
    let l = lab();
    let vc = l.ndis().cm_create_vc(l.af, VcContext(tok(999))).unwrap();
    l.rx(vc, 0);
    l.only(rule::DATA_NO_IND_INACTIVE);
}

#[test]
fn rule_data_no_ind_closing_fires_on_indicating_after_close_call_returned() {
    let l = lab();
    let vc = l.client_call();
    l.client.close_call(vc, None, None);
    l.rx(vc, 0);
    l.only(rule::DATA_NO_IND_CLOSING);
}

#[test]
fn rule_data_no_ind_closing_fires_on_indicating_after_dispatching_the_incoming_close() {
    let l = lab();
    let vc = l.network_closed_call();
    l.rx(vc, 0);
    l.only(rule::DATA_NO_IND_CLOSING);
}

#[test]
fn rule_data_no_ind_closing_fires_on_indicating_from_inside_the_close_handler() {
    let l = lab();
    let vc = l.client_call();
    l.script(|s| {
        s.on_close = Some(Arc::new(move |n: &EmuNdis| {
            let nbl = n.rx_nbl_alloc(1, b"x").unwrap();
            n.co_indicate_receive_net_buffer_lists(vc, nbl, 1, 0);
        }))
    });
    l.client.close_call(vc, None, None);
    l.only(rule::DATA_NO_IND_CLOSING);
}

#[test]
fn indication_racing_with_the_close_handler_on_another_thread_is_benign() {
    let l = lab();
    let vc = l.client_call();
    l.script(|s| {
        s.on_close = Some(Arc::new(move |n: &EmuNdis| {
            let n2 = n.clone();
            std::thread::spawn(move || {
                let nbl = n2.rx_nbl_alloc(1, b"x").unwrap();
                n2.co_indicate_receive_net_buffer_lists(vc, nbl, 1, 0);
            })
            .join()
            .unwrap();
        }))
    });
    l.client.close_call(vc, None, None);
    l.finish_close(vc);
    l.clean();
}

#[test]
fn rule_data_closing_status_fires_on_success_for_a_send_after_close_started() {
    let l = lab();
    let vc = l.closing_client_call();
    let nbls = l.client.send(vc, vec![b"late".to_vec()]);
    l.ndis().co_send_net_buffer_lists_complete(vc, nbls[0], 0);
    l.only(rule::DATA_CLOSING_STATUS);
    let l = lab();
    let vc = l.client_call();
    l.client.close_call(vc, None, None);
    let nbls = l.client.send(vc, vec![b"late".to_vec()]);
    l.ndis().nbl_set_status(nbls[0], NdisStatus::CLOSING);
    l.ndis().co_send_net_buffer_lists_complete(vc, nbls[0], 0);
    assert_eq!(l.client.send_completions()[0].status, NdisStatus::CLOSING);
    l.finish_close(vc);
    l.clean();
}

#[test]
fn rule_data_closing_status_fires_on_send_aborted_for_a_send_after_close_started() {
    // Strict: a send after the close started completes with CLOSING, not just any failure.
    let l = lab();
    let vc = l.closing_client_call();
    let nbls = l.client.send(vc, vec![b"late".to_vec()]);
    l.ndis().nbl_set_status(nbls[0], NdisStatus::SEND_ABORTED);
    l.ndis().co_send_net_buffer_lists_complete(vc, nbls[0], 0);
    l.only(rule::DATA_CLOSING_STATUS);
    // After an incoming close was dispatched the close has started too.
    let l = lab();
    let vc = l.network_closed_call();
    let nbls = l.client.send(vc, vec![b"late".to_vec()]);
    l.ndis().nbl_set_status(nbls[0], NdisStatus::FAILURE);
    l.ndis().co_send_net_buffer_lists_complete(vc, nbls[0], 0);
    l.only(rule::DATA_CLOSING_STATUS);
    // The right answer: CLOSING.
    let l = lab();
    let vc = l.network_closed_call();
    let nbls = l.client.send(vc, vec![b"late".to_vec()]);
    l.ndis().nbl_set_status(nbls[0], NdisStatus::CLOSING);
    l.ndis().co_send_net_buffer_lists_complete(vc, nbls[0], 0);
    l.clean();
}

#[test]
fn rule_data_drained_at_deact_fires_on_deactivate_while_a_sender_inside_still_holds_a_rejected_nbl() {
    // Issue 8 item 1: the driver rejects the NBL but deactivates before completing it, from
    // inside MiniportCoSendNetBufferLists (another CPU's teardown, in real life).
    let l = lab();
    let vc = l.client_call();
    l.script(|s| {
        s.on_send = Some(Arc::new(move |n: &EmuNdis| {
            let head = n.newest_send_nbl().unwrap();
            n.nbl_set_status(head, NdisStatus::CLOSING);
            n.cm_deactivate_vc(vc);
            n.co_send_net_buffer_lists_complete(vc, head, 0);
        }))
    });
    l.client.send(vc, vec![b"a".to_vec()]);
    l.only(rule::DATA_DRAINED_AT_DEACT);
    // The right order: the rejected NBL completes inside the send, the VC is deactivated after.
    let l = lab();
    let vc = l.client_call();
    l.script(|s| {
        s.on_send = Some(Arc::new(move |n: &EmuNdis| {
            let head = n.newest_send_nbl().unwrap();
            n.co_send_net_buffer_lists_complete(vc, head, 0);
        }))
    });
    l.client.send(vc, vec![b"a".to_vec()]);
    l.client.close_call(vc, None, None);
    l.finish_close(vc);
    l.clean();
}

#[test]
fn rule_data_no_cmp_after_delete_fires_on_delete_with_a_send_outstanding() {
    let l = lab();
    let vc = l.held_incoming_call();
    let nbls = l.client.send(vc, vec![b"a".to_vec()]);
    l.ndis().cm_dispatch_incoming_close_call(NdisStatus::SUCCESS, vc, &[]);
    l.client.close_call(vc, None, None);
    // Wrong: the send outlives deactivation and the delete (the deactivate rule fires too).
    l.ndis().cm_deactivate_vc(vc);
    l.ndis().cm_close_call_complete(NdisStatus::SUCCESS, vc, None);
    l.ndis().cm_delete_vc(vc);
    assert_eq!(l.emu.fired(), vec![rule::DATA_DRAINED_AT_DEACT, rule::DATA_NO_CMP_AFTER_DELETE]);
    let _ = nbls;
}

#[test]
fn rule_data_drained_at_deact_judges_a_send_made_between_an_incoming_close_and_the_clients_close() {
    // Legal: the client sends after ProtocolClIncomingCloseCall, before its NdisClCloseCall. The
    // driver must still wait for that send before deactivating (and deleting) the VC.
    let l = lab();
    let vc = l.network_closed_call();
    let nbls = l.client.send(vc, vec![b"a".to_vec()]);
    l.client.close_call(vc, None, None);
    l.ndis().cm_deactivate_vc(vc);
    l.ndis().cm_close_call_complete(NdisStatus::SUCCESS, vc, None);
    l.ndis().cm_delete_vc(vc);
    assert_eq!(l.emu.fired(), vec![rule::DATA_DRAINED_AT_DEACT, rule::DATA_NO_CMP_AFTER_DELETE]);
    let _ = nbls;
    // The right order: the send completes (CLOSING) before the VC goes.
    let l = lab();
    let vc = l.network_closed_call();
    let nbls = l.client.send(vc, vec![b"a".to_vec()]);
    l.ndis().nbl_set_status(nbls[0], NdisStatus::CLOSING);
    l.ndis().co_send_net_buffer_lists_complete(vc, nbls[0], 0);
    l.client.close_call(vc, None, None);
    l.finish_close(vc);
    l.clean();
}

#[test]
fn rule_data_no_cmp_after_delete_fires_on_completing_a_send_while_ndis_m_cm_delete_vc_runs() {
    // A sender the driver did not wait for completes on another thread while the delete runs.
    let l = lab();
    let vc = l.held_incoming_call();
    let nbls = l.client.send(vc, vec![b"a".to_vec()]);
    drop(l.emu.ndis_call(&verifier::Call::DeleteVc { vc }));
    l.ndis().co_send_net_buffer_lists_complete(vc, nbls[0], 0);
    assert!(l.emu.fired().contains(&rule::DATA_NO_CMP_AFTER_DELETE), "{:?}", l.emu.fired());
    // Right: completed before the close; deactivate, complete, delete.
    let l = lab();
    let vc = l.held_incoming_call();
    let nbls = l.client.send(vc, vec![b"a".to_vec()]);
    l.ndis().co_send_net_buffer_lists_complete(vc, nbls[0], 0);
    l.ndis().cm_dispatch_incoming_close_call(NdisStatus::SUCCESS, vc, &[]);
    l.client.close_call(vc, None, None);
    l.finish_close(vc);
    assert_eq!(l.ndis().cm_delete_vc(vc), NdisStatus::SUCCESS);
    l.clean();
}

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
fn assert_clean_panics_with_the_rule_id_and_the_vc_history() {
    let l = lab();
    let vc = l.client_call();
    l.ndis().cm_deactivate_vc(vc);
    l.ndis().cm_deactivate_vc(vc);
    let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| l.emu.assert_clean())).unwrap_err();
    let msg = err.downcast_ref::<String>().unwrap();
    assert!(msg.contains("[VC-DEACT-ONCE]"), "{msg}");
    assert!(msg.contains("NdisMCmMakeCallComplete(SUCCESS), NdisMCmDeactivateVc, NdisMCmDeactivateVc"), "{msg}");
    let _ = HashMap::<u8, u8>::new();
}

#[test]
fn data_at_dispatch_policy_runs_sends_at_dispatch() {
    let l = lab();
    let vc = l.client_call();
    l.client.data_at_dispatch(true);
    l.client.send(vc, vec![b"a".to_vec()]);
    let log = l.emu.log();
    let send = log.iter().find(|e| e.name == "MiniportCoSendNetBufferLists").unwrap();
    assert_eq!(send.irql, Irql::Dispatch);
    l.client.data_at_dispatch(false);
    l.client.send(vc, vec![b"b".to_vec()]);
    let log = l.emu.log();
    let send = log.iter().rfind(|e| e.name == "MiniportCoSendNetBufferLists").unwrap();
    assert_eq!(send.irql, Irql::Passive);
}

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

#[test]
fn per_vc_history_from_the_index_matches_a_filter_of_the_whole_log() {
    let l = lab();
    let a = l.client_call();
    let b = l.client_call();
    l.client.send(a, vec![b"x".to_vec()]);
    l.client.send(b, vec![b"y".to_vec()]);
    l.ndis().cm_deactivate_vc(a);
    for vc in [a, b] {
        let log = l.emu.log();
        let want: Vec<String> = log
            .iter()
            .filter(|e| e.vc == Some(vc) && matches!(e.kind, LogKind::NdisCall | LogKind::HandlerReturn))
            .map(|e| e.name.clone())
            .collect();
        assert!(!want.is_empty());
        assert_eq!(l.emu.ndis_calls_on(vc), want);
        let seqs: Vec<usize> = l.emu.log_on(vc).iter().map(|e| e.seq).collect();
        let want_seqs: Vec<usize> = log.iter().filter(|e| e.vc == Some(vc)).map(|e| e.seq).collect();
        assert_eq!(seqs, want_seqs);
    }
}
