//! Calls the network terminates (answer knobs) and calls it originates (T303, T310).

use super::*;

// ----- calls the network terminates --------------------------------------------------------

#[test]
fn terminated_call_connect_records_and_injects_data() {
    let mut l = lab();
    let t = ms(1);
    l.a.send(&mut l.net, t, setup(3, b"999"));
    let c = l.a.expect(&mut l.net, t, mt::CONNECT);
    let vci = c.connection_id().unwrap().vci;
    l.net.from_user(t, l.a.port, 0, vci, b"to network");
    assert_eq!(l.net.received_data(l.a.port, 0, vci), vec![b"to network".to_vec()]);
    l.net.inject_data(l.a.port, 0, vci, b"from network");
    l.a.pump(&mut l.net, t);
    assert_eq!(l.a.data, vec![(0, vci, b"from network".to_vec())]);
}

#[test]
fn terminated_call_answer_knobs() {
    let mut l = lab();
    let t = ms(1);
    l.net.behaviour(l.a.port).answer = Answer::Reject(cause::CALL_REJECTED);
    l.a.send(&mut l.net, t, setup(3, b"999"));
    assert_eq!(l.a.expect(&mut l.net, t, mt::RELEASE_COMPLETE).cause_values(), vec![cause::CALL_REJECTED]);
    l.net.behaviour(l.a.port).answer = Answer::Ignore;
    l.a.send(&mut l.net, t, setup(4, b"999"));
    l.a.expect_nothing(&mut l.net, t);
    assert_eq!(l.net.calls(l.a.port)[0].state, CallState::N1);
    l.net.behaviour(l.a.port).answer = Answer::ProceedOnly;
    l.a.send(&mut l.net, t, setup(5, b"999"));
    l.a.expect(&mut l.net, t, mt::CALL_PROCEEDING);
    run_until(&mut l.net, &mut [&mut l.a, &mut l.b], t + secs(5));
    l.a.expect_nothing(&mut l.net, t + secs(5));
    l.net.behaviour(l.a.port).answer = Answer::ProceedThenConnect;
    l.a.send(&mut l.net, t + secs(5), setup(6, b"999"));
    l.a.expect(&mut l.net, t + secs(5), mt::CALL_PROCEEDING);
    run_until(&mut l.net, &mut [&mut l.a, &mut l.b], t + secs(5) + ms(100));
    let c = l.a.expect(&mut l.net, t + secs(6), mt::CONNECT);
    assert!(c.connection_id().is_none(), "Connection Identifier already sent in CALL PROCEEDING");
}

#[test]
fn setup_missing_mandatory_ie_is_refused_with_96() {
    let mut l = lab();
    let mut s = setup(3, b"999");
    s.ies.retain(|i| i.id != id::TRAFFIC);
    l.a.send(&mut l.net, ms(1), s);
    let rc = l.a.expect(&mut l.net, ms(1), mt::RELEASE_COMPLETE);
    assert_eq!(rc.cause_values(), vec![cause::MANDATORY_IE_MISSING]);
    assert_eq!(rc.causes()[0].diagnostics, vec![id::TRAFFIC]);
}

#[test]
fn release_without_cause_is_completed_with_96() {
    let mut l = lab();
    routed_call(&mut l);
    l.a.send(&mut l.net, ms(5), Message::new(user_ref(1), mt::RELEASE));
    assert_eq!(l.a.expect(&mut l.net, ms(5), mt::RELEASE_COMPLETE).cause_values(), vec![cause::MANDATORY_IE_MISSING]);
}

// ----- network-originated calls --------------------------------------------------------------

#[test]
fn offered_call_connects_and_t303_retries_when_ignored() {
    let mut l = lab();
    let t = ms(1);
    let cref = l.net.offer_call(t, l.a.port, b"5550001", OfferParams::default());
    let s = l.a.expect(&mut l.net, t, mt::SETUP);
    assert_eq!((s.call_ref.value, s.call_ref.flag), (cref, false));
    let vci = s.connection_id().unwrap().vci;
    l.a.send(&mut l.net, t, Message::new(answer_ref(&s), mt::CONNECT));
    l.a.expect(&mut l.net, t, mt::CONNECT_ACK);
    assert_eq!(l.net.calls(l.a.port)[0].state, CallState::N10);
    l.net.from_user(t, l.a.port, 0, vci, b"x");
    assert_eq!(l.net.received_data(l.a.port, 0, vci).len(), 1);
    // A second offer, ignored: SETUP again after T303, then RELEASE #102 "303".
    let t = ms(10);
    l.net.offer_call(t, l.a.port, b"5550002", OfferParams::default());
    l.a.expect(&mut l.net, t, mt::SETUP);
    run_until(&mut l.net, &mut [&mut l.a, &mut l.b], t + secs(4));
    l.a.expect(&mut l.net, t + secs(4), mt::SETUP);
    run_until(&mut l.net, &mut [&mut l.a, &mut l.b], t + secs(8));
    let r = l.a.expect(&mut l.net, t + secs(8), mt::RELEASE);
    assert_eq!(r.causes()[0].diagnostics, b"303");
}

#[test]
fn an_offered_call_keeps_its_setup_until_connect_and_not_once_active() {
    let mut l = lab();
    let t = ms(1);
    let cref = l.net.offer_call(t, l.a.port, b"5550001", OfferParams::default());
    let port = l.a.port;
    let kept = move |net: &Network| net.ports.get(port)?.calls.get(&(true, cref)).map(|c| c.last_sent.is_some());
    assert_eq!(kept(&l.net), Some(true), "the SETUP is kept for T303");
    let s = l.a.expect(&mut l.net, t, mt::SETUP);
    l.a.send(&mut l.net, t, Message::new(answer_ref(&s), mt::CONNECT));
    l.a.expect(&mut l.net, t, mt::CONNECT_ACK);
    assert_eq!(kept(&l.net), Some(false), "an active call carries no SETUP (T303 is over)");
    let c = &l.net.calls(l.a.port)[0];
    assert_eq!((c.state, c.calling.as_slice(), c.called.as_slice()), (CallState::N10, &b"5550001"[..], &b"1001"[..]));
}

#[test]
fn routed_setup_unanswered_clears_caller_with_18() {
    let mut l = lab();
    let t = ms(1);
    l.a.send(&mut l.net, t, setup(1, b"1002"));
    l.a.expect(&mut l.net, t, mt::CALL_PROCEEDING);
    l.b.expect(&mut l.net, t, mt::SETUP);
    run_until(&mut l.net, &mut [&mut l.a, &mut l.b], t + secs(8));
    l.b.take(&mut l.net, t + secs(8));
    assert_eq!(l.a.expect(&mut l.net, t + secs(8), mt::RELEASE).cause_values(), vec![cause::NO_USER_RESPONDING]);
}
