//! Message-level tests: the reference vectors, round trips, every error path, a corruption
//! sweep, and (when tshark is installed) a cross-check against Wireshark's dissector.

use super::*;
use crate::wire::q2931::ie::coding;

/// RELEASE, call reference 1 (flag 0), cause #16 from the user (signalling.md §1, tshark-checked).
const RELEASE: &[u8] = &[0x09, 0x03, 0x00, 0x00, 0x01, 0x4d, 0x80, 0x00, 0x06, 0x08, 0x80, 0x00, 0x02, 0x80, 0x90];
/// Retransmitted RELEASE: #16 plus #102 with diagnostic "308".
const RELEASE_T308: &[u8] = &[
    0x09, 0x03, 0x00, 0x00, 0x01, 0x4d, 0x80, 0x00, 0x0f, 0x08, 0x80, 0x00, 0x02, 0x80, 0x90, 0x08, 0x80, 0x00, 0x05,
    0x80, 0xe6, 0x33, 0x30, 0x38,
];
/// RESTART, global call reference, class "all VCs".
const RESTART_ALL: &[u8] = &[0x09, 0x03, 0x00, 0x00, 0x00, 0x46, 0x80, 0x00, 0x05, 0x79, 0x80, 0x00, 0x01, 0x82];

const NSAP_B: [u8; 20] = [
    0x47, 0x00, 0x05, 0x80, 0xff, 0xe1, 0x00, 0x00, 0x00, 0xf2, 0x1a, 0x2b, 0x3c, 0x00, 0x20, 0x48, 0x1a, 0x2b, 0x3c,
    0x00,
];
const NSAP_A: [u8; 20] = [
    0x47, 0x00, 0x05, 0x80, 0xff, 0xe1, 0x00, 0x00, 0x00, 0xf2, 0x1a, 0x2b, 0x3c, 0x00, 0x20, 0x48, 0x0a, 0x0b, 0x0c,
    0x00,
];

fn cr(value: u32, flag: bool) -> CallRef {
    CallRef { value, flag }
}

fn release(cause: CauseValue) -> Message<'static> {
    let mut m = Message::new(MessageType::Release, cr(1, false));
    m.cause[0] = Some(Cause::new(Location::USER, cause));
    m
}

fn setup() -> Message<'static> {
    let mut m = Message::new(MessageType::Setup, cr(0x12_3456, false));
    m.aal = Some(AalParams::aal5(9188, 9188));
    m.traffic = Some(TrafficDescriptor::ubr(353_207, 353_207));
    m.bearer = Some(BearerCapability::bcob_x());
    m.blli = Some(&[0x6b, 0x40, 0x80, 0x80, 0x00, 0xa0, 0xc8]);
    m.called = Some(PartyNumber::nsap(NSAP_B));
    m.calling = Some(PartyNumber::nsap(NSAP_A));
    m.connection_id = Some(ConnectionId::exclusive(0, 32));
    m.qos = Some(QosParams { forward: 0, backward: 0 });
    m.endpoint_ref = Some(EndpointRef::new(0, false));
    m.user_user = Some(UserUser { protocol: 4, info: b"hello" });
    m
}

fn connect() -> Message<'static> {
    let mut m = Message::new(MessageType::Connect, cr(0x12_3456, true));
    m.aal = Some(AalParams::aal5(9188, 4096));
    m.connection_id = Some(ConnectionId::exclusive(0, 33));
    m
}

fn call_proceeding() -> Message<'static> {
    let mut m = Message::new(MessageType::CallProceeding, cr(0x12_3456, true));
    m.connection_id = Some(ConnectionId::exclusive(0, 40));
    m
}

fn status() -> Message<'static> {
    let mut m = Message::new(MessageType::Status, cr(7, true));
    m.call_state = Some(10);
    m.cause[0] = Some(Cause::new(Location::USER, CauseValue::STATUS_ENQUIRY_RESPONSE));
    m.endpoint_ref = Some(EndpointRef::new(3, true));
    m.endpoint_state = Some(10);
    m
}

fn emit_vec(m: &Message<'_>) -> std::vec::Vec<u8> {
    let mut out = std::vec![0u8; m.buffer_len()];
    assert_eq!(m.emit(&mut out), Ok(out.len()));
    out
}

fn round_trip(m: &Message<'_>) {
    let bytes = emit_vec(m);
    let back = Message::parse(&bytes).unwrap();
    assert_eq!(&back, m);
    assert_eq!(emit_vec(&back), bytes);
    back.check_mandatory().unwrap();
}

