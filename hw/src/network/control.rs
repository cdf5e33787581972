//! Network-side call control: Q.2931 / Q.2971 message handling, routing, timers, tester actions.

use std::collections::BTreeMap;
use std::time::Duration;

use super::call::{Answer, Call, CallState, Digits, Key, Leg, Party, PartyState, Timer};
use super::codec::ie::{self, Aal5, Bearer, Body, ConnectionId, EndpointRef, Ie, PartyNumber, Traffic, id};
use super::codec::q2931::{CallRef, Message, cause, location, mt};
use super::{CallRef as CallRefValue, Network, OfferParams, PendingRestart, PortId, SIG_VPI};

/// Cause #41, temporary failure (calls cleared by RESTART).
const TEMPORARY_FAILURE: u8 = 41;
/// Cause #45, no VPCI/VCI available.
const NO_VCI_AVAILABLE: u8 = 45;

/// IEs of a user's SETUP that the network passes on to the called user.
const FORWARDED_SETUP_IES: &[u8] = &[
    id::AAL,
    id::TRAFFIC,
    id::BEARER,
    id::QOS,
    id::BHLI,
    id::BLLI,
    id::CALLED,
    id::CALLED_SUB,
    id::CALLING,
    id::CALLING_SUB,
    id::USER_USER,
    0x42,
    0x81,
    0x82,
    0x84,
    0xe4,
    0xeb,
    0xec,
];

/// What to do with a message after looking at its IEs (Q.2931 §5.6.8).
enum Verdict {
    /// Handle it; optionally report with STATUS (cause, diagnostics).
    Proceed(Option<(u8, Vec<u8>)>),
    /// Drop it; optionally report.
    Discard(Option<(u8, Vec<u8>)>),
    /// Clear the call with this cause.
    Clear(u8, Vec<u8>),
}

/// The message call reference the network uses for a call `key`.
fn out_ref(key: Key) -> CallRef {
    CallRef { flag: !key.0, value: key.1 }
}

fn net_cause(value: u8, diag: &[u8]) -> Ie {
    Ie::cause(location::PUBLIC_LOCAL, value, diag)
}

fn digits(n: Option<&PartyNumber>) -> Vec<u8> {
    n.map(|n| n.digits.clone()).unwrap_or_default()
}

/// Is a mandatory IE missing (#96) or bad (#100)?
fn mandatory(msg: &Message, ids: &[u8]) -> Option<(u8, Vec<u8>)> {
    for &i in ids {
        match msg.ie(i) {
            None => return Some((cause::MANDATORY_IE_MISSING, vec![i])),
            Some(ie) if ie.invalid || matches!(ie.body, Body::Raw(_)) => {
                return Some((cause::INVALID_IE_CONTENTS, vec![i]));
            }
            Some(_) => {}
        }
    }
    None
}

fn check_ies(msg: &Message) -> Verdict {
    let mut report: Option<(u8, Vec<u8>)> = None;
    let mut discard = false;
    for ie in &msg.ies {
        let problem = if !ie.is_known() {
            cause::IE_NOT_IMPLEMENTED
        } else if ie.invalid && ie.instruction.action().is_some() {
            cause::INVALID_IE_CONTENTS
        } else {
            continue;
        };
        let note = |r: &mut Option<(u8, Vec<u8>)>| {
            let entry = r.get_or_insert((problem, Vec::new()));
            entry.1.push(ie.id);
        };
        match ie.instruction.action() {
            Some(ie::action::CLEAR_CALL) => return Verdict::Clear(problem, vec![ie.id]),
            Some(ie::action::DISCARD_IE) => {}
            Some(ie::action::DISCARD_MSG) => discard = true,
            Some(ie::action::DISCARD_MSG_REPORT) => {
                discard = true;
                note(&mut report);
            }
            // 2 (discard IE and report), reserved values, or no explicit instruction.
            _ => note(&mut report),
        }
    }
    if discard { Verdict::Discard(report) } else { Verdict::Proceed(report) }
}

impl Network {
    // ----- helpers ---------------------------------------------------------------------------

    fn send(&mut self, now: Duration, port: PortId, msg: &Message) {
        self.transmit(now, port, msg.emit());
    }

    fn call_mut(&mut self, port: PortId, key: Key) -> Option<&mut Call> {
        self.ports.get_mut(port)?.calls.get_mut(&key).map(|c| &mut **c)
    }

