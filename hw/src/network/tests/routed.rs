//! Routed calls between two users: VCs, data, release, T308, the harness's own checks,
//! NSAP routing.

use super::*;

// ----- routed calls ------------------------------------------------------------------------

#[test]
fn routed_call_assigns_vcs_and_carries_data_both_ways() {
    let mut l = lab();
    let (a_vci, s) = routed_call(&mut l);
    let b_vci = s.connection_id().expect("SETUP to B without Connection Identifier").vci;
    assert!(a_vci >= 32 && b_vci >= 32);
    assert_eq!(s.calling().map(|n| n.digits.clone()), Some(b"1001".to_vec()));
    assert_eq!(s.called().map(|n| n.digits.clone()), Some(b"1002".to_vec()));
    let ca = l.net.calls(l.a.port);
    let cb = l.net.calls(l.b.port);
    assert_eq!((ca.len(), ca[0].state, ca[0].vci), (1, CallState::N10, a_vci));
    assert_eq!((cb.len(), cb[0].state, cb[0].vci), (1, CallState::N10, b_vci));
    assert_eq!(ca[0].peers, vec![(0, l.b.port, cb[0].call_ref)]);
    let t = ms(2);
    l.net.from_user(t, l.a.port, 0, a_vci, b"ping");
    l.net.from_user(t, l.b.port, 0, b_vci, b"pong");
    l.a.pump(&mut l.net, t);
    l.b.pump(&mut l.net, t);
    assert_eq!(l.b.data, vec![(0, b_vci, b"ping".to_vec())]);
    assert_eq!(l.a.data, vec![(0, a_vci, b"pong".to_vec())]);
    // A frame on a VC that is not set up goes nowhere.
    l.net.from_user(t, l.a.port, 0, 999, b"lost");
    assert_eq!(l.net.dropped_frames, 1);
}

#[test]
fn second_call_gets_a_different_vci() {
    let mut l = lab();
    let (v1, _) = routed_call(&mut l);
    l.a.send(&mut l.net, ms(3), setup(2, b"1002"));
    let v2 = l.a.expect(&mut l.net, ms(3), mt::CALL_PROCEEDING).connection_id().unwrap().vci;
    assert_ne!(v1, v2);
}

#[test]
fn release_from_caller_completes_and_releases_called_side() {
    let mut l = lab();
    let (a_vci, s) = routed_call(&mut l);
    let t = ms(10);
    l.a.send(
        &mut l.net,
        t,
        release(user_ref(1), cause::NORMAL_CLEARING).with(Ie::new(id::USER_USER, Body::UserUser(4, b"bye".to_vec()))),
    );
    let rc = l.a.expect(&mut l.net, t, mt::RELEASE_COMPLETE);
    assert!(rc.cause_values().is_empty());
    let r = l.b.expect(&mut l.net, t, mt::RELEASE);
    assert_eq!(r.cause_values(), vec![cause::NORMAL_CLEARING]);
    assert_eq!(r.user_user(), Some((4, &b"bye"[..])));
    assert_eq!(l.net.calls(l.b.port)[0].state, CallState::N12);
    l.b.send(&mut l.net, t, Message::new(answer_ref(&s), mt::RELEASE_COMPLETE));
    assert!(l.net.calls(l.a.port).is_empty() && l.net.calls(l.b.port).is_empty());
    // Data no longer crosses.
    l.net.from_user(t, l.a.port, 0, a_vci, b"late");
    l.b.pump(&mut l.net, t);
    assert!(l.b.data.is_empty());
}

#[test]
fn release_from_called_side_releases_caller() {
    let mut l = lab();
    let (_, s) = routed_call(&mut l);
    let t = ms(10);
    l.b.send(&mut l.net, t, release(answer_ref(&s), cause::NORMAL_CLEARING));
    l.b.expect(&mut l.net, t, mt::RELEASE_COMPLETE);
    let r = l.a.expect(&mut l.net, t, mt::RELEASE);
    assert_eq!(r.call_ref, CallRef { flag: true, value: 1 });
    l.a.send(&mut l.net, t, Message::new(user_ref(1), mt::RELEASE_COMPLETE));
    assert!(l.net.calls(l.a.port).is_empty());
}

#[test]
fn called_side_rejecting_setup_clears_caller_with_its_cause() {
    let mut l = lab();
    let t = ms(1);
    l.a.send(&mut l.net, t, setup(1, b"1002"));
    l.a.expect(&mut l.net, t, mt::CALL_PROCEEDING);
    let s = l.b.expect(&mut l.net, t, mt::SETUP);
    l.b.send(
        &mut l.net,
        t,
        Message::new(answer_ref(&s), mt::RELEASE_COMPLETE).with(Ie::cause(0, cause::USER_BUSY, &[])),
    );
    assert_eq!(l.a.expect(&mut l.net, t, mt::RELEASE).cause_values(), vec![cause::USER_BUSY]);
}

