//! The information element header (Q.2931 4.5.1, UNI 3.1 §5.4.5):
//!
//! ```text
//! octet 1     identifier
//! octet 2     1 | coding standard (2) | IE instruction flag | pass-along | action indicator (3)
//! octets 3-4  contents length (big-endian)
//! octets 5-   contents
//! ```

use crate::wire::{Error, get_u16, put_u16};

/// Octets in an IE header.
pub const IE_HEADER_LEN: usize = 4;

/// IE identifiers (Q.2931 Table 4-3, Q.2971, UNI 4.0; ngatm `uni_hdr.h`).
pub mod id {
    /// Cause.
    pub const CAUSE: u8 = 0x08;
    /// Call state.
    pub const CALL_STATE: u8 = 0x14;
    /// Facility (Q.2932).
    pub const FACILITY: u8 = 0x1c;
    /// Notification indicator.
    pub const NOTIFY: u8 = 0x27;
    /// End-to-end transit delay.
    pub const EETD: u8 = 0x42;
    /// Connected number (Q.2951).
    pub const CONNECTED_NUMBER: u8 = 0x4c;
    /// Connected subaddress (Q.2951).
    pub const CONNECTED_SUBADDR: u8 = 0x4d;
    /// Endpoint reference (Q.2971).
    pub const ENDPOINT_REF: u8 = 0x54;
    /// Endpoint state (Q.2971).
    pub const ENDPOINT_STATE: u8 = 0x55;
    /// ATM adaptation layer parameters.
    pub const AAL: u8 = 0x58;
    /// ATM traffic descriptor.
    pub const TRAFFIC: u8 = 0x59;
    /// Connection identifier.
    pub const CONNECTION_ID: u8 = 0x5a;
    /// QoS parameter.
    pub const QOS: u8 = 0x5c;
    /// Broadband high-layer information.
    pub const BHLI: u8 = 0x5d;
    /// Broadband bearer capability.
    pub const BEARER: u8 = 0x5e;
    /// Broadband low-layer information.
    pub const BLLI: u8 = 0x5f;
    /// Broadband locking shift.
    pub const LOCKING_SHIFT: u8 = 0x60;
    /// Broadband non-locking shift.
    pub const NON_LOCKING_SHIFT: u8 = 0x61;
    /// Broadband sending complete.
    pub const SENDING_COMPLETE: u8 = 0x62;
    /// Broadband repeat indicator.
    pub const REPEAT: u8 = 0x63;
    /// Calling party number.
    pub const CALLING: u8 = 0x6c;
    /// Calling party subaddress.
    pub const CALLING_SUBADDR: u8 = 0x6d;
    /// Called party number.
    pub const CALLED: u8 = 0x70;
    /// Called party subaddress.
    pub const CALLED_SUBADDR: u8 = 0x71;
    /// Transit network selection.
    pub const TNS: u8 = 0x78;
    /// Restart indicator.
    pub const RESTART: u8 = 0x79;
    /// User-user information (Q.2957).
    pub const USER_USER: u8 = 0x7e;
    /// Generic identifier transport (Q.2941).
    pub const GIT: u8 = 0x7f;
    /// Minimum acceptable traffic descriptor (UNI 4.0 / Q.2962, per ngatm).
    pub const MIN_TRAFFIC: u8 = 0x81;
    /// Alternative traffic descriptor (UNI 4.0 / Q.2962, per ngatm).
    pub const ALT_TRAFFIC: u8 = 0x82;
    /// ABR setup parameters (UNI 4.0).
    pub const ABR_SETUP: u8 = 0x84;
    /// ABR additional parameters (UNI 4.0).
    pub const ABR_ADDITIONAL: u8 = 0xe4;
    /// Leaf-initiated join call identifier (UNI 4.0).
    pub const LIJ_CALL_ID: u8 = 0xe8;
    /// Leaf-initiated join parameters (UNI 4.0).
    pub const LIJ_PARAMS: u8 = 0xe9;
    /// Leaf sequence number (UNI 4.0).
    pub const LIJ_SEQNO: u8 = 0xea;
    /// Connection scope selection (UNI 4.0).
    pub const CONNECTION_SCOPE: u8 = 0xeb;
    /// Extended QoS parameters (UNI 4.0).
    pub const EXTENDED_QOS: u8 = 0xec;

    /// IEs this codec recognises but does not decode: they are skipped without being reported
    /// as unrecognised (they exist in Q.2931 / UNI 4.0, so cause #99 would be wrong for them).
    pub const SKIPPED: &[u8] = &[
        FACILITY,
        NOTIFY,
        EETD,
        CONNECTED_NUMBER,
        CONNECTED_SUBADDR,
        LOCKING_SHIFT,
        NON_LOCKING_SHIFT,
        SENDING_COMPLETE,
        REPEAT,
        CALLING_SUBADDR,
        CALLED_SUBADDR,
        TNS,
        GIT,
        MIN_TRAFFIC,
        ALT_TRAFFIC,
        ABR_SETUP,
        ABR_ADDITIONAL,
        LIJ_CALL_ID,
        LIJ_PARAMS,
        LIJ_SEQNO,
        CONNECTION_SCOPE,
        EXTENDED_QOS,
    ];
}

