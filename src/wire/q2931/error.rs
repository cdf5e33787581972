//! Why a received message could not be used, and the Q.2931 answer to it.

use super::cause::{Cause, CauseValue, Location};
use super::header::{CallRef, MessageType};
use super::ie::IeInstruction;

/// What went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParseErrorKind {
    /// Fewer than 9 octets: too short to hold a message type (Q.2931 5.6.2: ignore).
    TooShort,
    /// Protocol discriminator other than 0x09 (Q.2931 5.6.1: ignore).
    ProtocolDiscriminator(u8),
    /// Call reference length other than 3 (Q.2931 5.6.3.1: ignore).
    CallRefLength(u8),
    /// The message length field claims more octets than were received. Answered with cause #104
    /// "incorrect message length" (UNI 3.1 cause table; ngatm would instead decode as far as
    /// possible).
    MessageLength,
    /// An IE header or its contents run past the end of the message (the carried value is the
    /// IE identifier). Treated as invalid contents, cause #100, like ngatm's decoder, which
    /// marks an IE longer than the rest of the message as an IE content error (Q.2931 5.6.8.2).
    IeTruncated(u8),
    /// IE contents invalid (Q.2931 5.6.8.2, cause #100, diagnostic = IE identifier).
    InvalidIe(u8),
    /// A mandatory IE is missing (Q.2931 5.6.7.1, cause #96, diagnostic = IE identifier).
    MandatoryMissing(u8),
}

/// A parse failure, with as much of the header as was readable so the caller can answer on the
/// right call (Q.2931 5.6: most answers go on the call reference of the bad message).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ParseError {
    /// What went wrong.
    pub kind: ParseErrorKind,
    /// The call reference, when the header was readable.
    pub call_ref: Option<CallRef>,
    /// The message type, when the header was readable.
    pub message: Option<MessageType>,
    /// The instruction field of the offending IE (its explicit action indicator decides between
    /// clearing, discarding the IE and discarding the message: Q.2931 5.7.2).
    pub instruction: Option<IeInstruction>,
}

impl ParseError {
    pub(crate) const fn new(kind: ParseErrorKind) -> Self {
        ParseError { kind, call_ref: None, message: None, instruction: None }
    }

    /// True when Q.2931 says to ignore the message silently (no readable header).
    pub const fn ignore(&self) -> bool {
        matches!(
            self.kind,
            ParseErrorKind::TooShort | ParseErrorKind::ProtocolDiscriminator(_) | ParseErrorKind::CallRefLength(_)
        )
    }

    /// The offending IE identifier, for IE errors.
    pub const fn ie(&self) -> Option<u8> {
        match self.kind {
            ParseErrorKind::IeTruncated(i) | ParseErrorKind::InvalidIe(i) | ParseErrorKind::MandatoryMissing(i) => {
                Some(i)
            }
            _ => None,
        }
    }

    /// The cause value to answer with; `None` = ignore the message ([`ParseError::ignore`]).
    pub const fn cause_value(&self) -> Option<CauseValue> {
        match self.kind {
            ParseErrorKind::TooShort | ParseErrorKind::ProtocolDiscriminator(_) | ParseErrorKind::CallRefLength(_) => {
                None
            }
            ParseErrorKind::MessageLength => Some(CauseValue::INCORRECT_MESSAGE_LENGTH),
            ParseErrorKind::IeTruncated(_) | ParseErrorKind::InvalidIe(_) => Some(CauseValue::INVALID_IE_CONTENTS),
            ParseErrorKind::MandatoryMissing(_) => Some(CauseValue::MANDATORY_IE_MISSING),
        }
    }

    /// The whole Cause IE to answer with (location user; diagnostic = the IE identifier for
    /// #96 / #100, as Q.2931 4.5.15 prescribes); `None` = ignore the message.
    pub fn cause(&self) -> Option<Cause> {
        let c = Cause::new(Location::USER, self.cause_value()?);
        Some(match self.ie() {
            Some(i) => c.with_diagnostics(&[i]).unwrap_or(c),
            None => c,
        })
    }
}

impl core::fmt::Display for ParseError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Q.2931 parse error: {:?}", self.kind)
    }
}
