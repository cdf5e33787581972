//! Two entities back to back over a scripted wire, in virtual time.

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

#[test]
fn establish_then_1000_messages_each_way_arrive_in_order() {
    let mut n = Net::established();
    n.exchange(1000);
    assert_eq!(n.b.data, expected(b'a', 1000));
    assert_eq!(n.a.data, expected(b'b', 1000));
    assert_eq!(n.a.saal.queued(), 0, "everything acknowledged");
    assert_eq!(n.b.saal.queued(), 0);
    assert_eq!(n.a.saal.counters().retransmissions, 0, "a clean wire needs no retransmission");
}

#[test]
fn lost_sd_pdus_are_retransmitted_and_delivered_in_order() {
    let mut n = Net::established();
    // Lose the first transmission of SDs 3, 10, 11 and 40 from A, and SD 5 from B.
    let mut seen_a = std::collections::HashSet::new();
    let mut seen_b = std::collections::HashSet::new();
    n.fate = Box::new(move |dir, p| match (dir, sd_ns(p)) {
        (Dir::AtoB, Some(s)) if [3, 10, 11, 40].contains(&s) && seen_a.insert(s) => Fate::Drop,
        (Dir::BtoA, Some(5)) if seen_b.insert(5) => Fate::Drop,
        _ => Fate::Deliver,
    });
    n.exchange(200);
    assert_eq!(n.b.data, expected(b'a', 200));
    assert_eq!(n.a.data, expected(b'b', 200));
    // Selective: exactly the lost SDs went again, nothing was received twice.
    assert_eq!(n.a.saal.counters().retransmissions, 4);
    assert_eq!(n.b.saal.counters().retransmissions, 1);
    assert_eq!(n.b.saal.counters().duplicates, 0);
    assert!(n.b.sent_of(pdu_type::USTAT) >= 1, "the gap is reported by USTAT");
}

#[test]
fn lost_last_sd_is_recovered_by_poll_and_stat() {
    let mut n = Net::established();
    // Only one message, lost once: no later SD reveals the gap, so only POLL/STAT can.
    let mut lost = false;
    n.fate = Box::new(move |_, p| {
        if sd_ns(p).is_some() && !lost {
            lost = true;
            Fate::Drop
        } else {
            Fate::Deliver
        }
    });
    n.send(Dir::AtoB, b"SETUP").unwrap();
    n.run_for(Duration::from_millis(500));
    assert!(n.b.data.is_empty(), "lost, not yet polled");
    n.run_for(Duration::from_secs(3));
    assert_eq!(n.b.data, [b"SETUP".to_vec()]);
    assert_eq!(n.b.sent_of(pdu_type::USTAT), 0);
}

#[test]
fn reordered_sd_pdus_are_delivered_in_order() {
    let mut n = Net::established();
    let mut k = 0u32;
    n.fate = Box::new(move |dir, p| {
        if dir == Dir::AtoB && sd_ns(p).is_some() {
            k += 1;
            if k.is_multiple_of(3) {
                return Fate::Delay;
            }
        }
        Fate::Deliver
    });
    for i in 0..30 {
        n.send(Dir::AtoB, &msg(b'a', i)).unwrap();
    }
    n.run_for(Duration::from_secs(5));
    assert!(n.delayed > 0, "the harness must actually reorder");
    assert_eq!(n.b.data, expected(b'a', 30));
}

#[test]
fn lost_stat_and_poll_pdus_do_not_lose_data() {
    let mut n = Net::established();
    // A fixed pseudo-random 30 % loss of POLL and STAT PDUs (a strict alternation could starve
    // one direction of every STAT, which rightly ends in Timer_NO-RESPONSE).
    let mut seed = 0x1234_5678u32;
    let dropped = Rc::new(Cell::new(0u32));
    let counter = dropped.clone();
    n.fate = Box::new(move |_, p| {
        let t = pdu_ty(p);
        if t == pdu_type::STAT || t == pdu_type::POLL {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            if (seed >> 16) % 10 < 3 {
                counter.set(counter.get() + 1);
                return Fate::Drop;
            }
        }
        Fate::Deliver
    });
    n.exchange(300);
    assert!(dropped.get() > 10, "the harness must actually lose POLLs and STATs");
    assert_eq!(n.a.events, [Ev::Established], "{:?}", n.a.saal.counters());
    assert_eq!(n.b.events, [Ev::Established], "{:?}", n.b.saal.counters());
    assert_eq!(n.b.data, expected(b'a', 300));
    assert_eq!(n.a.data, expected(b'b', 300));
    assert!(n.a.saal.is_established());
}