#[test]
fn alerting_is_passed_to_caller() {
    let mut l = lab();
    let t = ms(1);
    l.a.send(&mut l.net, t, setup(1, b"1002"));
    l.a.expect(&mut l.net, t, mt::CALL_PROCEEDING);
    let s = l.b.expect(&mut l.net, t, mt::SETUP);
    l.b.send(&mut l.net, t, Message::new(answer_ref(&s), mt::CALL_PROCEEDING));
    l.b.send(&mut l.net, t, Message::new(answer_ref(&s), mt::ALERTING));
    l.a.expect(&mut l.net, t, mt::ALERTING);
    assert_eq!(l.net.calls(l.a.port)[0].state, CallState::N4);
    assert_eq!(l.net.calls(l.b.port)[0].state, CallState::N7);
}

#[test]
fn release_collision_ends_call_without_release_complete() {
    let mut l = lab();
    routed_call(&mut l);
    let t = ms(10);
    l.net.release(t, l.a.port, 1, cause::NORMAL_CLEARING, None);
    l.a.expect(&mut l.net, t, mt::RELEASE);
    l.b.expect(&mut l.net, t, mt::RELEASE);
    // A's RELEASE crosses ours.
    l.a.send(&mut l.net, t, release(user_ref(1), cause::NORMAL_CLEARING));
    l.a.expect_nothing(&mut l.net, t);
    assert!(l.net.calls(l.a.port).is_empty());
}

#[test]
fn network_t308_retransmits_once_with_cause_102_308_then_forgets_call() {
    let mut l = lab();
    routed_call(&mut l);
    let t = ms(10);
    l.net.release(t, l.a.port, 1, cause::NORMAL_CLEARING, None);
    l.a.expect(&mut l.net, t, mt::RELEASE);
    run_until(&mut l.net, &mut [&mut l.a, &mut l.b], t + secs(30));
    let r = l.a.expect(&mut l.net, t + secs(30), mt::RELEASE);
    assert_eq!(r.cause_values(), vec![cause::NORMAL_CLEARING, cause::RECOVERY_ON_TIMER_EXPIRY]);
    assert_eq!(r.causes()[1].diagnostics, b"308");
    run_until(&mut l.net, &mut [&mut l.a, &mut l.b], t + secs(60));
    l.a.expect_nothing(&mut l.net, t + secs(60));
    assert!(l.net.calls(l.a.port).is_empty());
}

#[test]
fn ignore_knob_keeps_network_silent_on_release_to_exercise_user_t308() {
    let mut l = lab();
    l.net.behaviour(l.a.port).release_complete = false;
    routed_call(&mut l);
    let t = ms(10);
    l.a.send(&mut l.net, t, release(user_ref(1), cause::NORMAL_CLEARING));
    l.a.expect_nothing(&mut l.net, t);
    l.b.expect(&mut l.net, t, mt::RELEASE);
    // The user's retransmission is ignored too.
    let t2 = t + secs(30);
    l.a.send(&mut l.net, t2, release(user_ref(1), cause::NORMAL_CLEARING));
    l.a.expect_nothing(&mut l.net, t2);
    assert_eq!(l.net.calls(l.a.port)[0].state, CallState::N11);
    // The same call reference can be used again.
    l.a.send(&mut l.net, t2, setup(1, b"1002"));
    l.a.expect(&mut l.net, t2, mt::CALL_PROCEEDING);
}

#[test]
fn ignore_knob_off_answers_release() {
    // Negative of the above: the default answers.
    let mut l = lab();
    routed_call(&mut l);
    l.a.send(&mut l.net, ms(10), release(user_ref(1), cause::NORMAL_CLEARING));
    l.a.expect(&mut l.net, ms(10), mt::RELEASE_COMPLETE);
}

#[test]
#[should_panic(expected = "expected silence")]
fn expect_nothing_fails_when_something_arrives() {
    let mut l = lab();
    l.a.send(&mut l.net, ms(1), release(user_ref(77), cause::NORMAL_CLEARING));
    l.a.expect_nothing(&mut l.net, ms(1));
}

#[test]
#[should_panic(expected = "expected RELEASE")]
fn expect_fails_on_the_wrong_message_type() {
    let mut l = lab();
    l.a.send(&mut l.net, ms(1), release(user_ref(77), cause::NORMAL_CLEARING));
    l.a.expect(&mut l.net, ms(1), mt::RELEASE);
}
#[test]
fn network_can_move_between_threads() {
    fn is_send<T: Send>() {}
    is_send::<Network>();
}

#[test]
fn nsap_called_number_routes_to_port_with_that_address() {
    let mut net = Network::new();
    let nsap_b = vec![0x47; 20];
    let (pa, pb) = (net.add_port(b"1001".to_vec()), net.add_port(nsap_b.clone()));
    let (mut a, mut b) = (User::new(pa), User::new(pb));
    a.bring_up(&mut net, ms(0));
    b.bring_up(&mut net, ms(0));
    let mut s = setup(1, b"0");
    for i in &mut s.ies {
        if let Body::Called(n) = &mut i.body {
            *n = PartyNumber { ton: 0, plan: PartyNumber::NSAP, presentation: None, digits: nsap_b.clone() };
        }
    }
    a.send(&mut net, ms(1), s);
    a.expect(&mut net, ms(1), mt::CALL_PROCEEDING);
    let sb = b.expect(&mut net, ms(1), mt::SETUP);
    assert_eq!(sb.called().unwrap().plan, PartyNumber::NSAP);
}
