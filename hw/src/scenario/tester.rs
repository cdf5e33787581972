//! Tester (network-side) steps: messages built from fields or raw octets, offers, releases,
//! RESTART, STATUS ENQUIRY, knobs, link, NIC and SSCOP faults.

use super::engine::{Cref, Ctx, MOMENT, R};
use super::format::{AnswerKind, MsgSpec, Step};
use super::values::{cref_octets, msg_type, octets, parse_ies};
use crate::host::VcState;
use crate::network::codec::ie::{Body, ConnectionId, EndpointRef, Ie, id};
use crate::network::codec::q2931::{CallRef, Message};
use crate::network::{Answer, OfferParams, PduFaults};

impl Ctx {
    /// A tester step.
    pub(super) fn tester_step(&mut self, step: &Step) -> R {
        match step {
            Step::NetSend(m) => self.net_send(m),
            Step::Offer {
                node,
                vc,
                active,
                from,
                vpi,
                vci,
                sdu,
                pcr,
                best_effort,
                bearer_class,
                p2mp,
                qos,
                user_user,
                ies,
            } => {
                let port = self.port(*node)?;
                let c = self.client(*node)?;
                let before = c.incoming_calls().len();
                let mut p = OfferParams {
                    vpi: *vpi,
                    vci: *vci,
                    forward_max_sdu: *sdu,
                    backward_max_sdu: *sdu,
                    best_effort: *best_effort,
                    p2mp: *p2mp,
                    ..OfferParams::default()
                };
                if let Some(r) = pcr {
                    p.pcr = *r;
                }
                if let Some(b) = bearer_class {
                    p.bearer_class = *b;
                }
                if let Some([f, b]) = qos {
                    p.qos = (*f, *b);
                }
                p.user_user = user_user.as_ref().map(|u| octets(u, None)).transpose()?;
                if let Some(raw) = ies {
                    p.extra_ies = parse_ies(&octets(raw, None)?)?;
                }
                let now = self.lab.now();
                let cref = self.lab.network().offer_call(now, port, from.as_bytes(), p);
                self.calls += 1;
                self.crefs[*node].insert(vc.clone(), Cref { value: cref, user: false });
                self.settle();
                if let Some(ic) = c.incoming_calls().get(before) {
                    self.vcs[*node].insert(vc.clone(), ic.vc);
                }
                if *active {
                    self.lab.advance(MOMENT);
                    let v = self.vc(*node, vc)?;
                    if c.state(v) != Some(VcState::Connected) {
                        return Err(format!(
                            "offered call {vc:?} is not active ({:?}); NDIS on it: {:?}",
                            c.state(v),
                            self.lab.node(*node).ndis.ndis_calls_on(v)
                        ));
                    }
                    self.skip_to_now(*node);
                }
                Ok(())
            }
            Step::Release { node, vc, cause, user_user } => {
                let port = self.port(*node)?;
                let cref = self.cref(*node, vc)?;
                let uu = user_user.as_ref().map(|u| octets(u, None)).transpose()?;
                let now = self.lab.now();
                self.lab.network().release(now, port, cref.value, *cause, uu.as_deref());
                self.settle();
                Ok(())
            }
            Step::Restart { node, vc, vpi_vci } => {
                let port = self.port(*node)?;
                let target = match (vc, vpi_vci) {
                    (_, Some([p, c])) => Some((*p, *c)),
                    (Some(l), None) => {
                        let cref = self.cref(*node, l)?;
                        let calls = self.lab.network().calls(port);
                        let k = calls
                            .iter()
                            .find(|k| k.call_ref == cref.value)
                            .ok_or(format!("the tester holds no call {l:?} to restart"))?;
                        Some((k.vpi, k.vci))
                    }
                    (None, None) => None,
                };
                let now = self.lab.now();
                self.lab.network().restart(now, port, target.is_none(), target);
                self.settle();
                Ok(())
            }
            Step::StatusEnquiry { node, vc } => {
                let port = self.port(*node)?;
                let cref = self.cref(*node, vc)?;
                let now = self.lab.now();
                self.lab.network().status_enquiry(now, port, cref.value);
                self.settle();
                Ok(())
            }
            Step::NetDropParty { node, vc, endpoint, cause } => {
                let port = self.port(*node)?;
                let cref = self.cref(*node, vc)?;
                let now = self.lab.now();
                self.lab.network().drop_party(now, port, cref.value, *endpoint, *cause);
                self.settle();
                Ok(())
            }
            Step::Tester {
                node,
                answer,
                reject_cause,
                add_party,
                release_complete,
                drop_party_ack,
                connect_delay,
                connect_ack,
                restart_ack,
                status_reply,
            } => {
                let port = self.port(*node)?;
                let conv = |a: AnswerKind| match a {
                    AnswerKind::Connect => Answer::Connect,
                    AnswerKind::Reject => Answer::Reject(reject_cause.unwrap_or(21)),
                    AnswerKind::Ignore => Answer::Ignore,
                    AnswerKind::ProceedThenConnect => Answer::ProceedThenConnect,
                    AnswerKind::ProceedOnly => Answer::ProceedOnly,
                };
                let mut net = self.lab.network();
                let b = net.behaviour(port);
                if let Some(a) = answer {
                    b.answer = conv(*a);
                }
                if let Some(a) = add_party {
                    b.add_party = conv(*a);
                }
                if let Some(r) = release_complete {
                    b.release_complete = *r;
                }
                if let Some(d) = drop_party_ack {
                    b.drop_party_ack = *d;
                }
                if let Some(d) = connect_delay {
                    b.connect_delay = d.0;
                }
                if let Some(v) = connect_ack {
                    b.connect_ack = *v;
                }
                if let Some(v) = restart_ack {
                    b.restart_ack = *v;
                }
                if let Some(v) = status_reply {
                    b.status_reply = *v;
                }
                Ok(())
            }
            Step::Link { node, up } => {
                self.port(*node)?;
                self.lab.set_link(*node, *up);
                Ok(())
            }
            Step::Nic { node, stall_close } => {
                self.port(*node)?;
                self.lab.node(*node).model.set_stall_close(*stall_close);
                Ok(())
            }
            Step::Faults { node, to_user, drop, duplicate, reorder, corrupt, drop_cells, corrupt_cells } => {
                let port = self.port(*node)?;
                let f = PduFaults { drop: *drop, duplicate: *duplicate, reorder: *reorder, corrupt: *corrupt };
                self.lab.network().set_pdu_faults(port, *to_user, f);
                if *drop_cells > 0 || *corrupt_cells > 0 {
                    self.lab.cell_faults(*node, *drop_cells, *corrupt_cells);
                }
                Ok(())
            }
            Step::NetPdu { node, raw } => {
                let port = self.port(*node)?;
                let b = octets(raw, None)?;
                self.lab.network().inject_data(port, crate::network::SIG_VPI, crate::network::SIG_VCI, &b);
                self.settle();
                Ok(())
            }
            Step::Sscop { node, hold } => {
                let port = self.port(*node)?;
                let now = self.lab.now();
                self.lab.network().set_sscop_hold(now, port, *hold);
                self.settle();
                Ok(())
            }
            Step::Wait { span } => {
                self.lab.advance(span.0);
                Ok(())
            }

            // Not this kind of step (`step` dispatches by kind).
            _ => Ok(()),
        }
    }

