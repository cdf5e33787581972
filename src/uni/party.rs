//! Q.2971 point-to-multipoint party control (ADD PARTY, DROP PARTY, party states and
//! timers) behind NdisClAddParty / NdisClDropParty.

use core::time::Duration;

use crate::cm::control::Control;
use crate::cm::control::Env;
use crate::cm::control::ORPHANS;
use crate::cm::objects::NO_PARTY;
use crate::cm::objects::PartyObj;
use crate::cm::objects::PartyPhase;
use crate::cm::objects::Phase;
use crate::cm::objects::UuBuf;
use crate::cm::ops::party_op;
use crate::ndis::CallParameters;
use crate::ndis::CloseData;
use crate::ndis::Ndis;
use crate::ndis::NdisStatus;
use crate::ndis::PartyContext;
use crate::ndis::Token;
use crate::ndis::VcContext;
use crate::uni::call::status_for_cause;
use crate::uni::msg::In;
use crate::uni::msg::InKind;
use crate::uni::msg::Out;
use crate::uni::msg::cause;
use crate::uni::state::CallRef;
use crate::uni::state::UniState;

impl<N: Ndis> Control<N> {
    pub(crate) fn party_timer_id(&self, p: Token) -> usize {
        self.vcs.capacity() + ORPHANS + p.index()
    }

    /// Sets (or clears) a party's T398/T399 deadline.
    pub(crate) fn set_party_timer(&mut self, p: Token, due: Option<Duration>) {
        let id = self.party_timer_id(p);
        let Some(obj) = self.parties.get_mut(p) else { return };
        obj.timer_due = due;
        match due {
            Some(d) => self.timers.set(id, d),
            None => {
                self.timers.cancel(id);
                true
            }
        };
    }

    // ---- parties ----------------------------------------------------------------------------------

    /// ProtocolCmAddParty.
    pub fn add_party(
        &mut self,
        env: &impl Env<N>,
        vc: VcContext,
        params: &CallParameters,
        client: N::ClientParams,
        handle: N::PartyHandle,
    ) -> Result<(NdisStatus, PartyContext), NdisStatus> {
        let Some(v) = self.vcs.get(vc.0) else {
            return Err(NdisStatus::INVALID_PARAMETER);
        };
        if !v.multipoint {
            return Err(NdisStatus::NOT_SUPPORTED);
        }
        if v.phase != Phase::Connected {
            return Err(NdisStatus::INVALID_STATE);
        }
        if params.called.is_none() {
            return Err(NdisStatus::INVALID_ADDRESS);
        }
        let Some(cref) = v.cref() else { return Err(NdisStatus::INVALID_STATE) };
        let endpoint = self.next_endpoint;
        self.next_endpoint = if self.next_endpoint >= 0x7fff { 1 } else { self.next_endpoint + 1 };
        let obj = PartyObj::new(handle, vc, endpoint, PartyPhase::Adding, Some(client), *params);
        let p = self.insert_party(obj).ok_or(NdisStatus::RESOURCES)?;
        self.set_party_timer(p, Some(env.now().saturating_add(env.config().timers.t399)));
        if let Some(v) = self.vcs.get_mut(vc.0) {
            v.parties = v.parties.saturating_add(1);
        }
        self.emit(env, &Out::AddParty { cref, endpoint, params });
        Ok((NdisStatus::PENDING, PartyContext(p)))
    }

