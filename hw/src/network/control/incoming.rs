//! Incoming signalling: decoding, IE checks, unknown call references, SETUP and the
//! messages of a call (ALERTING, CONNECT, RELEASE) per call state.

use super::*;

impl Network {
    // ----- incoming signalling ---------------------------------------------------------------

    pub(crate) fn on_signalling(&mut self, now: Duration, port: PortId, sdu: Vec<u8>) {
        // Decoded once: the log keeps the SDU and a copy of what it decoded to.
        let parsed = Message::parse(&sdu).ok();
        self.record_parsed(now, port, super::super::Direction::FromUser, sdu, parsed.clone());
        // Undecodable (discriminator, call reference length, short, broken IE framing): ignored.
        let Some(msg) = parsed else { return };
        if msg.call_ref.is_global() {
            self.on_global(now, port, &msg);
            return;
        }
        let key: Key = (msg.call_ref.flag, msg.call_ref.value);
        let existing = self.ports.get(port).and_then(|p| p.calls.get(&key)).map(|c| (c.state, c.ignoring_release));
        // A new SETUP replaces a call the network pretended not to hear being released.
        let existing = match existing {
            Some((CallState::N11, true)) if msg.msg_type == mt::SETUP => {
                self.destroy(port, key);
                None
            }
            e => e,
        };
        if !mt::is_known(msg.msg_type) {
            self.on_unknown_type(now, port, key, existing.is_some(), &msg);
            return;
        }
        if existing.is_none() {
            self.on_unknown_call(now, port, key, &msg);
            return;
        }
        match check_ies(&msg) {
            Verdict::Clear(c, d) => {
                self.clear_call(now, port, key, c, &d);
                return;
            }
            Verdict::Discard(report) => {
                if let Some((c, d)) = report {
                    self.send_status(now, port, key, c, &d, None);
                }
                return;
            }
            Verdict::Proceed(Some((c, d))) => self.send_status(now, port, key, c, &d, None),
            Verdict::Proceed(None) => {}
        }
        self.on_call_message(now, port, key, &msg);
    }

    fn on_unknown_type(&mut self, now: Duration, port: PortId, key: Key, exists: bool, msg: &Message) {
        match (exists, msg.action()) {
            // Explicit "discard and ignore".
            (_, Some(1)) => {}
            // Unknown call reference: as any other message there.
            (false, _) => self.release_complete(now, port, out_ref(key), Some((cause::INVALID_CALL_REF, &[]))),
            // Explicit "clear call".
            (true, Some(0)) => self.clear_call(now, port, key, cause::MESSAGE_TYPE_NOT_IMPLEMENTED, &[msg.msg_type]),
            // "Discard and report", or no instruction: STATUS #97.
            (true, _) => self.send_status(now, port, key, cause::MESSAGE_TYPE_NOT_IMPLEMENTED, &[msg.msg_type], None),
        }
    }

    fn on_unknown_call(&mut self, now: Duration, port: PortId, key: Key, msg: &Message) {
        match msg.msg_type {
            // A new call from the user (user-allocated reference).
            mt::SETUP if !key.0 => self.on_setup(now, port, key, msg),
            // Nothing to complete.
            mt::RELEASE_COMPLETE => {}
            mt::STATUS_ENQUIRY if self.ports.get(port).is_some_and(|p| !p.behaviour.status_reply) => {}
            mt::STATUS_ENQUIRY => self.send_status(now, port, key, cause::RESPONSE_TO_STATUS_ENQUIRY, &[], None),
            mt::STATUS if msg.call_state() == Some(0) => {}
            mt::STATUS => {
                self.release_complete(now, port, out_ref(key), Some((cause::MESSAGE_NOT_COMPATIBLE_WITH_STATE, &[])))
            }
            _ => self.release_complete(now, port, out_ref(key), Some((cause::INVALID_CALL_REF, &[]))),
        }
    }

