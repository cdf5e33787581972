//! The driver's calls into NDIS ([`Call`]): the rules judged when the driver calls, and when
//! the call returns (CMP-*, VC-*, DATA-* at completions and indications, HDL-*, IRQL-*).

use atmmcm::NdisStatus;

use super::super::handles::{Nbl, PartyHandle, VcHandle};
use super::super::irql::Irql;
use super::{Call, Creator, Cx, Phase, Req, VVc, Verifier, rule, status_name};

impl Verifier {
    /// A call from the driver into NDIS, checked before NDIS acts on it.
    pub fn call(&mut self, c: &Call, cx: &Cx) {
        self.now = cx.time;
        let vc = c.vc();
        let party = c.party();
        self.note(vc, c.name());

        if self.halted {
            self.fire(rule::HALT_QUIET, format!("{} after MiniportHaltEx returned", c.name()), vc, party);
            return;
        }
        match c {
            Call::RegisterAf | Call::NotifyCloseAf { .. } => {
                if cx.irql != Irql::Passive || cx.deferred {
                    self.fire(
                        rule::IRQL_PASSIVE,
                        format!(
                            "{} at {:?}{}",
                            c.name(),
                            cx.irql,
                            if cx.deferred { " from a DPC/timer/data path" } else { "" }
                        ),
                        vc,
                        party,
                    );
                }
            }
            _ => {
                if cx.irql > Irql::Dispatch {
                    self.fire(rule::IRQL_DISPATCH, format!("{} at {:?}", c.name(), cx.irql), vc, party);
                }
            }
        }

        match *c {
            Call::RegisterAf => {}
            // An AF open completion: only after ProtocolCmOpenAf returned PENDING.
            Call::OpenAfComplete { status, af } => {
                if self.af_dead(af) {
                    return self.fire_af(rule::HDL_DEAD, format!("{} on a dead {af}", c.name()), af);
                }
                if self.pend_complete(Req::OpenAf(af), &c.name(), None, None)
                    && let Some(a) = self.afs.get_mut(&af)
                {
                    a.open = status == NdisStatus::SUCCESS;
                    a.dead = status != NdisStatus::SUCCESS;
                }
            }
            Call::CloseAfComplete { status, af } => {
                if self.af_dead(af) {
                    return self.fire_af(rule::HDL_DEAD, format!("{} on a dead {af}", c.name()), af);
                }
                if self.pend_complete(Req::CloseAf(af), &c.name(), None, None)
                    && status == NdisStatus::SUCCESS
                    && let Some(a) = self.afs.get_mut(&af)
                {
                    a.open = false;
                    a.dead = true;
                }
            }
            Call::NotifyCloseAf { af } => {
                if self.af_dead(af) {
                    return self.fire_af(rule::HDL_DEAD, format!("{} on a dead {af}", c.name()), af);
                }
                if self.pending.get(&Req::NotifyCloseAf(af)).is_some_and(|p| p.ret.is_none() || p.outstanding()) {
                    self.fire_af(rule::CMP_ONCE, "NdisMCmNotifyCloseAddressFamily while one is outstanding", af);
                }
                self.pend_start(Req::NotifyCloseAf(af));
                if self.in_halt {
                    self.notified_in_halt = true;
                }
            }
            Call::RegisterSapComplete { status, sap } => {
                if self.sap_dead(sap) {
                    return self.fire_sap(rule::HDL_DEAD, format!("{} on a dead {sap}", c.name()), sap);
                }
                if self.pend_complete(Req::RegisterSap(sap), &c.name(), None, None)
                    && let Some(s) = self.saps.get_mut(&sap)
                {
                    s.registered = status == NdisStatus::SUCCESS;
                    s.dead = status != NdisStatus::SUCCESS;
                }
            }
            Call::DeregisterSapComplete { status, sap } => {
                if self.sap_dead(sap) {
                    return self.fire_sap(rule::HDL_DEAD, format!("{} on a dead {sap}", c.name()), sap);
                }
                if self.pend_complete(Req::DeregisterSap(sap), &c.name(), None, None)
                    && status == NdisStatus::SUCCESS
                    && let Some(s) = self.saps.get_mut(&sap)
                {
                    s.dead = true;
                }
            }
            Call::CreateVc { af, vc } => {
                if self.af_dead(af) {
                    return self.fire_af(rule::HDL_DEAD, format!("NdisMCmCreateVc on a dead {af}"), af);
                }
                let mut v = VVc::new(Creator::Driver);
                v.recent.push_back(c.name());
                self.vcs.insert(vc, v);
            }
            Call::DeleteVc { vc } => {
                if self.check_vc(vc, "NdisMCmDeleteVc") {
                    return;
                }
                let Some(v) = self.vcs.get(&vc) else { return };
                if v.creator != Creator::Driver {
                    return self.fire(
                        rule::VC_DELETE_CREATOR,
                        "NdisMCmDeleteVc on a VC the client created (the client deletes it)",
                        Some(vc),
                        None,
                    );
                }
                if v.active || matches!(v.phase, Phase::Setup | Phase::Connected | Phase::Closing) {
                    let why = format!(
                        "NdisMCmDeleteVc on a VC that is {} with call phase {:?}",
                        if v.active { "active" } else { "inactive" },
                        v.phase
                    );
                    self.fire(rule::VC_DELETE_INACTIVE, why, Some(vc), None)
                }
                self.quiet_at_delete(vc, "NdisMCmDeleteVc");
                // Marked deleted when the call returns (see call_returned).
            }
            Call::ActivateVc { vc } => {
                if self.check_vc(vc, "NdisMCmActivateVc") {
                    return;
                }
                let Some(v) = self.vcs.get(&vc) else { return };
                // A close during make entered on another thread while the MakeCall is still
                // outstanding: the driver may have decided the activation before the close reached
                // it (see the module doc).
                let overtaken = v.phase == Phase::Closing
                    && v.close.as_ref().is_some_and(|c| c.prev_phase == Phase::Setup && c.cpu != cx.cpu)
                    && self.pending.get(&Req::MakeCall(vc)).is_some_and(|p| p.completions == 0);
                let ok = v.phase == Phase::Setup
                    || overtaken
                    || (v.modifying && v.phase == Phase::Connected)
                    || (v.phase == Phase::Idle && v.creator == Creator::Driver);
                if !ok {
                    let why = format!("NdisMCmActivateVc with call phase {:?} (not being set up or modified)", v.phase);
                    self.fire(rule::VC_ACTIVATE_OPEN, why, Some(vc), None);
                }
                if let Some(v) = self.vcs.get_mut(&vc) {
                    v.active = true;
                }
            }
            Call::DeactivateVc { vc } => {
                if self.check_vc(vc, "NdisMCmDeactivateVc") {
                    return;
                }
                if !self.vcs.get(&vc).is_some_and(|v| v.active) {
                    return self.fire(rule::VC_DEACT_ONCE, "NdisMCmDeactivateVc on an inactive VC", Some(vc), None);
                }
                // Sends that began before the close started: none may still be outstanding —
                // accepted or rejected (a sender inside the driver still holding its NBL).
                let sends = self.sends.values().filter(|s| s.vc == vc && s.started && !s.late).count();
                let inside = self.running.values().filter(|r| r.vc == vc && r.started && !r.late).count();
                let held = self.held_rx.values().filter(|&&h| h == vc).count();
                if sends > 0 || held > 0 {
                    self.fire(
                        rule::DATA_DRAINED_AT_DEACT,
                        format!(
                            "NdisMCmDeactivateVc with {sends} send NBL(s) outstanding ({inside} send call(s) still \
                             inside the driver) and {held} indicated NBL(s) not returned"
                        ),
                        Some(vc),
                        None,
                    );
                }
                if let Some(v) = self.vcs.get_mut(&vc) {
                    v.active = false;
                }
            }
            Call::MakeCallComplete { status, vc, party } => {
                if self.check_vc(vc, "NdisMCmMakeCallComplete") {
                    return;
                }
                if !self.pend_complete(Req::MakeCall(vc), &c.name(), Some(vc), party) {
                    return;
                }
                self.make_call_outcome(vc, party, status, &c.name());
            }
            Call::DispatchIncomingCall { sap, vc } => {
                if self.sap_dead(sap) {
                    return self.fire_sap(rule::HDL_DEAD, format!("NdisMCmDispatchIncomingCall on a dead {sap}"), sap);
                }
                if self.check_vc(vc, "NdisMCmDispatchIncomingCall") {
                    return;
                }
                if let Some(v) = self.vcs.get_mut(&vc) {
                    v.start_new_call();
                    v.phase = Phase::Setup;
                }
                self.pending.remove(&Req::CloseCall(vc));
            }
            Call::DispatchCallConnected { vc } => {
                if self.check_vc(vc, "NdisMCmDispatchCallConnected") {
                    return;
                }
                let Some(v) = self.vcs.get_mut(&vc) else { return };
                if !v.connect_expected {
                    return self.fire(
                        rule::CMP_ONCE,
                        "NdisMCmDispatchCallConnected without an accepted incoming call waiting for it",
                        Some(vc),
                        None,
                    );
                }
                v.connect_expected = false;
                v.phase = Phase::Connected;
            }
            Call::CloseCallComplete { status, vc, party } => self.close_call_complete(status, vc, party, &c.name()),
            Call::DispatchIncomingCloseCall { vc, .. } => {
                if self.check_vc(vc, "NdisMCmDispatchIncomingCloseCall") {
                    return;
                }
                let Some(v) = self.vcs.get(&vc) else { return };
                let close_started = v.close.is_some() && v.close_ret(&self.pending, vc).is_none_or(|s| !s.is_error());
                if v.incoming_close {
                    self.fire(
                        rule::HDL_DISPATCH_ONCE,
                        "second NdisMCmDispatchIncomingCloseCall for this call",
                        Some(vc),
                        None,
                    );
                } else if close_started {
                    self.fire(
                        rule::HDL_DISPATCH_ONCE,
                        "NdisMCmDispatchIncomingCloseCall after the close started (ProtocolCmCloseCall)",
                        Some(vc),
                        None,
                    );
                }
                if let Some(v) = self.vcs.get_mut(&vc) {
                    v.incoming_close = true;
                    v.connect_expected = false;
                }
            }
            Call::AddPartyComplete { status, party } => {
                if self.check_party_exists(party, &c.name()) {
                    return;
                }
                let vc = self.parties.get(&party).map(|p| p.vc);
                if self.pend_complete(Req::AddParty(party), &c.name(), vc, Some(party))
                    && let Some(p) = self.parties.get_mut(&party)
                {
                    p.added = status == NdisStatus::SUCCESS;
                    p.dead = status != NdisStatus::SUCCESS;
                }
            }
            Call::DropPartyComplete { status, party } => {
                if self.check_party(party, &c.name()) {
                    return;
                }
                let vc = self.parties.get(&party).map(|p| p.vc);
                if self.pend_complete(Req::DropParty(party), &c.name(), vc, Some(party))
                    && status == NdisStatus::SUCCESS
                    && let Some(p) = self.parties.get_mut(&party)
                {
                    p.dead = true;
                }
            }
            Call::DispatchIncomingDropParty { party, .. } => {
                if self.check_party(party, &c.name()) {
                    return;
                }
                let vc = self.parties.get(&party).map(|p| p.vc);
                if let Some(vc) = vc
                    && self.live_parties(vc) <= 1
                {
                    self.fire(
                        rule::HDL_DROP_DISPATCH,
                        "NdisMCmDispatchIncomingDropParty for the last party (use NdisMCmDispatchIncomingCloseCall)",
                        Some(vc),
                        Some(party),
                    );
                }
            }
            Call::ModifyQosComplete { vc, .. } => {
                if self.check_vc(vc, "NdisMCmModifyCallQoSComplete") {
                    return;
                }
                if self.pend_complete(Req::ModifyQos(vc), &c.name(), Some(vc), None)
                    && let Some(v) = self.vcs.get_mut(&vc)
                {
                    v.modifying = false;
                }
            }
            Call::SendComplete { vc, ref nbls } => {
                if self.check_vc(vc, "NdisMCoSendNetBufferListsComplete") {
                    return;
                }
                for &(nbl, status) in nbls {
                    match self.sends.remove(&nbl) {
                        None => self.fire(
                            rule::DATA_SEND_ONCE,
                            format!("{nbl} completed but it is not outstanding (never sent, or already completed)"),
                            Some(vc),
                            None,
                        ),
                        Some(s) if s.vc != vc => self.fire(
                            rule::DATA_SEND_ONCE,
                            format!("{nbl} was sent on {} but completed on {vc}", s.vc),
                            Some(vc),
                            None,
                        ),
                        Some(s) => {
                            let want_ok =
                                status == NdisStatus::CLOSING || (s.inactive && status == NdisStatus::VC_NOT_ACTIVATED);
                            if s.after_close && !want_ok {
                                self.fire(
                                    rule::DATA_CLOSING_STATUS,
                                    format!(
                                        "{nbl} was sent after the close started and completed with {} (want CLOSING)",
                                        status_name(status)
                                    ),
                                    Some(vc),
                                    None,
                                );
                            }
                            if s.started && !s.late && self.vcs.get(&vc).is_some_and(|v| v.deleting) {
                                self.fire(
                                    rule::DATA_NO_CMP_AFTER_DELETE,
                                    format!(
                                        "{nbl} (sent before the close started) completed after the VC's delete began"
                                    ),
                                    Some(vc),
                                    None,
                                );
                            }
                        }
                    }
                }
            }
            Call::IndicateReceive { vc, ref nbls, flags } => {
                if self.check_vc(vc, "NdisMCoIndicateReceiveNetBufferLists") {
                    return;
                }
                let Some(v) = self.vcs.get(&vc) else { return };
                if !v.active {
                    self.fire(rule::DATA_NO_IND_INACTIVE, "receive indication on an inactive VC", Some(vc), None);
                } else if v.close_started(&self.pending, vc, cx.cpu) {
                    self.fire(
                        rule::DATA_NO_IND_CLOSING,
                        "receive indication after the close of the VC started",
                        Some(vc),
                        None,
                    );
                }
                if flags & atmmcm::ndis::receive_flags::RESOURCES == 0 {
                    for &n in nbls {
                        self.held_rx.insert(n, vc);
                    }
                }
            }
            Call::IndicateStatus { vc, code, link } => {
                if let Some(h) = vc
                    && self.check_vc(h, "NdisMCoIndicateStatusEx")
                {
                    return;
                }
                if let Some(up) = link {
                    let ok = code == NdisStatus::LINK_STATE
                        || (code == NdisStatus::MEDIA_CONNECT && up)
                        || (code == NdisStatus::MEDIA_DISCONNECT && !up);
                    if !ok {
                        self.fire(
                            rule::STS_LINK,
                            format!(
                                "link change indicated with {} (want LINK_STATE, or MEDIA_CONNECT/DISCONNECT)",
                                status_name(code)
                            ),
                            vc,
                            None,
                        );
                    }
                    self.link_indicated = Some(up);
                }
            }
        }
    }

