//! The signalling messages the call manager sends ([`Out`]) and understands ([`In`]), and their
//! translation to and from `wire::q2931` — the only file that touches the wire format.

use crate::ndis::{AtmAddress, AtmAddressType, CallParameters, VpiVci};
use crate::uni::state::CallRef;
use crate::wire::q2931::CallRef as WireCallRef;
use crate::wire::q2931::{
    AalParams, BadIes, BearerCapability, Cause, CauseValue, ConnectionId, EndpointRef, IeAction, IeInstruction,
    Location, MAX_BAD_IES, Message, MessageType, MsgAction, PartyNumber, QosParams, RestartClass, RestartIndicator,
    TrafficDescriptor, UserUser,
};

/// Largest Q.2931 message this side builds.
pub const MAX_MESSAGE: usize = 512;

/// Q.2931 cause values used by the call manager (Q.2610 / UNI 3.1 Annex).
pub mod cause {
    pub const UNALLOCATED_NUMBER: u8 = 1;
    pub const NO_ROUTE_TO_DESTINATION: u8 = 3;
    pub const NORMAL_CALL_CLEARING: u8 = 16;
    pub const USER_BUSY: u8 = 17;
    pub const NO_USER_RESPONDING: u8 = 18;
    pub const CALL_REJECTED: u8 = 21;
    pub const DESTINATION_OUT_OF_ORDER: u8 = 27;
    pub const RESPONSE_TO_STATUS_ENQUIRY: u8 = 30;
    pub const NORMAL_UNSPECIFIED: u8 = 31;
    pub const VPCI_VCI_UNAVAILABLE: u8 = 35;
    pub const ACCESS_INFORMATION_DISCARDED: u8 = 43;
    pub const NO_VPCI_VCI_AVAILABLE: u8 = 45;
    pub const RESOURCE_UNAVAILABLE: u8 = 47;
    pub const QOS_UNAVAILABLE: u8 = 49;
    pub const INVALID_CALL_REFERENCE: u8 = 81;
    pub const INCOMPATIBLE_DESTINATION: u8 = 88;
    pub const INVALID_ENDPOINT_REFERENCE: u8 = 89;
    pub const MANDATORY_IE_MISSING: u8 = 96;
    pub const MESSAGE_TYPE_NOT_IMPLEMENTED: u8 = 97;
    pub const IE_NOT_IMPLEMENTED: u8 = 99;
    pub const INVALID_IE_CONTENTS: u8 = 100;
    pub const MESSAGE_NOT_COMPATIBLE_WITH_STATE: u8 = 101;
    pub const RECOVERY_ON_TIMER_EXPIRY: u8 = 102;
    pub const INCORRECT_MESSAGE_LENGTH: u8 = 104;
    pub const PROTOCOL_ERROR: u8 = 111;
}

