//! SSCOP connection control between two entities: establishment (BGN collisions, lost BGAK,
//! BGREJ), release either way, resync, recovery, no-response and link loss.

use super::*;

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
fn link_lost_in_idle_reports_nothing() {
    let mut n = Net::new();
    let Side { saal, events, data, .. } = &mut n.a;
    saal.link_lost(&mut |e| record(events, data, e));
    assert!(n.a.events.is_empty());
}

#[test]
fn unanswered_er_is_repeated_max_cc_times_then_released_with_end() {
    let mut n = Net::established();
    n.fate = Box::new(|_, _| Fate::Drop);
    // An impossible N(R) starts recovery (state 7); the peer never answers the ERs.
    n.inject(true, PduRepr::Stat { n_ps: 0, n_mr: 64, n_r: 999, list: &[] });
    assert_eq!(n.a.saal.state(), State::OutgoingRecoveryPending);
    let ends = n.a.sent_of(pdu_type::END);
    n.run_for(Duration::from_secs(10));
    assert_eq!(n.a.sent_of(pdu_type::ER), 4);
    assert_eq!(n.a.sent_of(pdu_type::END), ends + 1, "END (S=1) once MaxCC is reached");
    assert_eq!(n.a.events.last(), Some(&Ev::Released(ReleaseCause::ConnectionTimeout)));
    assert_eq!(n.a.saal.state(), State::Idle);
    assert_eq!(n.a.saal.next_deadline(), None);
}
