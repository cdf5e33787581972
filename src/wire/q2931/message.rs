//! The flat message `Repr`: every IE this driver uses, each `Option`al, in one struct.

use super::aal::AalParams;
use super::bad_ie::{BadIe, BadIes};
use super::bearer::BearerCapability;
use super::cause::Cause;
use super::connection_id::ConnectionId;
use super::endpoint::{EndpointRef, EndpointState};
use super::error::{ParseError, ParseErrorKind};
use super::header::{CallRef, HEADER_LEN, MessageType, MsgAction, Packet, emit_header};
use super::ie::{self, Ie, IeBody, IeInstruction, InvalidIe, Raw, UnknownIe, id};
use super::party_number::PartyNumber;
use super::simple::{CallState, QosParams, RestartIndicator};
use super::traffic::TrafficDescriptor;
use super::user_user::UserUser;
use crate::wire::Error;

/// A Q.2931 message. IEs not listed here that Q.2931 / UNI 4.0 define are skipped silently
/// ([`id::SKIPPED`]); a repeated IE keeps its first occurrence (Q.2931 5.6.8, "repeated
/// information elements": only the first is handled), except Cause, which may appear twice.
/// Only the first BLLI is kept (UNI 3.1 allows three with a repeat indicator).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    /// Call reference.
    pub call_ref: CallRef,
    /// Message type.
    pub kind: MessageType,
    /// Explicit message action indicator (`None` = flag clear, the normal case).
    pub action: Option<MsgAction>,
    /// Up to two Cause IEs, in order of appearance.
    pub cause: [Option<Cause>; 2],
    /// Call state (0x14).
    pub call_state: Option<u8>,
    /// Connection identifier (0x5a).
    pub connection_id: Option<ConnectionId>,
    /// Endpoint reference (0x54).
    pub endpoint_ref: Option<EndpointRef>,
    /// Endpoint state (0x55).
    pub endpoint_state: Option<u8>,
    /// AAL parameters (0x58).
    pub aal: Option<AalParams>,
    /// ATM traffic descriptor (0x59).
    pub traffic: Option<TrafficDescriptor>,
    /// Broadband bearer capability (0x5e).
    pub bearer: Option<BearerCapability>,
    /// Broadband high-layer information (0x5d), contents undecoded.
    pub bhli: Option<&'a [u8]>,
    /// Broadband low-layer information (0x5f), contents undecoded (first occurrence).
    pub blli: Option<&'a [u8]>,
    /// Called party number (0x70).
    pub called: Option<PartyNumber>,
    /// Calling party number (0x6c).
    pub calling: Option<PartyNumber>,
    /// QoS parameter (0x5c).
    pub qos: Option<QosParams>,
    /// Restart indicator (0x79).
    pub restart: Option<RestartIndicator>,
    /// User-user information (0x7e).
    pub user_user: Option<UserUser<'a>>,
    /// The first unrecognised IE (Q.2931 5.6.8.1); later ones are skipped.
    pub unrecognized: Option<UnknownIe>,
    /// Non-mandatory IEs whose contents were invalid: dropped (their field above stays `None`)
    /// and recorded for the answer (Q.2931 5.6.8.2). Never emitted.
    pub bad_ies: BadIes,
}

/// What [`Message`]'s IE walk calls for each present IE: (identifier, instruction, body).
type IeVisitor<'f, 'a> = dyn FnMut(u8, IeInstruction, &dyn IeBody<'a>) -> Result<(), Error> + 'f;

/// Mandatory IEs per message type, for messages received by the user side. Sources: the message
/// content tables of UNI 3.1 §5.3.1 / §5.3.2 (= Q.2931 clause 3) and, for point-to-multipoint,
/// UNI 3.1 §5.6.2 (= Q.2971 clause 8).
///
/// * SETUP: ATM traffic descriptor, broadband bearer capability, called party number, QoS
///   parameter (UNI 3.1 §5.3.1.7; AAL parameters are optional there). The connection identifier
///   is also mandatory network→user but is not enforced here: a user-side caller checks it.
/// * CALL PROCEEDING: connection identifier (UNI 3.1 §5.3.1.2: mandatory in the first response
///   to SETUP from the network).
/// * RELEASE: cause (UNI 3.1 §5.3.1.5; RELEASE COMPLETE's cause is optional, §5.3.1.6).
/// * STATUS: call state and cause (UNI 3.1 §5.3.1.8).
/// * RESTART / RESTART ACKNOWLEDGE: restart indicator (UNI 3.1 §5.3.2.1 / 5.3.2.2).
/// * ADD PARTY: called party number, endpoint reference; ADD PARTY ACK, PARTY ALERTING, DROP
///   PARTY ACK: endpoint reference; ADD PARTY REJECT and DROP PARTY: cause, endpoint reference
///   (UNI 3.1 §5.6.2, Q.2971 8.1).
/// * ALERTING, CONNECT, CONNECT ACK, STATUS ENQUIRY, others: none.
pub fn mandatory_ies(kind: MessageType) -> &'static [u8] {
    use MessageType as M;
    match kind {
        M::Setup => &[id::TRAFFIC, id::BEARER, id::CALLED, id::QOS],
        M::CallProceeding => &[id::CONNECTION_ID],
        M::Release => &[id::CAUSE],
        M::Status => &[id::CALL_STATE, id::CAUSE],
        M::Restart | M::RestartAck => &[id::RESTART],
        M::AddParty => &[id::CALLED, id::ENDPOINT_REF],
        M::AddPartyAck | M::PartyAlerting | M::DropPartyAck => &[id::ENDPOINT_REF],
        M::AddPartyReject | M::DropParty => &[id::CAUSE, id::ENDPOINT_REF],
        _ => &[],
    }
}

