//! Point-to-multipoint legs (Q.2971): ADD PARTY and DROP PARTY.

use super::*;

impl Network {
    pub(super) fn on_add_party(&mut self, now: Duration, port: PortId, key: Key, msg: &Message) {
        let cref = out_ref(key);
        let Some(e) = msg.endpoint_ref().map(|e| e.value) else {
            return self.send_status(now, port, key, cause::MANDATORY_IE_MISSING, &[id::ENDPOINT_REF], None);
        };
        let reject = |v: u8, d: &[u8]| {
            Message::new(cref, mt::ADD_PARTY_REJECT).with(net_cause(v, d)).with(Self::endpoint_ie(e, true))
        };
        if let Some((c, d)) = mandatory(msg, &[id::CALLED]) {
            return self.send(now, port, &reject(c, &d));
        }
        let Some(call) = self.ports.get(port).and_then(|p| p.calls.get(&key)) else {
            return;
        };
        if call.parties.contains_key(&e) || call.parties.is_empty() {
            return self.send(now, port, &reject(cause::INVALID_ENDPOINT_REF, &[]));
        }
        let (vpi, vci, calling) = (call.vpi, call.vci, call.calling.clone());
        let called = digits(msg.called());
        let target = self.ports.iter().position(|p| p.address == called);
        let mut party = Party { state: PartyState::AddPartyReceived, leg: None, t398: None, answer_at: None };
        match target {
            Some(b) if self.ports.get(b).is_some_and(|p| p.phy_up) => {
                let Some(b_vci) = self.alloc_vci(b) else {
                    return self.send(now, port, &reject(NO_VCI_AVAILABLE, &[]));
                };
                let b_key = (true, self.alloc_cref(b));
                let mut leaf = Call::new(CallState::N6, SIG_VPI, b_vci);
                leaf.calling = Digits::from_slice(&calling);
                leaf.called = Digits::from_slice(&called);
                leaf.root_endpoint = Some(e);
                leaf.legs.insert(0, Leg { port, key });
                // The leaf's SETUP: the ADD PARTY's IEs plus the call's traffic parameters.
                let mut setup = self.routed_setup(msg, b_key, &leaf, &calling);
                for i in [id::BEARER, id::TRAFFIC, id::AAL, id::QOS] {
                    if setup.ie(i).is_none()
                        && let Some(ie) = self.setup_ie_of(port, key, i)
                    {
                        setup.ies.insert(0, ie);
                    }
                }
                leaf.last_sent = Some(setup.clone());
                leaf.timer = Some((Timer::T303, now + self.timers.t303, 0));
                party.leg = Some(Leg { port: b, key: b_key });
                if let Some(c) = self.call_mut(port, key) {
                    c.parties.insert(e, party);
                    c.legs.insert(e, Leg { port: b, key: b_key });
                }
                if let Some(p) = self.ports.get_mut(b) {
                    p.calls.insert(b_key, leaf);
                }
                self.send(now, b, &setup);
            }
            Some(_) => self.send(now, port, &reject(cause::DESTINATION_OUT_OF_ORDER, &[])),
            None => {
                let (answer, delay) = self
                    .ports
                    .get(port)
                    .map_or((Answer::Connect, Duration::ZERO), |p| (p.behaviour.add_party, p.behaviour.connect_delay));
                let ack = Message::new(cref, mt::ADD_PARTY_ACK).with(Self::endpoint_ie(e, true));
                let alert = Message::new(cref, mt::PARTY_ALERTING).with(Self::endpoint_ie(e, true));
                let reply = match answer {
                    Answer::Connect => {
                        party.state = PartyState::Active;
                        Some(ack)
                    }
                    Answer::Reject(c) => return self.send(now, port, &reject(c, &[])),
                    Answer::Ignore => None,
                    Answer::ProceedThenConnect | Answer::ProceedOnly => {
                        party.state = PartyState::PartyAlertDelivered;
                        if answer == Answer::ProceedThenConnect {
                            party.answer_at = Some(now + delay);
                        }
                        Some(alert)
                    }
                };
                if !self.vc((port, vpi, vci)).is_some_and(|v| v.terminated) {
                    self.terminate_vc((port, vpi, vci));
                }
                if let Some(c) = self.call_mut(port, key) {
                    c.parties.insert(e, party);
                }
                if let Some(m) = reply {
                    self.send(now, port, &m);
                }
            }
        }
    }

    /// An IE of the SETUP that created a call, for leaf SETUPs.
    fn setup_ie_of(&self, port: PortId, key: Key, ident: u8) -> Option<Ie> {
        let call = self.ports.get(port)?.calls.get(&key)?;
        call.setup_ies.iter().find(|i| i.id == ident).cloned()
    }

    pub(super) fn on_drop_party(&mut self, now: Duration, port: PortId, key: Key, msg: &Message) {
        let cref = out_ref(key);
        let Some(e) = msg.endpoint_ref().map(|e| e.value) else {
            return self.send_status(now, port, key, cause::MANDATORY_IE_MISSING, &[id::ENDPOINT_REF], None);
        };
        let ack =
            |v: u8| Message::new(cref, mt::DROP_PARTY_ACK).with(Self::endpoint_ie(e, true)).with(net_cause(v, &[]));
        let knob = self.ports.get(port).is_none_or(|p| p.behaviour.drop_party_ack);
        let Some(c) = self.call_mut(port, key) else {
            return;
        };
        if !c.parties.contains_key(&e) {
            return self.send(now, port, &ack(cause::INVALID_ENDPOINT_REF));
        }
        if !knob {
            if let Some(p) = c.parties.get_mut(&e) {
                p.state = PartyState::DropPartyReceived;
            }
            return;
        }
        c.parties.remove(&e);
        let leg = c.legs.remove(&e);
        self.send(now, port, &ack(cause::NORMAL_CLEARING));
        if let Some(leg) = leg {
            let causes = self.causes_or_default(msg);
            self.clear_leg(now, leg, None, &causes, None);
        }
    }
}