/// A message the call manager sends.
#[derive(Copy, Clone, Debug)]
pub enum Out<'a> {
    /// SETUP for an outgoing call (endpoint reference 0 when point-to-multipoint).
    Setup { cref: CallRef, params: &'a CallParameters, multipoint: bool },
    /// CONNECT answering an incoming call.
    Connect { cref: CallRef },
    /// CONNECT ACKNOWLEDGE after the network's CONNECT.
    ConnectAck { cref: CallRef },
    /// RELEASE with a cause and its diagnostic (the IE identifiers of a #99 / #100 "clear call",
    /// Q.2931 §5.6.8; empty otherwise), an optional second cause #102 naming an expired timer
    /// ("308"), and user-user information (UNI 4.0 only; empty = no IE).
    Release { cref: CallRef, cause: u8, diagnostic: Diag, timer: Option<[u8; 3]>, user_user: &'a [u8] },
    /// RELEASE COMPLETE, with a cause when clearing in error.
    ReleaseComplete { cref: CallRef, cause: Option<u8> },
    /// STATUS answering STATUS ENQUIRY (cause #30) or reporting an error.
    Status { cref: CallRef, state: u8, cause: u8, endpoint: Option<(u16, u8)> },
    /// STATUS reporting an error with its diagnostic: the message type for #97, the IE
    /// identifier(s) for #96 / #99 / #100 (Q.2931 §5.6, 4.5.15, Q.850).
    StatusDiag { cref: CallRef, state: u8, cause: u8, diagnostic: Diag },
    /// RELEASE COMPLETE clearing in error, with the offending IE identifier(s) as diagnostic
    /// (#96 mandatory IE missing, #100 invalid IE contents).
    ReleaseCompleteDiag { cref: CallRef, cause: u8, diagnostic: Diag },
    /// STATUS ENQUIRY (the calls that survived a signalling link loss, Q.2931 §5.6.10).
    StatusEnquiry { cref: CallRef },
    /// ADD PARTY for a new leaf.
    AddParty { cref: CallRef, endpoint: u16, params: &'a CallParameters },
    /// DROP PARTY.
    DropParty { cref: CallRef, endpoint: u16, cause: u8 },
    /// DROP PARTY ACKNOWLEDGE.
    DropPartyAck { cref: CallRef, endpoint: u16, cause: u8 },
    /// RESTART ACKNOWLEDGE echoing the indicator (and the VC for class "indicated VC").
    RestartAck { class: u8, vc: Option<VpiVci> },
    /// RESTART of our own, class "all VCs" (Q.2931 §5.5.1; T316 runs until RESTART ACKNOWLEDGE).
    RestartAll,
}

/// The kind of a received message, as far as the call manager cares.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum InKind {
    Setup,
    CallProceeding,
    Alerting,
    Connect,
    ConnectAck,
    Release,
    ReleaseComplete,
    Status,
    StatusEnquiry,
    Restart,
    RestartAck,
    AddPartyAck,
    AddPartyReject,
    DropParty,
    DropPartyAck,
    PartyAlerting,
    Notify,
    /// A type this side does not implement (answered with STATUS #97).
    Other(u8),
}

/// What to do about an unrecognised IE (#99, Q.2931 §5.6.8.1) or a non-mandatory IE with
/// invalid contents (#100, §5.6.8.2): its instruction field's action indicator (§5.7.2).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum UnknownIeAction {
    /// Clear the call.
    Clear,
    /// Discard the IE and proceed.
    Discard,
    /// Discard the IE, proceed, report STATUS (also the default without explicit instruction,
    /// and the reserved codes).
    DiscardReport,
    /// Discard the message.
    DiscardMessage,
    /// Discard the message, report STATUS.
    DiscardMessageReport,
}

impl UnknownIeAction {
    /// From an IE instruction field. Without the flag (Q.2931 §5.6.8.1 / §5.6.8.2 default) and
    /// for the reserved codes (§5.7.2) the IE is discarded, the message acted on and STATUS
    /// returned.
    pub fn from_instruction(i: IeInstruction) -> Self {
        match i.action {
            Some(IeAction::Clear) => UnknownIeAction::Clear,
            Some(IeAction::DiscardIe) => UnknownIeAction::Discard,
            Some(IeAction::DiscardMsg) => UnknownIeAction::DiscardMessage,
            Some(IeAction::DiscardMsgReport) => UnknownIeAction::DiscardMessageReport,
            Some(IeAction::DiscardIeReport | IeAction::Reserved(_)) | None => UnknownIeAction::DiscardReport,
        }
    }

    /// Precedence when several IEs are in error, highest first (Q.2931 §5.7.2 as ngatm's
    /// `uni_verify` orders it: clear call, then discard message and report, then discard
    /// message, then discard IE and report, then discard IE).
    pub const fn rank(self) -> u8 {
        match self {
            UnknownIeAction::Clear => 4,
            UnknownIeAction::DiscardMessageReport => 3,
            UnknownIeAction::DiscardMessage => 2,
            UnknownIeAction::DiscardReport => 1,
            UnknownIeAction::Discard => 0,
        }
    }
}

/// A cause's diagnostic octets: one message type or up to [`MAX_BAD_IES`] IE identifiers.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Diag {
    octets: [u8; MAX_BAD_IES],
    len: u8,
}