/// True when a content error in IE `ie_id` makes message `kind` unusable: the IE is mandatory
/// for it ([`mandatory_ies`]), or, in a SETUP, it is
/// - the connection identifier, mandatory network→user (UNI 3.1 §5.3.1.7) though
///   [`mandatory_ies`] leaves it to the caller;
/// - the AAL parameters: optional, but acting on the SETUP as if they were absent would offer
///   the call with the default maximum SDU sizes (9188), which the caller never agreed to and
///   may not reassemble; so, as settled before (README "Decoder choices"), an AAL parameters
///   content error refuses the call like a mandatory IE's;
///
/// or, in a RESTART / RESTART ACKNOWLEDGE, the connection identifier: mandatory whenever the
/// restart indicator names one VC (Q.2931 5.5.1, 5.5.2), and a bad one cannot tell which VC;
/// dropping it would turn "restart that VC" into acting on none and acknowledging a RESTART
/// that names no VC.
///
/// Such an error keeps the mandatory-IE handling (Q.2931 5.6.7.2: e.g. SETUP → RELEASE COMPLETE
/// #100); any other IE's content error only drops that IE (5.6.8.2).
pub fn content_mandatory(kind: MessageType, ie_id: u8) -> bool {
    mandatory_ies(kind).contains(&ie_id)
        || (kind == MessageType::Setup && matches!(ie_id, id::CONNECTION_ID | id::AAL))
        || (matches!(kind, MessageType::Restart | MessageType::RestartAck) && ie_id == id::CONNECTION_ID)
}

/// Parses `content` into `slot` unless it already holds a value (first occurrence wins).
fn first<'a, B: IeBody<'a>>(slot: &mut Option<B>, content: &'a [u8]) -> Result<(), InvalidIe> {
    if slot.is_none() {
        *slot = Some(B::parse(content)?);
    }
    Ok(())
}

impl<'a> Message<'a> {
    /// A message with no IEs and no explicit action indicator.
    pub const fn new(kind: MessageType, call_ref: CallRef) -> Self {
        Message {
            call_ref,
            kind,
            action: None,
            cause: [None, None],
            call_state: None,
            connection_id: None,
            endpoint_ref: None,
            endpoint_state: None,
            aal: None,
            traffic: None,
            bearer: None,
            bhli: None,
            blli: None,
            called: None,
            calling: None,
            qos: None,
            restart: None,
            user_user: None,
            unrecognized: None,
            bad_ies: BadIes::EMPTY,
        }
    }

    /// Decodes a message. Stops at the first header error, at an IE that runs past the message,
    /// and at a content error in an IE that is mandatory for this message type (see
    /// [`ParseError`] for what to answer). A content error in any other IE does not stop it
    /// (Q.2931 5.6.8.2, = Q.931 5.8.7.2: "action shall be taken on the message and those
    /// information elements which are recognized and have valid content"): the IE is dropped and
    /// recorded in [`Message::bad_ies`] with its instruction field, whose action indicator the
    /// call control follows (Q.2931 5.7.2). Does not check mandatory IEs: call
    /// [`Message::check_mandatory`].
    pub fn parse(buf: &'a [u8]) -> Result<Self, ParseError> {
        let pkt = Packet::new_checked(buf)?;
        let mut m = Message::new(pkt.message_type(), pkt.call_ref());
        m.action = pkt.action();
        let fail = |kind, instruction| ParseError {
            kind,
            call_ref: Some(pkt.call_ref()),
            message: Some(pkt.message_type()),
            instruction,
        };
        let mut rest = pkt.payload_ref();
        while let Some(&ie_id) = rest.first() {
            let view = match Ie::new_checked(rest) {
                Ok(v) => v,
                Err(_) => {
                    let instr = rest.get(1).map(|&o| IeInstruction::from_octet(o));
                    return Err(fail(ParseErrorKind::IeTruncated(ie_id), instr));
                }
            };
            let instruction = view.instruction();
            let content = view.content_ref();
            rest = rest.get(view.total_len()..).unwrap_or(&[]);
            // A later occurrence of an IE whose first occurrence was bad is a repeated IE:
            // ignored, as any repeat is (Cause excepted: two may appear).
            if ie_id != id::CAUSE && m.bad_ies.contains(ie_id) {
                continue;
            }
            if m.take_ie(ie_id, instruction, content).is_err() {
                if content_mandatory(m.kind, ie_id) {
                    return Err(fail(ParseErrorKind::InvalidIe(ie_id), Some(instruction)));
                }
                // Only the user-user IE is an access IE this codec reads; past its maximum
                // length its information is discarded (#43) rather than invalid.
                let access_discarded =
                    ie_id == id::USER_USER && content.len() > super::user_user::MAX_INFO.saturating_add(1);
                m.bad_ies.push(BadIe { id: ie_id, instruction, access_discarded });
            }
        }
        Ok(m)
    }

