//! Tester actions: calls offered, released, parties dropped, RESTART and STATUS ENQUIRY
//! sent by the network on request.

use super::*;

impl Network {
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
                    p.vcs.claim(params.vpi, v);
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
            p.calls.insert(key, call);
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
