//! Q.2931 message framing: protocol discriminator, call reference, message type, length, IEs.

use super::ie::{self, Body, Cause, Ie};
use super::{Error, Reader};

/// Protocol discriminator for Q.2931 / UNI.
pub const DISCRIMINATOR: u8 = 0x09;

/// Message types (Q.2931 table 4-2, Q.2971).
pub mod mt {
    pub const ALERTING: u8 = 0x01;
    pub const CALL_PROCEEDING: u8 = 0x02;
    pub const SETUP: u8 = 0x05;
    pub const CONNECT: u8 = 0x07;
    pub const CONNECT_ACK: u8 = 0x0f;
    pub const RESTART: u8 = 0x46;
    pub const RELEASE: u8 = 0x4d;
    pub const RESTART_ACK: u8 = 0x4e;
    pub const RELEASE_COMPLETE: u8 = 0x5a;
    pub const NOTIFY: u8 = 0x6e;
    pub const STATUS_ENQUIRY: u8 = 0x75;
    pub const STATUS: u8 = 0x7d;
    pub const ADD_PARTY: u8 = 0x80;
    pub const ADD_PARTY_ACK: u8 = 0x81;
    pub const ADD_PARTY_REJECT: u8 = 0x82;
    pub const DROP_PARTY: u8 = 0x83;
    pub const DROP_PARTY_ACK: u8 = 0x84;
    pub const PARTY_ALERTING: u8 = 0x85;

    /// A printable name, or "UNKNOWN".
    pub fn name(t: u8) -> &'static str {
        match t {
            ALERTING => "ALERTING",
            CALL_PROCEEDING => "CALL PROCEEDING",
            SETUP => "SETUP",
            CONNECT => "CONNECT",
            CONNECT_ACK => "CONNECT ACK",
            RESTART => "RESTART",
            RELEASE => "RELEASE",
            RESTART_ACK => "RESTART ACK",
            RELEASE_COMPLETE => "RELEASE COMPLETE",
            NOTIFY => "NOTIFY",
            STATUS_ENQUIRY => "STATUS ENQUIRY",
            STATUS => "STATUS",
            ADD_PARTY => "ADD PARTY",
            ADD_PARTY_ACK => "ADD PARTY ACK",
            ADD_PARTY_REJECT => "ADD PARTY REJECT",
            DROP_PARTY => "DROP PARTY",
            DROP_PARTY_ACK => "DROP PARTY ACK",
            PARTY_ALERTING => "PARTY ALERTING",
            _ => "UNKNOWN",
        }
    }

    /// Message types this network implements.
    pub fn is_known(t: u8) -> bool {
        name(t) != "UNKNOWN"
    }
}

/// Cause values used by the network side.
pub mod cause {
    pub const UNALLOCATED_NUMBER: u8 = 1;
    pub const NORMAL_CLEARING: u8 = 16;
    pub const USER_BUSY: u8 = 17;
    pub const NO_USER_RESPONDING: u8 = 18;
    pub const CALL_REJECTED: u8 = 21;
    pub const DESTINATION_OUT_OF_ORDER: u8 = 27;
    pub const RESPONSE_TO_STATUS_ENQUIRY: u8 = 30;
    pub const NORMAL_UNSPECIFIED: u8 = 31;
    pub const INVALID_CALL_REF: u8 = 81;
    pub const INVALID_ENDPOINT_REF: u8 = 89;
    pub const MANDATORY_IE_MISSING: u8 = 96;
    pub const MESSAGE_TYPE_NOT_IMPLEMENTED: u8 = 97;
    pub const IE_NOT_IMPLEMENTED: u8 = 99;
    pub const INVALID_IE_CONTENTS: u8 = 100;
    pub const MESSAGE_NOT_COMPATIBLE_WITH_STATE: u8 = 101;
    pub const RECOVERY_ON_TIMER_EXPIRY: u8 = 102;
    pub const PROTOCOL_ERROR: u8 = 111;
}

