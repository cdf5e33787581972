//! Signalling-link events: SAAL establish / release indications, the physical layer, T309 and
//! the verification of surviving calls on link return (Q.2931 §5.6.10), and message dispatch
//! from the SAAL to the call, party and global machines.

use crate::cm::control::Control;
use crate::cm::control::Env;
use crate::cm::control::ORPHANS;
use crate::cm::objects::LinkClass;
use crate::cm::objects::Phase;
use crate::cm::ops::adapter_op;
use crate::ndis::LinkState;
use crate::ndis::Ndis;
use crate::ndis::NdisStatus;
use crate::ndis::Token;
use crate::uni::msg::Out;
use crate::uni::msg::cause;
use crate::uni::restart::GLOBAL_T316;
use crate::uni::restart::GLOBAL_T317;
use crate::uni::state::CallRef;
use crate::uni::state::TimerKind;
use crate::uni::state::UniState;

impl<N: Ndis> Control<N> {
    /// STATUS ENQUIRY for every active call after the link came back within T309.
    pub(crate) fn verify_surviving_calls(&mut self, env: &impl Env<N>) {
        for i in 0..self.vcs.capacity() {
            let Some(t) = self.vcs.token_at(i) else { continue };
            let Some(v) = self.vcs.get(t) else { continue };
            if let (UniState::Active, Some(cref)) = (v.uni(), v.cref()) {
                self.emit(env, &Out::StatusEnquiry { cref });
                self.start_timer(env, t, TimerKind::T322);
            }
        }
    }

    // ---- signalling input -------------------------------------------------------------------------

    /// The call a message is for: its call reference names a VC whose call is still known to
    /// the network (not in U0, or owed a RELEASE COMPLETE). One index lookup.
    pub(crate) fn find_call(&self, cref: CallRef) -> Option<Token> {
        let vc = self.vcs.token_at(self.crefs.get(cref)?)?;
        let v = self.vcs.get(vc)?;
        (v.cref() == Some(cref) && v.has_call()).then_some(vc)
    }

    /// One Q.2931 message from the network.
    pub fn on_message(&mut self, env: &impl Env<N>, bytes: &[u8]) {
        self.stats.messages_in += 1;
        let Some(m) = crate::uni::msg::decode(bytes) else {
            // Not a Q.2931 message we can even address (bad discriminator, call reference or
            // header): ignored, as Q.2931 §5.6.1–5.6.3 say.
            self.stats.malformed_in += 1;
            return;
        };
        if m.global {
            self.on_global(env, &m);
            return;
        }
        match self.find_call(m.cref) {
            Some(vc) => self.on_call_message(env, vc, &m),
            None => self.on_unknown_cref(env, &m),
        }
    }

    // ---- link and timers --------------------------------------------------------------------------

    /// The SAAL reported the link established.
    pub fn on_saal_established(&mut self, env: &impl Env<N>) {
        // Calls an expired T309 still has to clear are cleared before the link is used again.
        self.finish_clearing(env);
        // An establish indication while the link is up is SSCF-UNI reporting an SSCOP
        // resynchronization or error recovery (Q.2130): the link never went away, so nothing is
        // restarted and every call is verified, as after a link return within T309.
        let reset = core::mem::replace(&mut self.saal_up, true);
        // Calls that survived on T309: the link is back in time; each is verified with STATUS
        // ENQUIRY (Q.2931 §5.6.10), sent by the next `pump_backlog`. With no call to keep (start-
        // up, or link return after the calls were cleared) every VC is restarted instead (§5.5.1).
        self.verify_calls = self.t309.take().is_some() || reset;
        self.send_restart = !self.verify_calls;
    }

    /// The SAAL link is gone (SSCOP released, or the PHY lost signal).
    pub fn on_saal_released(&mut self, env: &impl Env<N>) {
        let was_up = self.saal_up;
        self.saal_up = false;
        // A RESTART ACKNOWLEDGE has no link to go on; the network restarts again if it wants.
        // Our own RESTART is abandoned too: it is sent afresh when the link is re-established.
        self.restart_ack = None;
        self.restart_sent = None;
        self.send_restart = false;
        self.timers.cancel(self.global_timer_id(GLOBAL_T316));
        self.timers.cancel(self.global_timer_id(GLOBAL_T317));
        // Nothing queued for the old link means anything to the next one.
        while !self.backlog.is_empty() {
            self.backlog.pop();
        }
        // Calls not yet active are cleared with #27 at once; active ones wait T309 (Q.2931
        // §5.6.10). The VCs are walked only if some call is to be cleared (`link_counts`): with
        // every call active (a link loss under load) no VC is touched until T309 expires.
        let any_active = self.link_counts.active > 0;
        if self.link_counts.cleared > 0 {
            self.stats.link_loss_walks += 1;
            for k in 0..self.snapshot_vcs() {
                let Some(t) = self.walked(k) else { continue };
                if self.vcs.get(t).is_some_and(|v| v.link_class() == LinkClass::Cleared) {
                    self.clear_call(env, t, NdisStatus::DEST_OUT_OF_ORDER);
                }
            }
        }
        for k in 0..ORPHANS {
            self.drop_orphan(k);
        }
        if any_active && was_up && self.t309.is_none() {
            self.t309 = Some(env.now().saturating_add(env.config().timers.t309));
        }
    }

    /// The PHY changed state: indicate it to the bindings and hand it to the signalling.
    pub fn on_phy(&mut self, env: &impl Env<N>, up: bool) {
        if self.phy_up == up {
            return;
        }
        self.phy_up = up;
        self.link_report = LinkState { connected: up, speed_bps: env.config().link_speed_bps };
        self.adapter_op(adapter_op::INDICATE_LINK);
        if !up && self.saal_up {
            self.on_saal_released(env);
        }
    }

    pub fn phy_up(&self) -> bool {
        self.phy_up
    }

    // ---- halt ---------------------------------------------------------------------------------------

    /// The adapter halts: every outgoing call not yet connected is cleared (RELEASE #16, kept for
    /// one T308 retransmission) and its MakeCall completes with FAILURE, so the client can delete
    /// the VC and close the AF. A call in U4 has no timer of ours (T301 is not run) that would
    /// ever end it otherwise. One walk of the live VCs, once per halt.
    pub(crate) fn abort_pending_calls(&mut self, env: &impl Env<N>) {
        for k in 0..self.snapshot_vcs() {
            let Some(t) = self.walked(k) else { continue };
            let Some(v) = self.vcs.get(t) else { continue };
            if v.phase != Phase::MakePending {
                continue;
            }
            if let Some(cref) = v.cref()
                && v.uni() != UniState::Null
                && self.saal_up
            {
                self.stop_timer(t);
                self.orphan_release(env, cref, cause::NORMAL_CALL_CLEARING);
            }
            self.fail_make_call(env, t, NdisStatus::FAILURE);
        }
    }
}