#[test]
fn release_vector_round_trips_exactly() {
    let m = Message::parse(RELEASE).unwrap();
    assert_eq!(m, release(CauseValue::NORMAL_CLEARING));
    assert_eq!(emit_vec(&m), RELEASE);
    assert_eq!(m.buffer_len(), 15);
}

#[test]
fn retransmitted_release_with_t308_cause_round_trips_exactly() {
    let mut want = release(CauseValue::NORMAL_CLEARING);
    want.cause[1] = Some(Cause::timer_expiry(Location::USER, *b"308"));
    let m = Message::parse(RELEASE_T308).unwrap();
    assert_eq!(m, want);
    assert_eq!(m.cause[1].map(|c| c.value), Some(CauseValue(102)));
    assert_eq!(emit_vec(&m), RELEASE_T308);
}

#[test]
fn restart_all_vcs_vector_round_trips_exactly() {
    let m = Message::parse(RESTART_ALL).unwrap();
    assert!(m.call_ref.is_global() && !m.call_ref.flag);
    assert_eq!(m.kind, MessageType::Restart);
    assert_eq!(m.restart, Some(RestartIndicator { class: RestartClass::All }));
    assert_eq!(emit_vec(&m), RESTART_ALL);
}

#[test]
fn release_complete_setup_connect_call_proceeding_status_round_trip() {
    let mut rc = Message::new(MessageType::ReleaseComplete, cr(1, true));
    round_trip(&rc);
    rc.cause[0] = Some(Cause::new(Location::PUBLIC_LOCAL, CauseValue::INVALID_CALL_REF));
    round_trip(&rc);
    round_trip(&setup());
    round_trip(&connect());
    round_trip(&call_proceeding());
    round_trip(&status());
    let mut s = Message::new(MessageType::StatusEnquiry, cr(CallRef::MAX_VALUE, true));
    s.action = Some(MsgAction::DiscardReport);
    round_trip(&s);
    let mut add = Message::new(MessageType::AddParty, cr(9, false));
    add.called = Some(PartyNumber::e164(b"41223344").unwrap());
    add.endpoint_ref = Some(EndpointRef::new(EndpointRef::MAX_VALUE, false));
    round_trip(&add);
}

#[test]
fn setup_emits_ies_in_q2931_order() {
    let bytes = emit_vec(&setup());
    let mut ids = std::vec::Vec::new();
    let mut rest = &bytes[HEADER_LEN..];
    while !rest.is_empty() {
        let ie = Ie::new_checked(rest).unwrap();
        assert_eq!(ie.instruction(), IeInstruction::ITU_T);
        ids.push(ie.id());
        rest = &rest[ie.total_len()..];
    }
    assert_eq!(ids, [0x58, 0x59, 0x5e, 0x5f, 0x70, 0x6c, 0x5a, 0x5c, 0x54, 0x7e]);
}

#[test]
fn header_errors_are_ignored_or_answered_with_104() {
    let short = Message::parse(&RELEASE[..8]).unwrap_err();
    assert_eq!(short.kind, ParseErrorKind::TooShort);
    assert!(short.ignore() && short.cause().is_none());

    let mut pd = RELEASE.to_vec();
    pd[0] = 0x08;
    let e = Message::parse(&pd).unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::ProtocolDiscriminator(0x08));
    assert!(e.ignore());

    let mut crl = RELEASE.to_vec();
    crl[1] = 0x02;
    let e = Message::parse(&crl).unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::CallRefLength(2));
    assert_eq!(e.cause_value(), None);

    let e = Message::parse(&RELEASE[..14]).unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::MessageLength);
    assert!(!e.ignore());
    assert_eq!(e.cause_value(), Some(CauseValue::INCORRECT_MESSAGE_LENGTH));
    assert_eq!((e.call_ref, e.message), (Some(cr(1, false)), Some(MessageType::Release)));

    // Octets beyond the declared length are not part of the message.
    let mut long = RELEASE.to_vec();
    long.extend_from_slice(&[0xde, 0xad]);
    assert_eq!(Message::parse(&long), Message::parse(RELEASE));
}

#[test]
fn truncated_ie_is_invalid_contents_with_ie_diagnostic() {
    // Message length shortened to cover only part of the Cause IE.
    let mut m = RELEASE[..13].to_vec();
    m[8] = 4;
    let e = Message::parse(&m).unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::IeTruncated(0x08));
    let c = e.cause().unwrap();
    assert_eq!((c.value, c.diagnostics()), (CauseValue(100), &[0x08u8][..]));
    // IE header itself cut short.
    let mut h = RELEASE[..11].to_vec();
    h[8] = 2;
    assert_eq!(Message::parse(&h).unwrap_err().kind, ParseErrorKind::IeTruncated(0x08));
}

