//! Point-to-multipoint: ADD PARTY, DROP PARTY (T398), routed parties and leaves.

use super::*;

#[test]
fn p2mp_add_and_drop_party_with_terminated_parties() {
    let mut l = lab();
    let t = ms(1);
    l.a.send(&mut l.net, t, p2mp_setup(1, b"777"));
    let c = l.a.expect(&mut l.net, t, mt::CONNECT);
    assert_eq!(c.endpoint_ref().map(|e| (e.value, e.flag)), Some((0, true)));
    l.a.send(&mut l.net, t, add_party(1, 1, b"778"));
    let ack = l.a.expect(&mut l.net, t, mt::ADD_PARTY_ACK);
    assert_eq!(ack.endpoint_ref().unwrap().value, 1);
    assert_eq!(l.net.calls(l.a.port)[0].parties, vec![(0, PartyState::Active), (1, PartyState::Active)]);
    // Same endpoint again → rejected.
    l.a.send(&mut l.net, t, add_party(1, 1, b"778"));
    assert_eq!(l.a.expect(&mut l.net, t, mt::ADD_PARTY_REJECT).cause_values(), vec![cause::INVALID_ENDPOINT_REF]);
    // Reject knob.
    l.net.behaviour(l.a.port).add_party = Answer::Reject(cause::CALL_REJECTED);
    l.a.send(&mut l.net, t, add_party(1, 2, b"779"));
    assert_eq!(l.a.expect(&mut l.net, t, mt::ADD_PARTY_REJECT).cause_values(), vec![cause::CALL_REJECTED]);
    // Drop party 1; unknown 9 → #89.
    let drop = |e: u16| {
        Message::new(user_ref(1), mt::DROP_PARTY)
            .with(Ie::cause(0, 16, &[]))
            .with(Ie::new(id::ENDPOINT_REF, Body::EndpointRef(ie::EndpointRef { flag: false, value: e })))
    };
    l.a.send(&mut l.net, t, drop(1));
    assert_eq!(l.a.expect(&mut l.net, t, mt::DROP_PARTY_ACK).endpoint_ref().unwrap().value, 1);
    l.a.send(&mut l.net, t, drop(9));
    assert_eq!(l.a.expect(&mut l.net, t, mt::DROP_PARTY_ACK).cause_values(), vec![cause::INVALID_ENDPOINT_REF]);
    // Knob: DROP PARTY ignored.
    l.net.behaviour(l.a.port).drop_party_ack = false;
    l.a.send(&mut l.net, t, drop(0));
    l.a.expect_nothing(&mut l.net, t);
}

#[test]
fn p2mp_network_drop_party_waits_for_ack_t398() {
    let mut l = lab();
    let t = ms(1);
    l.a.send(&mut l.net, t, p2mp_setup(1, b"777"));
    l.a.expect(&mut l.net, t, mt::CONNECT);
    l.a.send(&mut l.net, t, add_party(1, 1, b"778"));
    l.a.expect(&mut l.net, t, mt::ADD_PARTY_ACK);
    l.net.drop_party(t, l.a.port, 1, 1, cause::NORMAL_CLEARING);
    l.a.expect(&mut l.net, t, mt::DROP_PARTY);
    assert_eq!(l.net.calls(l.a.port)[0].parties[1], (1, PartyState::DropPartyInitiated));
    run_until(&mut l.net, &mut [&mut l.a, &mut l.b], t + secs(4));
    assert_eq!(l.net.calls(l.a.port)[0].parties.len(), 1);
}

#[test]
fn p2mp_routed_parties_get_data_and_leaf_release_drops_party() {
    let mut net = Network::new();
    let (pa, pb, pc) = (net.add_port(b"1001".to_vec()), net.add_port(b"1002".to_vec()), net.add_port(b"1003".to_vec()));
    let (mut a, mut b, mut c) = (User::new(pa), User::new(pb), User::new(pc));
    let t = ms(1);
    for u in [&mut a, &mut b, &mut c] {
        u.bring_up(&mut net, t);
    }
    a.send(&mut net, t, p2mp_setup(1, b"1002"));
    let a_vci = a.expect(&mut net, t, mt::CALL_PROCEEDING).connection_id().unwrap().vci;
    let sb = b.expect(&mut net, t, mt::SETUP);
    b.send(&mut net, t, Message::new(answer_ref(&sb), mt::CONNECT));
    b.expect(&mut net, t, mt::CONNECT_ACK);
    a.expect(&mut net, t, mt::CONNECT);
    a.send(&mut net, t, add_party(1, 1, b"1003"));
    let sc = c.expect(&mut net, t, mt::SETUP);
    assert!(sc.ie(id::TRAFFIC).is_some() && sc.ie(id::BEARER).is_some(), "leaf SETUP lacks the call's parameters");
    c.send(&mut net, t, Message::new(answer_ref(&sc), mt::CONNECT));
    c.expect(&mut net, t, mt::CONNECT_ACK);
    assert_eq!(a.expect(&mut net, t, mt::ADD_PARTY_ACK).endpoint_ref().unwrap().value, 1);
    net.from_user(t, pa, 0, a_vci, b"multicast");
    b.pump(&mut net, t);
    c.pump(&mut net, t);
    assert_eq!(b.data.len(), 1);
    assert_eq!(c.data.len(), 1);
    // Leaf C leaves: the root hears DROP PARTY for endpoint 1, not RELEASE.
    c.send(&mut net, t, release(answer_ref(&sc), cause::NORMAL_CLEARING));
    c.expect(&mut net, t, mt::RELEASE_COMPLETE);
    let d = a.expect(&mut net, t, mt::DROP_PARTY);
    assert_eq!(d.endpoint_ref().unwrap().value, 1);
    a.send(
        &mut net,
        t,
        Message::new(user_ref(1), mt::DROP_PARTY_ACK)
            .with(Ie::new(id::ENDPOINT_REF, Body::EndpointRef(ie::EndpointRef { flag: false, value: 1 }))),
    );
    // The last leaf leaves: RELEASE.
    b.send(&mut net, t, release(answer_ref(&sb), cause::NORMAL_CLEARING));
    b.expect(&mut net, t, mt::RELEASE_COMPLETE);
    a.expect(&mut net, t, mt::RELEASE);
}
