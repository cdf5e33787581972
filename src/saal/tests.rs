//! Two entities back to back over a scripted wire, in virtual time: the harness ([`Net`]) and the
//! robustness tests (stray and hostile PDUs, allocation sizes) here; connection control in
//! `connection`, assured data in `data_transfer`.

use super::*;
use crate::wire::sscop::{PduRepr, pdu_type};
use core::cell::Cell;
use std::boxed::Box;
use std::collections::VecDeque;
use std::rc::Rc;
use std::vec;
use std::vec::Vec;

const MS: Duration = Duration::from_millis(1);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Ev {
    Established,
    Released(ReleaseCause),
}

struct Side {
    saal: Saal,
    /// PDUs this side sent, not yet delivered.
    out: VecDeque<Vec<u8>>,
    /// Every PDU this side sent, in order.
    sent: Vec<Vec<u8>>,
    events: Vec<Ev>,
    data: Vec<Vec<u8>>,
}

impl Side {
    fn new(cfg: SaalConfig) -> Self {
        Side {
            saal: Saal::new(cfg).unwrap(),
            out: VecDeque::new(),
            sent: Vec::new(),
            events: Vec::new(),
            data: Vec::new(),
        }
    }

    fn sent_of(&self, ty: u8) -> usize {
        self.sent.iter().filter(|p| pdu_ty(p) == ty).count()
    }
}