#[test]
fn over_long_cause_is_invalid_ie_contents() {
    // Cause with 31 octets of contents (2 + 29 diagnostics) > the 30-octet limit.
    let mut m = Message::new(MessageType::Release, cr(1, false));
    m.user_user = Some(UserUser { protocol: 4, info: &[0x41; 27] });
    let mut bytes = emit_vec(&m);
    // Rewrite the User-user IE (id 0x7e, 28 octets) into a Cause IE of 28 + 3 octets.
    bytes[9] = 0x08;
    bytes[10] = 0x80;
    bytes[12] = 31;
    // Location and cause value octets with their extension bits (user, #16).
    bytes[13] = 0x80;
    bytes[14] = 0x90;
    bytes.extend_from_slice(&[0x30, 0x30, 0x30]);
    bytes[8] = (bytes.len() - HEADER_LEN) as u8;
    let e = Message::parse(&bytes).unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::InvalidIe(0x08));
    assert_eq!(e.cause().unwrap().diagnostics(), &[0x08]);
    assert_eq!(e.instruction, Some(IeInstruction::ITU_T));
    // One octet less is accepted.
    bytes[12] = 30;
    bytes.pop();
    bytes[8] -= 1;
    assert!(Message::parse(&bytes).is_ok());
}

#[test]
fn invalid_ie_reports_its_explicit_action_indicator() {
    // RESTART with a reserved restart class 3 and an IE action "discard message and report".
    let mut b = RESTART_ALL.to_vec();
    b[10] = 0x80 | 0x10 | 0x06;
    b[13] = 0x83;
    let e = Message::parse(&b).unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::InvalidIe(id::RESTART));
    assert_eq!(e.instruction.and_then(|i| i.action), Some(IeAction::DiscardMsgReport));
}

#[test]
fn mandatory_ie_missing_answers_96_with_ie_diagnostic() {
    let empty_release = Message::new(MessageType::Release, cr(1, false));
    let e = empty_release.check_mandatory().unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::MandatoryMissing(id::CAUSE));
    let c = e.cause().unwrap();
    assert_eq!((c.value, c.diagnostics()), (CauseValue::MANDATORY_IE_MISSING, &[0x08u8][..]));

    let mut s = setup();
    s.qos = None;
    assert_eq!(s.check_mandatory().unwrap_err().kind, ParseErrorKind::MandatoryMissing(id::QOS));
    let mut st = status();
    st.call_state = None;
    assert_eq!(st.check_mandatory().unwrap_err().kind, ParseErrorKind::MandatoryMissing(id::CALL_STATE));
    let mut cp = call_proceeding();
    cp.connection_id = None;
    assert!(cp.check_mandatory().is_err());
    assert!(Message::new(MessageType::Connect, cr(1, true)).check_mandatory().is_ok());
    assert!(Message::new(MessageType::ReleaseComplete, cr(1, true)).check_mandatory().is_ok());
    assert!(Message::new(MessageType::RestartAck, CallRef::GLOBAL).check_mandatory().is_err());
}

#[test]
fn unknown_ie_recorded_with_instruction_and_emitted_back() {
    let mut m = release(CauseValue::NORMAL_CLEARING);
    m.unrecognized = Some(UnknownIe {
        id: 0x33,
        instruction: IeInstruction {
            coding: coding::NETWORK,
            action: Some(IeAction::DiscardIeReport),
            pass_along: false,
        },
    });
    let bytes = emit_vec(&m);
    assert_eq!(&bytes[15..], &[0x33, 0xf2, 0x00, 0x00]);
    assert_eq!(Message::parse(&bytes).unwrap(), m);

    // Only the first unknown IE is kept; a known-but-undecoded IE (Notify) is not "unknown".
    let mut b = RELEASE.to_vec();
    b.extend_from_slice(&[0x27, 0x80, 0x00, 0x01, 0x00]); // Notify
    b.extend_from_slice(&[0x44, 0x90, 0x00, 0x01, 0xaa]); // unknown, flag set, action clear
    b.extend_from_slice(&[0x45, 0x80, 0x00, 0x00]); // second unknown
    b[8] = (b.len() - HEADER_LEN) as u8;
    let m = Message::parse(&b).unwrap();
    let u = m.unrecognized.unwrap();
    assert_eq!((u.id, u.instruction.action), (0x44, Some(IeAction::Clear)));
}