impl Diag {
    /// No diagnostic.
    pub const NONE: Diag = Diag { octets: [0; MAX_BAD_IES], len: 0 };

    /// One octet.
    pub const fn one(o: u8) -> Self {
        let mut octets = [0; MAX_BAD_IES];
        if let Some(first) = octets.first_mut() {
            *first = o;
        }
        Diag { octets, len: 1 }
    }

    /// The first octet (0 when empty).
    pub fn first(&self) -> u8 {
        self.as_slice().first().copied().unwrap_or(0)
    }

    /// The identifiers of the recorded bad IEs (at least one entry only if one was recorded).
    pub fn of_bad_ies(b: &BadIes) -> Self {
        let mut d = Diag { octets: [0; MAX_BAD_IES], len: 0 };
        for (slot, ie) in d.octets.iter_mut().zip(b.as_slice()) {
            *slot = ie.id;
            d.len = d.len.saturating_add(1);
        }
        d
    }

    /// The octets.
    pub fn as_slice(&self) -> &[u8] {
        self.octets.get(..usize::from(self.len)).unwrap_or(&[])
    }
}

/// Non-mandatory IEs received with invalid contents (Q.2931 §5.6.8.2): their identifiers (the
/// diagnostic of cause #100) and the action their instruction fields ask for, the most
/// pressing one when several disagree ([`UnknownIeAction::rank`]).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct BadIeReport {
    /// #100, or #43 when every bad IE was an over-long access IE (Q.2931 5.6.8.2).
    pub cause: u8,
    pub ies: Diag,
    pub action: UnknownIeAction,
}

/// The IE error a message for a known call is to be handled by: an unrecognised IE (#99) or bad
/// non-mandatory IEs (#100), whichever asks for more; one STATUS at most. On a tie the
/// unrecognised IE wins for clear / discard-message actions and the bad IEs for "report"
/// (the order of ngatm's `uni_verify`, FreeBSD `sys/contrib/ngatm/netnatm/sig/sig_verify.c`).
pub fn ie_error(m: &In<'_>) -> Option<(u8, Diag, UnknownIeAction)> {
    let unknown = m.unknown_ie.map(|(ie, a)| (cause::IE_NOT_IMPLEMENTED, Diag::one(ie), a));
    let bad = m.bad_ies.map(|b| (b.cause, b.ies, b.action));
    match (unknown, bad) {
        (Some(u), Some(b)) => {
            let bad_wins = b.2.rank() > u.2.rank() || (b.2.rank() == u.2.rank() && b.2.rank() <= 1);
            Some(if bad_wins { b } else { u })
        }
        (u, b) => u.or(b),
    }
}

/// The message action indicator of a message type we do not know (Q.2931 §5.7.1).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum UnknownMessageAction {
    /// Clear the call (#97).
    Clear,
    /// Discard and ignore.
    Ignore,
    /// Discard and report STATUS #97 (also without explicit instruction, and reserved).
    Report,
}

/// A received message, reduced to what the call manager uses.
#[derive(Copy, Clone, Debug)]
pub struct In<'a> {
    pub cref: CallRef,
    /// True for the global call reference (value 0).
    pub global: bool,
    pub kind: InKind,
    pub cause: Option<u8>,
    pub connection: Option<VpiVci>,
    pub endpoint: Option<u16>,
    pub call_state: Option<u8>,
    pub called: Option<AtmAddress>,
    pub calling: Option<AtmAddress>,
    /// Forward/backward maximum CPCS-SDU sizes from the AAL parameters IE.
    pub max_sdu: Option<(u32, u32)>,
    /// Forward/backward peak cell rate (CLP 0+1) from the traffic descriptor.
    pub pcr: Option<(u32, u32)>,
    /// AAL type octet from the AAL parameters IE (5 = AAL5).
    pub aal: Option<u8>,
    /// Restart indicator class.
    pub restart_class: Option<u8>,
    pub user_user: &'a [u8],
    /// A content error found while parsing (Q.2931 cause to answer with, IE identifier).
    pub error: Option<(u8, u8)>,
    /// The first unrecognised IE: identifier and what its instruction field asks.
    pub unknown_ie: Option<(u8, UnknownIeAction)>,
    /// Non-mandatory IEs dropped for invalid contents (Q.2931 §5.6.8.2).
    pub bad_ies: Option<BadIeReport>,
    /// The message action indicator, for a message type we do not know.
    pub action: UnknownMessageAction,
}

