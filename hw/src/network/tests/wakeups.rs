//! The per-port timer index: with many calls up and one timer armed, that timer fires at its
//! instant and nothing else does; the port's earliest call deadline follows every arm, re-arm,
//! cancel and destroy. (Debug builds also check the index against a walk of every call at each
//! `Network::next_deadline`, which every `run_until` here calls.)

use super::*;

/// Calls up (offered by the network, connected, no timer running) besides the one under test.
const BUSY: usize = 300;

/// A lab whose port A holds `BUSY` active calls; their call references.
fn busy_lab() -> (Lab, Vec<u32>) {
    let mut net = Network::new();
    let a = net.add_port(b"1001".to_vec());
    let b = net.add_port(b"1002".to_vec());
    let mut l = Lab { net, a: User::new(a), b: User::new(b) };
    // A window wide enough for every SETUP of the storm without waiting for a POLL.
    l.a.window = 1 << 20;
    l.a.bring_up(&mut l.net, Duration::ZERO);
    l.b.bring_up(&mut l.net, Duration::ZERO);
    let t = ms(1);
    let refs = (0..BUSY)
        .map(|_| {
            let cref = l.net.offer_call(t, l.a.port, b"5550001", OfferParams::default());
            let s = l.a.expect(&mut l.net, t, mt::SETUP);
            l.a.send(&mut l.net, t, Message::new(answer_ref(&s), mt::CONNECT));
            l.a.expect(&mut l.net, t, mt::CONNECT_ACK);
            cref
        })
        .collect();
    assert_eq!(call_deadline(&l), None, "no call timer runs once every call is up");
    (l, refs)
}

/// The earliest call timer at port A, from the index; checked against a walk of every call.
fn call_deadline(l: &Lab) -> Option<Duration> {
    let calls = &l.net.ports[l.a.port].calls;
    assert_eq!(calls.check_index(), Ok(()));
    let d = calls.next_deadline();
    assert_eq!(d, calls.walk_next_deadline(), "index vs walk");
    d
}

/// Nothing up to just before `at`; then, at `at`, exactly one message of type `t` to A.
fn fires_at(l: &mut Lab, at: Duration, t: u8) -> Message {
    let before = at - Duration::from_micros(1);
    run_until(&mut l.net, &mut [&mut l.a, &mut l.b], before);
    l.a.expect_nothing(&mut l.net, before);
    run_until(&mut l.net, &mut [&mut l.a, &mut l.b], at);
    l.a.expect(&mut l.net, at, t)
}

fn net_calls(l: &Lab) -> usize {
    l.net.calls(l.a.port).len()
}

#[test]
fn t303_of_one_offer_fires_on_time_among_many_active_calls() {
    let (mut l, _) = busy_lab();
    let timers = l.net.timers;
    let t0 = secs(1);
    let cref = l.net.offer_call(t0, l.a.port, b"5550002", OfferParams::default());
    l.a.expect(&mut l.net, t0, mt::SETUP);
    let d = t0 + timers.t303;
    assert_eq!(call_deadline(&l), Some(d));
    assert_eq!(fires_at(&mut l, d, mt::SETUP).call_ref.value, cref, "SETUP once more on the first T303");
    assert_eq!(call_deadline(&l), Some(d + timers.t303), "T303 re-armed");
    let rel = fires_at(&mut l, d + timers.t303, mt::RELEASE);
    assert_eq!((rel.call_ref.value, rel.cause_values()), (cref, vec![cause::RECOVERY_ON_TIMER_EXPIRY]));
    assert_eq!(call_deadline(&l), Some(d + timers.t303 + timers.t308), "T308 follows the RELEASE");
}

#[test]
fn t310_of_one_proceeding_call_fires_on_time_among_many_active_calls() {
    let (mut l, _) = busy_lab();
    let t0 = secs(1);
    let cref = l.net.offer_call(t0, l.a.port, b"5550002", OfferParams::default());
    let s = l.a.expect(&mut l.net, t0, mt::SETUP);
    let t1 = t0 + ms(500);
    l.a.send(&mut l.net, t1, Message::new(answer_ref(&s), mt::CALL_PROCEEDING));
    let d = t1 + l.net.timers.t310;
    assert_eq!(call_deadline(&l), Some(d), "T310 replaces T303");
    let rel = fires_at(&mut l, d, mt::RELEASE);
    assert_eq!(rel.call_ref.value, cref);
    assert_eq!(rel.causes()[0].diagnostics, b"310".to_vec());
}

#[test]
fn t308_of_one_released_call_fires_on_time_among_many_active_calls() {
    let (mut l, refs) = busy_lab();
    let timers = l.net.timers;
    let t0 = secs(1);
    l.net.release(t0, l.a.port, refs[BUSY / 2], cause::NORMAL_CLEARING, None);
    l.a.expect(&mut l.net, t0, mt::RELEASE);
    let d = t0 + timers.t308;
    assert_eq!(call_deadline(&l), Some(d));
    let again = fires_at(&mut l, d, mt::RELEASE);
    assert_eq!(again.call_ref.value, refs[BUSY / 2]);
    assert_eq!(again.cause_values(), vec![cause::NORMAL_CLEARING, cause::RECOVERY_ON_TIMER_EXPIRY]);
    // The second expiry forgets the call, at its instant and not before.
    let gone = d + timers.t308;
    run_until(&mut l.net, &mut [&mut l.a, &mut l.b], gone - Duration::from_micros(1));
    assert_eq!(net_calls(&l), BUSY);
    run_until(&mut l.net, &mut [&mut l.a, &mut l.b], gone);
    assert_eq!(net_calls(&l), BUSY - 1);
    assert_eq!(call_deadline(&l), None, "a destroyed call leaves nothing in the index");
}