    /// ProtocolCmDropParty: the last party never drops (it leaves through NdisClCloseCall).
    pub fn drop_party(&mut self, env: &impl Env<N>, party: PartyContext, data: CloseData<'_>) -> NdisStatus {
        let Some(p) = self.parties.get(party.0) else {
            return NdisStatus::INVALID_PARAMETER;
        };
        let vc = p.vc;
        let phase = p.phase;
        let endpoint = p.endpoint;
        let (parties, cref, vphase) = match self.vcs.get(vc.0) {
            Some(v) => (v.parties, v.cref(), v.phase),
            None => return NdisStatus::INVALID_PARAMETER,
        };
        if parties <= 1 {
            return NdisStatus::FAILURE;
        }
        let uu = match Self::check_close_data(env, data) {
            Ok(uu) => uu,
            Err(s) => return s,
        };
        let network_gone = matches!(vphase, Phase::RemoteClosing | Phase::Closing) || !self.saal_up;
        match (phase, network_gone) {
            // Already gone on the network (remote drop, or the whole call was released): the
            // drop completes now and the party is freed.
            (PartyPhase::RemoteDropped, _) | (_, true) => {
                self.remove_party(party.0);
                if let Some(v) = self.vcs.get_mut(vc.0) {
                    v.parties = v.parties.saturating_sub(1);
                }
                NdisStatus::SUCCESS
            }
            // DROP PARTY to the network; the drop pends until DROP PARTY ACKNOWLEDGE.
            (PartyPhase::Active | PartyPhase::Initial, false) => {
                let Some(cref) = cref else { return NdisStatus::INVALID_STATE };
                if let Some(p) = self.parties.get_mut(party.0) {
                    p.phase = PartyPhase::Dropping;
                    p.drop_data = uu;
                }
                self.set_party_timer(party.0, Some(env.now().saturating_add(env.config().timers.t398)));
                self.emit(env, &Out::DropParty { cref, endpoint, cause: cause::NORMAL_CALL_CLEARING });
                NdisStatus::PENDING
            }
            // Still being added, or already dropping.
            (PartyPhase::Adding | PartyPhase::Dropping, false) => NdisStatus::INVALID_STATE,
        }
    }

    pub(crate) fn party_by_endpoint(&self, vc: VcContext, endpoint: u16) -> Option<Token> {
        self.first_party_where(vc, |p| p.endpoint == endpoint)
    }

    /// The first party on `vc`'s list matching `f`: costs the parties of that one call.
    pub fn first_party_where(&self, vc: VcContext, mut f: impl FnMut(&PartyObj<N>) -> bool) -> Option<Token> {
        let mut at = self.vcs.get(vc.0)?.first_party;
        // Bounded by the table size even if a list were ever corrupted.
        for _ in 0..self.parties.capacity() {
            let t = self.parties.token_at(usize::from(at))?;
            let p = self.parties.get(t)?;
            if p.vc == vc && f(p) {
                return Some(t);
            }
            at = p.next;
        }
        None
    }

    /// Stores a party and links it at the head of its VC's list.
    pub(crate) fn insert_party(&mut self, mut obj: PartyObj<N>) -> Option<Token> {
        let vc = obj.vc;
        obj.prev = NO_PARTY;
        obj.next = self.vcs.get(vc.0).map_or(NO_PARTY, |v| v.first_party);
        let next = obj.next;
        let t = self.parties.insert(obj).ok()?;
        let idx = t.index() as u16;
        if let Some(n) = self.parties.token_at(usize::from(next)).and_then(|n| self.parties.get_mut(n)) {
            n.prev = idx;
        }
        if let Some(v) = self.vcs.get_mut(vc.0) {
            v.first_party = idx;
        }
        Some(t)
    }

    /// Unlinks a party from its VC's list and frees it (and its timer).
    pub(crate) fn remove_party(&mut self, p: Token) {
        let id = self.party_timer_id(p);
        let Some(obj) = self.parties.remove(p) else { return };
        self.timers.cancel(id);
        if let Some(n) = self.parties.token_at(usize::from(obj.next)).and_then(|n| self.parties.get_mut(n)) {
            n.prev = obj.prev;
        }
        match self.parties.token_at(usize::from(obj.prev)).and_then(|n| self.parties.get_mut(n)) {
            Some(prev) => prev.next = obj.next,
            None => {
                if let Some(v) = self.vcs.get_mut(obj.vc.0)
                    && v.first_party == p.index() as u16
                {
                    v.first_party = obj.next;
                }
            }
        }
    }

    pub(crate) fn party_done(&mut self, p: Token, status: NdisStatus, op: u16, free: bool) {
        self.set_party_timer(p, None);
        let vc = match self.parties.get_mut(p) {
            Some(obj) => {
                obj.op_status = status;
                obj.free_after_ops |= free;
                obj.vc
            }
            None => return,
        };
        if free && let Some(v) = self.vcs.get_mut(vc.0) {
            v.parties = v.parties.saturating_sub(1);
        }
        self.party_op(p, op);
    }

