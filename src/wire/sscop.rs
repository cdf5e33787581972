//! SSCOP PDUs (ITU-T Q.2110 §7), carried one per AAL5 CPCS-SDU on the signalling VC 0/5.
//!
//! The SSCOP "header" is a trailer of 32-bit big-endian words at the end of the PDU. The last
//! word of every PDU is `PL(2) | reserved(1) | S(1) | type(4) | 24-bit field`, where PL is the
//! number of pad octets (0..=3) that bring the data / user-to-user field to a multiple of 4 and S
//! (END only) says who released: 1 = the SSCOP entity itself, 0 = its user. Word layouts (the
//! 24-bit sequence fields sit in the low three octets of their word):
//!
//! | PDU | before the last word | last word's 24-bit field |
//! |---|---|---|
//! | BGN, RS | UU + pad, `rsvd(24) N(SQ)(8)` | N(MR) |
//! | ER | `rsvd(24) N(SQ)(8)` | N(MR) |
//! | BGAK | UU + pad, reserved word | N(MR) |
//! | BGREJ, END | UU + pad, reserved word | reserved |
//! | ENDAK | reserved word | reserved |
//! | RSAK, ERAK | reserved word | N(MR) |
//! | SD | data + pad | N(S) |
//! | POLL | `rsvd(8) N(PS)` | N(S) |
//! | STAT | list of `rsvd(8) seq(24)`, `N(PS)`, `N(MR)` | N(R) |
//! | USTAT | two list words, `N(MR)` | N(R) |
//! | UD, MD | data + pad | reserved |
//!
//! Parsing ignores reserved bits (as Q.2110 receivers do); emitting writes them as zero.

use core::fmt;

/// Why a PDU could not be parsed or emitted.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// Shorter than the trailer of its type (or than one word).
    Truncated,
    /// Length not a multiple of 4 octets.
    Unaligned,
    /// A fixed-size PDU (ENDAK, RSAK, ER, ERAK, POLL, USTAT) of the wrong length.
    BadLength,
    /// PDU type 0 (unassigned).
    UnknownType,
    /// PL says more pad octets than the PDU has before its trailer.
    BadPad,
    /// A STAT list not made of whole 4-octet entries (emit only).
    BadList,
    /// A sequence field wider than 24 bits (emit only).
    FieldOverflow,
    /// The output buffer is shorter than `buffer_len()` (emit only).
    BufferTooSmall,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Error::Truncated => "truncated SSCOP PDU",
            Error::Unaligned => "SSCOP PDU length not a multiple of 4",
            Error::BadLength => "fixed-size SSCOP PDU of wrong length",
            Error::UnknownType => "unknown SSCOP PDU type",
            Error::BadPad => "SSCOP pad length exceeds the PDU",
            Error::BadList => "SSCOP STAT list not whole words",
            Error::FieldOverflow => "SSCOP sequence field wider than 24 bits",
            Error::BufferTooSmall => "buffer too small for SSCOP PDU",
        };
        f.write_str(s)
    }
}

/// Largest value of a 24-bit sequence field.
pub const SEQ_MASK: u32 = 0x00ff_ffff;

/// PDU type codes (low 4 bits of the last word's first octet).
pub mod pdu_type {
    /// Begin (request initialisation).
    pub const BGN: u8 = 0x1;
    /// Begin acknowledge.
    pub const BGAK: u8 = 0x2;
    /// End (disconnect command).
    pub const END: u8 = 0x3;
    /// End acknowledge.
    pub const ENDAK: u8 = 0x4;
    /// Resynchronisation command.
    pub const RS: u8 = 0x5;
    /// Resynchronisation acknowledge.
    pub const RSAK: u8 = 0x6;
    /// Begin reject.
    pub const BGREJ: u8 = 0x7;
    /// Sequenced data.
    pub const SD: u8 = 0x8;
    /// Error recovery command.
    pub const ER: u8 = 0x9;
    /// Poll (transmitter state, asks for receiver state).
    pub const POLL: u8 = 0xa;
    /// Solicited receiver state.
    pub const STAT: u8 = 0xb;
    /// Unsolicited receiver state.
    pub const USTAT: u8 = 0xc;
    /// Unnumbered user data.
    pub const UD: u8 = 0xd;
    /// Unnumbered management data.
    pub const MD: u8 = 0xe;
    /// Error recovery acknowledge.
    pub const ERAK: u8 = 0xf;
}

