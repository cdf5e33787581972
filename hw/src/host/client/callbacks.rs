//! The client's protocol handlers: what it does when the driver completes a request or
//! dispatches an incoming call, close or drop (ProtocolCl*), by its [`Policy`](super::Policy),
//! and the AF teardown ProtocolClNotifyCloseAf starts.

use atmmcm::NdisStatus;
use atmmcm::ndis::CallParameters;

use super::super::handles::{AfHandle, Nbl, PartyHandle, SapHandle, VcHandle};
use super::super::irql::{self, Path};
use super::super::log::LogKind;
use super::super::verifier::{Handler, status_name};
use super::super::{AfState, Notify, PartyState, SapState};
use super::{Accept, Action, Client, IncomingCall, VcState, When};

impl Client {
    /// The AF close finished (synchronously or through NdisMCmCloseAddressFamilyComplete).
    pub(crate) fn af_close_finished(&self, af: AfHandle, status: NdisStatus) {
        let notify_ctx = {
            let mut st = self.emu.st();
            let Some(a) = st.afs.get_mut(&af) else { return };
            if a.state != AfState::Closing {
                return;
            }
            a.state = if status == NdisStatus::SUCCESS { AfState::Closed } else { AfState::Open };
            if a.state == AfState::Closed && a.notify == Notify::Returned {
                a.notify = Notify::None;
                a.ctx
            } else {
                None
            }
        };
        if let Some(ctx) = notify_ctx {
            self.emu.log_client(LogKind::Client, "NdisClNotifyCloseAddressFamilyComplete(SUCCESS)", None, None);
            let _ = self.emu.handler(
                Handler::NotifyCloseAfComplete { af, status: NdisStatus::SUCCESS },
                |d| d.protocol_cm_notify_close_af_complete(NdisStatus::SUCCESS, ctx),
                |_| None,
            );
        }
    }

    /// The make call ended (synchronous return or NdisMCmMakeCallComplete).
    pub(crate) fn make_call_finished(
        &self,
        vc: VcHandle,
        party: Option<PartyHandle>,
        pctx: Option<atmmcm::ndis::PartyContext>,
        status: NdisStatus,
        params: Option<CallParameters>,
        callback: bool,
    ) {
        let (delete, af) = {
            let mut st = self.emu.st();
            let policy = st.policy.delete_after_close;
            let Some(v) = st.vcs.get_mut(&vc).filter(|v| v.state == VcState::MakePending) else { return };
            let ok = status == NdisStatus::SUCCESS;
            v.state = if ok { VcState::Connected } else { VcState::Closed };
            if ok {
                v.params = params.or(v.params);
            }
            let delete = !ok && v.client_created;
            let af = v.af;
            let party = party.or_else(|| {
                st.parties.iter().find(|(_, p)| p.vc == vc && p.state == PartyState::Adding).map(|(h, _)| *h)
            });
            if let Some(pr) = party.and_then(|p| st.parties.get_mut(&p)) {
                pr.state = if ok { PartyState::Active } else { PartyState::Gone };
                pr.ctx = pctx.or(pr.ctx);
            }
            (delete.then_some(policy), af)
        };
        if callback {
            self.emu.log_client(
                LogKind::ClientCallback,
                format!("ProtocolClMakeCallComplete({})", status_name(status)),
                Some(vc),
                party,
            );
        }
        if let Some(w) = delete {
            self.after(w, Action::DeleteVc(vc));
        }
        self.continue_teardown(af);
    }

    /// The close ended (synchronous return or NdisMCmCloseCallComplete).
    pub(crate) fn close_finished(&self, vc: VcHandle, status: NdisStatus) {
        let (delete, af) = {
            let mut st = self.emu.st();
            let policy = st.policy.delete_after_close;
            let Some(v) = st.vcs.get_mut(&vc).filter(|v| v.state == VcState::Closing) else { return };
            if status != NdisStatus::SUCCESS {
                v.state = v.before_close;
                return;
            }
            v.state = VcState::Closed;
            let delete = v.client_created;
            let af = v.af;
            for p in st.parties.values_mut().filter(|p| p.vc == vc) {
                p.state = PartyState::Gone;
            }
            (delete.then_some(policy), af)
        };
        if let Some(w) = delete {
            self.after(w, Action::DeleteVc(vc));
        }
        self.continue_teardown(af);
    }

