//! Q.2931 timers (T303, T308, T309, T310, T313, T322, ...): one heap for every call, orphan
//! and party timer; expiry handling per call state.

use core::time::Duration;

use crate::cm::control::Control;
use crate::cm::control::Env;
use crate::cm::control::ORPHANS;
use crate::cm::objects::LinkClass;
use crate::cm::objects::UuBuf;
use crate::ndis::Ndis;
use crate::ndis::NdisStatus;
use crate::ndis::Token;
use crate::uni::msg::Diag;
use crate::uni::msg::Out;
use crate::uni::msg::cause;
use crate::uni::state::CallTimer;
use crate::uni::state::TimerKind;
use crate::uni::state::UniState;

pub(crate) const GLOBAL_TIMERS: usize = 2;

/// Calls one step of a T309 expiry clears. The rest follow in later steps, one per DPC
/// (`Control::continue_clearing`): a DPC's work stays bounded (a link-loss teardown of 65 534
/// calls is not one 100 ms DPC), and the calls of one step go through their whole teardown —
/// incoming close, the client's close, data-path drain, NIC close, deletion — while their state
/// is still in cache, instead of every stage walking every call's cold state in turn.
pub const CLEAR_STEP: usize = 128;

/// STATUS ENQUIRYs per enquiry: the first and one retransmission on T322 (`signalling.md`: T322 ×2).
pub(crate) const N322: u8 = 2;

impl<N: Ndis> Control<N> {
    pub(crate) fn start_timer(&mut self, env: &impl Env<N>, vc: Token, kind: TimerKind) {
        let t = &env.config().timers;
        let d = match kind {
            TimerKind::T303 => t.t303,
            TimerKind::T308 => t.t308,
            TimerKind::T309 => t.t309,
            TimerKind::T310 => t.t310,
            TimerKind::T313 => t.t313,
            TimerKind::T322 => t.t322,
        };
        let now = env.now();
        if let Some(v) = self.vcs.get_mut(vc) {
            let expiries = match v.timer {
                Some(old) if old.kind == kind => old.expiries,
                _ => 0,
            };
            let due = now.saturating_add(d);
            v.timer = Some(CallTimer { kind, due, expiries });
            self.timers.set(vc.index(), due);
        }
    }

    pub(crate) fn stop_timer(&mut self, vc: Token) {
        if let Some(v) = self.vcs.get_mut(vc) {
            v.timer = None;
            self.timers.cancel(vc.index());
        }
    }

    /// Timer id of `GLOBAL_T316` / `GLOBAL_T317`.
    pub(crate) fn global_timer_id(&self, which: usize) -> usize {
        self.vcs.capacity() + ORPHANS + self.parties.capacity() + which
    }

    /// The earliest deadline of anything the control state runs: O(1).
    pub fn next_deadline(&self) -> Option<Duration> {
        let timers = self.timers.earliest().map(|(d, _)| d);
        timers.into_iter().chain(self.t309).chain(self.saal.next_deadline()).min()
    }

    /// Timers due at `now`: T309, then every due timer in (deadline, id) order. The due ids are
    /// taken out of the heap first, so the cost is that of the timers that fire.
    pub fn on_timer(&mut self, env: &impl Env<N>) {
        let now = env.now();
        // T309: the link did not come back; active calls are cleared with #27, a step at a time
        // (`continue_clearing`).
        if self.t309.is_some_and(|d| d <= now) {
            self.t309 = None;
            self.clearing = self.vcs.first();
            self.continue_clearing(env, CLEAR_STEP);
        }
        self.due.clear();
        while self.due.len() < self.due.capacity() {
            let Some(id) = self.timers.pop_due(now) else { break };
            self.due.push(id as u32);
        }
        let (vcs, orphans_end) = (self.vcs.capacity(), self.vcs.capacity() + ORPHANS);
        let parties_end = orphans_end + self.parties.capacity();
        for k in 0..self.due.len() {
            let Some(id) = self.due.get(k).map(|&id| id as usize) else { break };
            if id < vcs {
                let Some(t) = self.vcs.token_at(id) else { continue };
                let Some(timer) = self.vcs.get(t).and_then(|v| v.timer) else { continue };
                if timer.due <= now {
                    self.on_call_timer(env, t, timer);
                } else {
                    // Cannot happen (the heap follows every change); keep the timer running.
                    self.timers.set(id, timer.due);
                }
            } else if id < orphans_end {
                self.on_orphan_timer(env, id - vcs, now);
            } else if id >= parties_end {
                self.on_global_timer(env, id - parties_end);
            } else {
                let Some(p) = self.parties.token_at(id - orphans_end) else { continue };
                self.on_party_timer(p, now);
            }
        }
    }

    /// Clears up to `budget` more of the calls an expired T309 ends (the active ones), walking
    /// the live VCs in order from a cursor kept between steps (no snapshot: the walk reads each
    /// VC once, when it is cleared); whether any are left for a later step. A step looks at no
    /// more than `8 × budget` VCs. If the cursor's VC went away between steps (a client deleted
    /// an idle VC), the walk starts over from the oldest: cleared calls are no longer active and
    /// are passed over.
    pub fn continue_clearing(&mut self, env: &impl Env<N>, budget: usize) -> bool {
        let Some(mut at) = self.clearing else { return false };
        if self.vcs.get(at).is_none() {
            let Some(first) = self.vcs.first() else {
                self.clearing = None;
                return false;
            };
            at = first;
        }
        let (mut cleared, mut looked) = (0usize, 0usize);
        let mut cursor = Some(at);
        while let Some(t) = cursor {
            if cleared >= budget || looked >= budget.saturating_mul(8) {
                break;
            }
            // The next one is read first: clearing may free this VC (an offered call's).
            cursor = self.vcs.next_of(t);
            if self.vcs.get(t).is_some_and(|v| v.link_class() == LinkClass::Active) {
                self.clear_call(env, t, NdisStatus::DEST_OUT_OF_ORDER);
                cleared += 1;
            }
            looked += 1;
        }
        self.clearing = cursor;
        self.clearing.is_some()
    }

