//! The signalling link: SSCOP bring-up, polls and retransmission, link loss and T309.

use super::*;

// ----- SSCOP -------------------------------------------------------------------------------

#[test]
fn sscop_bring_up_by_user_bgn_gets_bgak() {
    let l = lab();
    assert_eq!(l.net.link_state(l.a.port), Some(LinkState::DataTransferReady));
    assert_eq!(l.net.link_state(l.b.port), Some(LinkState::DataTransferReady));
}

#[test]
fn sscop_link_up_makes_network_send_bgn_and_link_down_loses_state() {
    let mut l = lab();
    let t = ms(5);
    l.net.set_link(t, l.a.port, false);
    assert_eq!(l.net.link_state(l.a.port), Some(LinkState::Idle));
    // While the PHY is down nothing gets through.
    l.a.send(&mut l.net, t, Message::new(user_ref(9), mt::STATUS_ENQUIRY));
    l.a.expect_nothing(&mut l.net, t);
    l.net.set_link(t, l.a.port, true);
    l.a.link_pdus.clear();
    l.a.pump(&mut l.net, t);
    assert!(matches!(l.a.link_pdus.first(), Some(Pdu::Bgn { .. })), "{:?}", l.a.link_pdus);
    assert_eq!(l.net.link_state(l.a.port), Some(LinkState::DataTransferReady));
}

#[test]
fn sscop_network_polls_unacknowledged_data_and_retransmits_what_stat_lists() {
    let mut l = lab();
    let t = ms(1);
    l.a.drop_sds = 1; // the network's first SD is lost on the way
    l.a.send(&mut l.net, t, Message::new(user_ref(7), mt::STATUS_ENQUIRY));
    l.a.expect_nothing(&mut l.net, t);
    // The network polls; our STAT says N(R)=0 with the gap [0,1).
    let deadline = l.net.next_deadline().unwrap();
    assert_eq!(deadline, t + ms(750));
    l.net.advance(deadline);
    let Some((_, _, f)) = l.net.to_user(l.a.port) else { panic!("no POLL") };
    let Pdu::Poll { nps, ns } = Pdu::parse(&f).unwrap() else { panic!("not a POLL") };
    assert_eq!(ns, 1);
    l.a.pdu(&mut l.net, deadline, Pdu::Stat { nps, nmr: 64, nr: 0, list: vec![0, 1] });
    let st = l.a.expect(&mut l.net, deadline, mt::STATUS);
    assert_eq!(st.cause_values(), vec![cause::RESPONSE_TO_STATUS_ENQUIRY]);
    assert_eq!(l.net.sscop(l.a.port).unwrap().stats.sd_retransmitted, 1);
}
// ----- link loss -----------------------------------------------------------------------------

#[test]
fn link_loss_clears_calls_not_active_and_t309_clears_the_rest() {
    let mut l = lab();
    let (_, _) = routed_call(&mut l); // active A-B call
    let t = ms(5);
    l.a.send(&mut l.net, t, setup(2, b"1002")); // second call left in N3 / N6
    l.a.expect(&mut l.net, t, mt::CALL_PROCEEDING);
    l.b.expect(&mut l.net, t, mt::SETUP);
    l.net.set_link(t, l.a.port, false);
    // The pending call is gone at once, B hears #27 for it; the active one survives.
    let r = l.b.expect(&mut l.net, t, mt::RELEASE);
    assert_eq!(r.cause_values(), vec![cause::DESTINATION_OUT_OF_ORDER]);
    assert_eq!(l.net.calls(l.a.port).len(), 1);
    run_until(&mut l.net, &mut [&mut l.a, &mut l.b], t + secs(10));
    assert!(l.net.calls(l.a.port).is_empty());
    assert_eq!(l.b.expect(&mut l.net, t + secs(10), mt::RELEASE).cause_values(), vec![cause::DESTINATION_OUT_OF_ORDER]);
}

#[test]
fn link_back_within_t309_keeps_active_calls() {
    let mut l = lab();
    routed_call(&mut l);
    let t = ms(5);
    l.net.set_link(t, l.a.port, false);
    l.net.set_link(t + secs(1), l.a.port, true);
    l.a.pump(&mut l.net, t + secs(1));
    run_until(&mut l.net, &mut [&mut l.a, &mut l.b], t + secs(20));
    assert_eq!(l.net.calls(l.a.port).len(), 1);
    l.b.expect_nothing(&mut l.net, t + secs(20));
}

#[test]
fn sscop_end_from_user_is_acknowledged_and_counts_as_link_release() {
    let mut l = lab();
    let t = ms(5);
    l.a.send(&mut l.net, t, setup(2, b"1002"));
    l.a.take(&mut l.net, t);
    l.b.take(&mut l.net, t);
    l.a.pdu(&mut l.net, t, Pdu::End { source: false, uu: vec![] });
    l.a.pump(&mut l.net, t);
    assert!(matches!(l.a.link_pdus.last(), Some(Pdu::Endak)));
    assert!(l.net.calls(l.a.port).is_empty());
    assert_eq!(l.b.expect(&mut l.net, t, mt::RELEASE).cause_values(), vec![cause::DESTINATION_OUT_OF_ORDER]);
}
#[test]
fn user_that_never_answers_polls_loses_the_link_and_pending_calls() {
    let mut l = lab();
    let t = ms(1);
    l.a.send(&mut l.net, t, setup(1, b"1002"));
    l.a.take(&mut l.net, t);
    l.b.take(&mut l.net, t);
    // Nobody pumps A: the network's POLLs go unanswered → Timer_NO_RESPONSE → END.
    run_until(&mut l.net, &mut [&mut l.b], t + secs(8));
    assert_eq!(l.net.link_state(l.a.port), Some(LinkState::Idle));
    assert!(l.net.calls(l.a.port).is_empty());
    // B saw the T303 retransmission of its SETUP, then the RELEASE.
    let got = l.b.take(&mut l.net, t + secs(8));
    assert_eq!(got.iter().map(|m| m.msg_type).collect::<Vec<_>>(), vec![mt::SETUP, mt::RELEASE]);
    assert_eq!(got[1].cause_values(), vec![cause::DESTINATION_OUT_OF_ORDER]);
    l.a.pump(&mut l.net, t + secs(8));
    assert!(l.a.link_pdus.iter().any(|p| matches!(p, Pdu::Poll { .. })));
    assert!(matches!(l.a.link_pdus.last(), Some(Pdu::End { source: true, .. })));
}
