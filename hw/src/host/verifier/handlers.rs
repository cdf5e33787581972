//! NDIS's calls into the driver's handlers ([`Handler`]): the rules judged at entry and at
//! return (RET-*, the close and make-call requests pended, sends starting, HALT-QUIET).

use atmmcm::NdisStatus;

use super::{
    CloseInfo, Creator, Cx, Handler, Phase, Req, VAf, VParty, VRunning, VSap, VSend, VVc, Verifier, rule, status_name,
};

impl Verifier {
    /// NDIS enters a driver handler.
    pub fn handler_enter(&mut self, h: &Handler, cx: &Cx) {
        self.now = cx.time;
        let vc = h.vc();
        if let Handler::CoCreateVc { vc, .. } = *h {
            self.vcs.insert(vc, VVc::new(Creator::Client));
        }
        self.note(vc, h.name());
        match *h {
            Handler::Halt => {
                self.in_halt = true;
                self.notified_in_halt = false;
                self.af_open_at_halt = self.afs.values().any(|a| a.open && !a.dead);
            }
            Handler::OpenAf { af } => {
                self.afs.insert(af, VAf::default());
                self.pend_start(Req::OpenAf(af));
            }
            Handler::CloseAf { af } => self.pend_start(Req::CloseAf(af)),
            Handler::RegisterSap { sap, .. } => {
                self.saps.insert(sap, VSap::default());
                self.pend_start(Req::RegisterSap(sap));
            }
            Handler::DeregisterSap { sap } => self.pend_start(Req::DeregisterSap(sap)),
            Handler::MakeCall { vc, party, multipoint } => {
                if let Some(v) = self.vcs.get_mut(&vc) {
                    v.start_new_call();
                    v.phase = Phase::Setup;
                    v.multipoint = multipoint;
                }
                self.pending.remove(&Req::CloseCall(vc));
                if let Some(p) = party {
                    self.parties.insert(p, VParty { vc, added: false, dead: false, drop_was_last: false });
                }
                self.pend_start(Req::MakeCall(vc));
            }
            Handler::CloseCall { vc, party, .. } => {
                let outstanding = self.vcs.get(&vc).is_some_and(|v| v.close.is_some())
                    && self
                        .pending
                        .get(&Req::CloseCall(vc))
                        .is_some_and(|p| p.completions == 0 && p.ret.is_none_or(|r| r == NdisStatus::PENDING));
                if outstanding {
                    *self.dup_closes.entry(vc).or_default() += 1;
                    return;
                }
                if let Some(v) = self.vcs.get_mut(&vc) {
                    let prev_phase = v.phase;
                    v.close = Some(CloseInfo { party, cpu: cx.cpu, prev_phase });
                    v.phase = Phase::Closing;
                    v.connect_expected = false;
                }
                self.pend_start(Req::CloseCall(vc));
            }
            Handler::IncomingCallComplete { vc, status } => {
                if let Some(v) = self.vcs.get_mut(&vc) {
                    if status == NdisStatus::SUCCESS {
                        v.connect_expected = true;
                    } else {
                        v.phase = Phase::Closed;
                    }
                }
            }
            Handler::AddParty { vc, party } => {
                self.parties.insert(party, VParty { vc, added: false, dead: false, drop_was_last: false });
                self.pend_start(Req::AddParty(party));
            }
            Handler::DropParty { vc, party, .. } => {
                let last = self.live_parties(vc) <= 1;
                if let Some(p) = self.parties.get_mut(&party) {
                    p.drop_was_last = last;
                }
                self.pend_start(Req::DropParty(party));
            }
            Handler::ModifyQos { vc } => {
                if let Some(v) = self.vcs.get_mut(&vc) {
                    v.modifying = true;
                }
                self.pend_start(Req::ModifyQos(vc));
            }
            Handler::NotifyCloseAfComplete { af, .. } => {
                if let Some(p) = self.pending.get_mut(&Req::NotifyCloseAf(af)) {
                    p.completions = p.completions.saturating_add(1);
                }
            }
            Handler::Send { vc, ref nbls } => {
                let after_close = self.vcs.get(&vc).is_some_and(|v| v.close_started(&self.pending, vc, u32::MAX));
                let inactive = self.vcs.get(&vc).is_none_or(|v| !v.active);
                let late = self.vcs.get(&vc).is_some_and(|v| v.close_entered(&self.pending, vc));
                for &n in nbls {
                    self.sends.insert(n, VSend { vc, after_close, inactive, late, started: false });
                }
                if let Some(&head) = nbls.first() {
                    self.running.insert(head, VRunning { vc, late, started: false, nbls: nbls.clone() });
                }
            }

            Handler::Return { ref nbls, .. } => {
                for n in nbls {
                    self.held_rx.remove(n);
                }
            }
            _ => {}
        }
    }