    fn on_setup(&mut self, now: Duration, port: PortId, key: Key, msg: &Message) {
        let cref = out_ref(key);
        let report = match check_ies(msg) {
            Verdict::Clear(c, d) => return self.release_complete(now, port, cref, Some((c, &d))),
            Verdict::Discard(_) => return,
            Verdict::Proceed(r) => r,
        };
        if let Some((c, d)) = mandatory(msg, &[id::BEARER, id::TRAFFIC, id::CALLED]) {
            return self.release_complete(now, port, cref, Some((c, &d)));
        }
        let Some(vci) = self.alloc_vci(port) else {
            return self.release_complete(now, port, cref, Some((NO_VCI_AVAILABLE, &[])));
        };
        let called = digits(msg.called());
        let own = self.ports.get(port).map(|p| p.address.clone()).unwrap_or_default();
        let calling = msg.calling().map_or(own.clone(), |n| n.digits.clone());
        let endpoint = msg.endpoint_ref().map(|e| e.value);
        let mut call = Call::new(CallState::N1, SIG_VPI, vci);
        call.calling = Digits::from_slice(&calling);
        call.called = Digits::from_slice(&called);
        call.setup_ies =
            msg.ies.iter().filter(|i| [id::BEARER, id::TRAFFIC, id::AAL, id::QOS].contains(&i.id)).cloned().collect();
        if let Some(e) = endpoint {
            call.parties
                .insert(e, Party { state: PartyState::AddPartyReceived, leg: None, t398: None, answer_at: None });
        }
        let target = self.ports.iter().position(|p| p.address == called);
        let proceeding = |call: &Call| {
            let mut m = Message::new(cref, mt::CALL_PROCEEDING).with(Self::conn_id_ie(call));
            if let Some(e) = endpoint {
                m = m.with(Self::endpoint_ie(e, true));
            }
            m
        };
        match target {
            Some(b) => {
                if !self.ports.get(b).is_some_and(|p| p.phy_up) {
                    if let Some(p) = self.ports.get_mut(port) {
                        p.vcs.release(SIG_VPI, vci);
                    }
                    return self.release_complete(now, port, cref, Some((cause::DESTINATION_OUT_OF_ORDER, &[])));
                }
                let Some(b_vci) = self.alloc_vci(b) else {
                    if let Some(p) = self.ports.get_mut(port) {
                        p.vcs.release(SIG_VPI, vci);
                    }
                    return self.release_complete(now, port, cref, Some((NO_VCI_AVAILABLE, &[])));
                };
                let b_key = (true, self.alloc_cref(b));
                let mut leaf = Call::new(CallState::N6, SIG_VPI, b_vci);
                leaf.calling = Digits::from_slice(&calling);
                leaf.called = Digits::from_slice(&called);
                leaf.root_endpoint = endpoint;
                leaf.legs.insert(0, Leg { port, key });
                let setup = self.routed_setup(msg, b_key, &leaf, &own);
                leaf.last_sent = Some(setup.clone());
                leaf.timer = Some((Timer::T303, now + self.timers.t303, 0));
                leaf.conn_id_sent = true;
                call.legs.insert(endpoint.unwrap_or(0), Leg { port: b, key: b_key });
                if let Some(p) = endpoint.and_then(|e| call.parties.get_mut(&e)) {
                    p.leg = Some(Leg { port: b, key: b_key });
                }
                call.state = CallState::N3;
                call.conn_id_sent = true;
                let m = proceeding(&call);
                if let Some(p) = self.ports.get_mut(port) {
                    p.calls.insert(key, call);
                }
                if let Some(p) = self.ports.get_mut(b) {
                    p.calls.insert(b_key, leaf);
                }
                self.send(now, port, &m);
                self.send(now, b, &setup);
            }
            None => {
                call.terminated = true;
                let answer = self.ports.get(port).map_or(Answer::Connect, |p| p.behaviour.answer);
                let delay = self.ports.get(port).map_or(Duration::ZERO, |p| p.behaviour.connect_delay);
                match answer {
                    Answer::Reject(c) => {
                        if let Some(p) = self.ports.get_mut(port) {
                            p.vcs.release(SIG_VPI, vci);
                        }
                        return self.release_complete(now, port, cref, Some((c, &[])));
                    }
                    Answer::Ignore => {
                        if let Some(p) = self.ports.get_mut(port) {
                            p.calls.insert(key, call);
                        }
                    }
                    Answer::Connect => {
                        call.state = CallState::N10;
                        call.conn_id_sent = true;
                        for p in call.parties.values_mut() {
                            p.state = PartyState::Active;
                        }
                        let mut m = Message::new(cref, mt::CONNECT).with(Self::conn_id_ie(&call));
                        if let Some(e) = endpoint {
                            m = m.with(Self::endpoint_ie(e, true));
                        }
                        self.terminate_vc((port, SIG_VPI, vci));
                        if let Some(p) = self.ports.get_mut(port) {
                            p.calls.insert(key, call);
                        }
                        self.send(now, port, &m);
                    }
                    Answer::ProceedThenConnect | Answer::ProceedOnly => {
                        call.state = CallState::N3;
                        call.conn_id_sent = true;
                        if answer == Answer::ProceedThenConnect {
                            call.timer = Some((Timer::Answer, now + delay, 0));
                        }
                        let m = proceeding(&call);
                        self.terminate_vc((port, SIG_VPI, vci));
                        if let Some(p) = self.ports.get_mut(port) {
                            p.calls.insert(key, call);
                        }
                        self.send(now, port, &m);
                    }
                }
            }
        }
        if let Some((c, d)) = report {
            self.send_status(now, port, key, c, &d, None);
        }
    }

