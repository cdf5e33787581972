//! RESTART (either side), unknown call references, STATUS and STATUS ENQUIRY (T322).

use super::*;

// ----- restart -----------------------------------------------------------------------------

#[test]
fn restart_all_from_user_clears_calls_and_is_acknowledged() {
    let mut l = lab();
    routed_call(&mut l);
    let t = ms(10);
    let rst = Message::new(CallRef::GLOBAL, mt::RESTART).with(Ie::new(id::RESTART, Body::Restart(2)));
    l.a.send(&mut l.net, t, rst);
    let ack = l.a.expect(&mut l.net, t, mt::RESTART_ACK);
    assert_eq!(ack.call_ref, CallRef { flag: true, value: 0 });
    assert_eq!(ack.restart_class(), Some(2));
    assert!(l.net.calls(l.a.port).is_empty());
    assert_eq!(l.b.expect(&mut l.net, t, mt::RELEASE).cause_values(), vec![41]);
}

#[test]
fn restart_of_one_vc_clears_only_that_call() {
    let mut l = lab();
    let (v1, _) = routed_call(&mut l);
    l.net.behaviour(l.a.port).answer = Answer::Connect;
    l.a.send(&mut l.net, ms(2), setup(2, b"555"));
    let v2 = l.a.expect(&mut l.net, ms(2), mt::CONNECT).connection_id().unwrap().vci;
    let rst = Message::new(CallRef::GLOBAL, mt::RESTART)
        .with(Ie::new(id::CONNECTION_ID, Body::ConnectionId(ie::ConnectionId::exclusive(0, v2))))
        .with(Ie::new(id::RESTART, Body::Restart(0)));
    l.a.send(&mut l.net, ms(3), rst);
    let ack = l.a.expect(&mut l.net, ms(3), mt::RESTART_ACK);
    assert_eq!(ack.connection_id().map(|c| c.vci), Some(v2));
    let calls = l.net.calls(l.a.port);
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].vci, v1);
}

#[test]
fn restart_from_network_clears_on_ack_and_retries_on_t316() {
    let mut l = lab();
    routed_call(&mut l);
    let t = ms(10);
    l.net.restart(t, l.a.port, true, None);
    let r = l.a.expect(&mut l.net, t, mt::RESTART);
    assert_eq!(r.restart_class(), Some(2));
    assert_eq!(l.net.calls(l.a.port).len(), 1);
    run_until(&mut l.net, &mut [&mut l.a, &mut l.b], t + secs(120));
    l.a.expect(&mut l.net, t + secs(120), mt::RESTART);
    l.a.send(
        &mut l.net,
        t + secs(121),
        Message::new(CallRef { flag: true, value: 0 }, mt::RESTART_ACK).with(Ie::new(id::RESTART, Body::Restart(2))),
    );
    assert!(l.net.calls(l.a.port).is_empty());
}

#[test]
fn restart_with_wrong_flag_or_other_global_message_gets_status_81() {
    let mut l = lab();
    let bad = Message::new(CallRef { flag: true, value: 0 }, mt::RESTART).with(Ie::new(id::RESTART, Body::Restart(2)));
    l.a.send(&mut l.net, ms(1), bad);
    assert_eq!(l.a.expect(&mut l.net, ms(1), mt::STATUS).cause_values(), vec![cause::INVALID_CALL_REF]);
    l.a.send(&mut l.net, ms(1), Message::new(CallRef::GLOBAL, mt::SETUP));
    assert_eq!(l.a.expect(&mut l.net, ms(1), mt::STATUS).cause_values(), vec![cause::INVALID_CALL_REF]);
}

// ----- unknown call reference, STATUS ------------------------------------------------------

