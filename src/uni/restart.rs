//! Q.2931 restart procedures and the global call reference (§5.5: RESTART / RESTART
//! ACKNOWLEDGE, STATUS on the dummy call reference), messages for unknown call references, and
//! the released calls kept without a VC (orphans).

use crate::cm::control::Control;
use crate::cm::control::Env;
use crate::cm::control::ORPHANS;
use crate::cm::control::Orphan;
use crate::cm::objects::DataState;
use crate::ndis::Ndis;
use crate::ndis::NdisStatus;
use crate::ndis::Token;
use crate::ndis::VpiVci;
use crate::uni::msg::Diag;
use crate::uni::msg::In;
use crate::uni::msg::InKind;
use crate::uni::msg::Out;
use crate::uni::msg::cause;
use crate::uni::state::CallRef;

/// The Restart Indicator IE identifier (a STATUS #96 diagnostic).
pub(crate) const RESTART_INDICATOR_IE: u8 = 0x79;

/// The Connection Identifier IE identifier (a STATUS #96 diagnostic).
const CONNECTION_ID_IE: u8 = 0x5a;

/// Timers on the global call reference, after the VC, orphan and party ids.
pub(crate) const GLOBAL_T316: usize = 0;

pub(crate) const GLOBAL_T317: usize = 1;

/// RESTARTs sent per attempt: the first and one per T316 expiry (Q.2931 §5.5.1: default limit
/// of two consecutive unsuccessful attempts).
pub(crate) const N316: u8 = 2;

impl<N: Ndis> Control<N> {
    /// One restarted VC is idle; the RESTART ACKNOWLEDGE goes when the last one is.
    pub(crate) fn pay_restart_ack(&mut self, env: &impl Env<N>, vc: Token) {
        let Some(v) = self.vcs.get_mut(vc) else { return };
        if !core::mem::take(&mut v.owe_restart_ack) {
            return;
        }
        self.restart_waiting = self.restart_waiting.saturating_sub(1);
        if self.restart_waiting == 0
            && let Some((class, vc)) = self.restart_ack.take()
        {
            self.timers.cancel(self.global_timer_id(GLOBAL_T317));
            self.acknowledge_restart(env, class, vc);
        }
    }

    /// Sends RESTART ACKNOWLEDGE: the restarted VCs are idle and free for reuse (Q.2931 §5.5.2).
    /// If our own RESTART had gone unanswered they were out of service; the network's restart
    /// returns them to service — every VC for class "all", else the indicated one. While our
    /// RESTART is still outstanding they stay barred: simultaneous restarts are handled
    /// independently, and a VC is free only once every restart naming it is complete (Q.2931
    /// §5.5, as Q.931 §5.5 note 2).
    fn acknowledge_restart(&mut self, env: &impl Env<N>, class: u8, vc: Option<VpiVci>) {
        if self.out_of_service {
            match (class, vc) {
                (2, _) => self.set_out_of_service(false),
                // One VC, or every VC of one VPC (kept as its VPI with VCI 0, which no switched
                // call uses: VCIs below 32 are reserved).
                (0 | 1, Some(id)) => {
                    let id = if class == 1 { VpiVci { vpi: id.vpi, vci: 0 } } else { id };
                    if !self.returned_to_service.contains(&id)
                        && self.returned_to_service.len() < self.returned_to_service.capacity()
                    {
                        self.returned_to_service.push(id);
                    }
                }
                _ => {}
            }
        }
        self.emit(env, &Out::RestartAck { class, vc });
    }

