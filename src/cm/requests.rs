//! The ProtocolCm* request handlers: address family, SAP, VC, MakeCall / CloseCall and
//! IncomingCallComplete — a client request meets the CoNDIS call state here and becomes UNI
//! signalling or an NDIS status.

use crate::cm::control::CloseOutcome;
use crate::cm::control::Control;
use crate::cm::control::Env;
use crate::cm::objects::AfObj;
use crate::cm::objects::DataState;
use crate::cm::objects::LinkClass;
use crate::cm::objects::PartyObj;
use crate::cm::objects::PartyPhase;
use crate::cm::objects::Phase;
use crate::cm::objects::SapObj;
use crate::cm::objects::UuBuf;
use crate::cm::objects::VcObj;
use crate::cm::ops::af_op;
use crate::cm::ops::vc_op;
use crate::config::SignallingVariant;
use crate::ndis::AalType;
use crate::ndis::AfContext;
use crate::ndis::CO_ADDRESS_FAMILY_Q2931;
use crate::ndis::CallParameters;
use crate::ndis::CloseData;
use crate::ndis::CoAddressFamily;
use crate::ndis::Ndis;
use crate::ndis::NdisStatus;
use crate::ndis::PartyContext;
use crate::ndis::Sap;
use crate::ndis::SapContext;
use crate::ndis::Token;
use crate::ndis::VcContext;
use crate::nic::ConnParams;
use crate::uni::msg::Out;
use crate::uni::msg::cause;
use crate::uni::state::TimerKind;
use crate::uni::state::UniState;

/// What the NIC needs for a call's connection.
pub fn conn_params(p: &CallParameters) -> ConnParams {
    ConnParams {
        id: p.media.connection_id,
        aal: p.media.aal_type,
        tx_pcr: p.media.transmit.pcr,
        max_rx_sdu: p.media.receive.max_sdu_size.max(1),
    }
}

impl<N: Ndis> Control<N> {
    // ---- address family and SAPs ------------------------------------------------------------------

    /// ProtocolCmOpenAf.
    pub fn open_af(&mut self, af: &CoAddressFamily, handle: N::AfHandle) -> Result<AfContext, NdisStatus> {
        if af.address_family != CO_ADDRESS_FAMILY_Q2931 {
            return Err(NdisStatus::NOT_SUPPORTED);
        }
        if self.halting {
            return Err(NdisStatus::CLOSING);
        }
        let obj = AfObj { handle, notified: false, close_pending: false, children: 0, ops: 0, queued: false };
        self.afs.insert(obj).map(AfContext).map_err(|_| NdisStatus::RESOURCES)
    }

    /// ProtocolCmCloseAf: completes at once when the AF has no SAP and no VC left, else pends
    /// until the last one is gone.
    pub fn close_af(&mut self, af: AfContext) -> NdisStatus {
        let busy = self.af_busy(af);
        let Some(obj) = self.afs.get_mut(af.0) else {
            return NdisStatus::INVALID_PARAMETER;
        };
        if obj.close_pending {
            return NdisStatus::CLOSING;
        }
        if busy {
            obj.close_pending = true;
            return NdisStatus::PENDING;
        }
        if obj.ops != 0 || obj.queued {
            // An op (the close completion of an earlier close) is still due; cannot happen once
            // close_pending was checked, but never free an object with ops outstanding.
            obj.close_pending = true;
            return NdisStatus::PENDING;
        }
        self.afs.remove(af.0);
        NdisStatus::SUCCESS
    }

    pub(crate) fn af_busy(&self, af: AfContext) -> bool {
        self.afs.get(af.0).is_some_and(|a| a.children > 0)
    }

    /// A SAP or VC of `af` was created.
    pub(crate) fn af_child_born(&mut self, af: AfContext) {
        if let Some(a) = self.afs.get_mut(af.0) {
            a.children = a.children.saturating_add(1);
        }
    }

    /// A SAP or VC of `af` went away: re-checks a pending CloseAf.
    pub(crate) fn af_child_gone(&mut self, af: AfContext) {
        if let Some(a) = self.afs.get_mut(af.0) {
            a.children = a.children.saturating_sub(1);
        }
        let busy = self.af_busy(af);
        let due =
            matches!(self.afs.get(af.0), Some(obj) if obj.close_pending && obj.ops & af_op::CLOSE_AF_COMPLETE == 0);
        if due && !busy {
            self.af_op(af.0, af_op::CLOSE_AF_COMPLETE);
        }
    }