#[test]
fn repeated_ies_keep_first_occurrence_and_two_causes() {
    let mut b = RELEASE_T308.to_vec();
    b.extend_from_slice(&[0x08, 0x80, 0x00, 0x02, 0x80, 0x9f]); // third cause: ignored
    b.extend_from_slice(&[0x14, 0x80, 0x00, 0x01, 0x0b]);
    b.extend_from_slice(&[0x14, 0x80, 0x00, 0x02, 0xff, 0xff]); // invalid repeat: not parsed
    b[8] = (b.len() - HEADER_LEN) as u8;
    let m = Message::parse(&b).unwrap();
    assert_eq!(m.cause[0].map(|c| c.value), Some(CauseValue(16)));
    assert_eq!(m.cause[1].map(|c| c.value), Some(CauseValue(102)));
    assert_eq!(m.call_state, Some(11));
}

#[test]
fn called_party_number_with_octet_5a_is_invalid() {
    let mut m = Message::new(MessageType::Setup, cr(1, false));
    m.calling = Some(PartyNumber::e164(b"1").unwrap());
    // A Calling party number without 5a is fine; with 5a but as a Called one it is not.
    assert!(Message::parse(&emit_vec(&m)).is_ok());
    let mut with5a = PartyNumber::e164(b"1").unwrap();
    with5a.presentation_screening = Some((0, 0));
    m.calling = Some(with5a);
    assert!(Message::parse(&emit_vec(&m)).is_ok());
    let mut b = emit_vec(&m);
    b[9] = id::CALLED;
    assert_eq!(Message::parse(&b).unwrap_err().kind, ParseErrorKind::InvalidIe(id::CALLED));
    m.called = m.calling.take();
    assert!(m.emit(&mut [0u8; 64]).is_err());
}

#[test]
fn emit_rejects_short_buffer_and_wide_call_ref() {
    let m = release(CauseValue::NORMAL_CLEARING);
    for n in 0..m.buffer_len() {
        let mut out = std::vec![0u8; n];
        assert!(m.emit(&mut out).is_err(), "len {n}");
    }
    let mut w = m;
    w.call_ref.value = CallRef::MAX_VALUE + 1;
    assert!(w.emit(&mut [0u8; 32]).is_err());
}

#[test]
fn message_type_codes_round_trip() {
    for v in 0..=255u8 {
        assert_eq!(u8::from(MessageType::from(v)), v);
    }
    assert_eq!(MessageType::from(0x91), MessageType::LeafSetupRequest);
    assert_eq!(MessageType::from(0x03), MessageType::Unknown(0x03));
    // An unknown message type still parses (the caller answers #97).
    let mut b = RELEASE.to_vec();
    b[5] = 0x03;
    assert_eq!(Message::parse(&b).unwrap().kind, MessageType::Unknown(3));
}

/// Every truncation and every single-octet value at every position of several valid messages
/// decodes to `Ok` or `Err` without panicking, and every `Ok` survives emit + parse unchanged.
#[test]
fn every_truncation_and_single_octet_corruption_is_handled() {
    let msgs = [
        RELEASE.to_vec(),
        RELEASE_T308.to_vec(),
        RESTART_ALL.to_vec(),
        emit_vec(&setup()),
        emit_vec(&connect()),
        emit_vec(&status()),
    ];
    let mut oks = 0usize;
    let mut errs = 0usize;
    let mut scratch = [0u8; 512];
    let mut check = |b: &[u8]| match Message::parse(b) {
        Ok(m) => {
            oks += 1;
            let _ = m.check_mandatory();
            // Whatever parsed re-encodes, no longer than the input, and decodes to the same
            // value (unknown IEs come back with empty contents, skipped IEs not at all).
            let n = m.emit(&mut scratch).expect("parsed message must emit");
            assert!(n <= b.len(), "grew from {} to {n}", b.len());
            // Bad non-mandatory IEs were dropped, so the re-encoding has none.
            let mut want = m;
            want.bad_ies = BadIes::EMPTY;
            assert_eq!(Message::parse(&scratch[..n]), Ok(want));
        }
        Err(e) => {
            errs += 1;
            let _ = e.cause();
        }
    };
    for msg in &msgs {
        for n in 0..msg.len() {
            check(&msg[..n]);
        }
        for pos in 0..msg.len() {
            for v in 0..=255u8 {
                let mut b = msg.clone();
                b[pos] = v;
                check(&b);
            }
        }
    }
    // The sweep exercised both outcomes.
    assert!(oks > 1000 && errs > 1000, "oks {oks} errs {errs}");
}