/// Peak cell rate announced when the client leaves it 0 ("line rate"): OC-3 payload rate.
const LINE_RATE_CELLS: u32 = 353_207;
/// Protocol discriminator of the user-user information we send: user-specific (Q.2957).
const UU_PROTOCOL: u8 = 0x00;

fn wire_cref(c: CallRef) -> WireCallRef {
    WireCallRef { value: c.value, flag: c.flag_to_send() }
}

fn party_number(a: &AtmAddress) -> Option<PartyNumber> {
    match a.kind {
        AtmAddressType::E164 => PartyNumber::e164(a.as_bytes()).ok(),
        AtmAddressType::Nsap => <[u8; 20]>::try_from(a.as_bytes()).ok().map(PartyNumber::nsap),
    }
}

fn atm_address(p: &PartyNumber) -> Option<AtmAddress> {
    let kind =
        if p.plan == crate::wire::q2931::party_number::PLAN_E164 { AtmAddressType::E164 } else { AtmAddressType::Nsap };
    AtmAddress::new(kind, p.address())
}

fn cause(c: u8) -> Cause {
    Cause::new(Location::USER, CauseValue(c))
}

fn rate(pcr: u32) -> u32 {
    if pcr == 0 { LINE_RATE_CELLS } else { pcr.min(crate::wire::q2931::traffic::MAX_RATE) }
}

fn sdu(n: u32) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