/// Cause locations.
pub mod location {
    pub const USER: u8 = 0;
    pub const PRIVATE_LOCAL: u8 = 1;
    pub const PUBLIC_LOCAL: u8 = 2;
}

/// A call reference: 23-bit value plus the flag (true = sent to the side that allocated it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallRef {
    pub flag: bool,
    pub value: u32,
}

impl CallRef {
    pub const GLOBAL: CallRef = CallRef { flag: false, value: 0 };
    pub fn is_global(self) -> bool {
        self.value == 0
    }
}

/// One decoded Q.2931 message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub call_ref: CallRef,
    pub msg_type: u8,
    /// The message type extension octet (`0x80 | flag 0x10 | action`).
    pub ext: u8,
    pub ies: Vec<Ie>,
}

/// Octets before the IEs.
pub const HEADER_LEN: usize = 9;

impl Message {
    pub fn new(call_ref: CallRef, msg_type: u8) -> Self {
        Message { call_ref, msg_type, ext: 0x80, ies: Vec::new() }
    }
    pub fn with(mut self, ie: Ie) -> Self {
        self.ies.push(ie);
        self
    }
    /// The message action indicator, if the explicit-instruction flag is set.
    pub fn action(&self) -> Option<u8> {
        (self.ext & 0x10 != 0).then_some(self.ext & 0x03)
    }

    /// Decodes a message. Trailing octets beyond the message length are ignored.
    pub fn parse(buf: &[u8]) -> Result<Message, Error> {
        let mut r = Reader::new(buf);
        if r.u8()? != DISCRIMINATOR {
            return Err(Error::Malformed);
        }
        if r.u8()? & 0x0f != 3 {
            return Err(Error::Malformed);
        }
        let cr = r.u24()?;
        let call_ref = CallRef { flag: cr & 0x80_0000 != 0, value: cr & 0x7f_ffff };
        let msg_type = r.u8()?;
        let ext = r.u8()?;
        if ext & 0x80 == 0 {
            return Err(Error::Malformed);
        }
        let len = usize::from(r.u16()?);
        let mut body = Reader::new(r.bytes(len)?);
        let mut ies = Vec::new();
        while !body.is_empty() {
            ies.push(Ie::parse(&mut body)?);
        }
        Ok(Message { call_ref, msg_type, ext, ies })
    }

    pub fn emit(&self) -> Vec<u8> {
        // Room for the header and typical IEs, so a RELEASE or STATUS is not regrown.
        let mut out = Vec::with_capacity(64);
        out.extend_from_slice(&[DISCRIMINATOR, 3]);
        let cr = (self.call_ref.value & 0x7f_ffff) | if self.call_ref.flag { 0x80_0000 } else { 0 };
        super::put_u24(&mut out, cr);
        out.push(self.msg_type);
        out.push(self.ext);
        out.extend_from_slice(&[0, 0]);
        for ie in &self.ies {
            ie.emit(&mut out);
        }
        let len = u16::try_from(out.len() - HEADER_LEN).unwrap_or(u16::MAX).to_be_bytes();
        out[7] = len[0];
        out[8] = len[1];
        out
    }

