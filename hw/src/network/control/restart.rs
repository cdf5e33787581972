//! The global call reference (RESTART, STATUS) and link events (established, released).

use super::*;

impl Network {
    // ----- global call reference -------------------------------------------------------------

    pub(super) fn on_global(&mut self, now: Duration, port: PortId, msg: &Message) {
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
    pub(super) fn restart_calls(&mut self, now: Duration, port: PortId, class: u8, vc: Option<(u16, u16)>) {
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
        let mut gone = std::mem::take(&mut self.keys);
        if p.calls.not_active(&mut gone) && p.t309.is_none() {
            p.t309 = Some(t309);
        }
        p.restart = None;
        for &k in &gone {
            if let Some(call) = self.destroy(port, k) {
                self.clear_legs(now, &call, &[net_cause(cause::DESTINATION_OUT_OF_ORDER, &[])], None);
            }
        }
        self.keys = gone;
    }
}