/// Encodes `out` into `buf`; the length, or `None` if it cannot be built (too long, or an
/// address the wire format cannot carry).
pub fn encode(out: &Out<'_>, buf: &mut [u8]) -> Option<usize> {
    let m = match *out {
        Out::Setup { cref, params, multipoint } => {
            let mut m = Message::new(MessageType::Setup, wire_cref(cref));
            let tx = &params.media.transmit;
            let rx = &params.media.receive;
            // Forward = calling (us) → called.
            m.aal = Some(AalParams::aal5(sdu(tx.max_sdu_size), sdu(rx.max_sdu_size)));
            m.traffic = Some(TrafficDescriptor::ubr(rate(tx.pcr), rate(rx.pcr)));
            let mut bearer = BearerCapability::bcob_x();
            bearer.point_to_multipoint = multipoint;
            m.bearer = Some(bearer);
            m.called = Some(party_number(params.called.as_ref()?)?);
            m.calling = match params.calling.as_ref() {
                Some(a) => Some(party_number(a)?),
                None => None,
            };
            m.qos = Some(QosParams { forward: 0, backward: 0 });
            if multipoint {
                m.endpoint_ref = Some(EndpointRef::new(0, false));
            }
            m
        }
        Out::Connect { cref } => Message::new(MessageType::Connect, wire_cref(cref)),
        Out::ConnectAck { cref } => Message::new(MessageType::ConnectAck, wire_cref(cref)),
        Out::Release { cref, cause: c, diagnostic, timer, user_user } => {
            let mut m = Message::new(MessageType::Release, wire_cref(cref));
            m.cause[0] = Some(cause(c).with_diagnostics(diagnostic.as_slice()).ok()?);
            m.cause[1] = timer.map(|t| Cause::timer_expiry(Location::USER, t));
            if !user_user.is_empty() {
                m.user_user = Some(UserUser { protocol: UU_PROTOCOL, info: user_user });
            }
            m
        }
        Out::ReleaseComplete { cref, cause: c } => {
            let mut m = Message::new(MessageType::ReleaseComplete, wire_cref(cref));
            m.cause[0] = c.map(cause);
            m
        }
        Out::Status { cref, state, cause: c, endpoint } => {
            let mut m = Message::new(MessageType::Status, wire_cref(cref));
            m.call_state = Some(state);
            m.cause[0] = Some(cause(c));
            if let Some((ep, st)) = endpoint {
                m.endpoint_ref = Some(EndpointRef::new(ep, cref.ours));
                m.endpoint_state = Some(st);
            }
            m
        }
        Out::StatusDiag { cref, state, cause: c, diagnostic } => {
            let mut m = Message::new(MessageType::Status, wire_cref(cref));
            m.call_state = Some(state);
            m.cause[0] = Some(cause(c).with_diagnostics(diagnostic.as_slice()).ok()?);
            m
        }
        Out::ReleaseCompleteDiag { cref, cause: c, diagnostic } => {
            let mut m = Message::new(MessageType::ReleaseComplete, wire_cref(cref));
            m.cause[0] = Some(cause(c).with_diagnostics(diagnostic.as_slice()).ok()?);
            m
        }
        Out::StatusEnquiry { cref } => Message::new(MessageType::StatusEnquiry, wire_cref(cref)),
        Out::AddParty { cref, endpoint, params } => {
            let mut m = Message::new(MessageType::AddParty, wire_cref(cref));
            m.called = Some(party_number(params.called.as_ref()?)?);
            m.endpoint_ref = Some(EndpointRef::new(endpoint, false));
            m
        }
        Out::DropParty { cref, endpoint, cause: c } => {
            let mut m = Message::new(MessageType::DropParty, wire_cref(cref));
            m.cause[0] = Some(cause(c));
            m.endpoint_ref = Some(EndpointRef::new(endpoint, false));
            m
        }
        Out::DropPartyAck { cref, endpoint, cause: c } => {
            let mut m = Message::new(MessageType::DropPartyAck, wire_cref(cref));
            m.cause[0] = Some(cause(c));
            m.endpoint_ref = Some(EndpointRef::new(endpoint, false));
            m
        }
        Out::RestartAck { class, vc } => {
            let mut m = Message::new(MessageType::RestartAck, WireCallRef { value: 0, flag: true });
            let class = match class {
                0 => RestartClass::IndicatedVc,
                1 => RestartClass::IndicatedVp,
                _ => RestartClass::All,
            };
            m.restart = Some(RestartIndicator { class });
            m.connection_id = vc.map(|v| ConnectionId::exclusive(v.vpi, v.vci));
            m
        }
        Out::RestartAll => {
            let mut m = Message::new(MessageType::Restart, WireCallRef { value: 0, flag: false });
            m.restart = Some(RestartIndicator { class: RestartClass::All });
            m
        }
    };
    m.emit(buf).ok()
}

fn kind(t: MessageType) -> InKind {
    match t {
        MessageType::Setup => InKind::Setup,
        MessageType::CallProceeding => InKind::CallProceeding,
        MessageType::Alerting => InKind::Alerting,
        MessageType::Connect => InKind::Connect,
        MessageType::ConnectAck => InKind::ConnectAck,
        MessageType::Release => InKind::Release,
        MessageType::ReleaseComplete => InKind::ReleaseComplete,
        MessageType::Status => InKind::Status,
        MessageType::StatusEnquiry => InKind::StatusEnquiry,
        MessageType::Restart => InKind::Restart,
        MessageType::RestartAck => InKind::RestartAck,
        MessageType::AddPartyAck => InKind::AddPartyAck,
        MessageType::AddPartyReject => InKind::AddPartyReject,
        MessageType::DropParty => InKind::DropParty,
        MessageType::DropPartyAck => InKind::DropPartyAck,
        MessageType::PartyAlerting => InKind::PartyAlerting,
        MessageType::Notify => InKind::Notify,
        other => InKind::Other(u8::from(other)),
    }
}

fn empty_in(cref: WireCallRef, k: InKind) -> In<'static> {
    In {
        cref: CallRef { value: cref.value, ours: cref.flag },
        global: cref.value == 0,
        kind: k,
        cause: None,
        connection: None,
        endpoint: None,
        call_state: None,
        called: None,
        calling: None,
        max_sdu: None,
        pcr: None,
        aal: None,
        restart_class: None,
        user_user: &[],
        error: None,
        unknown_ie: None,
        bad_ies: None,
        action: UnknownMessageAction::Report,
    }
}