    fn alloc_vci(&mut self, port: PortId) -> Option<u16> {
        let p = self.ports.get_mut(port)?;
        for _ in 0..=u16::MAX {
            let v = p.next_vci;
            p.next_vci = if v == u16::MAX { super::FIRST_SVC_VCI } else { v + 1 };
            if v >= super::FIRST_SVC_VCI && p.used_vcs.insert((SIG_VPI, v)) {
                return Some(v);
            }
        }
        None
    }

    fn alloc_cref(&mut self, port: PortId) -> u32 {
        let Some(p) = self.ports.get_mut(port) else {
            return 0;
        };
        loop {
            let v = p.next_cref;
            p.next_cref = if v >= 0x7f_ffff { super::NETWORK_CREF_BASE } else { v + 1 };
            if !p.calls.contains_key(&(true, v)) {
                return v;
            }
        }
    }

    fn find_key(&self, port: PortId, value: u32) -> Option<Key> {
        let p = self.ports.get(port)?;
        [(true, value), (false, value)].into_iter().find(|k| p.calls.contains_key(k))
    }

    fn connect_vc(&mut self, a: (PortId, u16, u16), b: (PortId, u16, u16)) {
        for (x, y) in [(a, b), (b, a)] {
            let v = self.xconnect.entry(x).or_default();
            if !v.contains(&y) {
                v.push(y);
            }
        }
    }

    /// Removes every cross-connect to and from `x`. Cross-connects are made in pairs (`connect_vc`,
    /// `add_pvc`), so the VCs that send to `x` are exactly those `x` sends to: only their lists are
    /// touched, not every entry of the map.
    fn disconnect_vc(&mut self, x: (PortId, u16, u16)) {
        for y in self.xconnect.remove(&x).unwrap_or_default() {
            if let Some(v) = self.xconnect.get_mut(&y) {
                v.retain(|d| *d != x);
                if v.is_empty() {
                    self.xconnect.remove(&y);
                }
            }
        }
        if let Some(t) = self.terminated.get_mut(&x) {
            t.0 = false;
        }
    }

    fn terminate_vc(&mut self, x: (PortId, u16, u16)) {
        self.terminated.insert(x, (true, Vec::new()));
    }

    /// Forgets a call: frees its VC and data paths. Returns it, still boxed (moving a record out
    /// of its box reads all of it; dropping reads only what owns memory).
    fn destroy(&mut self, port: PortId, key: Key) -> Option<Box<Call>> {
        let call = self.ports.get_mut(port)?.calls.remove(&key)?;
        if call.vci != 0 {
            if let Some(p) = self.ports.get_mut(port) {
                p.used_vcs.remove(&(call.vpi, call.vci));
            }
            self.disconnect_vc((port, call.vpi, call.vci));
        }
        Some(call)
    }

    fn conn_id_ie(call: &Call) -> Ie {
        Ie::new(id::CONNECTION_ID, Body::ConnectionId(ConnectionId::exclusive(call.vpi, call.vci)))
    }

    fn endpoint_ie(value: u16, flag: bool) -> Ie {
        Ie::new(id::ENDPOINT_REF, Body::EndpointRef(EndpointRef { flag, value }))
    }

    fn send_status(&mut self, now: Duration, port: PortId, key: Key, value: u8, diag: &[u8], endpoint: Option<u16>) {
        let state = self.ports.get(port).and_then(|p| p.calls.get(&key)).map_or(0, |c| c.state.code());
        let mut m = Message::new(out_ref(key), mt::STATUS)
            .with(Ie::new(id::CALL_STATE, Body::CallState(state)))
            .with(net_cause(value, diag));
        if let Some(e) = endpoint {
            let pstate = self
                .ports
                .get(port)
                .and_then(|p| p.calls.get(&key))
                .and_then(|c| c.parties.get(&e))
                .map_or(0, |p| p.state.code());
            m = m.with(Self::endpoint_ie(e, true)).with(Ie::new(id::ENDPOINT_STATE, Body::EndpointState(pstate)));
        }
        self.send(now, port, &m);
    }

    fn release_complete(&mut self, now: Duration, port: PortId, cref: CallRef, c: Option<(u8, &[u8])>) {
        let mut m = Message::new(cref, mt::RELEASE_COMPLETE);
        if let Some((v, d)) = c {
            m = m.with(net_cause(v, d));
        }
        self.send(now, port, &m);
    }