fn pdu_ty(p: &[u8]) -> u8 {
    p.len().checked_sub(4).map_or(0, |i| p[i] & 0x0f)
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Dir {
    AtoB,
    BtoA,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Fate {
    Deliver,
    Drop,
    /// Put back at the end of the queue (delivered after what is queued behind it).
    Delay,
}

/// Decides what the wire does with each PDU.
type FateFn = Box<dyn FnMut(Dir, &[u8]) -> Fate>;

/// A's and B's PDUs pass through `fate`, which sees the direction and the PDU.
struct Net {
    a: Side,
    b: Side,
    now: Duration,
    fate: FateFn,
    delayed: usize,
}

macro_rules! tx_of {
    ($side:expr) => {
        &mut |p: &[u8]| {
            $side.out.push_back(p.to_vec());
            $side.sent.push(p.to_vec());
        }
    };
}

fn deliver(now: Duration, from: &mut Side, to: &mut Side, pdu: &[u8]) {
    let _ = from;
    let Side { saal, out, sent, events, data } = to;
    saal.receive(
        now,
        pdu,
        &mut |p: &[u8]| {
            out.push_back(p.to_vec());
            sent.push(p.to_vec());
        },
        &mut |e| record(events, data, e),
    );
}

fn record(events: &mut Vec<Ev>, data: &mut Vec<Vec<u8>>, e: SaalEvent<'_>) {
    match e {
        SaalEvent::Established => events.push(Ev::Established),
        SaalEvent::Released { cause } => events.push(Ev::Released(cause)),
        SaalEvent::Data(d) => data.push(d.to_vec()),
    }
}

impl Net {
    fn new() -> Self {
        Self::with(SaalConfig::default())
    }

    fn with(cfg: SaalConfig) -> Self {
        Net {
            a: Side::new(cfg),
            b: Side::new(cfg),
            now: Duration::ZERO,
            fate: Box::new(|_, _| Fate::Deliver),
            delayed: 0,
        }
    }

    /// Delivers queued PDUs (both ways, alternating) until both queues are empty.
    fn flush(&mut self) {
        for _ in 0..1_000_000 {
            let mut moved = false;
            for dir in [Dir::AtoB, Dir::BtoA] {
                let (from, to) = match dir {
                    Dir::AtoB => (&mut self.a, &mut self.b),
                    Dir::BtoA => (&mut self.b, &mut self.a),
                };
                if let Some(p) = from.out.pop_front() {
                    moved = true;
                    match (self.fate)(dir, &p) {
                        Fate::Deliver => deliver(self.now, from, to, &p),
                        Fate::Drop => {}
                        Fate::Delay => {
                            self.delayed += 1;
                            if from.out.is_empty() {
                                // Nothing to overtake it: deliver now.
                                deliver(self.now, from, to, &p);
                            } else {
                                from.out.push_back(p);
                            }
                        }
                    }
                }
            }
            if !moved {
                return;
            }
        }
        panic!("PDU storm");
    }

    /// Runs the wire and the timers until `until` (virtual time).
    fn run_until(&mut self, until: Duration) {
        loop {
            self.flush();
            let next = [self.a.saal.next_deadline(), self.b.saal.next_deadline()].into_iter().flatten().min();
            match next {
                Some(t) if t <= until => {
                    self.now = self.now.max(t);
                    let now = self.now;
                    {
                        let Side { saal, out, sent, events, data } = &mut self.a;
                        saal.on_timer(
                            now,
                            &mut |p: &[u8]| {
                                out.push_back(p.to_vec());
                                sent.push(p.to_vec());
                            },
                            &mut |e| record(events, data, e),
                        );
                    }
                    let Side { saal, out, sent, events, data } = &mut self.b;
                    saal.on_timer(
                        now,
                        &mut |p: &[u8]| {
                            out.push_back(p.to_vec());
                            sent.push(p.to_vec());
                        },
                        &mut |e| record(events, data, e),
                    );
                }
                _ => {
                    self.now = self.now.max(until);
                    return;
                }
            }
        }
    }

    fn run_for(&mut self, d: Duration) {
        let until = self.now + d;
        self.run_until(until);
    }

    fn establish_a(&mut self) {
        let now = self.now;
        self.a.saal.establish(now, tx_of!(self.a));
    }

    fn send(&mut self, dir: Dir, msg: &[u8]) -> Result<(), SendError> {
        let now = self.now;
        let side = match dir {
            Dir::AtoB => &mut self.a,
            Dir::BtoA => &mut self.b,
        };
        side.saal.send(now, msg, tx_of!(side))
    }

    /// Injects a hand-made PDU into `to` (A or B) as if from the wire.
    fn inject(&mut self, to_a: bool, pdu: PduRepr<'_>) {
        let mut buf = vec![0u8; pdu.buffer_len()];
        pdu.emit(&mut buf).unwrap();
        self.inject_raw(to_a, &buf);
    }

    fn inject_raw(&mut self, to_a: bool, bytes: &[u8]) {
        let now = self.now;
        let Side { saal, out, sent, events, data } = if to_a { &mut self.a } else { &mut self.b };
        saal.receive(
            now,
            bytes,
            &mut |p: &[u8]| {
                out.push_back(p.to_vec());
                sent.push(p.to_vec());
            },
            &mut |e| record(events, data, e),
        );
    }

    fn established() -> Self {
        let mut n = Net::new();
        n.establish_a();
        n.run_for(10 * MS);
        assert!(n.a.saal.is_established() && n.b.saal.is_established());
        assert_eq!(n.a.events, [Ev::Established]);
        assert_eq!(n.b.events, [Ev::Established]);
        n
    }

    /// Sends `count` numbered messages each way, retrying on a full queue, then settles.
    fn exchange(&mut self, count: usize) {
        let (mut ia, mut ib) = (0, 0);
        for _ in 0..100_000 {
            while ia < count && self.send(Dir::AtoB, &msg(b'a', ia)).is_ok() {
                ia += 1;
            }
            while ib < count && self.send(Dir::BtoA, &msg(b'b', ib)).is_ok() {
                ib += 1;
            }
            if ia == count && ib == count {
                break;
            }
            self.run_for(100 * MS);
        }
        self.run_for(Duration::from_secs(5));
    }
}

fn msg(tag: u8, i: usize) -> Vec<u8> {
    // Lengths vary so every pad length occurs.
    let mut m = vec![tag; 1 + i % 7];
    m.extend_from_slice(&(i as u32).to_be_bytes());
    m
}

fn expected(tag: u8, count: usize) -> Vec<Vec<u8>> {
    (0..count).map(|i| msg(tag, i)).collect()
}

fn sd_ns(p: &[u8]) -> Option<u32> {
    match PduRepr::parse(p) {
        Ok(PduRepr::Sd { n_s, .. }) => Some(n_s),
        _ => None,
    }
}

// After the harness and its macros (macro_rules! scope is textual).
mod connection;
mod data_transfer;

#[test]
fn idle_entity_answers_stray_pdus_per_q2110() {
    let mut n = Net::new();
    n.fate = Box::new(|_, _| Fate::Drop);
    n.inject(false, PduRepr::End { source: false, uu: &[] });
    assert_eq!(n.b.sent_of(pdu_type::ENDAK), 1);
    n.inject(false, PduRepr::Sd { n_s: 0, data: b"x" });
    assert_eq!(n.b.sent_of(pdu_type::END), 1, "SD in Idle: END (S=1)");
    n.inject(false, PduRepr::Endak);
    assert_eq!(n.b.sent.len(), 2, "ENDAK in Idle is ignored");
    assert!(n.b.data.is_empty() && n.b.events.is_empty());
}

/// Every PDU type with assorted field values, plus garbage, in every stored state: no panic,
/// and the entity ends in a state from which a fresh establishment works.
#[test]
fn hostile_pdus_in_every_state_never_panic() {
    let list = [0u8, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0, 2];
    let seqs = [0u32, 1, 5, 63, 64, 65, 0x7f_ffff, 0xff_ffff];
    let mut pdus: Vec<Vec<u8>> = Vec::new();
    let mut push = |r: PduRepr<'_>| {
        let mut b = vec![0u8; r.buffer_len()];
        r.emit(&mut b).unwrap();
        pdus.push(b);
    };
    for &s in &seqs {
        let q = (s & 0xff) as u8;
        push(PduRepr::Bgn { n_sq: q, n_mr: s, uu: b"uu" });
        push(PduRepr::Bgak { n_mr: s, uu: &[] });
        push(PduRepr::Bgrej { uu: &[] });
        push(PduRepr::End { source: s & 1 == 1, uu: &[] });
        push(PduRepr::Endak);
        push(PduRepr::Rs { n_sq: q, n_mr: s, uu: &[] });
        push(PduRepr::Rsak { n_mr: s });
        push(PduRepr::Er { n_sq: q, n_mr: s });
        push(PduRepr::Erak { n_mr: s });
        push(PduRepr::Sd { n_s: s, data: b"hostile" });
        push(PduRepr::Sd { n_s: s, data: &[7; MAX_MESSAGE + 4] });
        push(PduRepr::Poll { n_ps: s, n_s: s });
        push(PduRepr::Stat { n_ps: s, n_mr: s, n_r: s, list: &list });
        push(PduRepr::Stat { n_ps: s, n_mr: s, n_r: 0, list: &list[..8] });
        push(PduRepr::Ustat { n_mr: s, n_r: 0, list2: [s, s.wrapping_add(1) & 0xff_ffff] });
        push(PduRepr::Ud { data: b"u" });
        push(PduRepr::Md { data: b"m" });
    }
    pdus.push(vec![]);
    pdus.push(vec![0xff; 3]);
    pdus.push(vec![0x00; 8]);
    pdus.push(vec![0xff; 8]);
    pdus.push(vec![0xcb; 12]);

    // Each setup reaches a state; each PDU goes into a fresh entity in that state.
    let setups: [fn() -> Net; 5] = [
        Net::new,
        || {
            let mut n = Net::new();
            n.fate = Box::new(|_, _| Fate::Drop);
            n.establish_a();
            n
        },
        || {
            let mut n = Net::established();
            n.exchange(3);
            n.fate = Box::new(|_, _| Fate::Drop);
            n.send(Dir::AtoB, b"in flight").unwrap();
            n
        },
        || {
            let mut n = Net::established();
            n.fate = Box::new(|_, _| Fate::Drop);
            let now = n.now;
            n.a.saal.release(now, tx_of!(n.a));
            n
        },
        || {
            let mut n = Net::established();
            n.fate = Box::new(|_, _| Fate::Drop);
            n.inject(true, PduRepr::Stat { n_ps: 0, n_mr: 64, n_r: 999, list: &[] });
            assert_eq!(n.a.saal.state(), State::OutgoingRecoveryPending);
            n
        },
    ];
    for setup in setups {
        for p in &pdus {
            let mut n = setup();
            n.inject_raw(true, p);
            n.inject_raw(true, p);
            n.run_for(Duration::from_secs(30));
            // Whatever happened, a clean wire brings the link (back) up.
            n.fate = Box::new(|_, _| Fate::Deliver);
            if !n.a.saal.is_established() {
                n.establish_a();
            }
            n.run_for(Duration::from_secs(3));
            assert!(n.a.saal.is_established(), "after {p:02x?}: {:?}", n.a.saal.state());
        }
    }
}

#[test]
fn new_reports_allocation_sizes_by_window() {
    let cfg = SaalConfig { window: 0, ..SaalConfig::default() };
    let mut n = Net::with(cfg);
    // Window 0 is clamped to 1: one message fits, the second waits.
    n.send(Dir::AtoB, b"1").unwrap();
    assert_eq!(n.send(Dir::AtoB, b"2"), Err(SendError::QueueFull));
}