    /// Clears every call an expired T309 still has to clear, at once: before the link comes back
    /// (a call set up on it is not one T309 ended) and at halt.
    pub fn finish_clearing(&mut self, env: &impl Env<N>) {
        self.continue_clearing(env, usize::MAX);
    }

    /// T308 for a released call without a VC: RELEASE once more, then forget it.
    pub(crate) fn on_orphan_timer(&mut self, env: &impl Env<N>, k: usize, now: Duration) {
        let Some(o) = self.orphans.get(k).copied().flatten() else { return };
        if o.due > now {
            self.timers.set(self.vcs.capacity() + k, o.due);
            return;
        }
        if o.retransmitted {
            self.drop_orphan(k);
            return;
        }
        let out =
            Out::Release { cref: o.cref, cause: o.cause, diagnostic: Diag::NONE, timer: Some(*b"308"), user_user: &[] };
        self.emit(env, &out);
        let due = now.saturating_add(env.config().timers.t308);
        if let Some(Some(slot)) = self.orphans.get_mut(k) {
            slot.retransmitted = true;
            slot.due = due;
        }
        self.timers.set(self.vcs.capacity() + k, due);
    }

    pub(crate) fn on_call_timer(&mut self, env: &impl Env<N>, vc: Token, timer: CallTimer) {
        let Some(v) = self.vcs.get(vc) else { return };
        let Some(cref) = v.cref() else { return };
        let multipoint = v.multipoint;
        let call = self.call(vc);
        let params = call.map(|c| c.params);
        let uu = call.map_or(UuBuf::EMPTY, |c| c.incoming_close_data.copied());
        let release_cause = call.map(|c| c.release_cause);
        match (timer.kind, timer.expiries) {
            // T303 first expiry: SETUP once more.
            (TimerKind::T303, 0) => {
                if let Some(p) = params {
                    self.emit(env, &Out::Setup { cref, params: &p, multipoint });
                }
                self.bump_timer(env, vc, TimerKind::T303);
            }
            // T303 again: give up (RELEASE COMPLETE #102, MakeCall fails).
            (TimerKind::T303, _) => {
                self.emit(env, &Out::ReleaseComplete { cref, cause: Some(cause::RECOVERY_ON_TIMER_EXPIRY) });
                self.fail_make_call(env, vc, NdisStatus::FAILURE);
            }
            // T310: no CONNECT after CALL PROCEEDING.
            (TimerKind::T310, _) => {
                self.stop_timer(vc);
                self.orphan_release(env, cref, cause::RECOVERY_ON_TIMER_EXPIRY);
                self.fail_make_call(env, vc, NdisStatus::FAILURE);
            }
            // T313: no CONNECT ACKNOWLEDGE; clear the call (RELEASE #102 "313"), tell the client.
            (TimerKind::T313, _) => {
                self.clear_with_release(env, vc, cause::RECOVERY_ON_TIMER_EXPIRY, Diag::NONE, Some(*b"313"));
            }
            // T308 first expiry: the RELEASE again — its first cause and diagnostic, its
            // user-user information — with #102 "308" as second cause.
            (TimerKind::T308, 0) => {
                let (c, diagnostic) = release_cause.unwrap_or((cause::NORMAL_CALL_CLEARING, Diag::NONE));
                let out = Out::Release { cref, cause: c, diagnostic, timer: Some(*b"308"), user_user: uu.as_slice() };
                self.emit(env, &out);
                self.bump_timer(env, vc, TimerKind::T308);
            }
            // T308 again: the release is confirmed locally; the call reference is free.
            (TimerKind::T308, _) => {
                if let Some(v) = self.vcs.get_mut(vc) {
                    v.timer = None;
                    self.timers.cancel(vc.index());
                    v.set_uni(&mut self.link_counts, UniState::Null);
                    v.network_done = true;
                }
                self.advance_close(env, vc);
            }
            // T322 first expiry: STATUS ENQUIRY once more.
            (TimerKind::T322, n) if n.saturating_add(1) < N322 => {
                self.emit(env, &Out::StatusEnquiry { cref });
                self.bump_timer(env, vc, TimerKind::T322);
            }
            // T322 again: no STATUS; the call is cleared with #102 "322" (`signalling.md`).
            (TimerKind::T322, _) => {
                self.clear_with_release(env, vc, cause::RECOVERY_ON_TIMER_EXPIRY, Diag::NONE, Some(*b"322"));
            }
            // Not run per call (T309 is link-wide).
            (TimerKind::T309, _) => self.stop_timer(vc),
        }
    }

    pub(crate) fn bump_timer(&mut self, env: &impl Env<N>, vc: Token, kind: TimerKind) {
        self.start_timer(env, vc, kind);
        if let Some(v) = self.vcs.get_mut(vc)
            && let Some(t) = v.timer.as_mut()
        {
            t.expiries = t.expiries.saturating_add(1);
        }
    }
}