    /// ProtocolCmRegisterSap.
    pub fn register_sap(&mut self, af: AfContext, sap: &Sap, handle: N::SapHandle) -> Result<SapContext, NdisStatus> {
        match self.afs.get(af.0) {
            None => return Err(NdisStatus::INVALID_PARAMETER),
            Some(a) if a.close_pending || a.notified => return Err(NdisStatus::CLOSING),
            Some(_) => {}
        }
        if self.saps.iter().any(|(_, s)| s.sap.address == sap.address) {
            return Err(NdisStatus::SAP_IN_USE);
        }
        let sap =
            self.saps.insert(SapObj { handle, af, sap: *sap }).map(SapContext).map_err(|_| NdisStatus::RESOURCES)?;
        self.af_child_born(af);
        Ok(sap)
    }

    /// ProtocolCmDeregisterSap: calls already offered through it are unaffected.
    pub fn deregister_sap(&mut self, sap: SapContext) -> NdisStatus {
        let Some(obj) = self.saps.remove(sap.0) else {
            return NdisStatus::INVALID_PARAMETER;
        };
        self.af_child_gone(obj.af);
        NdisStatus::SUCCESS
    }

    // ---- VCs --------------------------------------------------------------------------------------

    /// ProtocolCoCreateVc (client-created VC).
    pub fn create_vc(&mut self, af: AfContext, handle: N::VcHandle) -> Result<VcContext, NdisStatus> {
        match self.afs.get(af.0) {
            None => return Err(NdisStatus::INVALID_PARAMETER),
            Some(a) if a.close_pending => return Err(NdisStatus::CLOSING),
            Some(_) => {}
        }
        let vc = self.vcs.insert(VcObj::new(af, Some(handle), false)).map_err(|_| NdisStatus::RESOURCES)?;
        self.af_child_born(af);
        Ok(VcContext(vc))
    }

    /// Frees a VC slot and everything indexed by it (timer, call reference, data path, AF count).
    pub(crate) fn remove_vc(&mut self, env: &impl Env<N>, vc: Token) {
        let Some(v) = self.vcs.remove(vc) else { return };
        self.link_counts.moved(v.link_class(), LinkClass::Unaffected);
        if let Some(c) = v.call {
            self.calls.remove(c);
        }
        self.timers.cancel(vc.index());
        if let Some(c) = v.cref() {
            self.crefs.remove(c, vc.index());
        }
        env.datapath_forget(vc.index());
        self.af_child_gone(v.af);
    }

    /// ProtocolCoDeleteVc: only for a client VC with no call; NOT_ACCEPTED otherwise (never
    /// PENDING).
    pub fn delete_vc(&mut self, env: &impl Env<N>, vc: VcContext) -> NdisStatus {
        let Some(v) = self.vcs.get(vc.0) else {
            return NdisStatus::INVALID_PARAMETER;
        };
        if v.ours || v.active || v.phase != Phase::Idle || v.ops != 0 || v.queued {
            return NdisStatus::NOT_ACCEPTED;
        }
        self.remove_vc(env, vc.0);
        NdisStatus::SUCCESS
    }

    // ---- outgoing calls ---------------------------------------------------------------------------

    pub(crate) fn check_params(env: &impl Env<N>, p: &CallParameters) -> Result<(), NdisStatus> {
        if p.media.aal_type != AalType::Aal5 {
            return Err(NdisStatus::AAL_PARAMS_UNSUPPORTED);
        }
        let line_cps = env.config().link_speed_bps / 424;
        for f in [&p.media.transmit, &p.media.receive] {
            if u64::from(f.pcr) > line_cps {
                return Err(NdisStatus::CELLRATE_NOT_AVAILABLE);
            }
            if f.max_sdu_size > 65_535 {
                return Err(NdisStatus::INCOMPATABLE_QOS);
            }
        }
        Ok(())
    }