mod field {
    /// Offsets counted back from the end of the PDU.
    pub const LAST_WORD: usize = 4;
    pub const SECOND_LAST_WORD: usize = 8;
    pub const THIRD_LAST_WORD: usize = 12;
    pub const USTAT_LEN: usize = 16;
    /// Bits of the last word's first octet.
    pub const TYPE_MASK: u8 = 0x0f;
    pub const S_BIT: u8 = 0x10;
    pub const PL_SHIFT: u8 = 6;
}

/// A read-only (or read-write) view of an SSCOP PDU. After [`Packet::new_checked`] no accessor
/// can panic, and the trailer word accessors return `None` only when a word is absent.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking it.
    pub const fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }

    /// Wraps a buffer, checking that it holds at least one whole word and whole words only.
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Length at least 4 and a multiple of 4.
    pub fn check_len(&self) -> Result<(), Error> {
        let len = self.buffer.as_ref().len();
        if len < field::LAST_WORD {
            Err(Error::Truncated)
        } else if len % 4 != 0 {
            Err(Error::Unaligned)
        } else {
            Ok(())
        }
    }

    /// Unwraps the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The 32-bit word `back` octets before the end (4 = the last word).
    fn word_from_end(&self, back: usize) -> Option<u32> {
        let b = self.buffer.as_ref();
        let start = b.len().checked_sub(back)?;
        let w = b.get(start..start.checked_add(4)?)?;
        let arr: [u8; 4] = w.try_into().ok()?;
        Some(u32::from_be_bytes(arr))
    }

    fn control_octet(&self) -> u8 {
        self.word_from_end(field::LAST_WORD).map_or(0, |w| w.to_be_bytes()[0])
    }

    /// PDU type code (see [`pdu_type`]).
    pub fn pdu_type(&self) -> u8 {
        self.control_octet() & field::TYPE_MASK
    }

    /// Pad length PL (0..=3).
    pub fn pad_len(&self) -> usize {
        usize::from(self.control_octet() >> field::PL_SHIFT)
    }

    /// The S (source) bit: meaningful in END only.
    pub fn source(&self) -> bool {
        self.control_octet() & field::S_BIT != 0
    }

    /// The 24-bit field of the last word (N(MR), N(S) or N(R) by type).
    pub fn last_seq(&self) -> u32 {
        self.word_from_end(field::LAST_WORD).map_or(0, |w| w & SEQ_MASK)
    }

    /// The 24-bit field of the second-last word (N(PS) in POLL, N(MR) in STAT/USTAT).
    pub fn second_seq(&self) -> Option<u32> {
        self.word_from_end(field::SECOND_LAST_WORD).map(|w| w & SEQ_MASK)
    }

    /// The 8-bit N(SQ) of BGN, RS and ER (low octet of the second-last word).
    pub fn n_sq(&self) -> Option<u8> {
        self.word_from_end(field::SECOND_LAST_WORD).map(|w| w.to_be_bytes()[3])
    }

    /// The octets before a trailer of `trailer` octets, or `None` when shorter than that.
    pub fn before_trailer(&self, trailer: usize) -> Option<&[u8]> {
        let b = self.buffer.as_ref();
        b.get(..b.len().checked_sub(trailer)?)
    }
}