/// IE coding standards (octet 2 bits 7-6).
pub mod coding {
    /// ITU-T standardised coding.
    pub const ITU_T: u8 = 0;
    /// ISO/IEC standard.
    pub const ISO_IEC: u8 = 1;
    /// National standard.
    pub const NATIONAL: u8 = 2;
    /// Standard defined for the network (ATM Forum).
    pub const NETWORK: u8 = 3;
}

/// The IE action indicator (octet 2 bits 3-1, Q.2931 4.5.1 / 5.7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IeAction {
    /// 000: clear call.
    Clear,
    /// 001: discard IE and proceed.
    DiscardIe,
    /// 010: discard IE, proceed, and report status.
    DiscardIeReport,
    /// 101: discard message and ignore.
    DiscardMsg,
    /// 110: discard message and report status.
    DiscardMsgReport,
    /// 011, 100, 111: reserved (Q.2931 5.7.2: treat as "discard IE, proceed, report").
    Reserved(u8),
}

impl IeAction {
    /// From the three action bits.
    pub const fn from_bits(b: u8) -> Self {
        match b & 0x07 {
            0 => IeAction::Clear,
            1 => IeAction::DiscardIe,
            2 => IeAction::DiscardIeReport,
            5 => IeAction::DiscardMsg,
            6 => IeAction::DiscardMsgReport,
            r => IeAction::Reserved(r),
        }
    }
    /// The three action bits.
    pub const fn bits(self) -> u8 {
        match self {
            IeAction::Clear => 0,
            IeAction::DiscardIe => 1,
            IeAction::DiscardIeReport => 2,
            IeAction::DiscardMsg => 5,
            IeAction::DiscardMsgReport => 6,
            IeAction::Reserved(r) => r & 0x07,
        }
    }
}

/// The IE instruction field (octet 2 of every IE).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IeInstruction {
    /// Coding standard (2 bits): see [`coding`].
    pub coding: u8,
    /// Explicit action indicator: `None` when the IE instruction flag is clear (follow the
    /// default procedures of Q.2931 5.6.8).
    pub action: Option<IeAction>,
    /// Pass-along request (bit 4; UNI 4.0 / PNNI).
    pub pass_along: bool,
}

impl IeInstruction {
    /// ITU-T coding, no explicit instruction: octet `0x80`, what this codec emits for every
    /// standard IE.
    pub const ITU_T: IeInstruction = IeInstruction { coding: coding::ITU_T, action: None, pass_along: false };

    /// From the octet.
    pub const fn from_octet(o: u8) -> Self {
        IeInstruction {
            coding: (o >> 5) & 0x03,
            action: if o & 0x10 != 0 { Some(IeAction::from_bits(o)) } else { None },
            pass_along: o & 0x08 != 0,
        }
    }

    /// The octet (extension bit set).
    pub const fn octet(&self) -> u8 {
        let mut o = 0x80 | ((self.coding & 0x03) << 5);
        if self.pass_along {
            o |= 0x08;
        }
        if let Some(a) = self.action {
            o |= 0x10 | a.bits();
        }
        o
    }
}

/// An IE the codec does not recognise (Q.2931 5.6.8.1), kept as its identifier and instruction
/// field; its contents are skipped. `Message::emit` writes it with empty contents, which is
/// enough to test a peer's unrecognised-IE handling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UnknownIe {
    /// Identifier.
    pub id: u8,
    /// Instruction field.
    pub instruction: IeInstruction,
}

/// A checked view of one IE at the start of a buffer (the buffer may continue with more IEs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ie<T: AsRef<[u8]>> {
    buffer: T,
}

mod field {
    pub const ID: usize = 0;
    pub const INSTR: usize = 1;
    pub const LEN: usize = 2;
}

impl<T: AsRef<[u8]>> Ie<T> {
    /// Wraps a buffer without checking it.
    pub const fn new_unchecked(buffer: T) -> Self {
        Ie { buffer }
    }

    /// Wraps a buffer after checking that the header and the declared contents fit.
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let ie = Ie { buffer };
        let have = ie.buffer.as_ref().len();
        if have < IE_HEADER_LEN || ie.total_len() > have {
            return Err(Error);
        }
        Ok(ie)
    }

    /// Identifier.
    pub fn id(&self) -> u8 {
        self.buffer.as_ref().get(field::ID).copied().unwrap_or(0)
    }
    /// Instruction field.
    pub fn instruction(&self) -> IeInstruction {
        IeInstruction::from_octet(self.buffer.as_ref().get(field::INSTR).copied().unwrap_or(0))
    }
    /// Declared contents length.
    pub fn content_len(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::LEN).unwrap_or(0)
    }
    /// Header plus contents.
    pub fn total_len(&self) -> usize {
        IE_HEADER_LEN.saturating_add(usize::from(self.content_len()))
    }
    /// The contents (clamped to the buffer on an unchecked view).
    pub fn content(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        let end = self.total_len().min(b.len());
        b.get(IE_HEADER_LEN..end).unwrap_or(&[])
    }
}