mod tshark {
    //! Cross-check against Wireshark's Q.2931 dissector through a SunATM pcap (signalling.md
    //! §5: linktype 123, pseudo-header type 6 = Q.2931 on VPI 0 / VCI 5; the payload is the
    //! SSCOP SD PDU without the AAL5 pad and trailer).
    use super::*;
    use std::process::Command;
    use std::vec::Vec;

    /// SSCOP SD PDU: the message, zero pad to a multiple of 4, then the 4-octet trailer
    /// PL(2 bits) | type SD (8) in the first octet and N(S) in the next three (Q.2110 7.8).
    fn sd_pdu(msg: &[u8], ns: u32) -> Vec<u8> {
        let pad = (4 - msg.len() % 4) % 4;
        let mut v = msg.to_vec();
        v.resize(msg.len() + pad, 0);
        let [_, a, b, c] = ns.to_be_bytes();
        v.extend_from_slice(&[((pad as u8) << 6) | 0x08, a, b, c]);
        v
    }

    fn sunatm_pcap(pdus: &[Vec<u8>]) -> Vec<u8> {
        let mut f = Vec::new();
        f.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        f.extend_from_slice(&2u16.to_le_bytes());
        f.extend_from_slice(&4u16.to_le_bytes());
        f.extend_from_slice(&[0; 8]);
        f.extend_from_slice(&65535u32.to_le_bytes());
        f.extend_from_slice(&123u32.to_le_bytes());
        for (i, p) in pdus.iter().enumerate() {
            let len = (p.len() + 4) as u32;
            f.extend_from_slice(&(i as u32).to_le_bytes());
            f.extend_from_slice(&0u32.to_le_bytes());
            f.extend_from_slice(&len.to_le_bytes());
            f.extend_from_slice(&len.to_le_bytes());
            f.extend_from_slice(&[0x86, 0x00, 0x00, 0x05]);
            f.extend_from_slice(p);
        }
        f
    }

    fn tshark_fields(pcap: &[u8], name: &str, fields: &[&str]) -> Option<std::string::String> {
        let path = std::env::temp_dir().join(std::format!("atmmcm-wire-{}-{name}.pcap", std::process::id()));
        std::fs::write(&path, pcap).ok()?;
        let mut cmd = Command::new("tshark");
        cmd.arg("-r").arg(&path).args(["-T", "fields"]);
        for f in fields {
            cmd.args(["-e", f]);
        }
        let out = cmd.output();
        let _ = std::fs::remove_file(&path);
        match out {
            Ok(o) if o.status.success() => Some(std::string::String::from_utf8_lossy(&o.stdout).into_owned()),
            Ok(o) => panic!("tshark failed: {}", std::string::String::from_utf8_lossy(&o.stderr)),
            Err(e) => {
                std::eprintln!("skipping tshark cross-check: cannot run tshark ({e})");
                None
            }
        }
    }

    #[test]
    fn tshark_decodes_our_messages_as_q2931() {
        let mut with_diag = release(CauseValue::NORMAL_CLEARING);
        with_diag.cause[1] = Some(Cause::timer_expiry(Location::USER, *b"308"));
        let msgs = [
            emit_vec(&release(CauseValue::NORMAL_CLEARING)),
            emit_vec(&with_diag),
            RESTART_ALL.to_vec(),
            emit_vec(&setup()),
            emit_vec(&status()),
        ];
        let pdus: Vec<Vec<u8>> = msgs.iter().enumerate().map(|(i, m)| sd_pdu(m, i as u32)).collect();
        let Some(out) = tshark_fields(
            &sunatm_pcap(&pdus),
            "good",
            &["q2931.message_type", "q2931.cause.value", "q2931.restart_indicator", "q2931.call_state"],
        ) else {
            return;
        };
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 5, "{out}");
        assert_eq!(lines[0], "0x4d\t0x10\t\t", "{out}");
        assert_eq!(lines[1], "0x4d\t0x10,0x66\t\t", "{out}");
        assert_eq!(lines[2], "0x46\t\t0x02\t", "{out}");
        assert!(lines[3].starts_with("0x05\t"), "{out}");
        assert_eq!(lines[4], "0x7d\t0x1e\t\t0x0a", "{out}");
    }

    /// The oracle itself can fail: (a) the same RELEASE carried in an SSCOP UD PDU (type 0xd)
    /// instead of SD is not handed to Q.2931, so no message type comes back; (b) a RELEASE with
    /// a corrupted cause octet decodes to a different cause value.
    #[test]
    fn tshark_oracle_sees_wrong_framing_and_wrong_cause() {
        let mut ud = sd_pdu(RELEASE, 0);
        let t = ud.len() - 4;
        ud[t] = (ud[t] & 0xf0) | 0x0d;
        let mut bad_cause = RELEASE.to_vec();
        bad_cause[14] = 0x91;
        let pdus = [ud, sd_pdu(&bad_cause, 1)];
        let Some(out) = tshark_fields(&sunatm_pcap(&pdus), "bad", &["q2931.message_type", "q2931.cause.value"]) else {
            return;
        };
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2, "{out}");
        assert_eq!(lines[0], "\t", "{out}");
        assert_eq!(lines[1], "0x4d\t0x11", "{out}");
    }
}

