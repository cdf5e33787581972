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

mod clean_sequences;
mod completions;
mod data_path;
mod handles_and_halt;
mod irql_and_returns;
mod rule_docs;
mod vc_life;

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
    // The firing tests live in the family files (verifier_tests/*.rs).
    let src = [
        include_str!("verifier_tests/irql_and_returns.rs"),
        include_str!("verifier_tests/completions.rs"),
        include_str!("verifier_tests/vc_life.rs"),
        include_str!("verifier_tests/data_path.rs"),
        include_str!("verifier_tests/handles_and_halt.rs"),
    ]
    .concat();
    for r in rule::ALL {
        let snake = r.to_lowercase().replace('-', "_");
        assert!(src.contains(&format!("fn rule_{snake}_fires_on_")), "no test for {r}");
    }
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