    /// Messages on the global call reference (Q.2931 §5.5).
    pub(crate) fn on_global(&mut self, env: &impl Env<N>, m: &In<'_>) {
        match m.kind {
            // RESTART: every call (class "all") or the indicated VC's call is cleared locally,
            // then acknowledged.
            // RESTART without its mandatory Restart Indicator, or with it or the connection
            // identifier invalid: nothing is restarted; STATUS #96 / #100 naming the IE (Q.2931
            // §5.6.7.1, §5.6.7.2).
            InKind::Restart if m.restart_class.is_none() || m.error.is_some_and(|(_, ie)| ie != 0) => {
                let cref = CallRef { value: 0, ours: false };
                let (cause, ie) = match m.error {
                    Some((c, ie)) if ie != 0 => (c, ie),
                    _ => (cause::MANDATORY_IE_MISSING, RESTART_INDICATOR_IE),
                };
                self.emit(env, &Out::StatusDiag { cref, state: 0, cause, diagnostic: Diag::one(ie) });
            }
            // RESTART of an indicated VC or VPC without the connection identifier naming it
            // (conditionally mandatory, Q.2931 §5.5.2.2): nothing is restarted or acknowledged;
            // STATUS #96 naming the connection identifier (§5.6.7.1).
            InKind::Restart if matches!(m.restart_class, Some(0 | 1)) && m.connection.is_none() => {
                let cref = CallRef { value: 0, ours: false };
                let diagnostic = Diag::one(CONNECTION_ID_IE);
                self.emit(env, &Out::StatusDiag { cref, state: 0, cause: cause::MANDATORY_IE_MISSING, diagnostic });
            }
            InKind::Restart => {
                let class = m.restart_class.unwrap_or(2);
                for k in 0..self.snapshot_vcs() {
                    let Some(t) = self.walked(k) else { continue };
                    let Some(v) = self.vcs.get(t) else { continue };
                    if !v.has_call() {
                        continue;
                    }
                    let on = self.call(t).map(|c| c.params.media.connection_id);
                    let hit = match (class, m.connection) {
                        // All VCs.
                        (2, _) => true,
                        // The indicated VC.
                        (0, Some(id)) => on == Some(id),
                        // Every VC of the indicated VPC.
                        (1, Some(id)) => on.is_some_and(|c| c.vpi == id.vpi),
                        _ => false,
                    };
                    if hit {
                        self.clear_call(env, t, NdisStatus::FAILURE);
                        // Acknowledged only once the VC is idle (its data path drained).
                        if let Some(v) = self.vcs.get_mut(t)
                            && v.data == DataState::Draining
                            && !v.owe_restart_ack
                        {
                            v.owe_restart_ack = true;
                            self.restart_waiting += 1;
                        }
                    }
                }
                if self.restart_waiting == 0 {
                    self.acknowledge_restart(env, class, m.connection);
                } else {
                    // A repeated RESTART while VCs drain supersedes the first: one ACK, when idle.
                    // T317 guards the internal clearing (Q.2931 §5.5.2); a repeat does not
                    // restart it.
                    self.restart_ack = Some((class, m.connection));
                    let id = self.global_timer_id(GLOBAL_T317);
                    if self.timers.due(id).is_none() {
                        self.timers.set(id, env.now().saturating_add(env.config().timers.t317));
                    }
                }
            }
            // RESTART ACKNOWLEDGE for our RESTART (class "all"): the restart is complete, T316
            // stops (Q.2931 §5.5.1). One for another class, or unasked for, is ignored.
            // The VCs are free for reuse: back in service if our last RESTART had gone unanswered.
            InKind::RestartAck => {
                if self.restart_sent.is_some() && m.restart_class == Some(2) {
                    self.restart_sent = None;
                    self.set_out_of_service(false);
                    self.timers.cancel(self.global_timer_id(GLOBAL_T316));
                }
            }
            InKind::Status => {}
            // Anything else on the global call reference: STATUS #81.
            _ => {
                let cref = CallRef { value: 0, ours: false };
                self.emit(env, &Out::Status { cref, state: 0, cause: cause::INVALID_CALL_REFERENCE, endpoint: None });
            }
        }
    }

    /// A message for a call reference we do not know (Q.2931 §5.6.3.2).
    pub(crate) fn on_unknown_cref(&mut self, env: &impl Env<N>, m: &In<'_>) {
        match m.kind {
            // A well-formed SETUP while our RESTART (class "all") is outstanding or went
            // unanswered: its VPCI/VCI is being restarted or out of service, so the call is not
            // accepted (Q.2931 §5.5.1): RELEASE COMPLETE #35. A malformed one gets its own cause.
            InKind::Setup if !m.cref.ours && m.error.is_none() && self.setup_barred(m.connection) => {
                self.stats.restart_refused += 1;
                let c = Some(cause::VPCI_VCI_UNAVAILABLE);
                self.emit(env, &Out::ReleaseComplete { cref: m.cref, cause: c });
            }
            InKind::Setup if !m.cref.ours => self.on_setup(env, m),
            // RELEASE COMPLETE for nothing: ignore (it may confirm an orphaned release).
            InKind::ReleaseComplete => {
                for k in 0..ORPHANS {
                    if self.orphans.get(k).copied().flatten().is_some_and(|o| o.cref == m.cref) {
                        self.drop_orphan(k);
                    }
                }
            }
            InKind::StatusEnquiry => {
                self.stats.unknown_cref += 1;
                self.emit(
                    env,
                    &Out::Status { cref: m.cref, state: 0, cause: cause::RESPONSE_TO_STATUS_ENQUIRY, endpoint: None },
                );
            }
            InKind::Status => {
                self.stats.unknown_cref += 1;
                if m.call_state.unwrap_or(0) != 0 {
                    self.emit(
                        env,
                        &Out::ReleaseComplete { cref: m.cref, cause: Some(cause::MESSAGE_NOT_COMPATIBLE_WITH_STATE) },
                    );
                }
            }
            _ => {
                self.stats.unknown_cref += 1;
                self.emit(env, &Out::ReleaseComplete { cref: m.cref, cause: Some(cause::INVALID_CALL_REFERENCE) });
            }
        }
    }