    /// DATA-NO-CMP-AFTER-DELETE at the start of a VC's delete: nothing sent before the close
    /// started is still outstanding or inside MiniportCoSendNetBufferLists. (Sends the client
    /// began after the close broke "no send after NdisClCloseCall": the client's own delete waits
    /// for those; HDL-DEAD catches any completion after the delete returned.)
    fn quiet_at_delete(&mut self, vc: VcHandle, what: &str) {
        let sends = self.sends.values().filter(|s| s.vc == vc && s.started && !s.late).count();
        let inside = self.running.values().filter(|r| r.vc == vc && r.started && !r.late).count();
        if sends > 0 {
            self.fire(
                rule::DATA_NO_CMP_AFTER_DELETE,
                format!("{what} with {sends} send NBL(s) outstanding ({inside} send call(s) inside the driver)"),
                Some(vc),
                None,
            );
        }
        if let Some(v) = self.vcs.get_mut(&vc) {
            v.deleting = true;
        }
    }

    fn check_party_exists(&mut self, party: PartyHandle, what: &str) -> bool {
        if !self.parties.contains_key(&party) || self.parties.get(&party).is_some_and(|p| p.dead) {
            let vc = self.parties.get(&party).map(|p| p.vc);
            self.fire(
                rule::HDL_DEAD,
                format!("{what} names {party}, which is dead or was never issued"),
                vc,
                Some(party),
            );
            return true;
        }
        false
    }