#[test]
fn silent_peer_releases_on_no_response() {
    let mut n = Net::established();
    n.fate = Box::new(|dir, _| if dir == Dir::BtoA { Fate::Drop } else { Fate::Deliver });
    n.send(Dir::AtoB, b"x").unwrap();
    // Timer_NO-RESPONSE (7 s) started with data transfer at t = 0; no STAT ever restarts it.
    n.run_until(Duration::from_millis(6990));
    assert!(n.a.saal.is_established(), "not before Timer_NO-RESPONSE");
    n.run_until(Duration::from_millis(7010));
    assert_eq!(n.a.events.last(), Some(&Ev::Released(ReleaseCause::NoResponse)));
    assert!(!n.a.saal.is_established());
    assert!(n.a.sent_of(pdu_type::POLL) >= 8, "POLLs went out every 750 ms meanwhile");
    n.run_for(Duration::from_secs(1));
    // B (whose POLLs go unanswered too) is down as well, by its own timer or by A's END (S=1).
    assert!(matches!(n.b.events.last(), Some(Ev::Released(ReleaseCause::NoResponse | ReleaseCause::PeerSscop))));
    assert_eq!(n.a.saal.next_deadline(), None, "no timer left running");
}

#[test]
fn quiet_link_stays_up_and_polls_slowly_once_idle() {
    let mut n = Net::established();
    n.run_for(Duration::from_secs(20));
    let polls_before = n.a.sent_of(pdu_type::POLL);
    n.run_for(Duration::from_secs(60));
    let polls = n.a.sent_of(pdu_type::POLL) - polls_before;
    assert!(n.a.saal.is_established() && n.b.saal.is_established());
    // Timer_IDLE (15 s) governs a quiet link: about 4 POLLs a minute, not 80 (750 ms).
    assert!((3..=10).contains(&polls), "{polls} POLLs in 60 s");
    assert_eq!(n.a.events, [Ev::Established]);
}

#[test]
fn release_by_initiator_is_confirmed_and_indicated() {
    let mut n = Net::established();
    let now = n.now;
    n.a.saal.release(now, tx_of!(n.a));
    n.run_for(Duration::from_secs(1));
    assert_eq!(n.a.events.last(), Some(&Ev::Released(ReleaseCause::Requested)));
    assert_eq!(n.b.events.last(), Some(&Ev::Released(ReleaseCause::PeerUser)));
    assert_eq!(n.a.saal.state(), State::Idle);
    assert_eq!(n.b.saal.state(), State::Idle);
    assert_eq!(n.b.sent_of(pdu_type::ENDAK), 1);
    assert_eq!(n.a.saal.next_deadline(), None, "no timer left running");
}

#[test]
fn release_by_responder_is_confirmed_and_indicated() {
    let mut n = Net::established();
    let now = n.now;
    n.b.saal.release(now, tx_of!(n.b));
    n.run_for(Duration::from_secs(1));
    assert_eq!(n.b.events.last(), Some(&Ev::Released(ReleaseCause::Requested)));
    assert_eq!(n.a.events.last(), Some(&Ev::Released(ReleaseCause::PeerUser)));
    assert_eq!(n.a.sent_of(pdu_type::ENDAK), 1);
}

#[test]
fn release_with_lost_endak_completes_after_max_cc() {
    let mut n = Net::established();
    n.fate = Box::new(|dir, _| if dir == Dir::BtoA { Fate::Drop } else { Fate::Deliver });
    let now = n.now;
    n.a.saal.release(now, tx_of!(n.a));
    n.run_for(Duration::from_secs(10));
    assert_eq!(n.a.sent_of(pdu_type::END), 4, "END repeated up to MaxCC");
    assert_eq!(n.a.events.last(), Some(&Ev::Released(ReleaseCause::Requested)));
}