    /// Stores one IE.
    ///
    /// Coding standard (Q.2931 4.5.1, settled for issue 8): a body is decoded with the layout
    /// this codec knows only when it is coded ITU-T (00) or "network" (11, the ATM Forum coding
    /// UNI 3.1/4.0 use for their IEs, whose decoded fields are laid out alike). An IE this codec
    /// decodes but coded ISO/IEC (01) or national (10) has a layout it does not know: it is an
    /// IE content error (cause #100 for a mandatory IE; the IE instruction decides otherwise),
    /// never read with the ITU layout.
    fn take_ie(&mut self, ie_id: u8, instruction: IeInstruction, content: &'a [u8]) -> Result<(), InvalidIe> {
        let foreign = matches!(instruction.coding, ie::coding::ISO_IEC | ie::coding::NATIONAL);
        if foreign && Self::decodes(ie_id) {
            return Err(InvalidIe);
        }
        match ie_id {
            id::CAUSE => match self.cause {
                [None, _] => self.cause[0] = Some(Cause::parse(content)?),
                [Some(_), None] => self.cause[1] = Some(Cause::parse(content)?),
                // A third Cause is a repeated IE: ignored.
                [Some(_), Some(_)] => {}
            },
            id::CALL_STATE => {
                if self.call_state.is_none() {
                    self.call_state = Some(CallState::parse(content)?.0);
                }
            }
            id::ENDPOINT_STATE => {
                if self.endpoint_state.is_none() {
                    self.endpoint_state = Some(EndpointState::parse(content)?.0);
                }
            }
            id::CONNECTION_ID => first(&mut self.connection_id, content)?,
            id::ENDPOINT_REF => first(&mut self.endpoint_ref, content)?,
            id::AAL => first(&mut self.aal, content)?,
            id::TRAFFIC => first(&mut self.traffic, content)?,
            id::BEARER => first(&mut self.bearer, content)?,
            id::CALLED => {
                if self.called.is_none() {
                    let n = PartyNumber::parse(content)?;
                    // Octet 5a exists only in the Calling party number.
                    if n.presentation_screening.is_some() {
                        return Err(InvalidIe);
                    }
                    self.called = Some(n);
                }
            }
            id::CALLING => first(&mut self.calling, content)?,
            id::QOS => first(&mut self.qos, content)?,
            id::RESTART => first(&mut self.restart, content)?,
            id::USER_USER => first(&mut self.user_user, content)?,
            id::BHLI => {
                if self.bhli.is_none() {
                    self.bhli = Some(Raw::parse(content)?.0);
                }
            }
            id::BLLI => {
                if self.blli.is_none() {
                    self.blli = Some(Raw::parse(content)?.0);
                }
            }
            other if id::SKIPPED.contains(&other) => {}
            other => {
                if self.unrecognized.is_none() {
                    self.unrecognized = Some(UnknownIe { id: other, instruction });
                }
            }
        }
        Ok(())
    }

    /// IEs whose body [`Message::take_ie`] decodes.
    fn decodes(ie_id: u8) -> bool {
        matches!(
            ie_id,
            id::CAUSE
                | id::CALL_STATE
                | id::ENDPOINT_STATE
                | id::CONNECTION_ID
                | id::ENDPOINT_REF
                | id::AAL
                | id::TRAFFIC
                | id::BEARER
                | id::CALLED
                | id::CALLING
                | id::QOS
                | id::RESTART
                | id::USER_USER
                | id::BHLI
                | id::BLLI
        )
    }

