//! The Q.2931 message header (Q.2931 clause 4.1–4.4, UNI 3.1 §5.4.1–5.4.4):
//!
//! ```text
//! octet 1     protocol discriminator (0x09)
//! octet 2     0000 | call reference length (= 3)
//! octets 3-5  flag (bit 8 of octet 3) | call reference value (23 bits)
//! octet 6     message type
//! octet 7     1 | spare(2) | flag | pass-along(PNNI) | spare | action indicator (2 bits)
//! octets 8-9  message length (contents after octet 9, big-endian)
//! ```

use super::ParseError;
use super::error::ParseErrorKind;
use crate::wire::{Error, get_u16, put_u16};

/// Q.2931 / UNI protocol discriminator.
pub const PROTOCOL_DISCRIMINATOR: u8 = 0x09;
/// The only call reference length UNI signalling uses.
pub const CALL_REF_LEN: u8 = 3;
/// Octets in the message header.
pub const HEADER_LEN: usize = 9;

mod field {
    use core::ops::Range;
    pub const PD: usize = 0;
    pub const CREF_LEN: usize = 1;
    pub const CREF: Range<usize> = 2..5;
    pub const MSG_TYPE: usize = 5;
    pub const MSG_EXT: usize = 6;
    pub const MSG_LEN: usize = 7;
}

/// A call reference (Q.2931 4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CallRef {
    /// 23-bit value; 0 is the global call reference (RESTART, RESTART ACK, STATUS).
    pub value: u32,
    /// `false` in messages sent by the side that allocated the value, `true` in messages sent to
    /// it (Q.2931 4.3).
    pub flag: bool,
}

impl CallRef {
    /// Largest call reference value.
    pub const MAX_VALUE: u32 = 0x7f_ffff;
    /// The global call reference as sent by the side originating a RESTART.
    pub const GLOBAL: CallRef = CallRef { value: 0, flag: false };

    /// True for the global call reference (value 0, either flag).
    pub const fn is_global(&self) -> bool {
        self.value == 0
    }

    /// The same value with the flag inverted: what the peer puts in its answers.
    pub const fn reply(self) -> CallRef {
        CallRef { value: self.value, flag: !self.flag }
    }
}

/// Message types (Q.2931 Table 4-2, Q.2971, Q.2932, UNI 4.0; ngatm `uni_hdr.h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    Alerting,
    CallProceeding,
    Setup,
    Connect,
    ConnectAck,
    CobiSetup,
    Restart,
    Release,
    RestartAck,
    ReleaseComplete,
    Facility,
    Notify,
    StatusEnquiry,
    Status,
    AddParty,
    AddPartyAck,
    AddPartyReject,
    DropParty,
    DropPartyAck,
    PartyAlerting,
    ModifyRequest,
    ModifyAck,
    ModifyReject,
    ConnectionAvailable,
    LeafSetupFail,
    LeafSetupRequest,
    /// Any other code (Q.2931 5.6.4: handled per the message action indicator, cause #97).
    Unknown(u8),
}

impl From<u8> for MessageType {
    fn from(v: u8) -> Self {
        use MessageType::*;
        match v {
            0x01 => Alerting,
            0x02 => CallProceeding,
            0x05 => Setup,
            0x07 => Connect,
            0x0f => ConnectAck,
            0x15 => CobiSetup,
            0x46 => Restart,
            0x4d => Release,
            0x4e => RestartAck,
            0x5a => ReleaseComplete,
            0x62 => Facility,
            0x6e => Notify,
            0x75 => StatusEnquiry,
            0x7d => Status,
            0x80 => AddParty,
            0x81 => AddPartyAck,
            0x82 => AddPartyReject,
            0x83 => DropParty,
            0x84 => DropPartyAck,
            0x85 => PartyAlerting,
            0x88 => ModifyRequest,
            0x89 => ModifyAck,
            0x8a => ModifyReject,
            0x8b => ConnectionAvailable,
            0x90 => LeafSetupFail,
            0x91 => LeafSetupRequest,
            other => Unknown(other),
        }
    }
}

impl From<MessageType> for u8 {
    fn from(t: MessageType) -> u8 {
        use MessageType::*;
        match t {
            Alerting => 0x01,
            CallProceeding => 0x02,
            Setup => 0x05,
            Connect => 0x07,
            ConnectAck => 0x0f,
            CobiSetup => 0x15,
            Restart => 0x46,
            Release => 0x4d,
            RestartAck => 0x4e,
            ReleaseComplete => 0x5a,
            Facility => 0x62,
            Notify => 0x6e,
            StatusEnquiry => 0x75,
            Status => 0x7d,
            AddParty => 0x80,
            AddPartyAck => 0x81,
            AddPartyReject => 0x82,
            DropParty => 0x83,
            DropPartyAck => 0x84,
            PartyAlerting => 0x85,
            ModifyRequest => 0x88,
            ModifyAck => 0x89,
            ModifyReject => 0x8a,
            ConnectionAvailable => 0x8b,
            LeafSetupFail => 0x90,
            LeafSetupRequest => 0x91,
            Unknown(v) => v,
        }
    }
}

/// The message action indicator (octet 7 bits 2-1), meaningful only when its flag (bit 5) is
/// set (Q.2931 4.4.2, 5.7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MsgAction {
    /// 00: clear call.
    Clear,
    /// 01: discard and ignore.
    DiscardIgnore,
    /// 10: discard and report status.
    DiscardReport,
    /// 11: reserved (Q.2931 5.7.1: treat as "discard and report status").
    Reserved,
}