    pub(super) fn net_send(&mut self, m: &MsgSpec) -> R {
        let port = self.port(m.node)?;
        let (value, flag) = match (&m.vc, m.global, m.cref_value) {
            (Some(l), _, _) => {
                let c = self.cref(m.node, l)?;
                (c.value, m.cref_flag.unwrap_or(c.user))
            }
            (None, true, _) => (0, m.cref_flag.unwrap_or(false)),
            (None, false, Some(v)) => (v, m.cref_flag.unwrap_or(false)),
            (None, false, None) if m.raw.is_some() => (0, false),
            (None, false, None) => return Err("net_send needs vc, global = true or cref_value".into()),
        };
        let bytes = match &m.raw {
            Some(raw) => octets(raw, Some(cref_octets(value, flag)))?,
            None => {
                let t = msg_type(m.msg.as_ref().ok_or("net_send needs msg (or raw)")?)?;
                let mut msg = Message::new(CallRef { flag, value }, t);
                if let Some(a) = m.msg_action {
                    msg.ext = 0x80 | 0x10 | (a & 0x03);
                }
                let diag = m.diag.as_ref().map(|d| octets(d, None)).transpose()?.unwrap_or_default();
                for (i, c) in m.causes.iter().enumerate() {
                    msg = msg.with(Ie::cause(2, *c, if i == 0 { &diag } else { &[] }));
                }
                if let Some(s) = m.call_state {
                    msg = msg.with(Ie::new(id::CALL_STATE, Body::CallState(s)));
                }
                if let Some([p, c]) = m.vpi_vci {
                    msg = msg.with(Ie::new(id::CONNECTION_ID, Body::ConnectionId(ConnectionId::exclusive(p, c))));
                }
                if let Some(rc) = m.restart_class {
                    msg = msg.with(Ie::new(id::RESTART, Body::Restart(rc)));
                }
                if let Some(e) = m.endpoint {
                    msg = msg.with(Ie::new(id::ENDPOINT_REF, Body::EndpointRef(EndpointRef { flag: true, value: e })));
                }
                if let Some(s) = m.endpoint_state {
                    msg = msg.with(Ie::new(id::ENDPOINT_STATE, Body::EndpointState(s)));
                }
                if let Some(u) = &m.user_user {
                    msg = msg.with(Ie::new(id::USER_USER, Body::UserUser(4, octets(u, None)?)));
                }
                let mut b = msg.emit();
                if let Some(extra) = &m.ies {
                    b.extend(octets(extra, None)?);
                    let len = u16::try_from(b.len().saturating_sub(9)).unwrap_or(u16::MAX).to_be_bytes();
                    b[7] = len[0];
                    b[8] = len[1];
                }
                b
            }
        };
        let now = self.lab.now();
        self.lab.network().send_raw(now, port, &bytes);
        self.settle();
        Ok(())
    }
}