// ---- issue 8 item 10: decoder choices settled against Q.2931 ------------------------------------------

#[test]
fn an_ie_coded_iso_iec_or_national_is_a_content_error_not_read_with_the_itu_layout() {
    // RELEASE's Cause IE: octet 2 is 0x80 (ITU-T). Recoded ISO/IEC (0xA0) or national (0xC0):
    // the body's layout is unknown, so the decoder reports invalid IE contents.
    for octet in [0xA0u8, 0xC0] {
        let mut b = RELEASE.to_vec();
        b[10] = octet;
        let e = Message::parse(&b).unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::InvalidIe(0x08), "coding {octet:#x}");
    }
    // "Network" (11, the ATM Forum coding UNI 3.1/4.0 use) is read as before.
    let mut b = RELEASE.to_vec();
    b[10] = 0xE0;
    assert_eq!(Message::parse(&b).unwrap().cause[0], release(CauseValue::NORMAL_CLEARING).cause[0]);
    // An IE the codec does not decode keeps its coding: still just "unrecognised".
    let mut b = RELEASE.to_vec();
    b.extend_from_slice(&[0x44, 0xC0, 0x00, 0x01, 0xaa]);
    b[8] = (b.len() - HEADER_LEN) as u8;
    assert_eq!(Message::parse(&b).unwrap().unrecognized.map(|u| u.id), Some(0x44));
}

#[test]
fn spare_bits_in_the_call_reference_length_octet_are_ignored() {
    let mut b = RELEASE.to_vec();
    b[1] = 0xF3;
    assert_eq!(Message::parse(&b).unwrap(), release(CauseValue::NORMAL_CLEARING));
    // The length itself (bits 4-1) is still checked.
    b[1] = 0xF2;
    assert!(Message::parse(&b).is_err());
}

#[test]
fn octets_after_the_declared_message_length_are_not_part_of_the_message() {
    let mut b = RELEASE.to_vec();
    b.extend_from_slice(&[0x08, 0x80, 0x00, 0x02, 0x80, 0x9f, 0xff]);
    assert_eq!(Message::parse(&b).unwrap(), release(CauseValue::NORMAL_CLEARING));
}

// ---- repeated subfield identifiers (Q.2931 4.5.5 / 4.5.6, content error 5.6.8.2) ----------------

/// The SETUP of scenario U6-INV-4: the traffic descriptor carries the forward PCR (CLP=0+1)
/// subfield twice (353 207, then 1 000 cells/s).
const SETUP_TWO_FWD_PCR: &[u8] = &[
    0x09, 0x03, 0x00, 0x01, 0x23, 0x05, 0x80, 0x00, 0x3c, 0x58, 0x80, 0x00, 0x09, 0x05, 0x8c, 0x23, 0xe4, 0x81, 0x23,
    0xe4, 0x84, 0x00, 0x59, 0x80, 0x00, 0x0d, 0x84, 0x05, 0x63, 0xb7, 0x84, 0x00, 0x03, 0xe8, 0x85, 0x05, 0x63, 0xb7,
    0xbe, 0x5e, 0x80, 0x00, 0x02, 0x90, 0x80, 0x70, 0x80, 0x00, 0x05, 0x91, 0x31, 0x30, 0x30, 0x31, 0x5c, 0xe0, 0x00,
    0x02, 0x00, 0x00, 0x5a, 0x80, 0x00, 0x05, 0x88, 0x00, 0x00, 0x00, 0x28,
];