    /// The first IE with this identifier.
    pub fn ie(&self, ident: u8) -> Option<&Ie> {
        self.ies.iter().find(|i| i.id == ident)
    }
    pub fn causes(&self) -> Vec<&Cause> {
        self.ies
            .iter()
            .filter_map(|i| match &i.body {
                Body::Cause(c) => Some(c),
                _ => None,
            })
            .collect()
    }
    pub fn cause_values(&self) -> Vec<u8> {
        self.causes().iter().map(|c| c.value).collect()
    }
    pub fn connection_id(&self) -> Option<ie::ConnectionId> {
        match self.ie(ie::id::CONNECTION_ID).map(|i| &i.body) {
            Some(Body::ConnectionId(c)) => Some(*c),
            _ => None,
        }
    }
    pub fn endpoint_ref(&self) -> Option<ie::EndpointRef> {
        match self.ie(ie::id::ENDPOINT_REF).map(|i| &i.body) {
            Some(Body::EndpointRef(e)) => Some(*e),
            _ => None,
        }
    }
    pub fn called(&self) -> Option<&ie::PartyNumber> {
        match self.ie(ie::id::CALLED).map(|i| &i.body) {
            Some(Body::Called(n)) => Some(n),
            _ => None,
        }
    }
    pub fn calling(&self) -> Option<&ie::PartyNumber> {
        match self.ie(ie::id::CALLING).map(|i| &i.body) {
            Some(Body::Calling(n)) => Some(n),
            _ => None,
        }
    }
    pub fn call_state(&self) -> Option<u8> {
        match self.ie(ie::id::CALL_STATE).map(|i| &i.body) {
            Some(Body::CallState(s)) => Some(*s),
            _ => None,
        }
    }
    pub fn restart_class(&self) -> Option<u8> {
        match self.ie(ie::id::RESTART).map(|i| &i.body) {
            Some(Body::Restart(c)) => Some(*c),
            _ => None,
        }
    }
    pub fn user_user(&self) -> Option<(u8, &[u8])> {
        match self.ie(ie::id::USER_USER).map(|i| &i.body) {
            Some(Body::UserUser(pd, d)) => Some((*pd, d.as_slice())),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace().map(|b| u8::from_str_radix(b, 16).unwrap()).collect()
    }

    const RELEASE: &str = "09 03 00 00 01 4d 80 00 06 08 80 00 02 80 90";
    const RELEASE_308: &str = "09 03 00 00 01 4d 80 00 0f 08 80 00 02 80 90 08 80 00 05 80 e6 33 30 38";
    const RESTART_ALL: &str = "09 03 00 00 00 46 80 00 05 79 80 00 01 82";

    #[test]
    fn release_vector_decodes_and_reencodes_byte_exact() {
        let raw = hex(RELEASE);
        let m = Message::parse(&raw).unwrap();
        assert_eq!(m.msg_type, mt::RELEASE);
        assert_eq!(m.call_ref, CallRef { flag: false, value: 1 });
        assert_eq!(m.cause_values(), vec![16]);
        assert_eq!(m.emit(), raw);
        // Built from scratch, the same octets come out.
        let built = Message::new(CallRef { flag: false, value: 1 }, mt::RELEASE).with(Ie::cause(0, 16, &[]));
        assert_eq!(built.emit(), raw);
    }

    #[test]
    fn retransmitted_release_with_cause_102_timer_308_round_trips() {
        let raw = hex(RELEASE_308);
        let m = Message::parse(&raw).unwrap();
        assert_eq!(m.cause_values(), vec![16, 102]);
        assert_eq!(m.causes()[1].diagnostics, b"308");
        assert_eq!(m.emit(), raw);
    }

    #[test]
    fn restart_all_vector_round_trips() {
        let raw = hex(RESTART_ALL);
        let m = Message::parse(&raw).unwrap();
        assert!(m.call_ref.is_global());
        assert_eq!(m.restart_class(), Some(2));
        assert_eq!(m.emit(), raw);
        let built = Message::new(CallRef::GLOBAL, mt::RESTART).with(Ie::new(ie::id::RESTART, Body::Restart(2)));
        assert_eq!(built.emit(), raw);
    }

    #[test]
    fn wrong_vector_is_not_accepted_as_the_reference() {
        // Negative check of the oracle: a different cause gives different octets.
        let built = Message::new(CallRef { flag: false, value: 1 }, mt::RELEASE).with(Ie::cause(0, 31, &[]));
        assert_ne!(built.emit(), hex(RELEASE));
    }

    #[test]
    fn every_typed_ie_round_trips() {
        use ie::*;
        let ies = vec![
            Ie::cause(2, 102, b"303"),
            Ie::new(id::CALL_STATE, Body::CallState(10)),
            Ie::new(id::CONNECTION_ID, Body::ConnectionId(ConnectionId::exclusive(0, 33))),
            Ie::new(id::ENDPOINT_REF, Body::EndpointRef(EndpointRef { flag: true, value: 7 })),
            Ie::new(id::ENDPOINT_STATE, Body::EndpointState(7)),
            Ie::new(
                id::AAL,
                Body::Aal5(Aal5 {
                    forward_max_sdu: Some(9188),
                    backward_max_sdu: Some(9188),
                    mode: Some(1),
                    sscs_type: Some(0),
                }),
            ),
            Ie::new(
                id::TRAFFIC,
                Body::Traffic(Traffic {
                    rates: vec![(traffic::FWD_PCR_01, 353207), (traffic::BWD_PCR_01, 1000)],
                    best_effort: true,
                    options: None,
                }),
            ),
            Ie::new(id::BEARER, Body::Bearer(Bearer { class: 0x10, transfer_cap: Some(10), clipping: 0, upcc: 1 })),
            Ie::new(id::BEARER, Body::Bearer(Bearer { class: 0x03, transfer_cap: None, clipping: 1, upcc: 0 })),
            Ie::new(id::CALLED, Body::Called(PartyNumber::e164(b"1002"))),
            Ie::new(
                id::CALLING,
                Body::Calling(PartyNumber { ton: 1, plan: 1, presentation: Some(0x01), digits: b"1001".to_vec() }),
            ),
            Ie::new(
                id::CALLED,
                Body::Called(PartyNumber {
                    ton: 0,
                    plan: PartyNumber::NSAP,
                    presentation: None,
                    digits: vec![0x47; 20],
                }),
            ),
            Ie::new(id::QOS, Body::Qos(0, 0)),
            Ie::new(id::RESTART, Body::Restart(0)),
            Ie::new(id::USER_USER, Body::UserUser(4, vec![0xaa; 128])),
            Ie { id: 0x33, instruction: Instruction(0x91), body: Body::Raw(vec![1, 2, 3]), invalid: false },
        ];
        let mut m = Message::new(CallRef { flag: true, value: 0x7f_ffff }, mt::SETUP);
        m.ies = ies;
        let bytes = m.emit();
        let back = Message::parse(&bytes).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.emit(), bytes);
        assert_eq!(back.ies.last().unwrap().instruction.action(), Some(1));
    }

