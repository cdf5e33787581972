//! Timers, run per port: T309 (link lost), T316 (RESTART), and per call T303, T308, T310,
//! T398 (DROP PARTY) and delayed answers.

use super::*;

impl Network {
    // ----- timers ----------------------------------------------------------------------------

    pub(crate) fn run_call_timers(&mut self, now: Duration, port: PortId) {
        let mut keys = std::mem::take(&mut self.keys);
        let Some(p) = self.ports.get_mut(port) else {
            self.keys = keys;
            return;
        };
        // T309: the link did not come back; clear what survived.
        if p.t309.is_some_and(|d| d <= now) {
            p.t309 = None;
            if !p.sscop.is_ready() {
                // Every call, in key order (clearing legs adds none).
                while let Some((_, call)) = self.ports.get_mut(port).and_then(|p| p.calls.pop_first()) {
                    self.free_vc_of(port, &call);
                    self.clear_legs(now, &call, &[net_cause(cause::DESTINATION_OUT_OF_ORDER, &[])], None);
                }
            }
        }
        // T316: resend RESTART once, then give up and clear locally.
        let t316 = self.timers.t316;
        if let Some(p) = self.ports.get_mut(port)
            && let Some(r) = p.restart.as_mut().filter(|r| r.deadline <= now)
        {
            if r.count == 0 {
                r.count = 1;
                r.deadline = now + t316;
                let m = r.msg.clone();
                self.send(now, port, &m);
            } else if let Some(r) = p.restart.take() {
                let class = r.msg.restart_class().unwrap_or(2);
                let vc = r.msg.connection_id().map(|c| (c.vpci, c.vci));
                self.restart_calls(now, port, class, vc);
            }
        }
        // The calls with a timer due, from the port's timer index, in key order (the order a walk
        // of every call ran them in). A call that a due one makes due at this same instant (a
        // zero timer) runs in this walk too if its key comes later, as in a walk of every call.
        let mut after = None;
        loop {
            match self.ports.get_mut(port) {
                Some(p) => p.calls.due(now, after, &mut keys),
                None => keys.clear(),
            }
            let Some(&last) = keys.last() else {
                break;
            };
            for &key in &keys {
                self.run_timers_of(now, port, key);
            }
            after = Some(last);
        }
        self.keys = keys;
    }

    fn run_timers_of(&mut self, now: Duration, port: PortId, key: Key) {
        let timers = self.timers;
        let Some(c) = self.call_mut(port, key) else {
            return;
        };
        if let Some((timer, deadline, count)) = c.timer.filter(|t| t.1 <= now) {
            let _ = deadline;
            match (timer, count) {
                // T303 first expiry: SETUP once more.
                (Timer::T303, 0) => {
                    c.timer = Some((Timer::T303, now + timers.t303, 1));
                    if let Some(m) = c.last_sent.clone() {
                        self.send(now, port, &m);
                    }
                }
                // T303 second expiry: no answer; the caller hears #18.
                (Timer::T303, _) => self.release_call(
                    now,
                    port,
                    key,
                    vec![net_cause(cause::RECOVERY_ON_TIMER_EXPIRY, b"303")],
                    vec![net_cause(cause::NO_USER_RESPONDING, &[])],
                    None,
                ),
                // T310: CALL PROCEEDING but nothing more.
                (Timer::T310, _) => self.release_call(
                    now,
                    port,
                    key,
                    vec![net_cause(cause::RECOVERY_ON_TIMER_EXPIRY, b"310")],
                    vec![net_cause(cause::NO_USER_RESPONDING, &[])],
                    None,
                ),
                // T308 first expiry: RELEASE again, with #102 "308" as second cause.
                (Timer::T308, 0) => {
                    c.timer = Some((Timer::T308, now + timers.t308, 1));
                    if let Some(mut m) = c.last_sent.clone() {
                        if m.causes().len() < 2 {
                            let at = m.ies.iter().rposition(|i| i.id == id::CAUSE).map_or(0, |p| p + 1);
                            m.ies.insert(at, net_cause(cause::RECOVERY_ON_TIMER_EXPIRY, b"308"));
                        }
                        self.send(now, port, &m);
                    }
                }
                // T308 second expiry: the call is gone.
                (Timer::T308, _) => {
                    self.destroy(port, key);
                }
                // The delayed CONNECT of ProceedThenConnect.
                (Timer::Answer, _) => {
                    c.timer = None;
                    c.state = CallState::N10;
                    for p in c.parties.values_mut() {
                        p.state = PartyState::Active;
                    }
                    let endpoint = c.parties.keys().next().copied();
                    let m = Self::to_caller(c, key, mt::CONNECT, endpoint);
                    let vc = (port, c.vpi, c.vci);
                    self.terminate_vc(vc);
                    self.send(now, port, &m);
                }
            }
        }
        let Some(c) = self.call_mut(port, key) else {
            return;
        };
        if let Some((_, count)) = c.t322.filter(|t| t.0 <= now) {
            if count == 0 {
                c.t322 = Some((now + timers.t322, 1));
                self.send(now, port, &Message::new(out_ref(key), mt::STATUS_ENQUIRY));
            } else {
                c.t322 = None;
                self.release_call(
                    now,
                    port,
                    key,
                    vec![net_cause(cause::RECOVERY_ON_TIMER_EXPIRY, b"322")],
                    Vec::new(),
                    None,
                );
            }
        }
        let Some(c) = self.call_mut(port, key) else {
            return;
        };
        let due: Vec<u16> = c
            .parties
            .iter()
            .filter(|(_, p)| p.t398.is_some_and(|d| d <= now) || p.answer_at.is_some_and(|d| d <= now))
            .map(|(e, _)| *e)
            .collect();
        for e in due {
            let Some(c) = self.call_mut(port, key) else {
                return;
            };
            let Some(p) = c.parties.get_mut(&e) else {
                continue;
            };
            if p.t398.is_some_and(|d| d <= now) {
                // T398: no DROP PARTY ACK; the party is gone anyway.
                c.parties.remove(&e);
                c.legs.remove(&e);
            } else {
                // Delayed ADD PARTY ACK.
                p.answer_at = None;
                p.state = PartyState::Active;
                let m = Message::new(out_ref(key), mt::ADD_PARTY_ACK).with(Self::endpoint_ie(e, true));
                self.send(now, port, &m);
            }
        }
    }
}