/// The action for a message's bad non-mandatory IEs: the highest-ranked of their instruction
/// fields' (Q.2931 §5.7.2); `None` when there is none. IEs beyond the kept ones ([`BadIes`]
/// overflow) count as "no instruction": discard, proceed, report.
fn bad_ie_report(b: &BadIes) -> Option<BadIeReport> {
    if b.is_empty() {
        return None;
    }
    let overflow = b.overflow.then_some(UnknownIeAction::DiscardReport);
    let action = b
        .as_slice()
        .iter()
        .map(|ie| UnknownIeAction::from_instruction(ie.instruction))
        .chain(overflow)
        .max_by_key(|a| a.rank())
        .unwrap_or(UnknownIeAction::DiscardReport);
    let access_only = !b.overflow && b.as_slice().iter().all(|ie| ie.access_discarded);
    let cause = if access_only { cause::ACCESS_INFORMATION_DISCARDED } else { cause::INVALID_IE_CONTENTS };
    Some(BadIeReport { cause, ies: Diag::of_bad_ies(b), action })
}

/// Decodes a received message; `None` when Q.2931 says to ignore it (it cannot be addressed:
/// bad protocol discriminator, call reference or header).
pub fn decode(bytes: &[u8]) -> Option<In<'_>> {
    let m = match Message::parse(bytes) {
        Ok(m) => m,
        Err(e) => {
            if e.ignore() {
                return None;
            }
            let cref = e.call_ref?;
            let k = kind(e.message.unwrap_or(MessageType::Unknown(0)));
            let mut i = empty_in(cref, k);
            i.error = e.cause_value().map(|c| (c.0, e.ie().unwrap_or(0)));
            return Some(i);
        }
    };
    let mut i = empty_in(m.call_ref, kind(m.kind));
    if let Err(e) = m.check_mandatory() {
        i.error = e.cause_value().map(|c| (c.0, e.ie().unwrap_or(0)));
    }
    i.cause = m.cause[0].map(|c| c.value.0);
    i.connection = m.connection_id.map(|c| VpiVci { vpi: c.vpci, vci: c.vci });
    i.endpoint = m.endpoint_ref.map(|e| e.value);
    i.call_state = m.call_state;
    i.called = m.called.as_ref().and_then(atm_address);
    i.calling = m.calling.as_ref().and_then(atm_address);
    i.aal = m.aal.map(|a| a.aal_type);
    i.max_sdu = m.aal.map(|a| (u32::from(a.fwd_max_sdu.unwrap_or(9188)), u32::from(a.bwd_max_sdu.unwrap_or(9188))));
    i.pcr = m.traffic.map(|t| (t.fwd_pcr_01.or(t.fwd_pcr_0).unwrap_or(0), t.bwd_pcr_01.or(t.bwd_pcr_0).unwrap_or(0)));
    i.restart_class = m.restart.map(|r| match r.class {
        RestartClass::IndicatedVc => 0,
        RestartClass::IndicatedVp => 1,
        RestartClass::All => 2,
    });
    i.user_user = m.user_user.map_or(&[][..], |u| u.info);
    i.unknown_ie = m.unrecognized.map(|u| (u.id, UnknownIeAction::from_instruction(u.instruction)));
    i.bad_ies = bad_ie_report(&m.bad_ies);
    i.action = match m.action {
        Some(MsgAction::Clear) => UnknownMessageAction::Clear,
        Some(MsgAction::DiscardIgnore) => UnknownMessageAction::Ignore,
        Some(MsgAction::DiscardReport | MsgAction::Reserved) | None => UnknownMessageAction::Report,
    };
    Some(i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ndis::{AalType, AtmFlowParameters, AtmMediaParameters};

    fn params() -> CallParameters {
        CallParameters {
            flags: 0,
            media_flags: 0,
            media: AtmMediaParameters {
                connection_id: VpiVci::default(),
                aal_type: AalType::Aal5,
                transmit: AtmFlowParameters::ubr(1000),
                receive: AtmFlowParameters::ubr(2000),
            },
            called: AtmAddress::new(AtmAddressType::E164, b"2002"),
            calling: None,
        }
    }

    #[test]
    fn release_with_close_data_encodes_the_signalling_md_vector_plus_user_user() {
        let cref = CallRef { value: 1, ours: true };
        let mut buf = [0u8; MAX_MESSAGE];
        let n = encode(
            &Out::Release {
                cref,
                cause: cause::NORMAL_CALL_CLEARING,
                diagnostic: Diag::NONE,
                timer: None,
                user_user: &[],
            },
            &mut buf,
        )
        .unwrap();
        assert_eq!(
            &buf[..n],
            &[0x09, 0x03, 0x00, 0x00, 0x01, 0x4d, 0x80, 0x00, 0x06, 0x08, 0x80, 0x00, 0x02, 0x80, 0x90]
        );
        let n =
            encode(&Out::Release { cref, cause: 16, diagnostic: Diag::NONE, timer: None, user_user: b"bye" }, &mut buf)
                .unwrap();
        let back = decode(&buf[..n]).unwrap();
        assert_eq!(back.kind, InKind::Release);
        assert_eq!(back.user_user, b"bye");
        assert_eq!(back.cause, Some(16));
        // Seen from the other side, a call reference we allocated arrives with flag 0.
        assert!(!back.cref.ours);
    }

    #[test]
    fn setup_round_trips_addresses_rates_and_sdu_sizes() {
        let p = params();
        let mut buf = [0u8; MAX_MESSAGE];
        let n = encode(&Out::Setup { cref: CallRef { value: 7, ours: true }, params: &p, multipoint: false }, &mut buf)
            .unwrap();
        let m = decode(&buf[..n]).unwrap();
        assert_eq!(m.kind, InKind::Setup);
        assert_eq!(m.called, p.called);
        assert_eq!(m.pcr, Some((1000, 2000)));
        assert_eq!(m.max_sdu, Some((9188, 9188)));
        assert_eq!(m.error, None);
    }

    #[test]
    fn garbage_is_ignored_and_a_setup_missing_its_called_number_reports_96() {
        assert!(decode(&[0x08, 0x03, 0, 0, 1, 0x05, 0x80, 0, 0]).is_none());
        let mut p = params();
        p.called = None;
        let mut buf = [0u8; MAX_MESSAGE];
        assert!(
            encode(&Out::Setup { cref: CallRef { value: 7, ours: true }, params: &p, multipoint: false }, &mut buf)
                .is_none()
        );
        let m = decode(&[0x09, 0x03, 0, 0, 7, 0x05, 0x80, 0, 0]).unwrap();
        assert_eq!(m.error.map(|e| e.0), Some(cause::MANDATORY_IE_MISSING));
    }

    /// The SETUP [`params`] encodes, with `extra` IE octets appended.
    fn setup_with(extra: &[u8]) -> std::vec::Vec<u8> {
        let p = params();
        let mut buf = [0u8; MAX_MESSAGE];
        let n = encode(&Out::Setup { cref: CallRef { value: 7, ours: true }, params: &p, multipoint: false }, &mut buf)
            .unwrap();
        let mut b = buf[..n].to_vec();
        b.extend_from_slice(extra);
        let len = u16::try_from(b.len() - 9).unwrap();
        b[7..9].copy_from_slice(&len.to_be_bytes());
        b
    }

    #[test]
    fn a_setup_with_a_bad_optional_ie_decodes_without_error_and_reports_it_by_its_instruction() {
        // Empty BLLI, flag clear: no error, the IE named, default action "discard IE, report".
        let b = setup_with(&[0x5f, 0x80, 0x00, 0x00]);
        let m = decode(&b).unwrap();
        assert_eq!((m.kind, m.error), (InKind::Setup, None));
        let r = m.bad_ies.unwrap();
        assert_eq!((r.ies.as_slice(), r.action), (&[0x5f][..], UnknownIeAction::DiscardReport));
        assert_eq!(ie_error(&m), Some((cause::INVALID_IE_CONTENTS, Diag::one(0x5f), UnknownIeAction::DiscardReport)));
        // Two bad IEs: both named, the most pressing instruction wins (clear over discard IE).
        let b = setup_with(&[0x5f, 0x91, 0x00, 0x00, 0x5d, 0x90, 0x00, 0x00]);
        let r = decode(&b).unwrap().bad_ies.unwrap();
        assert_eq!((r.ies.as_slice(), r.action), (&[0x5f, 0x5d][..], UnknownIeAction::Clear));
        // Each action indicator value maps to its action.
        for (octet, want) in [
            (0x90, UnknownIeAction::Clear),
            (0x91, UnknownIeAction::Discard),
            (0x92, UnknownIeAction::DiscardReport),
            (0x93, UnknownIeAction::DiscardReport),
            (0x95, UnknownIeAction::DiscardMessage),
            (0x96, UnknownIeAction::DiscardMessageReport),
        ] {
            let r = decode(&setup_with(&[0x7e, octet, 0x00, 0x00])).unwrap().bad_ies.unwrap();
            assert_eq!(r.action, want, "instruction {octet:#x}");
        }
    }

    /// Q.2931 5.6.8.2 (as Q.931 5.8.7.2): an access IE longer than its maximum is reported with
    /// #43 "access information discarded", not #100; any other bad IE alongside keeps #100.
    #[test]
    fn an_over_long_user_user_ie_is_reported_as_access_information_discarded_43() {
        let uu = |info_len: usize| {
            let len = u16::try_from(info_len + 1).unwrap().to_be_bytes();
            let mut ie = std::vec![0x7e, 0x80, len[0], len[1], 0x04];
            ie.resize(ie.len() + info_len, 0x55);
            ie
        };
        let b = setup_with(&uu(129));
        let m = decode(&b).unwrap();
        assert_eq!(m.user_user, &[] as &[u8], "the information is discarded");
        assert_eq!(ie_error(&m), Some((43, Diag::one(0x7e), UnknownIeAction::DiscardReport)));
        // At the maximum (128 octets of information) it is read.
        let b = setup_with(&uu(128));
        let m = decode(&b).unwrap();
        assert_eq!((m.user_user.len(), ie_error(&m)), (128, None));
        // Empty (no protocol discriminator): invalid contents, #100.
        let b = setup_with(&[0x7e, 0x80, 0x00, 0x00]);
        let m = decode(&b).unwrap();
        assert_eq!(ie_error(&m).map(|e| e.0), Some(cause::INVALID_IE_CONTENTS));
        // With another bad IE: #100 naming both.
        let mut extra = uu(129);
        extra.extend_from_slice(&[0x5f, 0x80, 0x00, 0x00]);
        let b = setup_with(&extra);
        let m = decode(&b).unwrap();
        let e = ie_error(&m).unwrap();
        assert_eq!((e.0, e.1.as_slice()), (cause::INVALID_IE_CONTENTS, &[0x7e, 0x5f][..]));
    }

    #[test]
    fn one_status_at_most_when_an_unknown_and_a_bad_ie_both_ask_for_a_report() {
        // Unknown IE 0xf0 and a bad BLLI, both "discard IE and report": #100 wins (ngatm order).
        let b = setup_with(&[0xf0, 0x92, 0x00, 0x01, 0x00, 0x5f, 0x92, 0x00, 0x00]);
        let m = decode(&b).unwrap();
        assert_eq!(ie_error(&m).map(|e| e.0), Some(cause::INVALID_IE_CONTENTS));
        // Unknown IE asking to clear outranks a bad IE asking for a report.
        let b = setup_with(&[0xf0, 0x90, 0x00, 0x01, 0x00, 0x5f, 0x92, 0x00, 0x00]);
        let m = decode(&b).unwrap();
        assert_eq!(ie_error(&m), Some((cause::IE_NOT_IMPLEMENTED, Diag::one(0xf0), UnknownIeAction::Clear)));
    }
}