    #[test]
    fn bad_ie_content_is_flagged_invalid_and_kept_raw() {
        use ie::*;
        // Cause with 31 octets of content: over the limit.
        let mut m = Message::new(CallRef { flag: false, value: 1 }, mt::RELEASE);
        m.ies.push(Ie {
            id: id::CAUSE,
            instruction: Instruction::ITU,
            body: Body::Raw(vec![0x80; 31]),
            invalid: false,
        });
        let back = Message::parse(&m.emit()).unwrap();
        assert!(back.ies[0].invalid);
        assert!(back.cause_values().is_empty());
        // User-user over 128 octets of information.
        let uu = Ie { id: id::USER_USER, instruction: Instruction::ITU, body: Body::Raw(vec![4; 130]), invalid: false };
        let mut m = Message::new(CallRef { flag: false, value: 1 }, mt::RELEASE);
        m.ies.push(uu);
        assert!(Message::parse(&m.emit()).unwrap().ies[0].invalid);
    }

    #[test]
    fn truncations_are_errors_never_panics() {
        let raw = hex(RELEASE_308);
        for n in 0..raw.len() {
            assert!(Message::parse(&raw[..n]).is_err(), "prefix {n} accepted");
        }
        assert!(Message::parse(&raw).is_ok());
    }
}