#[test]
fn bgn_collision_establishes_both_sides_once() {
    let mut n = Net::new();
    let now = n.now;
    n.a.saal.establish(now, tx_of!(n.a));
    n.b.saal.establish(now, tx_of!(n.b));
    n.run_for(Duration::from_secs(1));
    assert_eq!(n.a.events, [Ev::Established]);
    assert_eq!(n.b.events, [Ev::Established]);
    n.exchange(100);
    assert_eq!(n.b.data, expected(b'a', 100));
    assert_eq!(n.a.data, expected(b'b', 100));
}

#[test]
fn released_link_restarts_with_fresh_numbering() {
    let mut n = Net::established();
    n.exchange(10);
    let now = n.now;
    n.b.saal.release(now, tx_of!(n.b));
    n.run_for(Duration::from_secs(1));
    n.establish_a();
    n.run_for(Duration::from_secs(1));
    assert_eq!(n.a.events, [Ev::Established, Ev::Released(ReleaseCause::PeerUser), Ev::Established]);
    assert!(n.b.saal.is_established());
    let before = n.a.sent.len();
    n.send(Dir::AtoB, b"again").unwrap();
    assert_eq!(n.a.sent[before..].iter().find_map(|p| sd_ns(p)), Some(0), "N(S) restarts at 0");
    n.run_for(Duration::from_secs(1));
    assert_eq!(n.b.data.last(), Some(&b"again".to_vec()));
}

#[test]
fn unanswered_bgn_is_repeated_max_cc_times_then_released() {
    let mut n = Net::new();
    n.fate = Box::new(|_, _| Fate::Drop);
    n.establish_a();
    n.run_for(Duration::from_secs(10));
    assert_eq!(n.a.sent_of(pdu_type::BGN), 4);
    assert_eq!(n.a.events, [Ev::Released(ReleaseCause::ConnectionTimeout)]);
    assert_eq!(n.a.saal.next_deadline(), None);
}

#[test]
fn lost_bgak_is_answered_again_on_bgn_repeat() {
    let mut n = Net::new();
    let mut dropped = false;
    n.fate = Box::new(move |_, p| {
        if pdu_ty(p) == pdu_type::BGAK && !dropped {
            dropped = true;
            Fate::Drop
        } else {
            Fate::Deliver
        }
    });
    n.establish_a();
    n.run_for(Duration::from_secs(3));
    assert_eq!(n.a.events, [Ev::Established]);
    assert_eq!(n.b.events, [Ev::Established], "a repeated BGN is not a new connection");
    assert_eq!(n.b.sent_of(pdu_type::BGAK), 2);
}

#[test]
fn bgrej_releases_the_pending_establishment() {
    let mut n = Net::new();
    n.fate = Box::new(|_, _| Fate::Drop);
    n.establish_a();
    n.inject(true, PduRepr::Bgrej { uu: &[] });
    assert_eq!(n.a.events, [Ev::Released(ReleaseCause::Rejected)]);
    assert_eq!(n.a.saal.state(), State::Idle);
}

#[test]
fn messages_sent_before_establishment_go_out_once_up() {
    let mut n = Net::new();
    n.send(Dir::AtoB, b"early").unwrap();
    n.establish_a();
    n.run_for(Duration::from_secs(1));
    assert_eq!(n.b.data, [b"early".to_vec()]);
}

#[test]
fn send_refuses_too_long_and_full_queue() {
    let mut n = Net::new();
    assert_eq!(n.send(Dir::AtoB, &[0; MAX_MESSAGE + 1]), Err(SendError::TooLong));
    for _ in 0..64 {
        n.send(Dir::AtoB, b"m").unwrap();
    }
    assert_eq!(n.send(Dir::AtoB, b"m"), Err(SendError::QueueFull));
}

