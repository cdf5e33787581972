//! The signalling messages the call manager sends ([`Out`]) and understands ([`In`]), and their
//! translation to and from `wire::q2931` — the only file that touches the wire format.

use crate::ndis::{AtmAddress, CallParameters, VpiVci};
use crate::uni::state::CallRef;

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
    /// RELEASE with a cause, an optional second cause #102 naming an expired timer ("308"), and
    /// user-user information (UNI 4.0 only; empty = no IE).
    Release { cref: CallRef, cause: u8, timer: Option<[u8; 3]>, user_user: &'a [u8] },
    /// RELEASE COMPLETE, with a cause when clearing in error.
    ReleaseComplete { cref: CallRef, cause: Option<u8> },
    /// STATUS answering STATUS ENQUIRY (cause #30) or reporting an error.
    Status { cref: CallRef, state: u8, cause: u8, endpoint: Option<(u16, u8)> },
    /// ADD PARTY for a new leaf.
    AddParty { cref: CallRef, endpoint: u16, params: &'a CallParameters },
    /// DROP PARTY.
    DropParty { cref: CallRef, endpoint: u16, cause: u8 },
    /// DROP PARTY ACKNOWLEDGE.
    DropPartyAck { cref: CallRef, endpoint: u16, cause: u8 },
    /// RESTART ACKNOWLEDGE echoing the indicator (and the VC for class "indicated VC").
    RestartAck { class: u8, vc: Option<VpiVci> },
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
}

/// Encodes `out` into `buf`; the length, or `None` if it does not fit. (Wire binding pending.)
pub fn encode(out: &Out<'_>, buf: &mut [u8]) -> Option<usize> {
    let _ = (out, buf);
    None
}

/// Decodes a received message; `None` when it cannot even be addressed. (Wire binding pending.)
pub fn decode(bytes: &[u8]) -> Option<In<'_>> {
    let _ = bytes;
    None
}