    /// ProtocolCmMakeCall.
    pub fn make_call(
        &mut self,
        env: &impl Env<N>,
        vc: VcContext,
        params: &mut CallParameters,
        client: N::ClientParams,
        party: Option<N::PartyHandle>,
    ) -> (NdisStatus, Option<PartyContext>) {
        let Some(v) = self.vcs.get(vc.0) else {
            return (NdisStatus::INVALID_PARAMETER, None);
        };
        if self.halting {
            return (NdisStatus::CLOSING, None);
        }
        if v.ours || v.phase != Phase::Idle || v.ops != 0 || v.queued {
            return (NdisStatus::INVALID_STATE, None);
        }
        let Some(handle) = v.handle else {
            return (NdisStatus::INVALID_STATE, None);
        };
        if let Err(s) = Self::check_params(env, params) {
            return (s, None);
        }
        let multipoint = params.is_multipoint();
        if multipoint != party.is_some() {
            return (NdisStatus::INVALID_PARAMETER, None);
        }
        if params.is_permanent() {
            return self.make_pvc(env, vc, handle, params, client, party);
        }
        if params.called.is_none() {
            return (NdisStatus::INVALID_ADDRESS, None);
        }
        // Our RESTART is outstanding or left the VCs out of service: no SETUP (Q.2931 §5.5.1).
        if self.calls_barred() {
            self.stats.restart_refused += 1;
            return (NdisStatus::VC_NOT_AVAILABLE, None);
        }
        // The call's state comes from the pool; none left: refused before anything is sent.
        let Some(call) = self.take_call(*params) else {
            return (NdisStatus::RESOURCES, None);
        };
        let party_ctx = match party {
            Some(ph) => {
                let obj = PartyObj::new(ph, vc, 0, PartyPhase::Initial, None, *params);
                match self.insert_party(obj) {
                    Some(t) => Some(PartyContext(t)),
                    None => {
                        self.calls.remove(call);
                        return (NdisStatus::RESOURCES, None);
                    }
                }
            }
            None => None,
        };
        if let Some(c) = self.calls.get_mut(call) {
            c.client = Some(client);
        }
        let cref = self.alloc_cref();
        if let Some(v) = self.vcs.get_mut(vc.0) {
            v.phase = Phase::MakePending;
            v.call = Some(call);
            v.multipoint = multipoint;
            v.parties = u16::from(multipoint);
            v.start_call(&mut self.link_counts, cref, UniState::CallInitiated);
            v.network_done = false;
            self.crefs.insert(cref, vc.0.index());
        }
        self.emit(env, &Out::Setup { cref, params, multipoint });
        self.start_timer(env, vc.0, TimerKind::T303);
        (NdisStatus::PENDING, party_ctx)
    }

    /// A permanent VC: no signalling; open the connection, activate, complete.
    pub(crate) fn make_pvc(
        &mut self,
        env: &impl Env<N>,
        vc: VcContext,
        handle: N::VcHandle,
        params: &mut CallParameters,
        client: N::ClientParams,
        party: Option<N::PartyHandle>,
    ) -> (NdisStatus, Option<PartyContext>) {
        if party.is_some() {
            return (NdisStatus::NOT_SUPPORTED, None);
        }
        let id = params.media.connection_id;
        if id.vpi == 0 && id.vci < 32 {
            return (NdisStatus::INVALID_DATA, None);
        }
        let Some(call) = self.take_call(*params) else {
            return (NdisStatus::RESOURCES, None);
        };
        let conn = match env.open_connection(&conn_params(params)) {
            Ok(c) => c,
            Err(s) => {
                self.calls.remove(call);
                return (s, None);
            }
        };
        if let Some(c) = self.calls.get_mut(call) {
            c.client = Some(client);
        }
        env.datapath_open(vc.0.index(), vc.0.generation(), handle, conn);
        if let Some(v) = self.vcs.get_mut(vc.0) {
            v.phase = Phase::MakePending;
            v.call = Some(call);
            v.conn = Some(conn);
            v.data = DataState::Open;
            v.network_done = true;
        }
        self.vc_op(vc.0, vc_op::ACTIVATE_VC);
        (NdisStatus::PENDING, None)
    }

    // ---- closing ----------------------------------------------------------------------------------

    pub(crate) fn check_close_data(env: &impl Env<N>, data: CloseData<'_>) -> Result<UuBuf, NdisStatus> {
        match (env.config().variant, data) {
            // Nothing to carry: fine in every variant.
            (_, CloseData::None) => Ok(UuBuf::EMPTY),
            // UNI 3.1's RELEASE has no user-user IE: the medium cannot send close data.
            (SignallingVariant::Uni31, _) => Err(NdisStatus::INVALID_DATA),
            // UNI 4.0 carries up to 128 octets in the user-user IE; more never gets truncated.
            (SignallingVariant::Uni40, CloseData::Oversized(_)) => Err(NdisStatus::INVALID_LENGTH),
            (SignallingVariant::Uni40, CloseData::Bytes(b)) => UuBuf::new(b).ok_or(NdisStatus::INVALID_LENGTH),
        }
    }