    pub(super) fn make_call_outcome(
        &mut self,
        vc: VcHandle,
        party: Option<PartyHandle>,
        status: NdisStatus,
        what: &str,
    ) {
        let active = self.vcs.get(&vc).is_some_and(|v| v.active);
        if status == NdisStatus::SUCCESS && !active {
            self.fire(rule::CMP_MAKECALL, format!("{what}: SUCCESS before NdisMCmActivateVc"), Some(vc), party);
        }
        let ok = status == NdisStatus::SUCCESS;
        if let Some(v) = self.vcs.get_mut(&vc) {
            v.phase = if ok { Phase::Connected } else { Phase::Closed };
        }
        let party_of_call: Vec<PartyHandle> =
            self.parties.iter().filter(|(_, p)| p.vc == vc && !p.added && !p.dead).map(|(h, _)| *h).collect();
        for p in party_of_call {
            if let Some(p) = self.parties.get_mut(&p) {
                p.added = ok;
                p.dead = !ok;
            }
        }
    }

    fn close_call_complete(&mut self, status: NdisStatus, vc: VcHandle, party: Option<PartyHandle>, what: &str) {
        if self.check_vc(vc, what) {
            return;
        }
        if status == NdisStatus::PENDING {
            return self.fire(
                rule::CMP_CLOSE_NOTPENDING,
                "NdisMCmCloseCallComplete with NDIS_STATUS_PENDING",
                Some(vc),
                party,
            );
        }
        let Some(close) = self.vcs.get(&vc).and_then(|v| v.close.clone()) else {
            return self.fire(
                rule::CMP_CLOSE_INPROGRESS,
                "NdisMCmCloseCallComplete without ProtocolCmCloseCall on this call",
                Some(vc),
                party,
            );
        };
        if !self.pend_complete(Req::CloseCall(vc), what, Some(vc), party) {
            return;
        }
        let multipoint = self.vcs.get(&vc).is_some_and(|v| v.multipoint);
        let party_ok = if multipoint { party == close.party } else { party.is_none() };
        if !party_ok {
            let want = if multipoint { format!("{:?}", close.party) } else { "NULL (point-to-point)".to_string() };
            self.fire(rule::CMP_CLOSE_PARTY, format!("{what} with party {party:?}, want {want}"), Some(vc), party);
        }
        self.close_done(vc, status, close.party, what);
    }