    /// Clears the other legs of a call that is going away (or of one party).
    fn clear_legs(&mut self, now: Duration, call: &Call, causes: &[Ie], uu: Option<&Ie>) {
        self.clear_legs_of(now, &call.legs, call.root_endpoint, causes, uu);
    }

    /// [`Self::clear_legs`] given the call's legs and root endpoint.
    fn clear_legs_of(
        &mut self,
        now: Duration,
        legs: &BTreeMap<u16, Leg>,
        root_endpoint: Option<u16>,
        causes: &[Ie],
        uu: Option<&Ie>,
    ) {
        for leg in legs.values() {
            self.clear_leg(now, *leg, root_endpoint, causes, uu);
        }
    }

    /// Clears one routed leg at `leg`: a RELEASE to its user, or — for a multipoint root that
    /// keeps other parties — a DROP PARTY for `from_endpoint`.
    fn clear_leg(&mut self, now: Duration, leg: Leg, from_endpoint: Option<u16>, causes: &[Ie], uu: Option<&Ie>) {
        let t398 = now + self.timers.t398;
        let Some(call) = self.call_mut(leg.port, leg.key) else {
            return;
        };
        if matches!(call.state, CallState::N12 | CallState::N0) {
            return;
        }
        if let Some(e) = from_endpoint.filter(|e| call.parties.contains_key(e)) {
            call.legs.remove(&e);
            let others = call.parties.iter().any(|(k, p)| *k != e && p.state != PartyState::DropPartyInitiated);
            if others {
                // Drop one party of a multipoint call.
                if let Some(p) = call.parties.get_mut(&e) {
                    p.state = PartyState::DropPartyInitiated;
                    p.t398 = Some(t398);
                    p.answer_at = None;
                }
                let mut m = Message::new(out_ref(leg.key), mt::DROP_PARTY).with(Self::endpoint_ie(e, true));
                m.ies.extend(causes.iter().take(1).cloned());
                self.send(now, leg.port, &m);
                return;
            }
        }
        call.legs.clear();
        self.release_call(now, leg.port, leg.key, causes.to_vec(), Vec::new(), uu.cloned());
    }

    /// Sends RELEASE to the user of `key` (→ N12, T308) and clears the other legs.
    fn release_call(
        &mut self,
        now: Duration,
        port: PortId,
        key: Key,
        causes: Vec<Ie>,
        leg_causes: Vec<Ie>,
        uu: Option<Ie>,
    ) {
        let t308 = now + self.timers.t308;
        let Some(call) = self.call_mut(port, key) else {
            return;
        };
        let mut m = Message::new(out_ref(key), mt::RELEASE);
        m.ies.reserve_exact(causes.len() + usize::from(uu.is_some()));
        m.ies.extend(causes.iter().cloned());
        if let Some(u) = &uu {
            m.ies.push(u.clone());
        }
        call.state = CallState::N12;
        call.timer = Some((Timer::T308, t308, 0));
        call.t322 = None;
        let raw = m.emit();
        // Kept for the T308 retransmission.
        call.last_sent = Some(m);
        let legs = std::mem::take(&mut call.legs);
        let root_endpoint = call.root_endpoint;
        let vc = (port, call.vpi, call.vci);
        self.disconnect_vc(vc);
        self.transmit(now, port, raw);
        let leg_causes = if leg_causes.is_empty() { causes } else { leg_causes };
        self.clear_legs_of(now, &legs, root_endpoint, &leg_causes, uu.as_ref());
    }

    /// Error clearing ("clear call" action): RELEASE COMPLETE in N1, else RELEASE.
    fn clear_call(&mut self, now: Duration, port: PortId, key: Key, value: u8, diag: &[u8]) {
        let Some(call) = self.ports.get(port).and_then(|p| p.calls.get(&key)) else {
            return;
        };
        if call.state == CallState::N1 {
            if let Some(call) = self.destroy(port, key) {
                self.release_complete(now, port, out_ref(key), Some((value, diag)));
                self.clear_legs(now, &call, &[net_cause(value, diag)], None);
            }
        } else {
            self.release_call(now, port, key, vec![net_cause(value, diag)], Vec::new(), None);
        }
    }

    // ----- incoming signalling ---------------------------------------------------------------

