//! Timers: the Q.2110 §7.5 start/stop macros and what each expiry does.

use super::*;

impl Sscop {
    // ----- timers (Q.2110 §7.5 macros) -----

    pub(super) fn after(&self, now: Duration, d: Duration) -> Duration {
        let _ = self;
        now.checked_add(d).unwrap_or(Duration::MAX)
    }

    pub(super) fn start_cc(&mut self, now: Duration) {
        self.cc_at = Some(self.after(now, self.cfg.timer_cc));
    }

    pub(super) fn start_nr(&mut self, now: Duration) {
        self.nr_at = Some(self.after(now, self.cfg.timer_noresponse));
    }

    pub(super) fn start_poll(&mut self, now: Duration, kind: PollTimer) {
        let d = match kind {
            PollTimer::Poll => self.cfg.timer_poll,
            PollTimer::KeepAlive => self.cfg.timer_keepalive,
            PollTimer::Idle => self.cfg.timer_idle,
        };
        self.poll_at = Some((kind, self.after(now, d)));
    }

    pub(super) fn poll_kind(&self) -> Option<PollTimer> {
        self.poll_at.map(|(k, _)| k)
    }

    /// Set_Poll_Timer: KEEP-ALIVE when nothing is outstanding or waiting, else POLL.
    pub(super) fn set_poll_timer(&mut self, now: Duration) {
        if self.txq.len() == 0 {
            self.start_poll(now, PollTimer::KeepAlive);
        } else {
            self.start_poll(now, PollTimer::Poll);
        }
    }

    pub(super) fn set_data_transfer_timers(&mut self, now: Duration) {
        self.start_poll(now, PollTimer::Poll);
        self.start_nr(now);
    }

    pub(super) fn reset_data_transfer_timers(&mut self) {
        self.poll_at = None;
        self.nr_at = None;
    }

    pub(super) fn stop_all_timers(&mut self) {
        self.cc_at = None;
        self.reset_data_transfer_timers();
    }

    /// Runs every timer that has expired by `now`, earliest first.
    pub fn on_timer<T, U>(&mut self, now: Duration, tx: &mut T, up: &mut U)
    where
        T: FnMut(&[u8]),
        U: FnMut(Indication<'_>),
    {
        for _ in 0..16 {
            let due = [
                self.nr_at.map(|at| (at, Timer::NoResponse)),
                self.cc_at.map(|at| (at, Timer::Cc)),
                self.poll_at.map(|(k, at)| (at, Timer::Poll(k))),
            ]
            .into_iter()
            .flatten()
            .filter(|(at, _)| *at <= now)
            .min_by_key(|(at, _)| *at);
            let Some((_, timer)) = due else { break };
            self.on_expiry(now, timer, tx, up);
            if self.state == State::DataTransferReady {
                self.pump(now, tx);
            }
        }
    }

    pub(super) fn on_expiry<T, U>(&mut self, now: Duration, timer: Timer, tx: &mut T, up: &mut U)
    where
        T: FnMut(&[u8]),
        U: FnMut(Indication<'_>),
    {
        use State as S;
        match (self.state, timer) {
            // 2 and 7, Timer_CC with MaxCC reached: END (S=1), → 1, AA-RELEASE.indication.
            (S::OutgoingConnectionPending | S::OutgoingRecoveryPending, Timer::Cc) if self.vt_cc >= self.cfg.max_cc => {
                self.send_end(true, tx);
                self.enter_idle(Indication::ReleaseIndication(ReleaseCause::ConnectionTimeout), up);
            }
            // 2, Timer_CC: repeat BGN (up to MaxCC).
            (S::OutgoingConnectionPending, Timer::Cc) => {
                self.vt_cc = self.vt_cc.saturating_add(1);
                self.send_bgn(tx);
                self.start_cc(now);
            }
            // 4, Timer_CC: repeat END up to MaxCC, then → 1, AA-RELEASE.confirm.
            (S::OutgoingDisconnectionPending, Timer::Cc) => {
                if self.vt_cc >= self.cfg.max_cc {
                    self.enter_idle(Indication::ReleaseConfirm, up);
                } else {
                    self.vt_cc = self.vt_cc.saturating_add(1);
                    self.send_end(self.end_source, tx);
                    self.start_cc(now);
                }
            }
            // 7, Timer_CC: repeat ER (up to MaxCC).
            (S::OutgoingRecoveryPending, Timer::Cc) => {
                self.vt_cc = self.vt_cc.saturating_add(1);
                self.send_er(tx);
                self.start_cc(now);
            }
            // 10, Timer_POLL / Timer_KEEP-ALIVE: POLL, then POLL or KEEP-ALIVE again.
            (S::DataTransferReady, Timer::Poll(PollTimer::Poll | PollTimer::KeepAlive)) => {
                self.send_poll(tx);
                self.set_poll_timer(now);
            }
            // 10, Timer_IDLE: POLL, back to polling under NO-RESPONSE.
            (S::DataTransferReady, Timer::Poll(PollTimer::Idle)) => {
                self.start_nr(now);
                self.send_poll(tx);
                self.set_poll_timer(now);
            }
            // 10, Timer_NO-RESPONSE (MAA-ERROR P): END (S=1), → 1, AA-RELEASE.indication.
            (S::DataTransferReady, Timer::NoResponse) => {
                self.send_end(true, tx);
                self.enter_idle(Indication::ReleaseIndication(ReleaseCause::NoResponse), up);
            }
            // A timer that has no meaning in this state (cannot stay armed across the state
            // changes above, but a stale one is simply stopped).
            (_, Timer::Cc) => self.cc_at = None,
            (_, Timer::NoResponse) => self.nr_at = None,
            (_, Timer::Poll(_)) => self.poll_at = None,
        }
    }
}