    /// NdisMCmDropPartyComplete arrived.
    pub(crate) fn drop_finished(&self, party: PartyHandle, status: NdisStatus) {
        let vc = {
            let mut st = self.emu.st();
            let Some(p) = st.parties.get_mut(&party) else { return };
            if p.state == PartyState::Dropping {
                p.state = if status == NdisStatus::SUCCESS { PartyState::Gone } else { PartyState::Active };
            }
            p.vc
        };
        self.progress_close(vc);
    }

    /// ProtocolClIncomingDropParty: drop it per policy.
    pub(crate) fn incoming_drop(&self, party: PartyHandle) {
        let w = self.policy().close_on_incoming_close;
        self.after(w, Action::DropParty(party));
    }

    // ---- incoming calls and closes ---------------------------------------------------------------------

    /// ProtocolClIncomingCall: answered per policy.
    pub(crate) fn incoming_call(&self, sap: SapHandle, vc: VcHandle, params: &CallParameters) -> NdisStatus {
        let answer = {
            let mut st = self.emu.st();
            let answer = match st.policy.accept_incoming {
                Accept::Sync => NdisStatus::SUCCESS,
                Accept::Pending => NdisStatus::PENDING,
                Accept::Reject(s) => s,
            };
            if let Some(v) = st.vcs.get_mut(&vc) {
                v.params = Some(*params);
                v.multipoint = params.is_multipoint();
                v.want_close = false;
                v.state = match answer {
                    NdisStatus::SUCCESS => VcState::Accepted,
                    NdisStatus::PENDING => VcState::Offered,
                    _ => VcState::Closed,
                };
            }
            st.incoming.push(IncomingCall { sap, vc, params: *params, answer });
            answer
        };
        self.emu.log_client(
            LogKind::ClientCallback,
            format!("ProtocolClIncomingCall->{}", status_name(answer)),
            Some(vc),
            None,
        );
        answer
    }

    /// ProtocolClIncomingCloseCall: NdisClCloseCall per policy.
    pub(crate) fn incoming_close(&self, status: NdisStatus, vc: VcHandle, data: &[u8]) {
        let w = {
            let mut st = self.emu.st();
            st.incoming_closes.push((vc, status, data.to_vec()));
            let w = st.policy.close_on_incoming_close;
            if let Some(v) = st.vcs.get_mut(&vc).filter(|v| !matches!(v.state, VcState::Deleted | VcState::Closing)) {
                v.before_close = v.state;
                v.state = VcState::RemoteClosing;
                v.want_close = w != When::Never;
            }
            w
        };
        self.emu.log_client(
            LogKind::ClientCallback,
            format!("ProtocolClIncomingCloseCall({})", status_name(status)),
            Some(vc),
            None,
        );
        self.after(w, Action::CloseCall(vc));
    }

    /// Drives a wanted close: drops all parties but one, then NdisClCloseCall with the last.
    fn progress_close(&self, vc: VcHandle) {
        loop {
            let step = {
                let st = self.emu.st();
                let Some(v) = st.vcs.get(&vc) else { return };
                if !v.want_close || matches!(v.state, VcState::Closing | VcState::Closed | VcState::Deleted) {
                    return;
                }
                let mut active: Vec<PartyHandle> = st
                    .parties
                    .iter()
                    .filter(|(_, p)| p.vc == vc && p.state == PartyState::Active)
                    .map(|(h, _)| *h)
                    .collect();
                active.sort();
                let busy = st
                    .parties
                    .values()
                    .any(|p| p.vc == vc && matches!(p.state, PartyState::Adding | PartyState::Dropping));
                if busy {
                    return;
                }
                if active.len() > 1 {
                    Err(active.get(1..).map(|s| s.to_vec()).unwrap_or_default())
                } else {
                    Ok(active.first().copied())
                }
            };
            match step {
                Ok(last) => {
                    self.close_call(vc, last, None);
                    return;
                }
                Err(drops) => {
                    let mut any = false;
                    for p in drops {
                        let s = self.drop_party(p, None);
                        any |= s == NdisStatus::SUCCESS;
                    }
                    if !any {
                        return;
                    }
                }
            }
        }
    }

    /// Runs `a` now, later, or not at all.
    fn after(&self, w: When, a: Action) {
        match w {
            When::Immediate => self.perform(a),
            When::Deferred => self.emu.st().deferred.push_back(a),
            When::Never => {}
        }
    }

    fn perform(&self, a: Action) {
        match a {
            Action::CloseCall(vc) => {
                if let Some(v) = self.emu.st().vcs.get_mut(&vc) {
                    v.want_close = true;
                }
                self.progress_close(vc)
            }
            Action::DropParty(p) => {
                self.drop_party(p, None);
            }
            Action::DeleteVc(vc) => {
                self.delete_vc(vc);
            }
        }
    }