    /// The SETUP the network offers the called user of a routed call.
    pub(super) fn routed_setup(&self, from: &Message, key: Key, leaf: &Call, calling_default: &[u8]) -> Message {
        let mut m = Message::new(out_ref(key), mt::SETUP);
        m.ies.extend(from.ies.iter().filter(|i| FORWARDED_SETUP_IES.contains(&i.id)).cloned());
        if from.ie(id::CALLING).is_none() {
            m.ies.push(Ie::new(id::CALLING, Body::Calling(PartyNumber::e164(calling_default))));
        }
        m.ies.push(Self::conn_id_ie(leaf));
        if leaf.root_endpoint.is_some() {
            m.ies.push(Self::endpoint_ie(0, false));
        }
        m
    }

    fn on_call_message(&mut self, now: Duration, port: PortId, key: Key, msg: &Message) {
        let Some(call) = self.ports.get(port).and_then(|p| p.calls.get(&key)) else {
            return;
        };
        let state = call.state;
        use CallState::*;
        match (msg.msg_type, state) {
            // The called user is working on our SETUP.
            (mt::CALL_PROCEEDING, N6) => {
                let t310 = now + self.timers.t310;
                if let Some(c) = self.call_mut(port, key) {
                    c.state = N9;
                    c.timer = Some((Timer::T310, t310, 0));
                }
            }
            // The called user is alerting: tell the caller.
            (mt::ALERTING, N6 | N9) => self.on_alerting(now, port, key),
            // The called user answers.
            (mt::CONNECT, N6 | N7 | N9) => self.on_connect(now, port, key),
            // The caller acknowledges our CONNECT: nothing more to do.
            (mt::CONNECT_ACK, _) => {}
            // Clear collision: both sides sent RELEASE; the call is gone, no RELEASE COMPLETE.
            (mt::RELEASE, N12) => {
                self.destroy(port, key);
            }
            // Knob "release_complete = false": the network keeps quiet.
            (mt::RELEASE, N11) => {}
            // The user clears.
            (mt::RELEASE, _) => self.on_release(now, port, key, msg),
            // RELEASE COMPLETE clears in any state.
            (mt::RELEASE_COMPLETE, _) => {
                if let Some(call) = self.destroy(port, key) {
                    let causes = self.causes_or_default(msg);
                    self.clear_legs(now, &call, &causes, msg.ie(id::USER_USER));
                }
            }
            (mt::STATUS_ENQUIRY, _) if self.ports.get(port).is_some_and(|p| !p.behaviour.status_reply) => {}
            (mt::STATUS_ENQUIRY, _) => {
                let e = msg.endpoint_ref().map(|e| e.value);
                self.send_status(now, port, key, cause::RESPONSE_TO_STATUS_ENQUIRY, &[], e);
            }
            (mt::STATUS, _) => {
                if let Some(c) = self.call_mut(port, key) {
                    c.t322 = None;
                }
                // The user has no such call: clear ours.
                if msg.call_state() == Some(0)
                    && let Some(call) = self.destroy(port, key)
                {
                    self.clear_legs(now, &call, &[net_cause(cause::MESSAGE_NOT_COMPATIBLE_WITH_STATE, &[])], None);
                }
            }
            // A retransmitted SETUP for a call we know.
            (mt::SETUP, _) => {}
            (mt::ADD_PARTY, N10) => self.on_add_party(now, port, key, msg),
            (mt::DROP_PARTY, _) => self.on_drop_party(now, port, key, msg),
            (mt::DROP_PARTY_ACK, _) => {
                let Some(e) = msg.endpoint_ref().map(|e| e.value) else {
                    return;
                };
                let Some(c) = self.call_mut(port, key) else {
                    return;
                };
                c.parties.remove(&e);
                let leg = c.legs.remove(&e);
                if let Some(leg) = leg {
                    let causes = self.causes_or_default(msg);
                    self.clear_leg(now, leg, None, &causes, None);
                }
            }
            (mt::NOTIFY, _) => {}
            // Everything else is out of place here: STATUS #101.
            (t, _) => {
                let e = msg.endpoint_ref().map(|e| e.value);
                self.send_status(now, port, key, cause::MESSAGE_NOT_COMPATIBLE_WITH_STATE, &[t], e);
            }
        }
    }