#[test]
fn a_setup_whose_traffic_descriptor_repeats_a_subfield_is_answered_100_naming_the_ie() {
    let e = Message::parse(SETUP_TWO_FWD_PCR).unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::InvalidIe(0x59));
    assert_eq!((e.call_ref, e.message), (Some(cr(0x123, false)), Some(MessageType::Setup)));
    let c = e.cause().unwrap();
    assert_eq!((c.value, c.diagnostics()), (CauseValue::INVALID_IE_CONTENTS, &[0x59u8][..]));
    // The same SETUP with the second forward PCR recoded as the backward CLP=0 one (0x83) is read.
    let mut b = SETUP_TWO_FWD_PCR.to_vec();
    b[30] = 0x83;
    let m = Message::parse(&b).unwrap();
    assert_eq!(m.traffic.map(|t| (t.fwd_pcr_01, t.bwd_pcr_0)), Some((Some(353_207), Some(1_000))));
}

// ---- non-mandatory IE content errors (Q.2931 5.6.8.2) --------------------------------------------

/// SETUP of [`setup()`] with `extra` IE octets appended (the message length fixed up).
fn setup_with(extra: &[u8]) -> std::vec::Vec<u8> {
    let mut b = emit_vec(&setup());
    b.extend_from_slice(extra);
    let len = u16::try_from(b.len() - HEADER_LEN).unwrap();
    b[7..9].copy_from_slice(&len.to_be_bytes());
    b
}

#[test]
fn a_setup_with_bad_non_mandatory_ies_is_read_without_them_and_they_are_recorded() {
    // The reference SETUP without its BLLI and calling party number, then both re-added with
    // invalid contents: an empty BLLI (flag clear) and a calling number whose octet 5 lacks its
    // extension bit but has no octet 5a (action "discard IE, proceed, report").
    let mut m = setup();
    m.blli = None;
    m.calling = None;
    let mut b = emit_vec(&m);
    b.extend_from_slice(&[0x5f, 0x80, 0x00, 0x00, 0x6c, 0x92, 0x00, 0x01, 0x12]);
    let len = u16::try_from(b.len() - HEADER_LEN).unwrap();
    b[7..9].copy_from_slice(&len.to_be_bytes());
    let got = Message::parse(&b).expect("a content error in a non-mandatory IE does not fail the message");
    assert_eq!(got.check_mandatory(), Ok(()));
    assert_eq!((got.blli, got.calling), (None, None));
    let bad: std::vec::Vec<(u8, Option<IeAction>)> =
        got.bad_ies.as_slice().iter().map(|b| (b.id, b.instruction.action)).collect();
    assert_eq!(bad, [(id::BLLI, None), (id::CALLING, Some(IeAction::DiscardIeReport))]);
    // Everything else is as sent.
    let mut want = m;
    want.bad_ies = got.bad_ies;
    assert_eq!(got, want);
}

#[test]
fn a_content_error_in_a_mandatory_ie_still_fails_the_whole_message() {
    // SETUP's QoS parameter (mandatory, UNI 3.1 5.3.1.7) with one octet instead of two.
    let mut m = setup();
    m.qos = None;
    let b = {
        let mut b = emit_vec(&m);
        b.extend_from_slice(&[0x5c, 0xe0, 0x00, 0x01, 0x00]);
        let len = u16::try_from(b.len() - HEADER_LEN).unwrap();
        b[7..9].copy_from_slice(&len.to_be_bytes());
        b
    };
    assert_eq!(Message::parse(&b).unwrap_err().kind, ParseErrorKind::InvalidIe(id::QOS));
    // The SETUP's connection identifier is mandatory network to user: also fatal.
    let mut m = setup();
    m.connection_id = None;
    let mut b = emit_vec(&m);
    b.extend_from_slice(&[0x5a, 0x80, 0x00, 0x01, 0x88]);
    let len = u16::try_from(b.len() - HEADER_LEN).unwrap();
    b[7..9].copy_from_slice(&len.to_be_bytes());
    assert_eq!(Message::parse(&b).unwrap_err().kind, ParseErrorKind::InvalidIe(id::CONNECTION_ID));
    // The same connection identifier in CONNECT (optional there) is only dropped.
    let mut c = emit_vec(&Message::new(MessageType::Connect, cr(5, true)));
    c.extend_from_slice(&[0x5a, 0x80, 0x00, 0x01, 0x88]);
    c[8] = 5;
    let got = Message::parse(&c).unwrap();
    assert_eq!((got.connection_id, got.bad_ies.as_slice().len()), (None, 1));
}