    /// The close finished with `status` (completion or synchronous return).
    pub(super) fn close_done(&mut self, vc: VcHandle, status: NdisStatus, party: Option<PartyHandle>, what: &str) {
        if status != NdisStatus::SUCCESS {
            return;
        }
        if self.vcs.get(&vc).is_some_and(|v| v.active) {
            self.fire(
                rule::VC_DEACT_BEFORE_COMPLETE,
                format!("{what}: the VC is still active (NdisMCmDeactivateVc first)"),
                Some(vc),
                party,
            );
        }
        if let Some(v) = self.vcs.get_mut(&vc) {
            v.phase = Phase::Closed;
        }
        // The call is over: every party of it is gone.
        for p in self.parties.values_mut().filter(|p| p.vc == vc) {
            p.dead = true;
        }
    }

    /// A call into NDIS returned `ret` (only the calls whose result changes state).
    pub fn call_returned(&mut self, c: &Call, ret: NdisStatus) {
        match *c {
            Call::DeleteVc { vc } => {
                if let Some(v) = self.vcs.get_mut(&vc) {
                    v.deleted = ret == NdisStatus::SUCCESS;
                    v.deleting = false;
                }
            }
            Call::CreateVc { vc, .. } => {
                if ret != NdisStatus::SUCCESS
                    && let Some(v) = self.vcs.get_mut(&vc)
                {
                    v.deleted = true;
                }
            }
            Call::DispatchIncomingCall { vc, .. } => {
                if let Some(v) = self.vcs.get_mut(&vc) {
                    if ret == NdisStatus::SUCCESS {
                        v.connect_expected = true;
                    } else if ret != NdisStatus::PENDING {
                        v.phase = Phase::Closed;
                    }
                }
            }
            Call::NotifyCloseAf { af } => {
                if let Some(p) = self.pending.get_mut(&Req::NotifyCloseAf(af)) {
                    p.ret = Some(ret);
                    if ret != NdisStatus::PENDING {
                        p.completions = 1;
                    }
                }
            }
            _ => {}
        }
    }

    /// The send whose chain starts at `head` reached the driver: its first NDIS call from inside
    /// MiniportCoSendNetBufferLists. Whether it began before the close is judged again now — the
    /// driver has had its first look at the VC by then; a thread preempted between NDIS's
    /// dispatch and the driver's first instruction did not begin its send yet.
    pub fn send_progress(&mut self, head: Nbl) {
        let Some(r) = self.running.get(&head) else { return };
        let vc = r.vc;
        let late = self.vcs.get(&vc).is_some_and(|v| v.close_entered(&self.pending, vc));
        let nbls = r.nbls.clone();
        if let Some(r) = self.running.get_mut(&head) {
            r.late = late;
            r.started = true;
        }
        for n in nbls {
            if let Some(s) = self.sends.get_mut(&n) {
                s.late = late;
                s.started = true;
            }
        }
    }
}
