//! Network tests: two (or three) user-side stand-ins, scripted with raw bytes from this crate's
//! own codec, against the `Network`.

use std::time::Duration;

use super::codec::ie::{self, Body, Ie, Instruction, PartyNumber, id};
use super::codec::q2931::{CallRef, Message, cause, mt};
use super::codec::sscop::Pdu;
use super::*;

mod capture;
mod link;
mod malformed;
mod p2mp;
mod restart_status;
mod routed;
mod terminated;
mod wakeups;

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}
fn secs(v: u64) -> Duration {
    Duration::from_secs(v)
}

/// A user-side stand-in: a minimal SSCOP (sends SDs in order, answers POLL/BGN/END) plus
/// an inbox of decoded Q.2931 messages and data frames.
struct User {
    port: PortId,
    ns: u32,
    received_sds: u32,
    inbox: Vec<Message>,
    data: Vec<(u16, u16, Vec<u8>)>,
    link_pdus: Vec<Pdu>,
    /// Drop the next N SDs from the network (to provoke retransmission).
    drop_sds: u32,
    /// SDs the user lets the network send beyond those it has received (N(MR) − N(R)).
    window: u32,
}

impl User {
    fn new(port: PortId) -> Self {
        User {
            port,
            ns: 0,
            received_sds: 0,
            inbox: Vec::new(),
            data: Vec::new(),
            link_pdus: Vec::new(),
            drop_sds: 0,
            window: 64,
        }
    }

    fn pdu(&mut self, net: &mut Network, now: Duration, p: Pdu) {
        net.from_user(now, self.port, 0, 5, &p.emit());
    }

    /// BGN from the user; expects BGAK.
    fn bring_up(&mut self, net: &mut Network, now: Duration) {
        self.ns = 0;
        self.received_sds = 0;
        self.pdu(net, now, Pdu::Bgn { nsq: 1, nmr: self.window, uu: vec![] });
        self.pump(net, now);
        assert!(matches!(self.link_pdus.last(), Some(Pdu::Bgak { .. })), "no BGAK: {:?}", self.link_pdus);
    }

    fn send_bytes(&mut self, net: &mut Network, now: Duration, q2931: Vec<u8>) {
        let ns = self.ns;
        self.ns += 1;
        self.pdu(net, now, Pdu::Sd { ns, data: q2931 });
    }

    fn send(&mut self, net: &mut Network, now: Duration, m: Message) {
        self.send_bytes(net, now, m.emit());
    }

    /// Reads everything the network sent; answers link PDUs like a tolerant user SSCOP.
    fn pump(&mut self, net: &mut Network, now: Duration) {
        while let Some((vpi, vci, frame)) = net.to_user(self.port) {
            if (vpi, vci) != (0, 5) {
                self.data.push((vpi, vci, frame));
                continue;
            }
            let pdu = Pdu::parse(&frame).expect("network sent an undecodable SSCOP PDU");
            match &pdu {
                Pdu::Sd { data, .. } => {
                    if self.drop_sds > 0 {
                        self.drop_sds -= 1;
                        continue;
                    }
                    self.received_sds += 1;
                    self.inbox.push(Message::parse(data).expect("network sent an undecodable Q.2931 message"));
                }
                Pdu::Poll { nps, .. } => {
                    let nps = *nps;
                    let nr = self.received_sds;
                    self.link_pdus.push(pdu);
                    self.pdu(net, now, Pdu::Stat { nps, nmr: nr + self.window, nr, list: vec![] });
                }
                Pdu::Bgn { .. } => {
                    self.ns = 0;
                    self.received_sds = 0;
                    self.link_pdus.push(pdu);
                    self.pdu(net, now, Pdu::Bgak { nmr: self.window, uu: vec![] });
                }
                Pdu::End { .. } => {
                    self.link_pdus.push(pdu);
                    self.pdu(net, now, Pdu::Endak);
                }
                _ => self.link_pdus.push(pdu),
            }
        }
    }

    fn take(&mut self, net: &mut Network, now: Duration) -> Vec<Message> {
        self.pump(net, now);
        std::mem::take(&mut self.inbox)
    }

    /// Exactly one message, of this type.
    fn expect(&mut self, net: &mut Network, now: Duration, t: u8) -> Message {
        let got = self.take(net, now);
        let types: Vec<&str> = got.iter().map(|m| mt::name(m.msg_type)).collect();
        assert!(
            got.len() == 1 && got[0].msg_type == t,
            "expected {} at port {}, got {types:?}",
            mt::name(t),
            self.port
        );
        got.into_iter().next().unwrap()
    }