#[test]
fn an_sd_over_the_message_limit_takes_its_place_in_sequence_so_the_link_goes_on() {
    // In sequence: skipped, the next SD is delivered at once.
    let mut n = Net::established();
    n.fate = Box::new(|_, _| Fate::Drop);
    n.inject(false, PduRepr::Sd { n_s: 0, data: &[7; MAX_MESSAGE + 1] });
    n.inject(false, PduRepr::Sd { n_s: 1, data: b"next" });
    assert_eq!(n.b.data.iter().filter(|d| !d.is_empty()).collect::<Vec<_>>(), [b"next"]);
    assert_eq!(n.b.saal.counters().oversize, 1);
    // Out of sequence (after a gap): held as empty, the gap filled, everything after it delivered.
    let mut n = Net::established();
    n.fate = Box::new(|_, _| Fate::Drop);
    n.inject(false, PduRepr::Sd { n_s: 1, data: &[7; 9000] });
    n.inject(false, PduRepr::Sd { n_s: 2, data: b"two" });
    n.inject(false, PduRepr::Sd { n_s: 0, data: b"zero" });
    assert_eq!(n.b.data.iter().filter(|d| !d.is_empty()).collect::<Vec<_>>(), [&b"zero"[..], &b"two"[..]]);
    // A message of exactly the limit is delivered whole.
    n.inject(false, PduRepr::Sd { n_s: 3, data: &[9; MAX_MESSAGE] });
    assert_eq!(n.b.data.last().map(Vec::len), Some(MAX_MESSAGE));
}

#[test]
fn sd_outside_the_window_is_not_delivered() {
    let mut n = Net::established();
    n.fate = Box::new(|_, _| Fate::Drop);
    n.inject(false, PduRepr::Sd { n_s: 64, data: b"far" });
    n.inject(false, PduRepr::Sd { n_s: 0xff_fff0, data: b"behind" });
    assert!(n.b.data.is_empty());
    assert_eq!(n.b.saal.counters().out_of_window, 2);
    // The contrast: the in-window, in-sequence SD is delivered.
    n.inject(false, PduRepr::Sd { n_s: 0, data: b"next" });
    assert_eq!(n.b.data, [b"next".to_vec()]);
}

#[test]
fn duplicate_sd_is_delivered_once() {
    let mut n = Net::established();
    n.fate = Box::new(|_, _| Fate::Drop);
    n.inject(false, PduRepr::Sd { n_s: 1, data: b"one" });
    n.inject(false, PduRepr::Sd { n_s: 1, data: b"one" });
    assert_eq!(n.b.saal.counters().duplicates, 1);
    n.inject(false, PduRepr::Sd { n_s: 0, data: b"zero" });
    n.inject(false, PduRepr::Sd { n_s: 0, data: b"zero" });
    assert_eq!(n.b.data, [b"zero".to_vec(), b"one".to_vec()]);
}

#[test]
fn gap_in_sd_sequence_triggers_ustat() {
    let mut n = Net::established();
    n.fate = Box::new(|_, _| Fate::Drop);
    n.inject(false, PduRepr::Sd { n_s: 2, data: b"two" });
    let ustat = n.b.sent.iter().rev().find_map(|p| match PduRepr::parse(p) {
        Ok(PduRepr::Ustat { n_r, list2, .. }) => Some((n_r, list2)),
        _ => None,
    });
    assert_eq!(ustat, Some((0, [0, 2])));
}

#[test]
fn resync_from_peer_is_answered_and_reported() {
    let mut n = Net::established();
    n.fate = Box::new(|_, _| Fate::Drop);
    n.inject(false, PduRepr::Rs { n_sq: 9, n_mr: 64, uu: &[] });
    assert_eq!(n.b.sent_of(pdu_type::RSAK), 1);
    assert_eq!(n.b.events, [Ev::Established, Ev::Established]);
    // A repeat of the same RS is answered again, not reported again.
    n.inject(false, PduRepr::Rs { n_sq: 9, n_mr: 64, uu: &[] });
    assert_eq!(n.b.sent_of(pdu_type::RSAK), 2);
    assert_eq!(n.b.events.len(), 2);
}

#[test]
fn recovery_from_peer_is_answered_and_reported() {
    let mut n = Net::established();
    n.fate = Box::new(|_, _| Fate::Drop);
    n.inject(false, PduRepr::Er { n_sq: 5, n_mr: 64 });
    assert_eq!(n.b.sent_of(pdu_type::ERAK), 1);
    assert_eq!(n.b.events, [Ev::Established, Ev::Established]);
    assert!(n.b.saal.is_established());
}