    /// A driver handler returned (`ret`: its status; `None` for a void handler).
    pub fn handler_return(&mut self, h: &Handler, ret: Option<NdisStatus>, cx: &Cx) {
        self.now = cx.time;
        let vc = h.vc();
        let name = match ret {
            Some(s) => format!("{}->{}", h.name(), status_name(s)),
            None => format!("{}->()", h.name()),
        };
        self.note(vc, name.clone());
        if let Handler::Send { ref nbls, .. } = *h
            && let Some(head) = nbls.first()
        {
            // A send the driver returned from without an NDIS call is judged as of its entry.
            if self.running.get(head).is_some_and(|r| !r.started) {
                for n in nbls {
                    if let Some(s) = self.sends.get_mut(n) {
                        s.started = true;
                    }
                }
            }
            self.running.remove(head);
        }
        let Some(s) = ret else {
            if let Handler::Halt = h {
                self.in_halt = false;
            }
            return;
        };
        match *h {
            Handler::OpenAf { af } => {
                self.pend_return(Req::OpenAf(af), s, &name, None, None);
                if let Some(a) = self.afs.get_mut(&af) {
                    if s == NdisStatus::SUCCESS {
                        a.open = true;
                    } else if s != NdisStatus::PENDING {
                        a.dead = true;
                    }
                }
            }
            Handler::CloseAf { af } => {
                self.pend_return(Req::CloseAf(af), s, &name, None, None);
                if s == NdisStatus::SUCCESS
                    && let Some(a) = self.afs.get_mut(&af)
                {
                    a.open = false;
                    a.dead = true;
                }
            }
            Handler::RegisterSap { sap, .. } => {
                self.pend_return(Req::RegisterSap(sap), s, &name, None, None);
                if let Some(x) = self.saps.get_mut(&sap) {
                    if s == NdisStatus::SUCCESS {
                        x.registered = true;
                    } else if s != NdisStatus::PENDING {
                        x.dead = true;
                    }
                }
            }
            Handler::DeregisterSap { sap } => {
                self.pend_return(Req::DeregisterSap(sap), s, &name, None, None);
                if s == NdisStatus::SUCCESS
                    && let Some(x) = self.saps.get_mut(&sap)
                {
                    x.dead = true;
                }
            }
            Handler::CoCreateVc { vc, .. } => {
                if s == NdisStatus::PENDING {
                    self.fire(rule::RET_COCREATEVC, "ProtocolCoCreateVc returned PENDING", Some(vc), None);
                }
                if let Some(v) = self.vcs.get_mut(&vc) {
                    v.created = s == NdisStatus::SUCCESS;
                    v.deleted = s != NdisStatus::SUCCESS;
                }
            }
            Handler::CoDeleteVc { vc } => {
                let active = self.vcs.get(&vc).is_some_and(|v| v.active);
                if s == NdisStatus::PENDING {
                    self.fire(rule::RET_CODELETEVC, "ProtocolCoDeleteVc returned PENDING", Some(vc), None);
                } else if active && s == NdisStatus::SUCCESS {
                    self.fire(
                        rule::RET_CODELETEVC,
                        "ProtocolCoDeleteVc returned SUCCESS for an active VC (want NOT_ACCEPTED)",
                        Some(vc),
                        None,
                    );
                }
                if s == NdisStatus::SUCCESS
                    && let Some(v) = self.vcs.get_mut(&vc)
                {
                    v.deleted = true;
                }
            }
            Handler::MakeCall { vc, party, .. } => {
                self.pend_return(Req::MakeCall(vc), s, &name, Some(vc), party);
                let completed = self.pending.get(&Req::MakeCall(vc)).is_some_and(|p| p.completions > 0);
                if s != NdisStatus::PENDING && !completed {
                    self.make_call_outcome(vc, party, s, &name);
                }
            }
            Handler::CloseCall { vc, party, data_given } => {
                if let Some(n) = self.dup_closes.get_mut(&vc)
                    && *n > 0
                {
                    *n -= 1;
                    if s.is_error() {
                        // A second close refused while the first is outstanding: nothing changes.
                        return;
                    }
                    self.fire(
                        rule::CMP_CLOSE_ONCE,
                        format!("a second ProtocolCmCloseCall returned {} while one is outstanding", status_name(s)),
                        Some(vc),
                        party,
                    );
                    return;
                }
                let allowed = s == NdisStatus::SUCCESS
                    || s == NdisStatus::PENDING
                    || (s == NdisStatus::INVALID_DATA && data_given)
                    || (s.is_error() && s != NdisStatus::INVALID_DATA);
                if !allowed {
                    self.fire(
                        rule::RET_CLOSECALL,
                        format!("ProtocolCmCloseCall returned {}", status_name(s)),
                        Some(vc),
                        party,
                    );
                }
                let completed = self.pending.get(&Req::CloseCall(vc)).is_some_and(|p| p.completions > 0);
                self.pend_return(Req::CloseCall(vc), s, &name, Some(vc), party);
                if !s.is_error()
                    && let Some(v) = self.vcs.get_mut(&vc)
                {
                    v.close_began = true;
                }
                if s.is_error() {
                    if let Some(v) = self.vcs.get_mut(&vc)
                        && let Some(c) = &v.close
                        && !completed
                    {
                        v.phase = c.prev_phase;
                    }
                } else if s != NdisStatus::PENDING && !completed {
                    self.close_done(vc, s, party, &name);
                }
            }
            Handler::AddParty { party, vc } => {
                self.pend_return(Req::AddParty(party), s, &name, Some(vc), Some(party));
                let completed = self.pending.get(&Req::AddParty(party)).is_some_and(|p| p.completions > 0);
                if s != NdisStatus::PENDING
                    && !completed
                    && let Some(p) = self.parties.get_mut(&party)
                {
                    p.added = s == NdisStatus::SUCCESS;
                    p.dead = s != NdisStatus::SUCCESS;
                }
            }
            Handler::DropParty { vc, party, .. } => {
                if self.parties.get(&party).is_some_and(|p| p.drop_was_last) && s != NdisStatus::FAILURE {
                    self.fire(
                        rule::RET_DROPPARTY_LAST,
                        format!("ProtocolCmDropParty on the last party returned {} (want FAILURE)", status_name(s)),
                        Some(vc),
                        Some(party),
                    );
                }
                self.pend_return(Req::DropParty(party), s, &name, Some(vc), Some(party));
                if s == NdisStatus::SUCCESS
                    && let Some(p) = self.parties.get_mut(&party)
                {
                    p.dead = true;
                }
            }
            Handler::ModifyQos { vc } => {
                self.pend_return(Req::ModifyQos(vc), s, &name, Some(vc), None);
                if s != NdisStatus::PENDING
                    && let Some(v) = self.vcs.get_mut(&vc)
                {
                    v.modifying = false;
                }
            }
            _ => {}
        }
    }
}