#[test]
fn unknown_call_ref_rules() {
    let mut l = lab();
    let t = ms(1);
    l.a.send(&mut l.net, t, release(user_ref(42), cause::NORMAL_CLEARING));
    let rc = l.a.expect(&mut l.net, t, mt::RELEASE_COMPLETE);
    assert_eq!((rc.cause_values(), rc.call_ref), (vec![cause::INVALID_CALL_REF], CallRef { flag: true, value: 42 }));
    l.a.send(&mut l.net, t, Message::new(user_ref(42), mt::RELEASE_COMPLETE));
    l.a.expect_nothing(&mut l.net, t);
    l.a.send(&mut l.net, t, Message::new(user_ref(42), mt::STATUS_ENQUIRY));
    let st = l.a.expect(&mut l.net, t, mt::STATUS);
    assert_eq!((st.call_state(), st.cause_values()), (Some(0), vec![cause::RESPONSE_TO_STATUS_ENQUIRY]));
    let status10 = Message::new(user_ref(42), mt::STATUS)
        .with(Ie::new(id::CALL_STATE, Body::CallState(10)))
        .with(Ie::cause(0, 30, &[]));
    l.a.send(&mut l.net, t, status10);
    assert_eq!(
        l.a.expect(&mut l.net, t, mt::RELEASE_COMPLETE).cause_values(),
        vec![cause::MESSAGE_NOT_COMPATIBLE_WITH_STATE]
    );
    l.a.send(&mut l.net, t, Message::new(user_ref(42), mt::CONNECT));
    assert_eq!(l.a.expect(&mut l.net, t, mt::RELEASE_COMPLETE).cause_values(), vec![cause::INVALID_CALL_REF]);
}

#[test]
fn status_enquiry_reports_network_state() {
    let mut l = lab();
    routed_call(&mut l);
    l.a.send(&mut l.net, ms(5), Message::new(user_ref(1), mt::STATUS_ENQUIRY));
    let st = l.a.expect(&mut l.net, ms(5), mt::STATUS);
    assert_eq!(st.call_state(), Some(10));
}

#[test]
fn network_status_enquiry_t322_resends_once_then_clears() {
    let mut l = lab();
    routed_call(&mut l);
    let t = ms(5);
    l.net.status_enquiry(t, l.a.port, 1);
    l.a.expect(&mut l.net, t, mt::STATUS_ENQUIRY);
    run_until(&mut l.net, &mut [&mut l.a, &mut l.b], t + secs(4));
    l.a.expect(&mut l.net, t + secs(4), mt::STATUS_ENQUIRY);
    run_until(&mut l.net, &mut [&mut l.a, &mut l.b], t + secs(8));
    let r = l.a.expect(&mut l.net, t + secs(8), mt::RELEASE);
    assert_eq!(r.causes()[0].value, cause::RECOVERY_ON_TIMER_EXPIRY);
    assert_eq!(r.causes()[0].diagnostics, b"322");
}

#[test]
fn network_status_enquiry_answered_stops_t322() {
    let mut l = lab();
    routed_call(&mut l);
    let t = ms(5);
    l.net.status_enquiry(t, l.a.port, 1);
    l.a.expect(&mut l.net, t, mt::STATUS_ENQUIRY);
    let st = Message::new(user_ref(1), mt::STATUS).with(Ie::new(id::CALL_STATE, Body::CallState(10))).with(Ie::cause(
        0,
        30,
        &[],
    ));
    l.a.send(&mut l.net, t, st);
    run_until(&mut l.net, &mut [&mut l.a, &mut l.b], t + secs(10));
    l.a.expect_nothing(&mut l.net, t + secs(10));
    assert_eq!(l.net.calls(l.a.port)[0].state, CallState::N10);
}

#[test]
fn status_saying_null_clears_the_call() {
    let mut l = lab();
    routed_call(&mut l);
    let st = Message::new(user_ref(1), mt::STATUS).with(Ie::new(id::CALL_STATE, Body::CallState(0))).with(Ie::cause(
        0,
        30,
        &[],
    ));
    l.a.send(&mut l.net, ms(5), st);
    assert!(l.net.calls(l.a.port).is_empty());
    assert_eq!(
        l.b.expect(&mut l.net, ms(5), mt::RELEASE).cause_values(),
        vec![cause::MESSAGE_NOT_COMPATIBLE_WITH_STATE]
    );
}
#[test]
fn restart_of_indicated_vc_without_connection_id_gets_status_96() {
    let mut l = lab();
    let rst = Message::new(CallRef::GLOBAL, mt::RESTART).with(Ie::new(id::RESTART, Body::Restart(0)));
    l.a.send(&mut l.net, ms(1), rst);
    let st = l.a.expect(&mut l.net, ms(1), mt::STATUS);
    assert_eq!(
        (st.cause_values(), st.causes()[0].diagnostics.clone()),
        (vec![cause::MANDATORY_IE_MISSING], vec![id::CONNECTION_ID])
    );
}