    pub(crate) fn on_signalling(&mut self, now: Duration, port: PortId, sdu: Vec<u8>) {
        // Decoded once: the log keeps the SDU and a copy of what it decoded to.
        let parsed = Message::parse(&sdu).ok();
        self.record_parsed(now, port, super::Direction::FromUser, sdu, parsed.clone());
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
                        p.used_vcs.remove(&(SIG_VPI, vci));
                    }
                    return self.release_complete(now, port, cref, Some((cause::DESTINATION_OUT_OF_ORDER, &[])));
                }
                let Some(b_vci) = self.alloc_vci(b) else {
                    if let Some(p) = self.ports.get_mut(port) {
                        p.used_vcs.remove(&(SIG_VPI, vci));
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
                    p.calls.insert(key, Box::new(call));
                }
                if let Some(p) = self.ports.get_mut(b) {
                    p.calls.insert(b_key, Box::new(leaf));
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
                            p.used_vcs.remove(&(SIG_VPI, vci));
                        }
                        return self.release_complete(now, port, cref, Some((c, &[])));
                    }
                    Answer::Ignore => {
                        if let Some(p) = self.ports.get_mut(port) {
                            p.calls.insert(key, Box::new(call));
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
                            p.calls.insert(key, Box::new(call));
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
                            p.calls.insert(key, Box::new(call));
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
    fn routed_setup(&self, from: &Message, key: Key, leaf: &Call, calling_default: &[u8]) -> Message {
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

    fn causes_or_default(&self, msg: &Message) -> Vec<Ie> {
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
                    let mut m = Message::new(out_ref(leg.key), mt::ALERTING);
                    if !root.conn_id_sent {
                        root.conn_id_sent = true;
                        m = m.with(Self::conn_id_ie(root));
                    }
                    if let Some(e) = root_ep {
                        m = m.with(Self::endpoint_ie(e, true));
                    }
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
                    let mut m = Message::new(out_ref(leg.key), mt::CONNECT);
                    if !root.conn_id_sent {
                        root.conn_id_sent = true;
                        m = m.with(Self::conn_id_ie(root));
                    }
                    if let Some(e) = root_ep {
                        m = m.with(Self::endpoint_ie(e, true));
                    }
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

    fn on_add_party(&mut self, now: Duration, port: PortId, key: Key, msg: &Message) {
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
                    p.calls.insert(b_key, Box::new(leaf));
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
                if let Some((true, _)) = self.terminated.get(&(port, vpi, vci)) {
                } else {
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

    fn on_drop_party(&mut self, now: Duration, port: PortId, key: Key, msg: &Message) {
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

    // ----- global call reference -------------------------------------------------------------

    fn on_global(&mut self, now: Duration, port: PortId, msg: &Message) {
        let reply_ref = CallRef { flag: !msg.call_ref.flag, value: 0 };
        let status = |v: u8, d: &[u8]| {
            Message::new(reply_ref, mt::STATUS).with(Ie::new(id::CALL_STATE, Body::CallState(0))).with(net_cause(v, d))
        };
        match (msg.msg_type, msg.call_ref.flag) {
            // RESTART from the user: clear the indicated calls, acknowledge.
            (mt::RESTART, false) => {
                if let Some((c, d)) = mandatory(msg, &[id::RESTART]) {
                    return self.send(now, port, &status(c, &d));
                }
                let class = msg.restart_class().unwrap_or(2);
                let vc = msg.connection_id().map(|c| (c.vpci, c.vci));
                if class != 2 && vc.is_none() {
                    return self.send(now, port, &status(cause::MANDATORY_IE_MISSING, &[id::CONNECTION_ID]));
                }
                self.restart_calls(now, port, class, vc);
                if self.ports.get(port).is_some_and(|p| !p.behaviour.restart_ack) {
                    return;
                }
                let mut ack = Message::new(reply_ref, mt::RESTART_ACK);
                ack.ies.extend(msg.ies.iter().filter(|i| i.id == id::CONNECTION_ID || i.id == id::RESTART).cloned());
                self.send(now, port, &ack);
            }
            // RESTART ACK for our RESTART.
            (mt::RESTART_ACK, true) => {
                let Some(pending) = self.ports.get_mut(port).and_then(|p| p.restart.take()) else {
                    return;
                };
                let class = pending.msg.restart_class().unwrap_or(2);
                let vc = pending.msg.connection_id().map(|c| (c.vpci, c.vci));
                self.restart_calls(now, port, class, vc);
            }
            (mt::STATUS, _) => {}
            // Anything else on the global call reference (or a wrong flag).
            _ => self.send(now, port, &status(cause::INVALID_CALL_REF, &[])),
        }
    }

    /// Clears the calls a restart covers locally; their other legs get RELEASE #41.
    fn restart_calls(&mut self, now: Duration, port: PortId, class: u8, vc: Option<(u16, u16)>) {
        let keys: Vec<Key> = self
            .ports
            .get(port)
            .map(|p| {
                p.calls
                    .iter()
                    .filter(|(_, c)| match (class, vc) {
                        (2, _) => true,
                        (1, Some((vpi, _))) => c.vpi == vpi,
                        (_, Some(v)) => (c.vpi, c.vci) == v,
                        _ => false,
                    })
                    .map(|(k, _)| *k)
                    .collect()
            })
            .unwrap_or_default();
        for k in keys {
            if let Some(call) = self.destroy(port, k) {
                self.clear_legs(now, &call, &[net_cause(TEMPORARY_FAILURE, &[])], None);
            }
        }
    }

    // ----- link events -----------------------------------------------------------------------

    pub(crate) fn on_link_established(&mut self, port: PortId) {
        if let Some(p) = self.ports.get_mut(port) {
            p.t309 = None;
        }
    }

    /// SAAL released: calls not active are cleared (#27); active calls wait T309.
    pub(crate) fn on_link_released(&mut self, now: Duration, port: PortId) {
        let t309 = now + self.timers.t309;
        let Some(p) = self.ports.get_mut(port) else {
            return;
        };
        let gone: Vec<Key> = p.calls.iter().filter(|(_, c)| c.state != CallState::N10).map(|(k, _)| *k).collect();
        if p.calls.values().any(|c| c.state == CallState::N10) && p.t309.is_none() {
            p.t309 = Some(t309);
        }
        p.restart = None;
        for k in gone {
            if let Some(call) = self.destroy(port, k) {
                self.clear_legs(now, &call, &[net_cause(cause::DESTINATION_OUT_OF_ORDER, &[])], None);
            }
        }
    }

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
                keys.clear();
                keys.extend(p.calls.keys().copied());
                for &k in &keys {
                    if let Some(call) = self.destroy(port, k) {
                        self.clear_legs(now, &call, &[net_cause(cause::DESTINATION_OUT_OF_ORDER, &[])], None);
                    }
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
        keys.clear();
        keys.extend(self.ports.get(port).into_iter().flat_map(|p| p.calls.keys().copied()));
        for &key in &keys {
            self.run_timers_of(now, port, key);
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
                    let mut m = Message::new(out_ref(key), mt::CONNECT);
                    if !c.conn_id_sent {
                        c.conn_id_sent = true;
                        m = m.with(Self::conn_id_ie(c));
                    }
                    if let Some(e) = c.parties.keys().next() {
                        m = m.with(Self::endpoint_ie(*e, true));
                    }
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

    // ----- tester actions --------------------------------------------------------------------

    /// SETUP towards the user from a remote caller the network terminates itself.
    pub fn offer_call(&mut self, now: Duration, port: PortId, calling: &[u8], params: OfferParams) -> CallRefValue {
        self.now = now;
        let Some(address) = self.ports.get(port).map(|p| p.address.clone()) else {
            return 0;
        };
        let vci = match params.vci {
            Some(v) => {
                if let Some(p) = self.ports.get_mut(port) {
                    p.used_vcs.insert((params.vpi, v));
                }
                v
            }
            None => self.alloc_vci(port).unwrap_or(0),
        };
        let key = (true, self.alloc_cref(port));
        let mut call = Call::new(CallState::N6, params.vpi, vci);
        call.calling = Digits::from_slice(calling);
        call.called = Digits::from_slice(&address);
        call.terminated = true;
        call.conn_id_sent = true;
        let mut m = Message::new(out_ref(key), mt::SETUP)
            .with(Ie::new(
                id::AAL,
                Body::Aal5(Aal5 {
                    forward_max_sdu: Some(params.forward_max_sdu),
                    backward_max_sdu: Some(params.backward_max_sdu),
                    mode: None,
                    sscs_type: None,
                }),
            ))
            .with(Ie::new(
                id::TRAFFIC,
                Body::Traffic(Traffic {
                    rates: vec![(ie::traffic::FWD_PCR_01, params.pcr), (ie::traffic::BWD_PCR_01, params.pcr)],
                    best_effort: params.best_effort,
                    options: None,
                }),
            ))
            .with(Ie::new(
                id::BEARER,
                Body::Bearer(Bearer {
                    class: params.bearer_class,
                    transfer_cap: None,
                    clipping: 0,
                    upcc: u8::from(params.p2mp),
                }),
            ))
            .with(Ie::new(id::CALLED, Body::Called(PartyNumber::e164(&address))));
        if !calling.is_empty() {
            m = m.with(Ie::new(id::CALLING, Body::Calling(PartyNumber::e164(calling))));
        }
        m = m.with(Ie::new(id::QOS, Body::Qos(params.qos.0, params.qos.1))).with(Self::conn_id_ie(&call));
        if params.p2mp {
            m = m.with(Self::endpoint_ie(0, false));
        }
        if let Some(uu) = params.user_user {
            m = m.with(Ie::new(id::USER_USER, Body::UserUser(4, uu)));
        }
        m.ies.extend(params.extra_ies);
        call.last_sent = Some(m.clone());
        call.timer = Some((Timer::T303, now + self.timers.t303, 0));
        if let Some(p) = self.ports.get_mut(port) {
            p.calls.insert(key, Box::new(call));
        }
        self.send(now, port, &m);
        self.pump(now);
        key.1
    }

    /// RELEASE towards the user (the other legs of a routed call are released too).
    pub fn release(&mut self, now: Duration, port: PortId, call_ref: u32, cause_value: u8, user_user: Option<&[u8]>) {
        self.now = now;
        let uu = user_user.map(|d| Ie::new(id::USER_USER, Body::UserUser(4, d.to_vec())));
        match self.find_key(port, call_ref) {
            Some(key) => self.release_call(now, port, key, vec![net_cause(cause_value, &[])], Vec::new(), uu),
            None => {
                // No such call: send it anyway (the tester wants to see the user's answer).
                let mut m = Message::new(CallRef { flag: true, value: call_ref }, mt::RELEASE)
                    .with(net_cause(cause_value, &[]));
                if let Some(u) = uu {
                    m = m.with(u);
                }
                self.send(now, port, &m);
            }
        }
        self.pump(now);
    }

    /// DROP PARTY towards the (root) user; T398 runs until DROP PARTY ACK.
    pub fn drop_party(&mut self, now: Duration, port: PortId, call_ref: u32, endpoint: u16, cause_value: u8) {
        self.now = now;
        let t398 = now + self.timers.t398;
        let key = self.find_key(port, call_ref).unwrap_or((false, call_ref));
        if let Some(p) = self.call_mut(port, key).and_then(|c| c.parties.get_mut(&endpoint)) {
            p.state = PartyState::DropPartyInitiated;
            p.t398 = Some(t398);
        }
        let m = Message::new(out_ref(key), mt::DROP_PARTY)
            .with(Self::endpoint_ie(endpoint, true))
            .with(net_cause(cause_value, &[]));
        self.send(now, port, &m);
        self.pump(now);
    }

    /// RESTART towards the user: all VCs, or the indicated one. T316 runs until RESTART ACK.
    pub fn restart(&mut self, now: Duration, port: PortId, class_all: bool, vc: Option<(u16, u16)>) {
        self.now = now;
        let mut m = Message::new(CallRef::GLOBAL, mt::RESTART);
        if let Some((vpi, vci)) = vc {
            m = m.with(Ie::new(id::CONNECTION_ID, Body::ConnectionId(ConnectionId::exclusive(vpi, vci))));
        }
        m = m.with(Ie::new(id::RESTART, Body::Restart(if class_all { 2 } else { 0 })));
        if let Some(p) = self.ports.get_mut(port) {
            p.restart = Some(PendingRestart { msg: m.clone(), deadline: now + self.timers.t316, count: 0 });
        }
        self.send(now, port, &m);
        self.pump(now);
    }

    /// STATUS ENQUIRY towards the user; T322 runs until STATUS.
    pub fn status_enquiry(&mut self, now: Duration, port: PortId, call_ref: u32) {
        self.now = now;
        let t322 = now + self.timers.t322;
        let key = self.find_key(port, call_ref).unwrap_or((false, call_ref));
        if let Some(c) = self.call_mut(port, key) {
            c.t322 = Some((t322, 0));
        }
        self.send(now, port, &Message::new(out_ref(key), mt::STATUS_ENQUIRY));
        self.pump(now);
    }
}
