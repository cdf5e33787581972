//! Q.2931 call control, user side (§5.1–§5.4, §5.6): SETUP, CONNECT, the clearing
//! procedures (RELEASE / RELEASE COMPLETE, T308), error handling and the call-state messages.

use crate::cm::control::Control;
use crate::cm::control::Env;
use crate::cm::objects::DataState;
use crate::cm::objects::NO_PARTY;
use crate::cm::objects::Phase;
use crate::cm::objects::UU_MAX;
use crate::cm::objects::UuBuf;
use crate::cm::objects::VcObj;
use crate::cm::ops::vc_op;
use crate::cm::requests::conn_params;
use crate::ndis::AalType;
use crate::ndis::AtmFlowParameters;
use crate::ndis::AtmMediaParameters;
use crate::ndis::CallParameters;
use crate::ndis::Ndis;
use crate::ndis::NdisStatus;
use crate::ndis::SapContext;
use crate::ndis::ServiceCategory;
use crate::ndis::Token;
use crate::ndis::VpiVci;
use crate::ndis::call_flags;
use crate::ndis::media_flags;
use crate::uni::msg::Diag;
use crate::uni::msg::In;
use crate::uni::msg::InKind;
use crate::uni::msg::Out;
use crate::uni::msg::UnknownIeAction;
use crate::uni::msg::UnknownMessageAction;
use crate::uni::msg::cause;
use crate::uni::state::CallRef;
use crate::uni::state::TimerKind;
use crate::uni::state::UniState;

pub(crate) fn status_for_cause(c: Option<u8>) -> NdisStatus {
    match c {
        Some(cause::UNALLOCATED_NUMBER) => NdisStatus::INVALID_ADDRESS,
        Some(cause::NO_ROUTE_TO_DESTINATION) => NdisStatus::NO_ROUTE_TO_DESTINATION,
        Some(cause::DESTINATION_OUT_OF_ORDER) => NdisStatus::DEST_OUT_OF_ORDER,
        Some(cause::VPCI_VCI_UNAVAILABLE) | Some(cause::NO_VPCI_VCI_AVAILABLE) => NdisStatus::VC_NOT_AVAILABLE,
        Some(37) => NdisStatus::CELLRATE_NOT_AVAILABLE,
        Some(cause::RESOURCE_UNAVAILABLE) => NdisStatus::RESOURCES,
        Some(cause::QOS_UNAVAILABLE) => NdisStatus::INCOMPATABLE_QOS,
        Some(93) => NdisStatus::AAL_PARAMS_UNSUPPORTED,
        _ => NdisStatus::FAILURE,
    }
}

/// What a message for a known call comes to after its IE errors (Q.2931 §5.7.2).
pub(crate) enum IeVerdict {
    /// Not acted on: discarded, or the call was cleared.
    Discard,
    /// Acted on; then STATUS with this cause and diagnostic, if any.
    Proceed(Option<(u8, Diag)>),
}

impl<N: Ndis> Control<N> {
    /// Sends RELEASE (if the call is still up on the network) and starts T308.
    pub(crate) fn release_towards_network(&mut self, env: &impl Env<N>, vc: Token, c: u8, uu: UuBuf) {
        let Some(v) = self.vcs.get(vc) else { return };
        let Some(cref) = v.cref() else { return };
        match v.uni() {
            // Already released or being released: nothing more to say.
            UniState::Null | UniState::ReleaseRequest | UniState::ReleaseIndication => {}
            _ if !self.saal_up => {
                // No signalling link: the call is cleared locally.
                if let Some(v) = self.vcs.get_mut(vc) {
                    v.set_uni(&mut self.link_counts, UniState::Null);
                    v.network_done = true;
                    v.timer = None;
                    self.timers.cancel(vc.index());
                }
            }
            _ => {
                if let Some(v) = self.vcs.get_mut(vc) {
                    v.set_uni(&mut self.link_counts, UniState::ReleaseRequest);
                    v.network_done = false;
                }
                // Kept for T308's retransmission.
                if let Some(k) = self.call_mut(vc) {
                    k.incoming_close_data.set(&uu);
                    k.release_cause = (c, Diag::NONE);
                }
                let out =
                    Out::Release { cref, cause: c, diagnostic: Diag::NONE, timer: None, user_user: uu.as_slice() };
                self.emit(env, &out);
                self.start_timer(env, vc, TimerKind::T308);
                if let Some(v) = self.vcs.get_mut(vc)
                    && let Some(t) = v.timer.as_mut()
                {
                    t.expiries = 0;
                }
            }
        }
    }