#[test]
fn t322_of_one_enquiry_fires_on_time_among_many_active_calls() {
    let (mut l, refs) = busy_lab();
    let timers = l.net.timers;
    let t0 = secs(1);
    let cref = refs[BUSY - 1];
    l.net.status_enquiry(t0, l.a.port, cref);
    l.a.expect(&mut l.net, t0, mt::STATUS_ENQUIRY);
    let d = t0 + timers.t322;
    assert_eq!(call_deadline(&l), Some(d));
    assert_eq!(fires_at(&mut l, d, mt::STATUS_ENQUIRY).call_ref.value, cref);
    let rel = fires_at(&mut l, d + timers.t322, mt::RELEASE);
    assert_eq!(rel.call_ref.value, cref);
    assert_eq!(rel.causes()[0].diagnostics, b"322".to_vec());
}

#[test]
fn delayed_connect_fires_on_time_among_many_active_calls() {
    let (mut l, _) = busy_lab();
    let t0 = secs(1);
    l.net.behaviour(l.a.port).answer = Answer::ProceedThenConnect;
    l.net.behaviour(l.a.port).connect_delay = ms(250);
    l.a.send(&mut l.net, t0, setup(7, b"999"));
    l.a.expect(&mut l.net, t0, mt::CALL_PROCEEDING);
    assert_eq!(call_deadline(&l), Some(t0 + ms(250)));
    assert_eq!(fires_at(&mut l, t0 + ms(250), mt::CONNECT).call_ref.value, 7);
    assert_eq!(call_deadline(&l), None);
}

#[test]
fn delayed_add_party_ack_and_t398_fire_on_time_among_many_active_calls() {
    let (mut l, _) = busy_lab();
    let t0 = secs(1);
    l.a.send(&mut l.net, t0, p2mp_setup(1, b"777"));
    l.a.expect(&mut l.net, t0, mt::CONNECT);
    l.net.behaviour(l.a.port).add_party = Answer::ProceedThenConnect;
    l.net.behaviour(l.a.port).connect_delay = ms(300);
    l.a.send(&mut l.net, t0, add_party(1, 1, b"778"));
    l.a.expect(&mut l.net, t0, mt::PARTY_ALERTING);
    assert_eq!(call_deadline(&l), Some(t0 + ms(300)));
    let ack = fires_at(&mut l, t0 + ms(300), mt::ADD_PARTY_ACK);
    assert_eq!(ack.endpoint_ref().map(|e| e.value), Some(1));
    assert_eq!(call_deadline(&l), None);
    // DROP PARTY by the network, never acknowledged: T398 drops the party anyway, on time.
    let t1 = secs(2);
    l.net.drop_party(t1, l.a.port, 1, 1, cause::NORMAL_CLEARING);
    l.a.expect(&mut l.net, t1, mt::DROP_PARTY);
    let d = t1 + l.net.timers.t398;
    assert_eq!(call_deadline(&l), Some(d));
    let parties = |l: &Lab| l.net.calls(l.a.port).iter().map(|c| c.parties.len()).sum::<usize>();
    run_until(&mut l.net, &mut [&mut l.a, &mut l.b], d - Duration::from_micros(1));
    assert_eq!(parties(&l), 2);
    run_until(&mut l.net, &mut [&mut l.a, &mut l.b], d);
    assert_eq!(parties(&l), 1);
    assert_eq!(call_deadline(&l), None);
}

#[test]
fn call_deadline_follows_arms_rearms_cancels_and_destroys() {
    let (mut l, refs) = busy_lab();
    let timers = l.net.timers;
    let (x, y) = (refs[10], refs[200]);
    let t0 = secs(1);
    // Arm T322 on x, then on y later: x's stays the earliest.
    l.net.status_enquiry(t0, l.a.port, x);
    l.net.status_enquiry(t0 + secs(1), l.a.port, y);
    assert_eq!(call_deadline(&l), Some(t0 + timers.t322));
    // Re-arm x's T322 later than y's.
    l.net.status_enquiry(t0 + secs(2), l.a.port, x);
    assert_eq!(call_deadline(&l), Some(t0 + secs(1) + timers.t322));
    // Cancel y's (the user answers STATUS): x's again.
    let status = |cref: u32| {
        Message::new(CallRef { flag: true, value: cref }, mt::STATUS)
            .with(Ie::new(id::CALL_STATE, Body::CallState(10)))
            .with(Ie::cause(0, cause::RESPONSE_TO_STATUS_ENQUIRY, &[]))
    };
    l.a.send(&mut l.net, t0 + secs(2), status(y));
    assert_eq!(call_deadline(&l), Some(t0 + secs(2) + timers.t322));
    // Releasing x replaces its T322 by T308.
    l.net.release(t0 + secs(3), l.a.port, x, cause::NORMAL_CLEARING, None);
    assert_eq!(call_deadline(&l), Some(t0 + secs(3) + timers.t308));
    // RELEASE COMPLETE destroys x: no timer left.
    l.a.send(&mut l.net, t0 + secs(3), Message::new(CallRef { flag: true, value: x }, mt::RELEASE_COMPLETE));
    assert_eq!(net_calls(&l), BUSY - 1);
    assert_eq!(call_deadline(&l), None);
    // And the port's deadline is the network's: only SSCOP timers are left besides.
    let sscop = [l.a.port, l.b.port].iter().filter_map(|&p| l.net.sscop(p).and_then(|s| s.next_deadline())).min();
    assert_eq!(l.net.next_deadline(), sscop);
}
