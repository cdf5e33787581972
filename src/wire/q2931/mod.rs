//! Q.2931 / ATM Forum UNI 3.1 / UNI 4.0 signalling messages (the payload of SSCOP SD PDUs on
//! VPI 0 / VCI 5).
//!
//! * [`Packet`]: checked view of the message header; [`Ie`]: checked view of one IE header.
//! * [`Message`]: the flat `Repr` holding every IE this driver uses, with `parse` / `emit` /
//!   `buffer_len`; IE bodies implement [`IeBody`] in one small module each.
//! * [`ParseError`]: what went wrong and the Q.2931 answer ([`ParseError::cause`]).
//!
//! Sources for layouts: Q.2931, UNI 3.1 §5.4, UNI 4.0; cross-checked against FreeBSD ngatm
//! (`netnatm/msg`) and Wireshark `packet-q2931.c` (read for facts only).

pub mod aal;
pub mod bad_ie;
pub mod bearer;
pub mod cause;
pub mod connection_id;
pub mod endpoint;
pub mod error;
pub mod header;
pub mod ie;
pub mod message;
pub mod party_number;
pub mod simple;
pub mod traffic;
pub mod user_user;

#[cfg(test)]
mod tests;

pub use aal::AalParams;
pub use bad_ie::{BadIe, BadIes, MAX_BAD_IES};
pub use bearer::BearerCapability;
pub use cause::{Cause, CauseValue, Location};
pub use connection_id::ConnectionId;
pub use endpoint::{EndpointRef, EndpointState};
pub use error::{ParseError, ParseErrorKind};
pub use header::{CallRef, HEADER_LEN, MessageType, MsgAction, PROTOCOL_DISCRIMINATOR, Packet};
pub use ie::{Ie, IeAction, IeBody, IeInstruction, InvalidIe, UnknownIe, id};
pub use message::{Message, content_mandatory, mandatory_ies};
pub use party_number::PartyNumber;
pub use simple::{CallState, QosParams, RestartClass, RestartIndicator};
pub use traffic::TrafficDescriptor;
pub use user_user::UserUser;