    fn expect_nothing(&mut self, net: &mut Network, now: Duration) {
        let got = self.take(net, now);
        assert!(got.is_empty(), "expected silence at port {}, got {got:?}", self.port);
    }
}

fn user_ref(v: u32) -> CallRef {
    CallRef { flag: false, value: v }
}
/// The reference a user uses to answer a network-allocated call.
fn answer_ref(m: &Message) -> CallRef {
    CallRef { flag: true, value: m.call_ref.value }
}

fn setup(cref: u32, called: &[u8]) -> Message {
    Message::new(user_ref(cref), mt::SETUP)
        .with(Ie::new(
            id::AAL,
            Body::Aal5(ie::Aal5 {
                forward_max_sdu: Some(9188),
                backward_max_sdu: Some(9188),
                mode: None,
                sscs_type: None,
            }),
        ))
        .with(Ie::new(
            id::TRAFFIC,
            Body::Traffic(ie::Traffic {
                rates: vec![(ie::traffic::FWD_PCR_01, 1000), (ie::traffic::BWD_PCR_01, 1000)],
                best_effort: true,
                options: None,
            }),
        ))
        .with(Ie::new(id::BEARER, Body::Bearer(ie::Bearer { class: 0x10, transfer_cap: None, clipping: 0, upcc: 0 })))
        .with(Ie::new(id::CALLED, Body::Called(PartyNumber::e164(called))))
        .with(Ie::new(id::QOS, Body::Qos(0, 0)))
}

fn release(cref: CallRef, c: u8) -> Message {
    Message::new(cref, mt::RELEASE).with(Ie::cause(0, c, &[]))
}

/// Runs timers up to and including `until`; the users keep answering link PDUs (POLL → STAT).
fn run_until(net: &mut Network, users: &mut [&mut User], until: Duration) {
    while let Some(d) = net.next_deadline() {
        if d > until {
            break;
        }
        net.advance(d);
        for u in users.iter_mut() {
            u.pump(net, d);
        }
    }
    net.advance(until);
    for u in users.iter_mut() {
        u.pump(net, until);
    }
}

struct Lab {
    net: Network,
    a: User,
    b: User,
}

fn lab() -> Lab {
    let mut net = Network::new();
    let a = net.add_port(b"1001".to_vec());
    let b = net.add_port(b"1002".to_vec());
    let mut lab = Lab { net, a: User::new(a), b: User::new(b) };
    lab.a.bring_up(&mut lab.net, Duration::ZERO);
    lab.b.bring_up(&mut lab.net, Duration::ZERO);
    lab
}

/// A routed, active call from A (call ref 1) to B. Returns (A's VCI, B's setup message).
fn routed_call(l: &mut Lab) -> (u16, Message) {
    let t = ms(1);
    l.a.send(&mut l.net, t, setup(1, b"1002"));
    let cp = l.a.expect(&mut l.net, t, mt::CALL_PROCEEDING);
    let a_vci = cp.connection_id().expect("CALL PROCEEDING without Connection Identifier").vci;
    let s = l.b.expect(&mut l.net, t, mt::SETUP);
    l.b.send(&mut l.net, t, Message::new(answer_ref(&s), mt::CONNECT));
    l.b.expect(&mut l.net, t, mt::CONNECT_ACK);
    l.a.expect(&mut l.net, t, mt::CONNECT);
    (a_vci, s)
}

// ----- point-to-multipoint -------------------------------------------------------------------

fn p2mp_setup(cref: u32, called: &[u8]) -> Message {
    let mut s = setup(cref, called);
    for i in &mut s.ies {
        if let Body::Bearer(b) = &mut i.body {
            b.upcc = 1;
        }
    }
    s.with(Ie::new(id::ENDPOINT_REF, Body::EndpointRef(ie::EndpointRef { flag: false, value: 0 })))
}

fn add_party(cref: u32, e: u16, called: &[u8]) -> Message {
    Message::new(user_ref(cref), mt::ADD_PARTY)
        .with(Ie::new(id::CALLED, Body::Called(PartyNumber::e164(called))))
        .with(Ie::new(id::ENDPOINT_REF, Body::EndpointRef(ie::EndpointRef { flag: false, value: e })))
}
