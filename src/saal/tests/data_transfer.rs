//! SSCOP assured data between two entities: in order through loss and reordering, POLL / STAT /
//! USTAT, window limits, oversize and duplicate SDs.

use super::*;

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