    pub(super) fn causes_or_default(&self, msg: &Message) -> Vec<Ie> {
        let causes: Vec<Ie> = msg.ies.iter().filter(|i| matches!(i.body, Body::Cause(_))).cloned().collect();
        if causes.is_empty() { vec![net_cause(cause::NORMAL_CLEARING, &[])] } else { causes }
    }

    fn on_alerting(&mut self, now: Duration, port: PortId, key: Key) {
        let Some(c) = self.call_mut(port, key) else {
            return;
        };
        c.state = CallState::N7;
        c.timer = None;
        let (legs, root_ep) = (c.legs.clone(), c.root_endpoint);
        for leg in legs.values() {
            let Some(root) = self.call_mut(leg.port, leg.key) else {
                continue;
            };
            match (root.state, root_ep) {
                (CallState::N1 | CallState::N3, _) => {
                    root.state = CallState::N4;
                    let m = Self::to_caller(root, leg.key, mt::ALERTING, root_ep);
                    self.send(now, leg.port, &m);
                }
                (CallState::N10, Some(e)) => {
                    if let Some(p) = root.parties.get_mut(&e) {
                        p.state = PartyState::PartyAlertDelivered;
                    }
                    let m = Message::new(out_ref(leg.key), mt::PARTY_ALERTING).with(Self::endpoint_ie(e, true));
                    self.send(now, leg.port, &m);
                }
                _ => {}
            }
        }
    }

    fn on_connect(&mut self, now: Duration, port: PortId, key: Key) {
        let Some(c) = self.call_mut(port, key) else {
            return;
        };
        c.state = CallState::N10;
        c.timer = None;
        // T303 is over: the SETUP kept for its retransmission goes now, not with the call.
        c.last_sent = None;
        let (legs, root_ep, terminated, vc) = (c.legs.clone(), c.root_endpoint, c.terminated, (port, c.vpi, c.vci));
        if self.ports.get(port).is_none_or(|p| p.behaviour.connect_ack) {
            self.send(now, port, &Message::new(out_ref(key), mt::CONNECT_ACK));
        }
        if terminated {
            self.terminate_vc(vc);
        }
        for leg in legs.values() {
            let Some(root) = self.call_mut(leg.port, leg.key) else {
                continue;
            };
            let root_vc = (leg.port, root.vpi, root.vci);
            match (root.state, root_ep) {
                // A further party of an active multipoint call: ADD PARTY ACK.
                (CallState::N10, Some(e)) => {
                    if let Some(p) = root.parties.get_mut(&e) {
                        p.state = PartyState::Active;
                    }
                    let m = Message::new(out_ref(leg.key), mt::ADD_PARTY_ACK).with(Self::endpoint_ie(e, true));
                    self.send(now, leg.port, &m);
                    self.connect_vc(root_vc, vc);
                }
                // The first (or only) party: CONNECT to the caller.
                (CallState::N1 | CallState::N3 | CallState::N4, _) => {
                    root.state = CallState::N10;
                    if let Some(p) = root_ep.and_then(|e| root.parties.get_mut(&e)) {
                        p.state = PartyState::Active;
                    }
                    let m = Self::to_caller(root, leg.key, mt::CONNECT, root_ep);
                    self.send(now, leg.port, &m);
                    self.connect_vc(root_vc, vc);
                }
                _ => {}
            }
        }
    }

    fn on_release(&mut self, now: Duration, port: PortId, key: Key, msg: &Message) {
        let answer = self.ports.get(port).is_none_or(|p| p.behaviour.release_complete);
        let causes = self.causes_or_default(msg);
        let uu = msg.ie(id::USER_USER).cloned();
        if !answer {
            let Some(c) = self.call_mut(port, key) else {
                return;
            };
            c.state = CallState::N11;
            c.ignoring_release = true;
            c.timer = None;
            c.t322 = None;
            let (legs, root_endpoint, vc) = (std::mem::take(&mut c.legs), c.root_endpoint, (port, c.vpi, c.vci));
            self.disconnect_vc(vc);
            self.clear_legs_of(now, &legs, root_endpoint, &causes, uu.as_ref());
            return;
        }
        let problem = match msg.ie(id::CAUSE) {
            None => Some((cause::MANDATORY_IE_MISSING, vec![id::CAUSE])),
            Some(i) if !matches!(i.body, Body::Cause(_)) => Some((cause::INVALID_IE_CONTENTS, vec![id::CAUSE])),
            Some(_) => None,
        };
        if let Some(call) = self.destroy(port, key) {
            self.release_complete(now, port, out_ref(key), problem.as_ref().map(|(c, d)| (*c, d.as_slice())));
            self.clear_legs(now, &call, &causes, uu.as_ref());
        }
    }
}