    /// True when the IE `ie_id` is present.
    pub fn has_ie(&self, ie_id: u8) -> bool {
        match ie_id {
            id::CAUSE => self.cause[0].is_some(),
            id::CALL_STATE => self.call_state.is_some(),
            id::CONNECTION_ID => self.connection_id.is_some(),
            id::ENDPOINT_REF => self.endpoint_ref.is_some(),
            id::ENDPOINT_STATE => self.endpoint_state.is_some(),
            id::AAL => self.aal.is_some(),
            id::TRAFFIC => self.traffic.is_some(),
            id::BEARER => self.bearer.is_some(),
            id::BHLI => self.bhli.is_some(),
            id::BLLI => self.blli.is_some(),
            id::CALLED => self.called.is_some(),
            id::CALLING => self.calling.is_some(),
            id::QOS => self.qos.is_some(),
            id::RESTART => self.restart.is_some(),
            id::USER_USER => self.user_user.is_some(),
            other => self.unrecognized.is_some_and(|u| u.id == other),
        }
    }

    /// Checks the IEs of [`mandatory_ies`] for this message type; the error names the first
    /// missing one (cause #96).
    pub fn check_mandatory(&self) -> Result<(), ParseError> {
        match mandatory_ies(self.kind).iter().find(|&&i| !self.has_ie(i)) {
            None => Ok(()),
            Some(&missing) => Err(ParseError {
                kind: ParseErrorKind::MandatoryMissing(missing),
                call_ref: Some(self.call_ref),
                message: Some(self.kind),
                instruction: None,
            }),
        }
    }

    /// Calls `f` for every present IE in emit order: the order of the Q.2931 / UNI 3.1 message
    /// content tables (call state, cause ×2, AAL, traffic descriptor, bearer capability, BHLI,
    /// BLLI, called, calling, connection identifier, QoS, restart indicator, endpoint reference,
    /// endpoint state, user-user), then the unrecognised IE, if any, with empty contents.
    fn each_ie(&self, f: &mut IeVisitor<'_, 'a>) -> Result<(), Error> {
        let itu = IeInstruction::ITU_T;
        if let Some(s) = self.call_state {
            f(id::CALL_STATE, itu, &CallState(s))?;
        }
        for c in self.cause.iter().flatten() {
            f(id::CAUSE, itu, c)?;
        }
        if let Some(a) = &self.aal {
            f(id::AAL, itu, a)?;
        }
        if let Some(t) = &self.traffic {
            f(id::TRAFFIC, itu, t)?;
        }
        if let Some(b) = &self.bearer {
            f(id::BEARER, itu, b)?;
        }
        if let Some(b) = self.bhli {
            f(id::BHLI, itu, &Raw(b))?;
        }
        if let Some(b) = self.blli {
            f(id::BLLI, itu, &Raw(b))?;
        }
        if let Some(n) = &self.called {
            if n.presentation_screening.is_some() {
                return Err(Error);
            }
            f(id::CALLED, itu, n)?;
        }
        if let Some(n) = &self.calling {
            f(id::CALLING, itu, n)?;
        }
        if let Some(c) = &self.connection_id {
            f(id::CONNECTION_ID, itu, c)?;
        }
        if let Some(q) = &self.qos {
            f(id::QOS, itu, q)?;
        }
        if let Some(r) = &self.restart {
            f(id::RESTART, itu, r)?;
        }
        if let Some(e) = &self.endpoint_ref {
            f(id::ENDPOINT_REF, itu, e)?;
        }
        if let Some(s) = self.endpoint_state {
            f(id::ENDPOINT_STATE, itu, &EndpointState(s))?;
        }
        if let Some(u) = &self.user_user {
            f(id::USER_USER, itu, u)?;
        }
        if let Some(u) = &self.unrecognized {
            f(u.id, u.instruction, &Raw(&[]))?;
        }
        Ok(())
    }

    /// Octets `emit` writes (header + IEs).
    pub fn buffer_len(&self) -> usize {
        let mut n = HEADER_LEN;
        // The closure never fails, so neither does the walk.
        let _ = self.each_ie(&mut |_, _, b| {
            n = n.saturating_add(ie::ie_len(b));
            Ok(())
        });
        n
    }

    /// Writes the message; returns its length. Errors if `out` is shorter than
    /// [`Message::buffer_len`] or a field does not fit its encoding.
    pub fn emit(&self, out: &mut [u8]) -> Result<usize, Error> {
        let mut at = HEADER_LEN;
        {
            let at = &mut at;
            let out = &mut *out;
            self.each_ie(&mut |ie_id, instr, body| {
                let dst = out.get_mut(*at..).ok_or(Error)?;
                let n = ie::emit_ie(ie_id, instr, body, dst)?;
                *at = at.checked_add(n).ok_or(Error)?;
                Ok(())
            })?;
        }
        let contents = at.checked_sub(HEADER_LEN).ok_or(Error)?;
        emit_header(out, self.call_ref, self.kind, self.action, contents)?;
        Ok(at)
    }
}
