//! Action indicators (message type, IEs), messages out of state, malformed input.

use super::*;

// ----- action indicators, malformed input ----------------------------------------------------

#[test]
fn unknown_message_type_follows_action_indicator() {
    let mut l = lab();
    routed_call(&mut l);
    let t = ms(5);
    let mut m = Message::new(user_ref(1), 0x33);
    m.ext = 0x80 | 0x10 | 1; // discard and ignore
    l.a.send(&mut l.net, t, m.clone());
    l.a.expect_nothing(&mut l.net, t);
    m.ext = 0x80; // no instruction: STATUS #97
    l.a.send(&mut l.net, t, m.clone());
    assert_eq!(l.a.expect(&mut l.net, t, mt::STATUS).cause_values(), vec![cause::MESSAGE_TYPE_NOT_IMPLEMENTED]);
    m.ext = 0x80 | 0x10; // clear call
    l.a.send(&mut l.net, t, m);
    let r = l.a.expect(&mut l.net, t, mt::RELEASE);
    assert_eq!(
        (r.cause_values(), r.causes()[0].diagnostics.clone()),
        (vec![cause::MESSAGE_TYPE_NOT_IMPLEMENTED], vec![0x33])
    );
    assert_eq!(l.b.expect(&mut l.net, t, mt::RELEASE).cause_values(), vec![cause::MESSAGE_TYPE_NOT_IMPLEMENTED]);
}

#[test]
fn unrecognized_ie_follows_ie_action_indicator() {
    let unknown = |action: Option<u8>| Ie {
        id: 0x3a,
        instruction: Instruction(0x80 | action.map_or(0, |a| 0x10 | a)),
        body: Body::Raw(vec![1, 2]),
        invalid: false,
    };
    let mut l = lab();
    routed_call(&mut l);
    let t = ms(5);
    let enquiry = || Message::new(user_ref(1), mt::STATUS_ENQUIRY);
    // Discard IE, proceed: just the STATUS answer.
    l.a.send(&mut l.net, t, enquiry().with(unknown(Some(ie::action::DISCARD_IE))));
    assert_eq!(l.a.expect(&mut l.net, t, mt::STATUS).cause_values(), vec![cause::RESPONSE_TO_STATUS_ENQUIRY]);
    // Discard message: silence.
    l.a.send(&mut l.net, t, enquiry().with(unknown(Some(ie::action::DISCARD_MSG))));
    l.a.expect_nothing(&mut l.net, t);
    // No instruction: proceed and report #99.
    l.a.send(&mut l.net, t, enquiry().with(unknown(None)));
    let got = l.a.take(&mut l.net, t);
    assert_eq!(got.iter().map(|m| m.cause_values()).collect::<Vec<_>>(), vec![vec![99], vec![30]]);
    // Clear call.
    l.a.send(&mut l.net, t, enquiry().with(unknown(Some(ie::action::CLEAR_CALL))));
    let r = l.a.expect(&mut l.net, t, mt::RELEASE);
    assert_eq!((r.cause_values(), r.causes()[0].diagnostics.clone()), (vec![cause::IE_NOT_IMPLEMENTED], vec![0x3a]));
    // In a SETUP, "clear call" means RELEASE COMPLETE.
    l.a.send(&mut l.net, t, setup(9, b"999").with(unknown(Some(ie::action::CLEAR_CALL))));
    assert_eq!(l.a.expect(&mut l.net, t, mt::RELEASE_COMPLETE).cause_values(), vec![cause::IE_NOT_IMPLEMENTED]);
}

#[test]
fn messages_out_of_state_get_status_101() {
    let mut l = lab();
    routed_call(&mut l);
    l.a.send(&mut l.net, ms(5), Message::new(user_ref(1), mt::CALL_PROCEEDING));
    let st = l.a.expect(&mut l.net, ms(5), mt::STATUS);
    assert_eq!(st.cause_values(), vec![cause::MESSAGE_NOT_COMPATIBLE_WITH_STATE]);
}

/// Deterministic pseudo-random bytes.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u8 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) as u8
    }
}

#[test]
fn malformed_messages_never_panic_and_network_keeps_working() {
    let mut l = lab();
    let (a_vci, _) = routed_call(&mut l);
    let samples: Vec<Vec<u8>> = vec![
        setup(5, b"1002").emit(),
        setup(6, b"999").emit(),
        release(user_ref(1), 16).with(Ie::cause(0, 102, b"308")).emit(),
        Message::new(CallRef::GLOBAL, mt::RESTART).with(Ie::new(id::RESTART, Body::Restart(0))).emit(),
        add_party(1, 3, b"1002").emit(),
        Message::new(user_ref(1), mt::STATUS)
            .with(Ie::new(id::CALL_STATE, Body::CallState(10)))
            .with(Ie::cause(0, 30, &[]))
            .emit(),
        p2mp_setup(7, b"1002").emit(),
    ];
    let mut t = ms(10);
    let mut rng = Lcg(7);
    let mut fed = 0usize;
    for s in &samples {
        let mut variants: Vec<Vec<u8>> = (0..s.len()).map(|n| s[..n].to_vec()).collect();
        for i in 0..s.len() {
            for v in [0x00, 0xff, s[i] ^ 0x80, s[i].wrapping_add(1)] {
                let mut c = s.clone();
                c[i] = v;
                variants.push(c);
            }
        }
        for _ in 0..50 {
            let mut c = s.clone();
            let i = usize::from(rng.next()) % c.len();
            c[i] = rng.next();
            c.push(rng.next());
            variants.push(c);
        }
        for v in variants {
            t += ms(1);
            l.a.send_bytes(&mut l.net, t, v.clone());
            // Also as raw SSCOP PDUs (bad trailers).
            l.net.from_user(t, l.a.port, 0, 5, &v);
            l.a.take(&mut l.net, t);
            l.b.take(&mut l.net, t);
            fed += 2;
        }
        // Keep the timers running too.
        run_until(&mut l.net, &mut [&mut l.a, &mut l.b], t);
        // Re-sync: the raw PDUs may have disturbed the link; bring it up again.
        l.a.bring_up(&mut l.net, t);
        l.b.pump(&mut l.net, t);
    }
    assert!(fed > 500);
    // Still alive: a STATUS ENQUIRY on an unknown reference is answered.
    l.a.send(&mut l.net, t, Message::new(user_ref(4000), mt::STATUS_ENQUIRY));
    let got = l.a.take(&mut l.net, t);
    assert!(got.iter().any(|m| m.msg_type == mt::STATUS && m.call_ref.value == 4000), "{got:?}");
    let _ = a_vci;
}
#[test]
fn release_with_overlong_cause_is_completed_with_100() {
    let mut l = lab();
    routed_call(&mut l);
    let mut r = Message::new(user_ref(1), mt::RELEASE);
    r.ies.push(Ie { id: id::CAUSE, instruction: Instruction::ITU, body: Body::Raw(vec![0x80; 31]), invalid: false });
    l.a.send(&mut l.net, ms(5), r);
    let rc = l.a.expect(&mut l.net, ms(5), mt::RELEASE_COMPLETE);
    assert_eq!(rc.cause_values(), vec![cause::INVALID_IE_CONTENTS]);
    assert!(l.net.calls(l.a.port).is_empty());
}