impl MsgAction {
    /// From the two action bits.
    pub const fn from_bits(b: u8) -> Self {
        match b & 0x03 {
            0 => MsgAction::Clear,
            1 => MsgAction::DiscardIgnore,
            2 => MsgAction::DiscardReport,
            _ => MsgAction::Reserved,
        }
    }
    /// The two action bits.
    pub const fn bits(self) -> u8 {
        match self {
            MsgAction::Clear => 0,
            MsgAction::DiscardIgnore => 1,
            MsgAction::DiscardReport => 2,
            MsgAction::Reserved => 3,
        }
    }
}

/// A checked view of a Q.2931 message (header + contents).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking it; accessors return 0 / empty on a short buffer.
    pub const fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }

    /// Wraps a buffer after [`Packet::check`].
    pub fn new_checked(buffer: T) -> Result<Self, ParseError> {
        let p = Packet { buffer };
        p.check()?;
        Ok(p)
    }

    /// Checks the header: at least 9 octets, protocol discriminator 0x09, call reference length
    /// 3, and a message length that fits the buffer.
    ///
    /// Settled against Q.2931 (issue 8): the call reference length is bits 4-1 of octet 2 and
    /// bits 8-5 are spare (4.3), so spare bits set do not make the message unreadable — they are
    /// ignored, as spare bits are. Octets after the declared message length are not part of the
    /// message (the length field delimits the contents, 4.4.5) and are ignored: SSCOP delivers
    /// whole SDUs, so only a broken sender adds them, and what the length covers is still a
    /// well-formed message.
    pub fn check(&self) -> Result<(), ParseError> {
        let b = self.buffer.as_ref();
        if b.len() < HEADER_LEN {
            return Err(ParseError::new(ParseErrorKind::TooShort));
        }
        let pd = b.get(field::PD).copied().unwrap_or(0);
        if pd != PROTOCOL_DISCRIMINATOR {
            return Err(ParseError::new(ParseErrorKind::ProtocolDiscriminator(pd)));
        }
        let crl = b.get(field::CREF_LEN).copied().unwrap_or(0) & 0x0f;
        if crl != CALL_REF_LEN {
            return Err(ParseError::new(ParseErrorKind::CallRefLength(crl)));
        }
        let want = usize::from(self.message_len()).saturating_add(HEADER_LEN);
        if want > b.len() {
            let mut e = ParseError::new(ParseErrorKind::MessageLength);
            e.call_ref = Some(self.call_ref());
            e.message = Some(self.message_type());
            return Err(e);
        }
        Ok(())
    }

    /// Returns the wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn octet(&self, i: usize) -> u8 {
        self.buffer.as_ref().get(i).copied().unwrap_or(0)
    }

    /// Protocol discriminator.
    pub fn protocol_discriminator(&self) -> u8 {
        self.octet(field::PD)
    }
    /// Call reference length (low nibble of octet 2).
    pub fn call_ref_len(&self) -> u8 {
        self.octet(field::CREF_LEN) & 0x0f
    }
    /// Call reference flag and value.
    pub fn call_ref(&self) -> CallRef {
        let mut v = [0u8; 4];
        if let (Some(dst), Some(src)) = (v.get_mut(1..4), self.buffer.as_ref().get(field::CREF)) {
            dst.copy_from_slice(src);
        }
        let w = u32::from_be_bytes(v);
        CallRef { value: w & CallRef::MAX_VALUE, flag: w & 0x80_0000 != 0 }
    }
    /// Message type.
    pub fn message_type(&self) -> MessageType {
        MessageType::from(self.octet(field::MSG_TYPE))
    }
    /// The raw message type extension octet.
    pub fn message_ext(&self) -> u8 {
        self.octet(field::MSG_EXT)
    }
    /// The explicit action indicator: `None` when the flag (bit 5) is clear.
    pub fn action(&self) -> Option<MsgAction> {
        let e = self.message_ext();
        (e & 0x10 != 0).then(|| MsgAction::from_bits(e))
    }
    /// Message length (octets after the header).
    pub fn message_len(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::MSG_LEN).unwrap_or(0)
    }
    /// The information elements: the `message_len` octets after the header (clamped to the
    /// buffer on an unchecked view).
    pub fn payload(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        let end = HEADER_LEN.saturating_add(usize::from(self.message_len())).min(b.len());
        b.get(HEADER_LEN..end).unwrap_or(&[])
    }
}

impl<'a> Packet<&'a [u8]> {
    /// The information elements, borrowed for the buffer's lifetime.
    pub fn payload_ref(&self) -> &'a [u8] {
        let b: &'a [u8] = self.buffer;
        let end = HEADER_LEN.saturating_add(usize::from(self.message_len())).min(b.len());
        b.get(HEADER_LEN..end).unwrap_or(&[])
    }
}

/// Writes a message header with the given contents length.
pub(crate) fn emit_header(
    out: &mut [u8],
    call_ref: CallRef,
    kind: MessageType,
    action: Option<MsgAction>,
    contents_len: usize,
) -> Result<(), Error> {
    if call_ref.value > CallRef::MAX_VALUE {
        return Err(Error);
    }
    let len = u16::try_from(contents_len).map_err(|_| Error)?;
    let cr = (call_ref.value | if call_ref.flag { 0x80_0000 } else { 0 }).to_be_bytes();
    let ext = match action {
        None => 0x80,
        Some(a) => 0x80 | 0x10 | a.bits(),
    };
    let h = out.get_mut(..field::MSG_LEN).ok_or(Error)?;
    h.copy_from_slice(&[PROTOCOL_DISCRIMINATOR, CALL_REF_LEN, cr[1], cr[2], cr[3], u8::from(kind), ext]);
    put_u16(out, field::MSG_LEN, len)
}