    pub(crate) fn on_party_message(&mut self, env: &impl Env<N>, vc: Token, cref: CallRef, m: &In<'_>, uu: UuBuf) {
        let Some(ep) = m.endpoint else {
            self.emit(
                env,
                &Out::Status {
                    cref,
                    state: UniState::Active.code(),
                    cause: cause::MANDATORY_IE_MISSING,
                    endpoint: None,
                },
            );
            return;
        };
        let party = self.party_by_endpoint(VcContext(vc), ep);
        let phase = party.and_then(|p| self.parties.get(p)).map(|p| p.phase);
        match (m.kind, party, phase) {
            // ADD PARTY ACKNOWLEDGE: the leaf joined.
            (InKind::AddPartyAck, Some(p), Some(PartyPhase::Adding)) => {
                if let Some(obj) = self.parties.get_mut(p) {
                    obj.phase = PartyPhase::Active;
                }
                self.party_done(p, NdisStatus::SUCCESS, party_op::ADD_PARTY_COMPLETE, false);
            }
            // PARTY ALERTING: informational.
            (InKind::PartyAlerting, Some(_), _) => {}
            // ADD PARTY REJECT: the add fails and the party is freed.
            (InKind::AddPartyReject, Some(p), Some(PartyPhase::Adding)) => {
                self.party_done(p, status_for_cause(m.cause), party_op::ADD_PARTY_COMPLETE, true);
            }
            // DROP PARTY ACKNOWLEDGE for our drop: it completes and the party is freed.
            (InKind::DropPartyAck, Some(p), Some(PartyPhase::Dropping)) => {
                self.party_done(p, NdisStatus::SUCCESS, party_op::DROP_PARTY_COMPLETE, true);
            }
            // DROP PARTY for the last party is the end of the call: an incoming close.
            (InKind::DropParty, Some(_), _) if self.vcs.get(vc).is_some_and(|v| v.parties <= 1) => {
                self.emit(env, &Out::DropPartyAck { cref, endpoint: ep, cause: cause::NORMAL_CALL_CLEARING });
                self.remote_close(env, vc, NdisStatus::SUCCESS, uu, false);
            }
            // DROP PARTY for an active leaf: acknowledge, tell the client.
            (InKind::DropParty, Some(p), Some(PartyPhase::Active | PartyPhase::Initial)) => {
                self.emit(env, &Out::DropPartyAck { cref, endpoint: ep, cause: cause::NORMAL_CALL_CLEARING });
                if let Some(obj) = self.parties.get_mut(p) {
                    obj.phase = PartyPhase::RemoteDropped;
                    obj.drop_data = uu;
                }
                self.party_done(p, NdisStatus::SUCCESS, party_op::DISPATCH_INCOMING_DROP, false);
            }
            // DROP PARTY crossing our own DROP PARTY: our drop completes.
            (InKind::DropParty, Some(p), Some(PartyPhase::Dropping)) => {
                self.emit(env, &Out::DropPartyAck { cref, endpoint: ep, cause: cause::NORMAL_CALL_CLEARING });
                self.party_done(p, NdisStatus::SUCCESS, party_op::DROP_PARTY_COMPLETE, true);
            }
            // Unknown endpoint: DROP PARTY ACKNOWLEDGE #89 (Q.2971 §9.5.3).
            (InKind::DropParty, None, _) => {
                self.emit(env, &Out::DropPartyAck { cref, endpoint: ep, cause: cause::INVALID_ENDPOINT_REFERENCE });
            }
            // Anything else about parties is out of place: ignored.
            _ => {}
        }
    }

    /// T399 / T398 for a party.
    pub(crate) fn on_party_timer(&mut self, p: Token, now: Duration) {
        let Some(obj) = self.parties.get(p) else { return };
        let Some(due) = obj.timer_due else { return };
        if due > now {
            self.set_party_timer(p, Some(due));
            return;
        }
        match obj.phase {
            // T399: no answer to ADD PARTY.
            PartyPhase::Adding => self.party_done(p, NdisStatus::FAILURE, party_op::ADD_PARTY_COMPLETE, true),
            // T398: no DROP PARTY ACKNOWLEDGE; the party is gone all the same.
            PartyPhase::Dropping => self.party_done(p, NdisStatus::SUCCESS, party_op::DROP_PARTY_COMPLETE, true),
            _ => self.set_party_timer(p, None),
        }
    }
}
