//! Network-side call control: Q.2931 / Q.2971 message handling, routing, timers, tester actions.

use std::collections::BTreeMap;
use std::time::Duration;

use super::call::{Answer, Call, CallState, Digits, Gone, Key, Leg, Party, PartyState, Timer};
use super::codec::ie::{self, Aal5, Bearer, Body, ConnectionId, EndpointRef, Ie, PartyNumber, Traffic, id};
use super::codec::q2931::{CallRef, Message, cause, location, mt};
use super::{CallRef as CallRefValue, Network, OfferParams, PendingRestart, PortId, SIG_VPI};

mod actions;
mod incoming;
mod p2mp;
mod restart;
mod timers;

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
        self.ports.get_mut(port)?.calls.get_mut(&key)
    }

    fn alloc_vci(&mut self, port: PortId) -> Option<u16> {
        let p = self.ports.get_mut(port)?;
        for _ in 0..=u16::MAX {
            let v = p.next_vci;
            p.next_vci = if v == u16::MAX { super::FIRST_SVC_VCI } else { v + 1 };
            if v >= super::FIRST_SVC_VCI && p.vcs.claim(SIG_VPI, v) {
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

    /// Forgets a call: frees its VC and data paths. Returns what clearing its legs needs.
    fn destroy(&mut self, port: PortId, key: Key) -> Option<Gone> {
        let call = self.ports.get_mut(port)?.calls.remove(&key)?;
        self.free_vc_of(port, &call);
        Some(call)
    }

    /// Frees the VC and data paths of a call taken out of its port's table.
    fn free_vc_of(&mut self, port: PortId, call: &Gone) {
        if call.vci != 0 {
            if let Some(p) = self.ports.get_mut(port) {
                p.vcs.release(call.vpi, call.vci);
            }
            self.disconnect_vc((port, call.vpi, call.vci));
        }
    }

    fn conn_id_ie(call: &Call) -> Ie {
        Ie::new(id::CONNECTION_ID, Body::ConnectionId(ConnectionId::exclusive(call.vpi, call.vci)))
    }

    fn endpoint_ie(value: u16, flag: bool) -> Ie {
        Ie::new(id::ENDPOINT_REF, Body::EndpointRef(EndpointRef { flag, value }))
    }

    /// Message `msg_type` to the calling user of `call` (its reference `key`): with the
    /// connection identifier the first time one goes to that user, and the endpoint reference of
    /// a point-to-multipoint call's party.
    pub(super) fn to_caller(call: &mut Call, key: Key, msg_type: u8, endpoint: Option<u16>) -> Message {
        let mut m = Message::new(out_ref(key), msg_type);
        if !call.conn_id_sent {
            call.conn_id_sent = true;
            m = m.with(Self::conn_id_ie(call));
        }
        if let Some(e) = endpoint {
            m = m.with(Self::endpoint_ie(e, true));
        }
        m
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
    fn clear_legs(&mut self, now: Duration, call: &Gone, causes: &[Ie], uu: Option<&Ie>) {
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
}