#[test]
fn a_later_occurrence_of_a_bad_ie_is_a_repeat_and_ignored() {
    // setup() already carries a valid BLLI first: a bad second one is a repeat, never looked at.
    let b = setup_with(&[0x5f, 0x80, 0x00, 0x00]);
    let got = Message::parse(&b).unwrap();
    assert!(got.bad_ies.is_empty() && got.blli.is_some());
    // A bad first user-user IE, then a valid one: the first occurrence is the one handled
    // (Q.2931 5.6.8), so the IE stays absent rather than the repeat taking its place.
    let mut m = setup();
    m.user_user = None;
    let mut b = emit_vec(&m);
    b.extend_from_slice(&[0x7e, 0x80, 0x00, 0x00, 0x7e, 0x80, 0x00, 0x02, 0x04, 0x41]);
    let len = u16::try_from(b.len() - HEADER_LEN).unwrap();
    b[7..9].copy_from_slice(&len.to_be_bytes());
    let got = Message::parse(&b).unwrap();
    assert_eq!((got.user_user, got.bad_ies.contains(id::USER_USER)), (None, true));
}

#[test]
fn more_bad_ies_than_the_list_holds_are_dropped_and_flagged() {
    // STATUS ENQUIRY (no mandatory IE) with six empty BHLI-like IEs of different identifiers.
    let ids = [id::AAL, id::BHLI, id::BLLI, id::CALLING, id::USER_USER, id::ENDPOINT_REF];
    let mut b = emit_vec(&Message::new(MessageType::StatusEnquiry, cr(9, true)));
    for i in ids {
        b.extend_from_slice(&[i, 0x80, 0x00, 0x00]);
    }
    b[8] = u8::try_from(b.len() - HEADER_LEN).unwrap();
    let got = Message::parse(&b).unwrap();
    let kept: std::vec::Vec<u8> = got.bad_ies.as_slice().iter().map(|b| b.id).collect();
    assert_eq!((kept.as_slice(), got.bad_ies.overflow), (&ids[..MAX_BAD_IES], true));
}

#[test]
fn an_aal_parameters_content_error_fails_a_setup_but_is_only_dropped_from_a_connect() {
    // AAL parameters are optional in SETUP, but the call cannot be offered with SDU sizes the
    // caller never settled: a content error there keeps the mandatory-IE handling (#100).
    assert!(content_mandatory(MessageType::Setup, id::AAL) && !content_mandatory(MessageType::Connect, id::AAL));
    let mut m = setup();
    m.aal = None;
    let mut b = emit_vec(&m);
    // AAL type 5 with the forward maximum CPCS-SDU size subfield repeated.
    b.extend_from_slice(&[0x58, 0x80, 0x00, 0x07, 0x05, 0x8c, 0x23, 0xe4, 0x8c, 0x05, 0xdc]);
    let len = u16::try_from(b.len() - HEADER_LEN).unwrap();
    b[7..9].copy_from_slice(&len.to_be_bytes());
    assert_eq!(Message::parse(&b).unwrap_err().kind, ParseErrorKind::InvalidIe(id::AAL));
    // The same IE in CONNECT is a non-mandatory IE content error: dropped, recorded.
    let mut c = emit_vec(&Message::new(MessageType::Connect, cr(5, true)));
    c.extend_from_slice(&[0x58, 0x80, 0x00, 0x07, 0x05, 0x8c, 0x23, 0xe4, 0x8c, 0x05, 0xdc]);
    c[8] = 11;
    let got = Message::parse(&c).unwrap();
    assert_eq!((got.aal, got.bad_ies.contains(id::AAL)), (None, true));
}

#[test]
fn a_bad_connection_identifier_fails_a_restart_as_it_cannot_say_which_vc() {
    assert!(content_mandatory(MessageType::Restart, id::CONNECTION_ID));
    assert!(content_mandatory(MessageType::RestartAck, id::CONNECTION_ID));
    // RESTART, indicated VC, with a one-octet connection identifier.
    let b = [0x09, 0x03, 0, 0, 0, 0x46, 0x80, 0, 0x0a, 0x79, 0x80, 0, 1, 0x80, 0x5a, 0x80, 0, 1, 0x88];
    assert_eq!(Message::parse(&b).unwrap_err().kind, ParseErrorKind::InvalidIe(id::CONNECTION_ID));
}