impl<'a> Ie<&'a [u8]> {
    /// The contents, borrowed for the buffer's lifetime.
    pub fn content_ref(&self) -> &'a [u8] {
        let b: &'a [u8] = self.buffer;
        let end = self.total_len().min(b.len());
        b.get(IE_HEADER_LEN..end).unwrap_or(&[])
    }
}

/// Raw IE contents (IEs kept undecoded, e.g. BLLI / BHLI, and the empty body of an
/// [`UnknownIe`] on emit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Raw<'a>(pub &'a [u8]);

impl<'a> IeBody<'a> for Raw<'a> {
    fn parse(content: &'a [u8]) -> Result<Self, InvalidIe> {
        if content.is_empty() {
            return Err(InvalidIe);
        }
        Ok(Raw(content))
    }
    fn content_len(&self) -> usize {
        self.0.len()
    }
    fn emit(&self, out: &mut [u8]) -> Result<(), Error> {
        put(out, self.0)?;
        Ok(())
    }
}

/// The contents of a decoded IE: parse from, and emit into, the octets after the IE header.
pub trait IeBody<'a> {
    /// Decodes the contents; `Err` means "invalid IE contents" (cause #100).
    fn parse(content: &'a [u8]) -> Result<Self, InvalidIe>
    where
        Self: Sized;
    /// Octets `emit` writes.
    fn content_len(&self) -> usize;
    /// Writes exactly `content_len()` octets at the start of `out`.
    fn emit(&self, out: &mut [u8]) -> Result<(), Error>;
}

/// Invalid IE contents (Q.2931 5.6.8.2, cause #100).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct InvalidIe;

/// Writes a whole IE (header with `instruction`, then the contents); returns its length.
pub(crate) fn emit_ie<'a, B: IeBody<'a> + ?Sized>(
    ie_id: u8,
    instruction: IeInstruction,
    body: &B,
    out: &mut [u8],
) -> Result<usize, Error> {
    let n = body.content_len();
    let total = n.checked_add(IE_HEADER_LEN).ok_or(Error)?;
    let dst = out.get_mut(..total).ok_or(Error)?;
    let (h, c) = dst.split_at_mut(IE_HEADER_LEN);
    h.get_mut(..field::LEN).ok_or(Error)?.copy_from_slice(&[ie_id, instruction.octet()]);
    put_u16(h, field::LEN, u16::try_from(n).map_err(|_| Error)?)?;
    body.emit(c)?;
    Ok(total)
}

/// Total IE length (header + contents) of a body.
pub(crate) fn ie_len<'a, B: IeBody<'a> + ?Sized>(body: &B) -> usize {
    body.content_len().saturating_add(IE_HEADER_LEN)
}

/// Splits `n` octets off the front of `out`, for bodies that write field by field.
pub(crate) fn take(out: &mut [u8], n: usize) -> Result<(&mut [u8], &mut [u8]), Error> {
    if out.len() < n {
        return Err(Error);
    }
    Ok(out.split_at_mut(n))
}

/// Copies `src` to the front of `out`; returns the rest.
pub(crate) fn put<'b>(out: &'b mut [u8], src: &[u8]) -> Result<&'b mut [u8], Error> {
    let (h, rest) = take(out, src.len())?;
    h.copy_from_slice(src);
    Ok(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instruction_octet_round_trips() {
        for o in 0x80..=0xffu8 {
            assert_eq!(IeInstruction::from_octet(o).octet(), o & if o & 0x10 != 0 { 0xff } else { 0xf8 });
        }
        assert_eq!(IeInstruction::ITU_T.octet(), 0x80);
        let i = IeInstruction::from_octet(0xf6);
        assert_eq!(i.coding, coding::NETWORK);
        assert_eq!(i.action, Some(IeAction::DiscardMsgReport));
    }

    #[test]
    fn ie_view_rejects_short_header_and_overrun() {
        assert!(Ie::new_checked(&[0x08u8, 0x80, 0x00][..]).is_err());
        assert!(Ie::new_checked(&[0x08u8, 0x80, 0x00, 0x02, 0x80][..]).is_err());
        let ok = Ie::new_checked(&[0x08u8, 0x80, 0x00, 0x02, 0x80, 0x90, 0xff][..]).unwrap();
        assert_eq!((ok.id(), ok.content(), ok.total_len()), (0x08, &[0x80u8, 0x90][..], 6));
    }
}