    /// ProtocolCmCloseCall.
    pub fn close_call(
        &mut self,
        env: &impl Env<N>,
        vc: VcContext,
        party: Option<PartyContext>,
        data: CloseData<'_>,
    ) -> CloseOutcome<N::VcHandle> {
        use CloseOutcome::Status;
        let Some(v) = self.vcs.get(vc.0) else {
            return Status(NdisStatus::INVALID_PARAMETER);
        };
        let phase = v.phase;
        let multipoint = v.multipoint;
        let parties = v.parties;
        // Party rules: NULL for point-to-point, the last remaining party for multipoint.
        match (multipoint, party) {
            (false, Some(_)) => return Status(NdisStatus::INVALID_PARAMETER),
            (true, None) => return Status(NdisStatus::INVALID_PARAMETER),
            (true, Some(p)) => {
                match self.parties.get(p.0) {
                    Some(obj) if obj.vc == vc => {}
                    _ => return Status(NdisStatus::INVALID_PARAMETER),
                }
                if parties > 1 {
                    return Status(NdisStatus::FAILURE);
                }
            }
            (false, None) => {}
        }
        let uu = match Self::check_close_data(env, data) {
            Ok(uu) => uu,
            Err(s) => return Status(s),
        };
        match phase {
            // C1: the SETUP is outstanding. MakeCall completes with REQUEST_ABORTED, the network
            // gets a RELEASE, and the close pends until the release is confirmed.
            Phase::MakePending => {
                let pvc = self.vcs.get(vc.0).is_some_and(|v| v.cref().is_none());
                if let Some(v) = self.vcs.get_mut(vc.0) {
                    v.make_status = NdisStatus::REQUEST_ABORTED;
                    v.phase = Phase::Closing;
                    v.close_pended = true;
                    v.ops &= !vc_op::ACTIVATE_VC;
                }
                if let Some(c) = self.call_mut(vc.0) {
                    c.close_party = party;
                }
                self.vc_op(vc.0, vc_op::MAKE_CALL_COMPLETE);
                if !pvc {
                    self.release_towards_network(env, vc.0, cause::NORMAL_CALL_CLEARING, uu);
                }
                self.start_teardown(env, vc.0);
                self.advance_close(env, vc.0);
                Status(NdisStatus::PENDING)
            }
            // C3/C4 (local close) and C5 (the client answering our incoming close): the close
            // proper.
            Phase::Accepted | Phase::Connected | Phase::RemoteClosing => {
                let remote = phase == Phase::RemoteClosing;
                if let Some(c) = self.call_mut(vc.0) {
                    c.close_party = party;
                }
                if let Some(v) = self.vcs.get_mut(vc.0) {
                    v.phase = Phase::Closing;
                    // The client closed before our incoming-close dispatch was made: it is moot.
                    if v.ops & vc_op::DISPATCH_INCOMING_CLOSE != 0 {
                        v.ops &= !vc_op::DISPATCH_INCOMING_CLOSE;
                    }
                }
                if !remote {
                    self.release_towards_network(env, vc.0, cause::NORMAL_CALL_CLEARING, uu);
                }
                self.start_teardown(env, vc.0);
                // The data path drained before this close (a remote release), but a sender may
                // have come in since to reject an NBL — legal until NdisClCloseCall: the close
                // waits for it, as for any sender, before deactivating.
                if self.vcs.get(vc.0).is_some_and(|v| v.data == DataState::Drained)
                    && env.datapath_redrain(vc.0.index())
                    && let Some(v) = self.vcs.get_mut(vc.0)
                {
                    v.data = DataState::Draining;
                }
                // Synchronous completion: nothing outstanding on the network or the data path,
                // no NDIS call owed first, and a client VC (an MCM VC must be deleted after the
                // completion, so it always completes through NdisMCmCloseCallComplete).
                let sync = self.vcs.get(vc.0).and_then(|v| {
                    let quiet = v.network_done
                        && matches!(v.data, DataState::None | DataState::Drained)
                        && v.ops == 0
                        && !v.queued
                        && !v.ours;
                    quiet.then_some((v.active, v.handle))
                });
                match sync {
                    Some((active, handle)) => {
                        self.finish_client_close(vc.0);
                        match (active, handle) {
                            (true, Some(h)) => CloseOutcome::DeactivateThenSuccess(h),
                            _ => Status(NdisStatus::SUCCESS),
                        }
                    }
                    None => {
                        if let Some(v) = self.vcs.get_mut(vc.0) {
                            v.close_pended = true;
                        }
                        self.advance_close(env, vc.0);
                        Status(NdisStatus::PENDING)
                    }
                }
            }
            // A second close while one is in progress.
            Phase::Closing => Status(NdisStatus::CLOSING),
            // No call to close.
            Phase::Idle => Status(NdisStatus::INVALID_STATE),
            // The client has not been given this call (or is still deciding on it).
            Phase::Offering | Phase::OfferPending | Phase::Rejecting => Status(NdisStatus::INVALID_STATE),
        }
    }