    /// Runs the deferred actions queued so far; returns how many ran.
    pub fn run_deferred(&self) -> usize {
        let actions: Vec<Action> = self.emu.st().deferred.drain(..).collect();
        let n = actions.len();
        for a in actions {
            self.perform(a);
        }
        n
    }

    // ---- AF teardown (ProtocolClNotifyCloseAf) ------------------------------------------------------------

    /// Tears down everything on `af`: parties, calls, SAPs, VCs, then the AF.
    pub(crate) fn teardown(&self, af: AfHandle) {
        self.continue_teardown(af);
    }

    /// The next teardown steps, as far as they go without waiting for a completion.
    pub(crate) fn continue_teardown(&self, af: AfHandle) {
        #[derive(Debug)]
        enum Step {
            Reject(VcHandle),
            Close(VcHandle),
            Delete(VcHandle),
            Deregister(SapHandle),
            CloseAf,
        }
        let mut tried: Vec<String> = Vec::new();
        loop {
            let step = {
                let mut st = self.emu.st();
                if !st.afs.get(&af).is_some_and(|a| a.teardown && a.state == AfState::Open) {
                    return;
                }
                let mut vcs: Vec<(VcHandle, VcState, bool, bool)> = st
                    .vcs
                    .iter()
                    .filter(|(_, v)| v.af == af && v.state != VcState::Deleted)
                    .map(|(h, v)| (*h, v.state, v.client_created, v.want_close))
                    .collect();
                vcs.sort_by_key(|x| x.0);
                let mut step = None;
                for &(vc, state, client_created, want_close) in &vcs {
                    let s = match state {
                        VcState::Offered => Some(Step::Reject(vc)),
                        VcState::Accepted | VcState::Connected | VcState::RemoteClosing if !want_close => {
                            if let Some(v) = st.vcs.get_mut(&vc) {
                                v.want_close = true;
                                if v.state != VcState::RemoteClosing {
                                    v.before_close = v.state;
                                }
                            }
                            Some(Step::Close(vc))
                        }
                        VcState::Idle | VcState::Closed if client_created => Some(Step::Delete(vc)),
                        _ => None,
                    };
                    if let Some(s) = s
                        && !tried.contains(&format!("{s:?}"))
                    {
                        step = Some(s);
                        break;
                    }
                }
                if step.is_none() {
                    let mut saps: Vec<SapHandle> = st
                        .saps
                        .iter()
                        .filter(|(_, s)| s.af == af && s.state == SapState::Registered)
                        .map(|(h, _)| *h)
                        .collect();
                    saps.sort();
                    step = saps.into_iter().map(Step::Deregister).find(|s| !tried.contains(&format!("{s:?}")));
                }
                if step.is_none() && vcs.is_empty() {
                    let saps_busy = st.saps.values().any(|s| s.af == af && s.state != SapState::Gone);
                    if !saps_busy && !tried.contains(&"CloseAf".to_string()) {
                        step = Some(Step::CloseAf);
                    }
                }
                match step {
                    Some(s) => s,
                    None => return,
                }
            };
            tried.push(format!("{step:?}"));
            match step {
                Step::Reject(vc) => self.complete_incoming(vc, NdisStatus::FAILURE),
                Step::Close(vc) => self.progress_close(vc),
                Step::Delete(vc) => {
                    self.delete_vc(vc);
                }
                Step::Deregister(sap) => {
                    self.deregister_sap(sap);
                }
                Step::CloseAf => {
                    let mine = self.emu.st().client_af == Some(af);
                    if mine {
                        self.close_af();
                    }
                    return;
                }
            }
        }
    }

    /// NdisReturnNetBufferLists → MiniportReturnNetBufferLists for one indicated chain.
    pub(crate) fn return_nbls(&self, head: Nbl) {
        let (chain, vc) = {
            let st = self.emu.st();
            let chain = st.chain(head);
            let vc = chain.first().and_then(|n| st.nbls.get(n)).and_then(|r| r.owner);
            (chain, vc)
        };
        self.emu.log_client(LogKind::Client, "NdisReturnNetBufferLists", vc, None);
        self.data_irql(|| {
            irql::in_path(Path::Return, || {
                let _ = self.emu.handler(
                    Handler::Return { vc, nbls: chain },
                    |d| d.miniport_return_net_buffer_lists(head, 0),
                    |_| None,
                );
            })
        });
    }
}