/// A parsed SSCOP PDU. Sequence fields are 24-bit values; `n_sq` is 8 bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PduRepr<'a> {
    /// BGN: N(SQ), N(MR), user-to-user information.
    Bgn { n_sq: u8, n_mr: u32, uu: &'a [u8] },
    /// BGAK: N(MR), UU.
    Bgak { n_mr: u32, uu: &'a [u8] },
    /// BGREJ: UU.
    Bgrej { uu: &'a [u8] },
    /// END: `source` is the S bit (true = released by the SSCOP entity), UU.
    End { source: bool, uu: &'a [u8] },
    /// ENDAK.
    Endak,
    /// RS: N(SQ), N(MR), UU.
    Rs { n_sq: u8, n_mr: u32, uu: &'a [u8] },
    /// RSAK: N(MR).
    Rsak { n_mr: u32 },
    /// ER: N(SQ), N(MR).
    Er { n_sq: u8, n_mr: u32 },
    /// ERAK: N(MR).
    Erak { n_mr: u32 },
    /// SD: N(S), data.
    Sd { n_s: u32, data: &'a [u8] },
    /// POLL: N(PS), N(S).
    Poll { n_ps: u32, n_s: u32 },
    /// STAT: N(PS), N(MR), N(R), list = raw 4-octet entries (see [`list_entries`]).
    Stat { n_ps: u32, n_mr: u32, n_r: u32, list: &'a [u8] },
    /// USTAT: N(MR), N(R), the two list elements.
    Ustat { n_mr: u32, n_r: u32, list2: [u32; 2] },
    /// UD: data.
    Ud { data: &'a [u8] },
    /// MD: data.
    Md { data: &'a [u8] },
}

/// The 24-bit sequence numbers of a raw STAT list (trailing partial entry ignored).
pub fn list_entries(list: &[u8]) -> impl Iterator<Item = u32> + '_ {
    list.chunks_exact(4).map(|c| {
        let arr: [u8; 4] = c.try_into().unwrap_or([0; 4]);
        u32::from_be_bytes(arr) & SEQ_MASK
    })
}

/// Pad octets needed to bring `len` to a multiple of 4.
const fn pad_for(len: usize) -> usize {
    (4 - len % 4) % 4
}

impl<'a> PduRepr<'a> {
    /// Parses a whole SSCOP PDU (the octets of one AAL5 CPCS-SDU).
    pub fn parse(bytes: &'a [u8]) -> Result<Self, Error> {
        let p = Packet::new_checked(bytes)?;
        let ty = p.pdu_type();
        let len = bytes.len();
        // Data / UU before a trailer of `trailer` octets, with PL pad octets removed.
        let padded = |trailer: usize| -> Result<&'a [u8], Error> {
            let body = bytes.get(..len.checked_sub(trailer).ok_or(Error::Truncated)?).ok_or(Error::Truncated)?;
            let keep = body.len().checked_sub(p.pad_len()).ok_or(Error::BadPad)?;
            body.get(..keep).ok_or(Error::BadPad)
        };
        let exact = |want: usize| -> Result<(), Error> {
            match len.cmp(&want) {
                core::cmp::Ordering::Less => Err(Error::Truncated),
                core::cmp::Ordering::Greater => Err(Error::BadLength),
                core::cmp::Ordering::Equal => Ok(()),
            }
        };
        let second = || p.second_seq().ok_or(Error::Truncated);
        let n_sq = || p.n_sq().ok_or(Error::Truncated);
        let repr = match ty {
            pdu_type::BGN => PduRepr::Bgn { uu: padded(8)?, n_sq: n_sq()?, n_mr: p.last_seq() },
            pdu_type::BGAK => PduRepr::Bgak { uu: padded(8)?, n_mr: p.last_seq() },
            pdu_type::BGREJ => PduRepr::Bgrej { uu: padded(8)? },
            pdu_type::END => PduRepr::End { uu: padded(8)?, source: p.source() },
            pdu_type::ENDAK => {
                exact(8)?;
                PduRepr::Endak
            }
            pdu_type::RS => PduRepr::Rs { uu: padded(8)?, n_sq: n_sq()?, n_mr: p.last_seq() },
            pdu_type::RSAK => {
                exact(8)?;
                PduRepr::Rsak { n_mr: p.last_seq() }
            }
            pdu_type::ER => {
                exact(8)?;
                PduRepr::Er { n_sq: n_sq()?, n_mr: p.last_seq() }
            }
            pdu_type::ERAK => {
                exact(8)?;
                PduRepr::Erak { n_mr: p.last_seq() }
            }
            pdu_type::SD => PduRepr::Sd { data: padded(4)?, n_s: p.last_seq() },
            pdu_type::POLL => {
                exact(8)?;
                PduRepr::Poll { n_ps: second()?, n_s: p.last_seq() }
            }
            pdu_type::STAT => {
                let list = bytes
                    .get(..len.checked_sub(field::THIRD_LAST_WORD).ok_or(Error::Truncated)?)
                    .ok_or(Error::Truncated)?;
                let n_ps = p.word_from_end(field::THIRD_LAST_WORD).ok_or(Error::Truncated)? & SEQ_MASK;
                PduRepr::Stat { n_ps, n_mr: second()?, n_r: p.last_seq(), list }
            }
            pdu_type::USTAT => {
                exact(field::USTAT_LEN)?;
                let l1 = p.word_from_end(field::USTAT_LEN).ok_or(Error::Truncated)? & SEQ_MASK;
                let l2 = p.word_from_end(field::THIRD_LAST_WORD).ok_or(Error::Truncated)? & SEQ_MASK;
                PduRepr::Ustat { n_mr: second()?, n_r: p.last_seq(), list2: [l1, l2] }
            }
            pdu_type::UD => PduRepr::Ud { data: padded(4)? },
            pdu_type::MD => PduRepr::Md { data: padded(4)? },
            _ => return Err(Error::UnknownType),
        };
        Ok(repr)
    }

    /// The PDU type code of this PDU.
    pub const fn pdu_type(&self) -> u8 {
        match self {
            PduRepr::Bgn { .. } => pdu_type::BGN,
            PduRepr::Bgak { .. } => pdu_type::BGAK,
            PduRepr::Bgrej { .. } => pdu_type::BGREJ,
            PduRepr::End { .. } => pdu_type::END,
            PduRepr::Endak => pdu_type::ENDAK,
            PduRepr::Rs { .. } => pdu_type::RS,
            PduRepr::Rsak { .. } => pdu_type::RSAK,
            PduRepr::Er { .. } => pdu_type::ER,
            PduRepr::Erak { .. } => pdu_type::ERAK,
            PduRepr::Sd { .. } => pdu_type::SD,
            PduRepr::Poll { .. } => pdu_type::POLL,
            PduRepr::Stat { .. } => pdu_type::STAT,
            PduRepr::Ustat { .. } => pdu_type::USTAT,
            PduRepr::Ud { .. } => pdu_type::UD,
            PduRepr::Md { .. } => pdu_type::MD,
        }
    }

    /// (variable part before the trailer, trailer length).
    fn parts(&self) -> (&'a [u8], usize) {
        match *self {
            PduRepr::Bgn { uu, .. }
            | PduRepr::Bgak { uu, .. }
            | PduRepr::Bgrej { uu }
            | PduRepr::End { uu, .. }
            | PduRepr::Rs { uu, .. } => (uu, 8),
            PduRepr::Endak
            | PduRepr::Rsak { .. }
            | PduRepr::Er { .. }
            | PduRepr::Erak { .. }
            | PduRepr::Poll { .. } => (&[], 8),
            PduRepr::Sd { data, .. } | PduRepr::Ud { data } | PduRepr::Md { data } => (data, 4),
            PduRepr::Stat { list, .. } => (list, 12),
            PduRepr::Ustat { .. } => (&[], field::USTAT_LEN),
        }
    }

    /// Whether the variable part is padded (data / UU) rather than a word list.
    const fn is_padded(&self) -> bool {
        !matches!(self, PduRepr::Stat { .. })
    }

    /// Octets [`emit`](Self::emit) writes.
    pub fn buffer_len(&self) -> usize {
        let (var, trailer) = self.parts();
        let pad = if self.is_padded() { pad_for(var.len()) } else { 0 };
        var.len().saturating_add(pad).saturating_add(trailer)
    }

    /// Writes the PDU at the start of `buf`; returns the number of octets written.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let (var, trailer) = self.parts();
        let pad = if self.is_padded() { pad_for(var.len()) } else { 0 };
        if !self.is_padded() && var.len() % 4 != 0 {
            return Err(Error::BadList);
        }
        let seqs_ok = match *self {
            PduRepr::Bgn { n_mr, .. }
            | PduRepr::Bgak { n_mr, .. }
            | PduRepr::Rs { n_mr, .. }
            | PduRepr::Rsak { n_mr }
            | PduRepr::Er { n_mr, .. }
            | PduRepr::Erak { n_mr } => n_mr <= SEQ_MASK,
            PduRepr::Sd { n_s, .. } => n_s <= SEQ_MASK,
            PduRepr::Poll { n_ps, n_s } => (n_ps | n_s) <= SEQ_MASK,
            PduRepr::Stat { n_ps, n_mr, n_r, .. } => (n_ps | n_mr | n_r) <= SEQ_MASK,
            PduRepr::Ustat { n_mr, n_r, list2 } => (n_mr | n_r | list2[0] | list2[1]) <= SEQ_MASK,
            _ => true,
        };
        if !seqs_ok {
            return Err(Error::FieldOverflow);
        }
        let total = self.buffer_len();
        let out = buf.get_mut(..total).ok_or(Error::BufferTooSmall)?;
        let var_end = var.len();
        let trailer_start = total.checked_sub(trailer).ok_or(Error::BufferTooSmall)?;
        out.get_mut(..var_end).ok_or(Error::BufferTooSmall)?.copy_from_slice(var);
        out.get_mut(var_end..trailer_start).ok_or(Error::BufferTooSmall)?.fill(0);
        let tr = out.get_mut(trailer_start..).ok_or(Error::BufferTooSmall)?;
        tr.fill(0);
        // Words of the trailer, last one carrying the control octet.
        let mut words = [0u32; 4];
        let nwords = trailer / 4;
        let pl = u8::try_from(pad).unwrap_or(0);
        let mut control = (pl << field::PL_SHIFT) | self.pdu_type();
        let mut last = 0u32;
        match *self {
            PduRepr::Bgn { n_sq, n_mr, .. } | PduRepr::Rs { n_sq, n_mr, .. } => {
                words[0] = u32::from(n_sq);
                last = n_mr;
            }
            PduRepr::Er { n_sq, n_mr } => {
                words[0] = u32::from(n_sq);
                last = n_mr;
            }
            PduRepr::Bgak { n_mr, .. } | PduRepr::Rsak { n_mr } | PduRepr::Erak { n_mr } => last = n_mr,
            PduRepr::End { source, .. } => {
                if source {
                    control |= field::S_BIT;
                }
            }
            PduRepr::Sd { n_s, .. } => last = n_s,
            PduRepr::Poll { n_ps, n_s } => {
                words[0] = n_ps;
                last = n_s;
            }
            PduRepr::Stat { n_ps, n_mr, n_r, .. } => {
                words[0] = n_ps;
                words[1] = n_mr;
                last = n_r;
            }
            PduRepr::Ustat { n_mr, n_r, list2 } => {
                words[0] = list2[0];
                words[1] = list2[1];
                words[2] = n_mr;
                last = n_r;
            }
            PduRepr::Bgrej { .. } | PduRepr::Endak | PduRepr::Ud { .. } | PduRepr::Md { .. } => {}
        }
        let last_index = nwords.saturating_sub(1);
        if let Some(w) = words.get_mut(last_index) {
            *w = (u32::from(control) << 24) | last;
        }
        for (chunk, w) in tr.chunks_exact_mut(4).zip(words.iter()) {
            chunk.copy_from_slice(&w.to_be_bytes());
        }
        Ok(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;
    use std::vec::Vec;

    fn round_trip(repr: PduRepr<'_>) -> Vec<u8> {
        let mut buf = vec![0xa5u8; repr.buffer_len()];
        let n = repr.emit(&mut buf).expect("emit");
        assert_eq!(n, repr.buffer_len());
        assert_eq!(n % 4, 0, "SSCOP PDUs are whole words");
        let back = PduRepr::parse(&buf).expect("parse");
        assert_eq!(back, repr);
        buf
    }

    #[test]
    fn every_pdu_type_round_trips() {
        let list = [0, 0, 0, 5, 0, 0, 0, 9];
        for uu in [&b""[..], b"a", b"ab", b"abc", b"abcd", b"abcde"] {
            round_trip(PduRepr::Bgn { n_sq: 7, n_mr: 0x123456, uu });
            round_trip(PduRepr::Bgak { n_mr: 64, uu });
            round_trip(PduRepr::Bgrej { uu });
            round_trip(PduRepr::End { source: true, uu });
            round_trip(PduRepr::End { source: false, uu });
            round_trip(PduRepr::Rs { n_sq: 255, n_mr: SEQ_MASK, uu });
            round_trip(PduRepr::Sd { n_s: 3, data: uu });
            round_trip(PduRepr::Ud { data: uu });
            round_trip(PduRepr::Md { data: uu });
        }
        round_trip(PduRepr::Endak);
        round_trip(PduRepr::Rsak { n_mr: 1 });
        round_trip(PduRepr::Er { n_sq: 2, n_mr: 3 });
        round_trip(PduRepr::Erak { n_mr: 4 });
        round_trip(PduRepr::Poll { n_ps: 10, n_s: 11 });
        round_trip(PduRepr::Stat { n_ps: 1, n_mr: 2, n_r: 3, list: &[] });
        round_trip(PduRepr::Stat { n_ps: 1, n_mr: 2, n_r: 3, list: &list });
        round_trip(PduRepr::Ustat { n_mr: 80, n_r: 5, list2: [6, 9] });
    }

    #[test]
    fn sd_layout_matches_q2110_trailer() {
        // 5 octets of data: 3 pad octets, PL=3 in the top bits, type SD, N(S)=0x010203.
        let buf = round_trip(PduRepr::Sd { n_s: 0x010203, data: b"hello" });
        assert_eq!(buf, [b'h', b'e', b'l', b'l', b'o', 0, 0, 0, 0xc8, 0x01, 0x02, 0x03]);
    }

    #[test]
    fn bgn_layout_puts_n_sq_in_low_octet_and_n_mr_last() {
        let buf = round_trip(PduRepr::Bgn { n_sq: 0x42, n_mr: 0x000040, uu: &[] });
        assert_eq!(buf, [0, 0, 0, 0x42, 0x01, 0x00, 0x00, 0x40]);
    }

    #[test]
    fn end_source_bit_is_0x10() {
        let buf = round_trip(PduRepr::End { source: true, uu: &[] });
        assert_eq!(buf, [0, 0, 0, 0, 0x13, 0, 0, 0]);
    }

    #[test]
    fn stat_layout_is_list_then_nps_nmr_nr() {
        let list = [0, 0, 0, 1, 0, 0, 0, 2];
        let buf = round_trip(PduRepr::Stat { n_ps: 3, n_mr: 4, n_r: 5, list: &list });
        assert_eq!(buf, [0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0x0b, 0, 0, 5]);
        assert_eq!(list_entries(&list).collect::<Vec<_>>(), [1, 2]);
    }

    #[test]
    fn poll_and_ustat_layouts() {
        let buf = round_trip(PduRepr::Poll { n_ps: 0x0a0b0c, n_s: 0x010203 });
        assert_eq!(buf, [0, 0x0a, 0x0b, 0x0c, 0x0a, 0x01, 0x02, 0x03]);
        let buf = round_trip(PduRepr::Ustat { n_mr: 9, n_r: 1, list2: [2, 4] });
        assert_eq!(buf, [0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 9, 0x0c, 0, 0, 1]);
    }

    #[test]
    fn parse_ignores_reserved_bits() {
        // BGAK with junk in the reserved word and reserved bit of the control octet.
        let buf = [0xff, 0xff, 0xff, 0xff, 0x22, 0, 0, 7];
        assert_eq!(PduRepr::parse(&buf), Ok(PduRepr::Bgak { n_mr: 7, uu: &[] }));
    }

    #[test]
    fn parse_rejects_each_malformed_case() {
        assert_eq!(PduRepr::parse(&[]), Err(Error::Truncated));
        assert_eq!(PduRepr::parse(&[0x08, 0, 0]), Err(Error::Truncated));
        assert_eq!(PduRepr::parse(&[1, 0x08, 0, 0, 0]), Err(Error::Unaligned));
        assert_eq!(PduRepr::parse(&[0, 0, 0, 0]), Err(Error::UnknownType));
        // BGN with only one word.
        assert_eq!(PduRepr::parse(&[0x01, 0, 0, 0]), Err(Error::Truncated));
        // SD of one word claiming 3 pad octets.
        assert_eq!(PduRepr::parse(&[0xc8, 0, 0, 0]), Err(Error::BadPad));
        // BGN of two words claiming pad (no UU at all).
        assert_eq!(PduRepr::parse(&[0, 0, 0, 0, 0x41, 0, 0, 0]), Err(Error::BadPad));
        // Fixed-size PDUs one word too long / short.
        for ty in [pdu_type::ENDAK, pdu_type::RSAK, pdu_type::ER, pdu_type::ERAK, pdu_type::POLL] {
            assert_eq!(PduRepr::parse(&[0, 0, 0, 0, 0, 0, 0, 0, ty, 0, 0, 0]), Err(Error::BadLength));
            assert_eq!(PduRepr::parse(&[ty, 0, 0, 0]), Err(Error::Truncated));
        }
        assert_eq!(PduRepr::parse(&[0, 0, 0, 0, 0x0c, 0, 0, 0]), Err(Error::Truncated));
        assert_eq!(
            PduRepr::parse(&[0; 16].iter().copied().chain([0x0c, 0, 0, 0]).collect::<Vec<_>>()),
            Err(Error::BadLength)
        );
        // STAT shorter than its 12-octet trailer.
        assert_eq!(PduRepr::parse(&[0, 0, 0, 0, 0x0b, 0, 0, 0]), Err(Error::Truncated));
    }

    #[test]
    fn emit_rejects_bad_input() {
        let mut buf = [0u8; 64];
        assert_eq!(PduRepr::Sd { n_s: SEQ_MASK + 1, data: &[] }.emit(&mut buf), Err(Error::FieldOverflow));
        assert_eq!(PduRepr::Stat { n_ps: 0, n_mr: 0, n_r: 0, list: &[1, 2, 3] }.emit(&mut buf), Err(Error::BadList));
        let mut small = [0u8; 7];
        assert_eq!(PduRepr::Endak.emit(&mut small), Err(Error::BufferTooSmall));
    }

    /// Every prefix and every single-octet corruption of every valid PDU parses or errors; none
    /// panics, and whatever parses re-emits to a PDU that parses to the same value.
    #[test]
    fn truncation_and_corruption_sweep_never_panics() {
        let list = [0, 0, 0, 5, 0, 0, 0, 9, 0, 0, 0, 11];
        let samples = [
            PduRepr::Bgn { n_sq: 7, n_mr: 0x123456, uu: b"xyz" },
            PduRepr::Bgak { n_mr: 64, uu: b"q" },
            PduRepr::Bgrej { uu: b"" },
            PduRepr::End { source: true, uu: b"abcde" },
            PduRepr::Endak,
            PduRepr::Rs { n_sq: 1, n_mr: 2, uu: b"rs" },
            PduRepr::Rsak { n_mr: 1 },
            PduRepr::Er { n_sq: 2, n_mr: 3 },
            PduRepr::Erak { n_mr: 4 },
            PduRepr::Sd { n_s: 3, data: b"some signalling message" },
            PduRepr::Poll { n_ps: 10, n_s: 11 },
            PduRepr::Stat { n_ps: 1, n_mr: 2, n_r: 3, list: &list },
            PduRepr::Ustat { n_mr: 80, n_r: 5, list2: [6, 9] },
            PduRepr::Ud { data: b"ud" },
            PduRepr::Md { data: b"mdmdm" },
        ];
        let mut parsed = 0usize;
        for s in samples {
            let mut buf = vec![0u8; s.buffer_len()];
            s.emit(&mut buf).expect("emit");
            for cut in 0..buf.len() {
                let _ = PduRepr::parse(&buf[..cut]);
                let _ = PduRepr::parse(&buf[cut..]);
            }
            for i in 0..buf.len() {
                for v in [0x00u8, 0xff, 0x3f, 0xc0, 0x10, 0x01] {
                    let mut c = buf.clone();
                    c[i] = v;
                    if let Ok(r) = PduRepr::parse(&c) {
                        parsed += 1;
                        let mut again = vec![0u8; r.buffer_len()];
                        let n = r.emit(&mut again).expect("re-emit of a parsed PDU");
                        assert_eq!(PduRepr::parse(&again[..n]), Ok(r));
                    }
                }
            }
        }
        assert!(parsed > 0, "the sweep must exercise the success path too");
    }
}

/// Wireshark as a third opinion: writes every PDU type into a SunATM (linktype 123) pcap on VC
/// 0/5 and checks tshark's decoding of type, sequence fields and pad length. Needs `tshark`.
#[cfg(test)]
mod tshark {
    use super::*;
    use std::process::Command;
    use std::string::String;
    use std::vec::Vec;
    use std::{format, fs, vec};

    fn pcap(pdus: &[Vec<u8>]) -> Vec<u8> {
        let mut f = Vec::new();
        f.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        f.extend_from_slice(&2u16.to_le_bytes());
        f.extend_from_slice(&4u16.to_le_bytes());
        for w in [0u32, 0, 65535, 123] {
            f.extend_from_slice(&w.to_le_bytes());
        }
        for (i, p) in pdus.iter().enumerate() {
            let len = (p.len() + 4) as u32;
            for w in [i as u32, 0, len, len] {
                f.extend_from_slice(&w.to_le_bytes());
            }
            f.extend_from_slice(&[0x86, 0, 0, 5]);
            f.extend_from_slice(p);
        }
        f
    }

    #[test]
    fn tshark_decodes_emitted_pdus() {
        if std::process::Command::new("tshark").arg("--version").output().is_err() {
            std::eprintln!("SKIPPED: tshark not installed (apt-get install tshark)");
            return;
        }
        // A Q.2931 RELEASE (signalling.md §1, checked there with tshark) as SD payload.
        let release = [0x09, 0x03, 0x00, 0x00, 0x01, 0x4d, 0x80, 0x00, 0x06, 0x08, 0x80, 0x00, 0x02, 0x80, 0x90];
        let list = [0, 0, 0, 4, 0, 0, 0, 6];
        let reprs = [
            PduRepr::Bgn { n_sq: 1, n_mr: 64, uu: &[] },
            PduRepr::Bgak { n_mr: 65, uu: &[] },
            PduRepr::Sd { n_s: 7, data: &release },
            PduRepr::Poll { n_ps: 3, n_s: 8 },
            PduRepr::Stat { n_ps: 3, n_mr: 70, n_r: 4, list: &list },
            PduRepr::Ustat { n_mr: 71, n_r: 4, list2: [4, 6] },
            PduRepr::End { source: true, uu: &[] },
            PduRepr::Endak,
        ];
        let pdus: Vec<Vec<u8>> = reprs
            .iter()
            .map(|r| {
                let mut b = vec![0u8; r.buffer_len()];
                r.emit(&mut b).unwrap();
                b
            })
            .collect();
        let path = std::env::temp_dir().join(format!("atmmcm-sscop-{}.pcap", std::process::id()));
        fs::write(&path, pcap(&pdus)).unwrap();
        let out = Command::new("tshark")
            .arg("-r")
            .arg(&path)
            .args(["-T", "fields", "-E", "separator=;"])
            .args(["-e", "sscop.type", "-e", "sscop.s", "-e", "sscop.mr", "-e", "sscop.ps"])
            .args(["-e", "sscop.r", "-e", "sscop.pad_length", "-e", "q2931.message_type"])
            .output()
            .expect("run tshark");
        let _ = fs::remove_file(&path);
        let text = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), reprs.len(), "{}", String::from_utf8_lossy(&out.stderr));
        // type; N(S); N(MR); N(PS); N(R); PL; Q.2931 message type inside the SD.
        let want = [
            "0x01;;64;;;0;",
            "0x02;;65;;;0;",
            "0x08;7;;;;1;0x4d",
            "0x0a;8;;3;;;",
            "0x0b;;70;3;4;;",
            "0x0c;;71;;4;;",
            "0x03;;;;;0;",
            "0x04;;;;;;",
        ];
        assert_eq!(lines, want);
    }
}