#[test]
fn bogus_stat_starts_recovery_and_link_carries_on() {
    let mut n = Net::established();
    n.exchange(5);
    // N(R) beyond VT(S): impossible, so A starts recovery (ER) and B answers ERAK.
    n.inject(true, PduRepr::Stat { n_ps: 0, n_mr: 64, n_r: 1000, list: &[] });
    assert_eq!(n.a.saal.state(), State::OutgoingRecoveryPending);
    n.run_for(Duration::from_secs(1));
    assert_eq!(n.a.saal.counters().recoveries, 1);
    assert!(n.a.saal.is_established() && n.b.saal.is_established());
    assert_eq!(n.a.events.last(), Some(&Ev::Established));
    assert_eq!(n.b.events.last(), Some(&Ev::Established));
    n.send(Dir::AtoB, b"after").unwrap();
    n.run_for(Duration::from_secs(1));
    assert_eq!(n.b.data.last(), Some(&b"after".to_vec()));
}

#[test]
fn valid_stat_does_not_start_recovery() {
    // The contrast to the test above: a STAT that fits the state is accepted.
    let mut n = Net::established();
    n.inject(true, PduRepr::Stat { n_ps: 0, n_mr: 64, n_r: 0, list: &[] });
    assert_eq!(n.a.saal.state(), State::DataTransferReady);
    assert_eq!(n.a.saal.counters().recoveries, 0);
}

#[test]
fn peer_bgn_during_data_transfer_restarts_the_link() {
    let mut n = Net::established();
    n.fate = Box::new(|_, _| Fate::Drop);
    n.inject(true, PduRepr::Bgn { n_sq: 77, n_mr: 64, uu: &[] });
    assert_eq!(n.a.events, [Ev::Established, Ev::Released(ReleaseCause::PeerRestart), Ev::Established]);
    assert!(n.a.saal.is_established());
}

#[test]
fn link_lost_releases_without_sending() {
    let mut n = Net::established();
    let before = n.a.sent.len();
    let Side { saal, events, data, .. } = &mut n.a;
    saal.link_lost(&mut |e| record(events, data, e));
    assert_eq!(n.a.events.last(), Some(&Ev::Released(ReleaseCause::LinkLost)));
    assert_eq!(n.a.sent.len(), before);
    assert_eq!(n.a.saal.next_deadline(), None);
}

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

#[test]
fn sender_never_exceeds_the_peers_window() {
    let cfg = SaalConfig { window: 4, ..SaalConfig::default() };
    let mut n = Net::with(cfg);
    n.establish_a();
    n.run_for(10 * MS);
    // B's acknowledgements are lost, so N(MR) stays at 4: only N(S) 0..=3 may go out.
    n.fate = Box::new(|dir, _| if dir == Dir::BtoA { Fate::Drop } else { Fate::Deliver });
    for i in 0..4 {
        n.send(Dir::AtoB, &msg(b'a', i)).unwrap();
    }
    assert_eq!(n.send(Dir::AtoB, b"fifth"), Err(SendError::QueueFull));
    n.run_for(Duration::from_secs(2));
    let max_ns = n.a.sent.iter().filter_map(|p| sd_ns(p)).max();
    assert_eq!(max_ns, Some(3));
    // Acknowledgements flow again: the rest follows, in order.
    n.fate = Box::new(|_, _| Fate::Deliver);
    n.exchange(0);
    for i in 4..12 {
        while n.send(Dir::AtoB, &msg(b'a', i)).is_err() {
            n.run_for(100 * MS);
        }
    }
    n.run_for(Duration::from_secs(3));
    assert_eq!(n.b.data, expected(b'a', 12));
    assert!(n.a.sent.iter().filter_map(|p| sd_ns(p)).max() >= Some(11));
}

#[test]
fn a_burst_of_max_pd_sds_carries_a_poll() {
    let mut n = Net::established();
    n.fate = Box::new(|_, _| Fate::Drop);
    let before = n.a.sent.len();
    for i in 0..30 {
        n.send(Dir::AtoB, &msg(b'a', i)).unwrap();
    }
    // No time passed: the only POLL is the one MaxPD (25) forces, right after the 25th SD.
    let burst: Vec<u8> = n.a.sent[before..].iter().map(|p| pdu_ty(p)).collect();
    assert_eq!(burst.len(), 31);
    assert_eq!(burst.iter().filter(|&&t| t == pdu_type::POLL).count(), 1);
    assert_eq!(burst[25], pdu_type::POLL);
}

#[test]
fn link_lost_in_idle_reports_nothing() {
    let mut n = Net::new();
    let Side { saal, events, data, .. } = &mut n.a;
    saal.link_lost(&mut |e| record(events, data, e));
    assert!(n.a.events.is_empty());
}