    /// Sends RELEASE for a call whose VC is going away, keeping just enough to retransmit once.
    pub(crate) fn orphan_release(&mut self, env: &impl Env<N>, cref: CallRef, c: u8) {
        self.emit(env, &Out::Release { cref, cause: c, diagnostic: Diag::NONE, timer: None, user_user: &[] });
        if let Some(k) = self.orphans.iter().position(Option::is_none) {
            let due = env.now().saturating_add(env.config().timers.t308);
            if let Some(o) = self.orphans.get_mut(k) {
                *o = Some(Orphan { cref, cause: c, due, retransmitted: false });
            }
            self.timers.set(self.vcs.capacity() + k, due);
        }
    }

    pub(crate) fn drop_orphan(&mut self, k: usize) {
        if let Some(o) = self.orphans.get_mut(k) {
            *o = None;
        }
        self.timers.cancel(self.vcs.capacity() + k);
    }

    /// Copies the live VC slots into `walk` (for walks whose steps may free VCs).
    pub(crate) fn snapshot_vcs(&mut self) -> usize {
        self.walk.clear();
        for (t, _) in self.vcs.iter() {
            if self.walk.len() < self.walk.capacity() {
                self.walk.push(t.index() as u16);
            }
        }
        self.walk.len()
    }

    /// The `k`th VC of the last snapshot, if it is still alive.
    pub(crate) fn walked(&self, k: usize) -> Option<Token> {
        self.vcs.token_at(usize::from(*self.walk.get(k)?))
    }

    /// No call is placed or accepted over the VCs: our RESTART (class "all", so every VC) awaits
    /// its RESTART ACKNOWLEDGE, or went unanswered and left them out of service (Q.2931 §5.5.1).
    pub(crate) fn calls_barred(&self) -> bool {
        self.restart_sent.is_some() || self.out_of_service
    }

    /// A SETUP for `vc` is refused: calls are barred, unless the network's RESTART returned that
    /// VC to service while the others stay out of service.
    fn setup_barred(&self, vc: Option<VpiVci>) -> bool {
        let returned = |id: VpiVci| {
            self.returned_to_service.contains(&id) || self.returned_to_service.contains(&VpiVci { vpi: id.vpi, vci: 0 })
        };
        self.restart_sent.is_some() || self.out_of_service && !vc.is_some_and(returned)
    }

    fn set_out_of_service(&mut self, on: bool) {
        self.out_of_service = on;
        self.returned_to_service.clear();
        self.stats.vcs_out_of_service = u64::from(on);
    }

    /// Sends our RESTART (class "all") and starts T316 (Q.2931 §5.5.1, Restart Request).
    pub(crate) fn send_restart(&mut self, env: &impl Env<N>) {
        self.emit(env, &Out::RestartAll);
        if self.restart_sent.is_none() {
            self.restart_sent = Some(0);
        }
        let id = self.global_timer_id(GLOBAL_T316);
        self.timers.set(id, env.now().saturating_add(env.config().timers.t316));
    }

    /// T316 / T317 on the global call reference.
    pub(crate) fn on_global_timer(&mut self, env: &impl Env<N>, which: usize) {
        match (which, self.restart_sent) {
            // T316 with attempts left: RESTART again.
            (GLOBAL_T316, Some(n)) if n.saturating_add(1) < N316 => {
                self.restart_sent = Some(n.saturating_add(1));
                self.send_restart(env);
            }
            // T316 after the last attempt: no more RESTARTs; the maintenance indication (a
            // counter, read through OID_ATMMCM_CONTROL_COUNTERS: NDIS defines no status for it,
            // and a custom NDIS_STATUS_MEDIA_SPECIFIC_INDICATION is not done); the VCs are out of
            // service — no call placed or accepted — until a later RESTART (at the link's
            // re-establishment) is acknowledged.
            (GLOBAL_T316, Some(_)) => {
                self.restart_sent = None;
                self.stats.restart_unanswered += 1;
                self.set_out_of_service(true);
            }
            // T317: the restarted VCs are not idle yet. The maintenance indication; the RESTART
            // ACKNOWLEDGE still waits for them (it says they are idle, and the network's T316
            // repeats the RESTART meanwhile).
            (GLOBAL_T317, _) if self.restart_ack.is_some() => self.stats.restart_clearing_overdue += 1,
            // A stale expiry (the restart finished or the link went away).
            _ => {}
        }
    }
}