    /// Stops sends on the VC and starts its data-path teardown (idempotent).
    pub(crate) fn start_teardown(&mut self, env: &impl Env<N>, vc: Token) {
        let Some(v) = self.vcs.get_mut(vc) else { return };
        match v.data {
            DataState::Open => {
                v.data = DataState::Draining;
                let conn = v.conn;
                env.datapath_teardown(vc.index(), conn);
            }
            DataState::None => v.data = DataState::Drained,
            DataState::Draining | DataState::Drained => {}
        }
    }

    pub(crate) fn pay_release_complete(&mut self, env: &impl Env<N>, vc: Token) {
        let Some(v) = self.vcs.get_mut(vc) else { return };
        if !v.owe_release_complete() || v.data != DataState::Drained {
            return;
        }
        v.set_owe_release_complete(&mut self.link_counts, false);
        v.set_uni(&mut self.link_counts, UniState::Null);
        let (cref, call) = (v.cref(), v.call);
        let error = call.and_then(|c| self.calls.get_mut(c)).and_then(|c| c.release_complete_error.take());
        if let Some(cref) = cref
            && self.saal_up
        {
            self.emit(env, &Self::release_complete(cref, error));
        }
    }

    /// RELEASE COMPLETE answering a RELEASE: with #96 / #100 and the IE when it was in error.
    pub(crate) fn release_complete(cref: CallRef, error: Option<(u8, u8)>) -> Out<'static> {
        match error {
            Some((cause, ie)) => Out::ReleaseCompleteDiag { cref, cause, diagnostic: Diag::one(ie) },
            None => Out::ReleaseComplete { cref, cause: None },
        }
    }

    /// Moves a closing/rejecting VC on once both the network and the data path are done.
    pub(crate) fn advance_close(&mut self, env: &impl Env<N>, vc: Token) {
        let Some(v) = self.vcs.get(vc) else { return };
        let settled = v.network_done && matches!(v.data, DataState::None | DataState::Drained);
        if !settled {
            return;
        }
        match v.phase {
            // A failed MakeCall completes once nothing of the call is left.
            Phase::MakePending if v.make_failed && v.ops & vc_op::MAKE_CALL_COMPLETE == 0 => {
                let mut ops = vc_op::MAKE_CALL_COMPLETE;
                if v.active {
                    ops |= vc_op::DEACTIVATE_VC;
                }
                self.vc_op(vc, ops);
            }
            // The pended close completes: deactivate → complete → delete (MCM VC).
            Phase::Closing if v.close_pended && v.ops & vc_op::CLOSE_CALL_COMPLETE == 0 => {
                let mut ops = vc_op::CLOSE_CALL_COMPLETE;
                if v.active {
                    ops |= vc_op::DEACTIVATE_VC;
                }
                if v.ours {
                    ops |= vc_op::DELETE_VC;
                }
                if let Some(v) = self.vcs.get_mut(vc) {
                    v.close_status = NdisStatus::SUCCESS;
                }
                self.vc_op(vc, ops);
            }
            // A refused or failed incoming call: deactivate (if active) → delete; or just free
            // the slot if NDIS never knew the VC.
            Phase::Rejecting if v.ops & vc_op::DELETE_VC == 0 => match v.handle {
                Some(_) => {
                    let mut ops = vc_op::DELETE_VC;
                    if v.active {
                        ops |= vc_op::DEACTIVATE_VC;
                    }
                    self.vc_op(vc, ops);
                }
                None if v.ops == 0 && !v.queued => self.remove_vc(env, vc),
                None => {}
            },
            _ => {}
        }
    }

    /// A client VC whose close completes synchronously: deactivated and back to idle, reusable.
    pub(crate) fn finish_client_close(&mut self, vc: Token) {
        self.deactivating(vc.index());
        self.close_call_completing(vc.index());
    }

    /// Parties of this VC without ops are freed now; those with ops outstanding are freed after
    /// them. Walks the VC's own party list.
    pub(crate) fn free_parties_of(&mut self, vc: Token) {
        let mut at = self.vcs.get(vc).map_or(NO_PARTY, |v| v.first_party);
        for _ in 0..self.parties.capacity() {
            let Some(t) = self.parties.token_at(usize::from(at)) else { break };
            let Some(p) = self.parties.get_mut(t) else { break };
            if p.vc.0 != vc {
                break;
            }
            at = p.next;
            if p.ops == 0 && !p.queued {
                self.remove_party(t);
            } else {
                p.free_after_ops = true;
            }
        }
    }

    /// The remote side (or a failure) ends an accepted/connected call: tell the client with
    /// NdisMCmDispatchIncomingCloseCall(status); its NdisClCloseCall then drives the close.
    pub(crate) fn remote_close(&mut self, env: &impl Env<N>, vc: Token, status: NdisStatus, uu: UuBuf, owe_rc: bool) {
        let Some(v) = self.vcs.get_mut(vc) else { return };
        if v.dispatched_close || v.phase == Phase::Closing {
            // At most one incoming close per call, none once the client's close began.
            if v.phase == Phase::Closing {
                v.network_done = true;
                let owe = v.owe_release_complete() || owe_rc;
                v.set_owe_release_complete(&mut self.link_counts, owe);
            }
            self.pay_release_complete(env, vc);
            self.advance_close(env, vc);
            return;
        }
        v.phase = Phase::RemoteClosing;
        v.dispatched_close = true;
        v.network_done = true;
        v.set_owe_release_complete(&mut self.link_counts, owe_rc);
        v.set_uni(&mut self.link_counts, if owe_rc { UniState::ReleaseIndication } else { UniState::Null });
        v.timer = None;
        self.timers.cancel(vc.index());
        if let Some(c) = self.call_mut(vc) {
            c.incoming_close_status = status;
            c.incoming_close_data.set(&uu);
        }
        self.vc_op(vc, vc_op::DISPATCH_INCOMING_CLOSE);
        self.start_teardown(env, vc);
        self.pay_release_complete(env, vc);
    }

    /// SETUP: an incoming call.
    pub(crate) fn on_setup(&mut self, env: &impl Env<N>, m: &In<'_>) {
        let cref = m.cref;
        let refuse = |this: &mut Self, c: u8| this.emit(env, &Out::ReleaseComplete { cref, cause: Some(c) });
        // A mandatory IE missing (#96) or an IE's contents invalid (#100): the diagnostic names
        // the IE (Q.2931 §5.6.7, 4.5.15).
        let refuse_ie = |this: &mut Self, cause: u8, diagnostic: u8| {
            this.emit(env, &Out::ReleaseCompleteDiag { cref, cause, diagnostic: Diag::one(diagnostic) });
        };
        match m.error {
            Some((c, 0)) => return refuse(self, c),
            Some((c, ie)) => return refuse_ie(self, c, ie),
            None => {}
        }
        // An unrecognised IE (#99, Q.2931 §5.6.8.1) or non-mandatory IEs with invalid contents
        // (#100, §5.6.8.2; the decoder already dropped them): act on the SETUP as if they were
        // absent, unless the instruction field's action indicator says otherwise (§5.7.2); one
        // answer at most ([`crate::uni::msg::ie_error`]). "Report" while proceeding is sent once
        // the call is present (U6), as the STATUS must give the state after acting on the message.
        let report_ie = match crate::uni::msg::ie_error(m) {
            None => None,
            Some((c, diagnostic, action)) => match action {
                // Clear call: there is no call yet, so the SETUP is refused with RELEASE COMPLETE
                // naming the IEs (as for a mandatory IE error, §5.6.7).
                UnknownIeAction::Clear => {
                    self.emit(env, &Out::ReleaseCompleteDiag { cref, cause: c, diagnostic });
                    return;
                }
                // Discard the message: no call.
                UnknownIeAction::DiscardMessage => return,
                // Discard the message and report: no call, STATUS in U0 (the state after).
                UnknownIeAction::DiscardMessageReport => {
                    self.emit(env, &Out::StatusDiag { cref, state: UniState::Null.code(), cause: c, diagnostic });
                    return;
                }
                UnknownIeAction::DiscardReport => Some((c, diagnostic)),
                UnknownIeAction::Discard => None,
            },
        };
        let Some(conn_id) = m.connection else {
            refuse_ie(self, cause::MANDATORY_IE_MISSING, crate::wire::q2931::id::CONNECTION_ID);
            return;
        };
        // VCIs 0-31 are reserved on every VPI (I.361: unassigned, meta-signalling, broadcast, F4
        // OAM 3/4; ATM Forum: signalling 5, ILMI 16, ...): never a user call's.
        if conn_id.vci < 32 {
            refuse(self, cause::VPCI_VCI_UNAVAILABLE);
            return;
        }
        if m.aal.is_some_and(|a| a != 5) {
            refuse(self, 93);
            return;
        }
        if self.halting {
            refuse(self, cause::DESTINATION_OUT_OF_ORDER);
            return;
        }
        // The SAP: exact called-address match first, then a wildcard SAP.
        let sap = self
            .saps
            .find(|s| s.sap.address.is_some() && s.sap.address == m.called)
            .or_else(|| self.saps.find(|s| s.sap.address.is_none()));
        let Some(sap) = sap else {
            refuse(self, cause::INCOMPATIBLE_DESTINATION);
            return;
        };
        let Some(af) = self.saps.get(sap).map(|s| s.af) else { return };
        let (fwd_sdu, bwd_sdu) = m.max_sdu.unwrap_or((9188, 9188));
        let (fwd_pcr, bwd_pcr) = m.pcr.unwrap_or((0, 0));
        // Forward = calling → called, i.e. our receive direction.
        let params = CallParameters {
            flags: 0,
            media_flags: media_flags::TRANSMIT_VC | media_flags::RECEIVE_VC,
            media: AtmMediaParameters {
                connection_id: conn_id,
                aal_type: AalType::Aal5,
                transmit: AtmFlowParameters {
                    service_category: ServiceCategory::Ubr,
                    pcr: bwd_pcr,
                    scr: 0,
                    mbs: 0,
                    max_sdu_size: bwd_sdu,
                },
                receive: AtmFlowParameters {
                    service_category: ServiceCategory::Ubr,
                    pcr: fwd_pcr,
                    scr: 0,
                    mbs: 0,
                    max_sdu_size: fwd_sdu,
                },
            },
            called: m.called,
            calling: m.calling,
        };
        if Self::check_params(env, &params).is_err() {
            refuse(self, cause::QOS_UNAVAILABLE);
            return;
        }
        // Every call in progress holds a call-pool entry: none left, or no VC slot, is #47.
        let Some(call) = self.take_call(params) else {
            refuse(self, cause::RESOURCE_UNAVAILABLE);
            return;
        };
        if let Some(c) = self.calls.get_mut(call) {
            c.sap = Some(SapContext(sap));
        }
        let mut obj = VcObj::new(af, None, true);
        obj.phase = Phase::Offering;
        obj.call = Some(call);
        obj.network_done = false;
        let Ok(vc) = self.vcs.insert(obj) else {
            self.calls.remove(call);
            refuse(self, cause::RESOURCE_UNAVAILABLE);
            return;
        };
        if let Some(v) = self.vcs.get_mut(vc) {
            v.start_call(&mut self.link_counts, cref, UniState::CallPresent);
        }
        self.af_child_born(af);
        self.crefs.insert(cref, vc.index());
        match env.open_connection(&conn_params(&params)) {
            Ok(conn) => {
                if let Some(v) = self.vcs.get_mut(vc) {
                    v.conn = Some(conn);
                    v.data = DataState::Open;
                }
                self.vc_op(vc, vc_op::CREATE_VC);
                // The call is present (U6): STATUS #99 / #100 naming the discarded IEs.
                if let Some((c, diagnostic)) = report_ie {
                    let state = UniState::CallPresent.code();
                    self.emit(env, &Out::StatusDiag { cref, state, cause: c, diagnostic });
                }
            }
            Err(_) => {
                self.remove_vc(env, vc);
                refuse(self, cause::VPCI_VCI_UNAVAILABLE);
            }
        }
    }

    /// A message for a known call.
    pub(crate) fn on_call_message(&mut self, env: &impl Env<N>, vc: Token, m: &In<'_>) {
        let Some(v) = self.vcs.get(vc) else { return };
        let uni = v.uni();
        let phase = v.phase;
        let Some(cref) = v.cref() else { return };
        let uu = UuBuf::new(m.user_user.get(..m.user_user.len().min(UU_MAX)).unwrap_or(&[])).unwrap_or(UuBuf::EMPTY);
        // A RELEASE with its Cause missing or in error is still a RELEASE; the RELEASE COMPLETE
        // answering it carries #96 / #100 naming the IE (Q.2931 §5.6.7.1, §5.6.7.2). A clearing
        // message is never answered with STATUS, so an unrecognised IE (#99) or a non-mandatory
        // IE with invalid contents (#100) that asks for a report (or a clear) is reported in that
        // RELEASE COMPLETE instead, naming the first such IE (Q.931 §5.8.7.1 b), which Q.2931
        // §5.6.8.1 follows; §5.6.8.2 by the same token).
        let release_error = match m.kind {
            InKind::Release => m.error.or_else(|| match crate::uni::msg::ie_error(m) {
                Some((c, diag, UnknownIeAction::Clear | UnknownIeAction::DiscardReport)) => Some((c, diag.first())),
                _ => None,
            }),
            _ => None,
        };
        // The answer to our STATUS ENQUIRY, or a clearing message, stops T322 (Q.2931 §5.6.11).
        if v.timer.is_some_and(|t| t.kind == TimerKind::T322)
            && matches!(m.kind, InKind::Status | InKind::Release | InKind::ReleaseComplete)
        {
            self.stop_timer(vc);
        }
        // An unrecognised IE (#99, Q.2931 §5.6.8.1) or non-mandatory IEs with invalid contents
        // (#100, §5.6.8.2, already dropped by the decoder), as their instruction fields ask
        // (§5.7.2). A report while proceeding is sent after acting on the message, below.
        let report = match crate::uni::msg::ie_error(m).map(|e| self.on_ie_error(env, vc, uni, m.kind, e)) {
            Some(IeVerdict::Discard) => return,
            Some(IeVerdict::Proceed(report)) => report,
            None => None,
        };
        match (uni, m.kind) {
            // ---- outgoing call progress (U1/U3/U4) ----
            // CALL PROCEEDING: T303 → T310; remember an early connection identifier.
            (UniState::CallInitiated, InKind::CallProceeding) => {
                self.note_connection(vc, m.connection);
                if let Some(v) = self.vcs.get_mut(vc) {
                    v.set_uni(&mut self.link_counts, UniState::OutgoingCallProceeding);
                }
                self.start_timer(env, vc, TimerKind::T310);
            }
            // ALERTING: the far end is being alerted; no timer (T301 is not run).
            (UniState::CallInitiated | UniState::OutgoingCallProceeding, InKind::Alerting) => {
                self.note_connection(vc, m.connection);
                if let Some(v) = self.vcs.get_mut(vc) {
                    v.set_uni(&mut self.link_counts, UniState::CallDelivered);
                }
                self.stop_timer(vc);
            }
            // CONNECT: open the connection, acknowledge, activate; MakeCall completes after
            // the activation.
            (UniState::CallInitiated | UniState::OutgoingCallProceeding | UniState::CallDelivered, InKind::Connect) => {
                self.stop_timer(vc);
                self.note_connection(vc, m.connection);
                self.on_connect(env, vc, cref);
            }
            // RELEASE / RELEASE COMPLETE before the answer: the call failed.
            (
                UniState::CallInitiated | UniState::OutgoingCallProceeding | UniState::CallDelivered,
                InKind::Release | InKind::ReleaseComplete,
            ) => {
                if m.kind == InKind::Release {
                    self.emit(env, &Self::release_complete(cref, release_error));
                }
                self.fail_make_call(env, vc, status_for_cause(m.cause));
            }
            // ---- incoming call (U6/U8) ----
            // The caller gave up before we answered.
            (UniState::CallPresent, InKind::Release | InKind::ReleaseComplete) => {
                if m.kind == InKind::Release {
                    self.emit(env, &Self::release_complete(cref, release_error));
                }
                if let Some(v) = self.vcs.get_mut(vc) {
                    v.network_done = true;
                    v.set_uni(&mut self.link_counts, UniState::Null);
                }
                match phase {
                    // Not yet offered to the client: refuse right away.
                    Phase::Offering if !self.vc_has_handle_pending(vc) => self.reject_incoming(env, vc, None),
                    // Offered (or being offered): wait for the client's answer, then refuse.
                    _ => {}
                }
            }
            // CONNECT ACKNOWLEDGE: the call is active; tell the client.
            (UniState::ConnectRequest, InKind::ConnectAck) => {
                self.stop_timer(vc);
                if let Some(v) = self.vcs.get_mut(vc) {
                    v.set_uni(&mut self.link_counts, UniState::Active);
                    v.phase = Phase::Connected;
                }
                self.vc_op(vc, vc_op::DISPATCH_CALL_CONNECTED);
            }
            // ---- active call (U8/U10) ----
            // RELEASE from the remote: incoming close (SUCCESS); RELEASE COMPLETE once the VC is
            // really closed.
            (UniState::Active | UniState::ConnectRequest, InKind::Release) => {
                self.stop_timer(vc);
                if let Some(c) = self.call_mut(vc) {
                    c.release_complete_error = release_error;
                }
                self.remote_close(env, vc, NdisStatus::SUCCESS, uu, true);
            }
            // RELEASE COMPLETE without RELEASE: the network cleared the call.
            (UniState::Active | UniState::ConnectRequest, InKind::ReleaseComplete) => {
                self.stop_timer(vc);
                self.remote_close(
                    env,
                    vc,
                    if m.cause == Some(cause::NORMAL_CALL_CLEARING) {
                        NdisStatus::SUCCESS
                    } else {
                        status_for_cause(m.cause)
                    },
                    uu,
                    false,
                );
            }
            // ---- our release (U11) ----
            // RELEASE COMPLETE: the network side is done.
            (UniState::ReleaseRequest, InKind::ReleaseComplete) => {
                self.stop_timer(vc);
                if let Some(v) = self.vcs.get_mut(vc) {
                    v.set_uni(&mut self.link_counts, UniState::Null);
                    v.network_done = true;
                }
                self.advance_close(env, vc);
            }
            // RELEASE while we release: a clear collision — done, and no RELEASE COMPLETE.
            (UniState::ReleaseRequest, InKind::Release) => {
                self.stop_timer(vc);
                if let Some(v) = self.vcs.get_mut(vc) {
                    v.set_uni(&mut self.link_counts, UniState::Null);
                    v.network_done = true;
                }
                self.advance_close(env, vc);
            }
            // ---- remote release pending (U12) ----
            // A repeated RELEASE: we answer once the VC is closed.
            (UniState::ReleaseIndication, InKind::Release) => {}
            (UniState::ReleaseIndication, InKind::ReleaseComplete) => {
                if let Some(v) = self.vcs.get_mut(vc) {
                    v.set_owe_release_complete(&mut self.link_counts, false);
                    v.set_uni(&mut self.link_counts, UniState::Null);
                }
            }
            // ---- status ----
            (_, InKind::StatusEnquiry) => {
                self.emit(
                    env,
                    &Out::Status { cref, state: uni.code(), cause: cause::RESPONSE_TO_STATUS_ENQUIRY, endpoint: None },
                );
            }
            // STATUS saying the network has no call: clear locally (Q.2931 §5.6.11).
            (_, InKind::Status) if m.call_state == Some(0) => {
                self.clear_call(env, vc, NdisStatus::FAILURE);
            }
            // STATUS whose call state cannot be the network's view of an active call (the call
            // is not yet active there, or is incoming at our side): clear with RELEASE #101
            // (Q.2931 §5.6.11).
            (UniState::Active, InKind::Status) if matches!(m.call_state, Some(1 | 3 | 4 | 6 | 7 | 8 | 9)) => {
                self.clear_with_release(env, vc, cause::MESSAGE_NOT_COMPATIBLE_WITH_STATE, Diag::NONE, None);
            }
            (_, InKind::Status) => {}
            // ---- point-to-multipoint ----
            (
                UniState::Active,
                InKind::AddPartyAck
                | InKind::AddPartyReject
                | InKind::DropParty
                | InKind::DropPartyAck
                | InKind::PartyAlerting,
            ) => {
                self.on_party_message(env, vc, cref, m, uu);
            }
            // A SETUP for a call reference already in use is ignored (Q.2931 §5.6.3.1 b).
            (_, InKind::Setup) => {}
            // RELEASE COMPLETE in any other state clears the call; nothing is sent back (Q.2931
            // §5.4.4: never answered, so no message loop can start).
            (_, InKind::ReleaseComplete) => self.clear_call(env, vc, status_for_cause(m.cause)),
            // RELEASE in any other state: RELEASE COMPLETE, and the call is cleared.
            (_, InKind::Release) => {
                self.emit(env, &Self::release_complete(cref, release_error));
                self.clear_call(env, vc, status_for_cause(m.cause));
            }
            // Messages we do not implement: STATUS #97 with the message type as diagnostic
            // (Q.2931 §5.6.4, Q.850).
            // With an explicit message action indicator: clear the call, or discard silently
            // (Q.2931 §5.7.1).
            (_, InKind::Other(_)) if m.action == UnknownMessageAction::Ignore => {}
            (UniState::Active, InKind::Other(_)) if m.action == UnknownMessageAction::Clear => {
                self.clear_with_release(env, vc, cause::MESSAGE_TYPE_NOT_IMPLEMENTED, Diag::NONE, None);
            }
            (_, InKind::Other(t)) => {
                self.emit(
                    env,
                    &Out::StatusDiag {
                        cref,
                        state: uni.code(),
                        cause: cause::MESSAGE_TYPE_NOT_IMPLEMENTED,
                        diagnostic: Diag::one(t),
                    },
                );
            }
            // Anything else is not compatible with the call state: STATUS #101 (Q.2931 §5.6.4).
            _ => {
                self.emit(
                    env,
                    &Out::Status {
                        cref,
                        state: uni.code(),
                        cause: cause::MESSAGE_NOT_COMPATIBLE_WITH_STATE,
                        endpoint: None,
                    },
                );
            }
        }
        // STATUS for the discarded IEs gives the call state after acting on the message
        // (§5.6.8.1, §5.6.8.2; Q.931 §5.8.7.1, §5.8.7.2); none once the call is gone.
        if let Some((c, diagnostic)) = report
            && let Some(v) = self.vcs.get(vc)
            && let Some(cref) = v.cref()
            && v.uni() != UniState::Null
        {
            let state = v.uni().code();
            self.emit(env, &Out::StatusDiag { cref, state, cause: c, diagnostic });
        }
    }

    pub(crate) fn note_connection(&mut self, vc: Token, id: Option<VpiVci>) {
        let Some(id) = id else { return };
        if let Some(c) = self.call_mut(vc)
            && let p = &mut c.params
            && p.media.connection_id != id
        {
            p.media.connection_id = id;
            p.flags |= call_flags::CALL_PARAMETERS_CHANGED;
        }
    }

    pub(crate) fn on_connect(&mut self, env: &impl Env<N>, vc: Token, cref: CallRef) {
        let Some(v) = self.vcs.get(vc) else { return };
        let Some(handle) = v.handle else { return };
        let Some(params) = self.call(vc).map(|c| c.params) else { return };
        let id = params.media.connection_id;
        if id.vpi == 0 && id.vci == 0 {
            // No connection identifier in CALL PROCEEDING or CONNECT.
            self.emit(env, &Out::ConnectAck { cref });
            self.orphan_release(env, cref, cause::MANDATORY_IE_MISSING);
            self.fail_make_call(env, vc, NdisStatus::VC_NOT_AVAILABLE);
            return;
        }
        match env.open_connection(&conn_params(&params)) {
            Ok(conn) => {
                env.datapath_open(vc.index(), vc.generation(), handle, conn);
                if let Some(v) = self.vcs.get_mut(vc) {
                    v.conn = Some(conn);
                    v.data = DataState::Open;
                    v.set_uni(&mut self.link_counts, UniState::Active);
                }
                self.emit(env, &Out::ConnectAck { cref });
                self.vc_op(vc, vc_op::ACTIVATE_VC);
            }
            Err(_) => {
                self.emit(env, &Out::ConnectAck { cref });
                self.orphan_release(env, cref, cause::VPCI_VCI_UNAVAILABLE);
                self.fail_make_call(env, vc, NdisStatus::VC_NOT_AVAILABLE);
            }
        }
    }

    /// MakeCall fails with `status`: NdisMCmMakeCallComplete(status); the VC returns to idle
    /// once it is performed (the client then deletes it).
    pub(crate) fn fail_make_call(&mut self, env: &impl Env<N>, vc: Token, status: NdisStatus) {
        let Some(v) = self.vcs.get_mut(vc) else { return };
        if v.phase != Phase::MakePending {
            // A close is already in progress (Closing): the close takes it from here.
            v.network_done = true;
            v.set_uni(&mut self.link_counts, UniState::Null);
            v.timer = None;
            self.timers.cancel(vc.index());
            self.advance_close(env, vc);
            return;
        }
        v.make_status = status;
        v.make_failed = true;
        v.set_uni(&mut self.link_counts, UniState::Null);
        v.timer = None;
        self.timers.cancel(vc.index());
        v.network_done = true;
        v.ops &= !vc_op::ACTIVATE_VC;
        // The completion waits for the data path (if a connection was opened) so the VC is
        // reusable — or deletable — the moment the client hears of the failure.
        self.start_teardown(env, vc);
        self.advance_close(env, vc);
    }

    /// Clears a call locally (RESTART, STATUS U0, link failure): whatever the call's phase, it
    /// ends with the client told and the VC torn down; nothing more is sent for it.
    pub(crate) fn clear_call(&mut self, env: &impl Env<N>, vc: Token, status: NdisStatus) {
        let Some(v) = self.vcs.get_mut(vc) else { return };
        v.timer = None;
        self.timers.cancel(vc.index());
        let phase = v.phase;
        match phase {
            // Outgoing call not answered yet: MakeCall fails.
            Phase::MakePending => self.fail_make_call(env, vc, status),
            // Being offered / offered: refuse when the client answers (row 8).
            Phase::Offering | Phase::OfferPending => {
                if let Some(v) = self.vcs.get_mut(vc) {
                    v.network_done = true;
                    v.set_uni(&mut self.link_counts, UniState::Null);
                }
                if phase == Phase::Offering && !self.vc_has_handle_pending(vc) {
                    self.reject_incoming(env, vc, None);
                }
            }
            // Accepted/connected: incoming close with an error status.
            Phase::Accepted | Phase::Connected => self.remote_close(env, vc, status, UuBuf::EMPTY, false),
            // Already closing: the network side is settled now.
            Phase::Closing | Phase::RemoteClosing | Phase::Rejecting => {
                if let Some(v) = self.vcs.get_mut(vc) {
                    v.network_done = true;
                    v.set_owe_release_complete(&mut self.link_counts, false);
                    v.set_uni(&mut self.link_counts, UniState::Null);
                }
                self.advance_close(env, vc);
            }
            Phase::Idle => {}
        }
    }

    /// Acts on an IE error in a message for a known call — an unrecognised IE (`c` = #99,
    /// Q.2931 §5.6.8.1) or non-mandatory IEs with invalid contents (#100, §5.6.8.2), `diag`
    /// naming them — as the action indicator asks (§5.7.2; without the flag: discard the IE,
    /// proceed, report): whether the message is still to be acted on, and the STATUS to send
    /// once it has been (the state it reports is the one after acting). Clearing messages and
    /// STATUS are never answered with STATUS (no loops) nor turned into a clear (a RELEASE's
    /// report goes in its RELEASE COMPLETE instead, see [`Self::on_call_message`]); "discard
    /// message" still discards them. "Clear call" clears an active call (RELEASE `c`, no
    /// diagnostic); in the other states it is taken as "discard the IE and proceed", as it was
    /// for #99 before #100 shared this path (the call set-up and release paths own those states).
    pub(crate) fn on_ie_error(
        &mut self,
        env: &impl Env<N>,
        vc: Token,
        uni: UniState,
        kind: InKind,
        (c, diag, action): (u8, Diag, UnknownIeAction),
    ) -> IeVerdict {
        let quiet = matches!(kind, InKind::Release | InKind::ReleaseComplete | InKind::Status);
        match action {
            UnknownIeAction::DiscardMessage => IeVerdict::Discard,
            // The message is not acted on: STATUS in the current state.
            UnknownIeAction::DiscardMessageReport => {
                if !quiet && let Some(cref) = self.vcs.get(vc).and_then(|v| v.cref()) {
                    let st = Out::StatusDiag { cref, state: uni.code(), cause: c, diagnostic: diag };
                    self.emit(env, &st);
                }
                IeVerdict::Discard
            }
            // Clear call: RELEASE naming the IEs (Q.2931 §5.6.8.1 / .2).
            UnknownIeAction::Clear if !quiet && uni == UniState::Active => {
                self.clear_with_release(env, vc, c, diag, None);
                IeVerdict::Discard
            }
            UnknownIeAction::DiscardReport if !quiet => IeVerdict::Proceed(Some((c, diag))),
            _ => IeVerdict::Proceed(None),
        }
    }

    /// Clears an active call from our side because of a protocol error or an expired timer:
    /// RELEASE with `c` and its `diagnostic` (the IEs of a "clear call"), a second cause #102
    /// naming `timer` if one expired (T308 runs, U11); the client hears an incoming close with
    /// FAILURE, the VC is torn down.
    pub(crate) fn clear_with_release(
        &mut self,
        env: &impl Env<N>,
        vc: Token,
        c: u8,
        diagnostic: Diag,
        timer: Option<[u8; 3]>,
    ) {
        let Some(cref) = self.vcs.get(vc).and_then(|v| v.cref()) else { return };
        self.stop_timer(vc);
        self.emit(env, &Out::Release { cref, cause: c, diagnostic, timer, user_user: &[] });
        self.start_timer(env, vc, TimerKind::T308);
        if let Some(v) = self.vcs.get_mut(vc) {
            v.set_uni(&mut self.link_counts, UniState::ReleaseRequest);
            v.phase = Phase::RemoteClosing;
            v.dispatched_close = true;
            v.network_done = false;
        }
        if let Some(k) = self.call_mut(vc) {
            k.incoming_close_status = NdisStatus::FAILURE;
            k.incoming_close_data.clear();
            k.release_cause = (c, diagnostic);
        }
        self.vc_op(vc, vc_op::DISPATCH_INCOMING_CLOSE);
        self.start_teardown(env, vc);
    }
}