    // ---- incoming calls ---------------------------------------------------------------------------

    /// ProtocolCmIncomingCallComplete.
    pub fn incoming_call_complete(
        &mut self,
        env: &impl Env<N>,
        status: NdisStatus,
        vc: VcContext,
        params: &CallParameters,
    ) {
        let Some(v) = self.vcs.get(vc.0) else {
            self.stats.internal_errors += 1;
            return;
        };
        if v.phase != Phase::OfferPending {
            self.stats.internal_errors += 1;
            return;
        }
        let network_gone = v.network_done;
        match (status == NdisStatus::SUCCESS, network_gone) {
            // The caller hung up while the client was deciding and the client accepted: the call
            // exists for NDIS now, so it ends with an incoming close (the client's close then
            // deactivates; the VC is deleted after), never a bare delete.
            (true, true) => self.remote_close(env, vc.0, NdisStatus::SUCCESS, UuBuf::EMPTY, false),
            // ... and the client refused: refuse now (row 8).
            (false, true) => self.reject_incoming(env, vc.0, None),
            // Accepted: check what the client proposes, then CONNECT.
            (true, false) => match Self::check_accept(env, self.call(vc.0).map(|c| &c.params), params) {
                Ok(()) => self.accept_incoming(env, vc.0),
                Err(st) => {
                    // Unsupportable parameters: refuse the call on the network and tell the client
                    // with NdisMCmDispatchIncomingCloseCall(error).
                    if let Some(cref) = self.vcs.get(vc.0).and_then(|v| v.cref()) {
                        self.emit(env, &Out::ReleaseComplete { cref, cause: Some(cause::QOS_UNAVAILABLE) });
                    }
                    self.remote_close(env, vc.0, st, UuBuf::EMPTY, false);
                }
            },
            // Refused by the client.
            (false, false) => self.reject_incoming(env, vc.0, Some(cause::CALL_REJECTED)),
        }
    }

    pub(crate) fn check_accept(
        env: &impl Env<N>,
        offered: Option<&CallParameters>,
        p: &CallParameters,
    ) -> Result<(), NdisStatus> {
        Self::check_params(env, p)?;
        let Some(o) = offered else { return Err(NdisStatus::FAILURE) };
        if p.media.connection_id != o.media.connection_id {
            return Err(NdisStatus::VC_NOT_AVAILABLE);
        }
        if p.media.transmit.pcr > o.media.transmit.pcr && o.media.transmit.pcr != 0 {
            return Err(NdisStatus::CELLRATE_NOT_AVAILABLE);
        }
        Ok(())
    }

    pub(crate) fn accept_incoming(&mut self, env: &impl Env<N>, vc: Token) {
        let Some(cref) = self.vcs.get(vc).and_then(|v| v.cref()) else { return };
        if let Some(v) = self.vcs.get_mut(vc) {
            v.phase = Phase::Accepted;
            v.set_uni(&mut self.link_counts, UniState::ConnectRequest);
        }
        self.emit(env, &Out::Connect { cref });
        self.start_timer(env, vc, TimerKind::T313);
    }

    /// Refuses an incoming call: RELEASE COMPLETE (when `c` is given and the network still has
    /// it), then the VC goes (deactivate, delete).
    pub(crate) fn reject_incoming(&mut self, env: &impl Env<N>, vc: Token, c: Option<u8>) {
        let Some(v) = self.vcs.get(vc) else { return };
        let cref = v.cref();
        let still_up = !v.network_done;
        if let (Some(cref), Some(c), true) = (cref, c, still_up && self.saal_up) {
            self.emit(env, &Out::ReleaseComplete { cref, cause: Some(c) });
        }
        if let Some(v) = self.vcs.get_mut(vc) {
            v.phase = Phase::Rejecting;
            v.set_uni(&mut self.link_counts, UniState::Null);
            v.network_done = true;
            v.timer = None;
            self.timers.cancel(vc.index());
        }
        self.start_teardown(env, vc);
        self.advance_close(env, vc);
    }
}
