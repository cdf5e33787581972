//! The UNI ATM cell header (I.361): GFC(4) VPI(8) VCI(16) PTI(3) CLP(1), then the HEC octet.
//!
//! HEC = CRC-8/I-432-1 over the first four octets: poly 0x07, init 0, no reflection, xorout
//! 0x55 (the I.432 coset leader). Masks as in Linux `include/uapi/linux/atm.h`
//! (GFC 0xf0000000, VPI 0x0ff00000, VCI 0x000ffff0, PTI 0x0e, CLP 0x01).

use crc::{CRC_8_I_432_1, Crc};

/// Octets in a cell.
pub const CELL_LEN: usize = 53;
/// Octets of payload in a cell.
pub const PAYLOAD_LEN: usize = 48;
/// Octets of header (including the HEC).
pub const HEADER_LEN: usize = 5;

const HEC: Crc<u8> = Crc::<u8>::new(&CRC_8_I_432_1);

mod field {
    pub const WORD: core::ops::Range<usize> = 0..4;
    pub const HEC: usize = 4;
}

/// PTI bit 0 ("SDU type" / AUU): set on the last cell of an AAL5 frame.
pub const PTI_SDU_TYPE_1: u8 = 0x1;
/// PTI bit 1: congestion experienced (user-data cells only).
pub const PTI_CONGESTION: u8 = 0x2;
/// PTI bit 2: set for OAM F5 / RM cells, clear for user data.
pub const PTI_NON_USER: u8 = 0x4;

/// Why a cell header was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CellError {
    /// Fewer than [`HEADER_LEN`] octets.
    Truncated,
    /// The HEC octet does not match the first four octets (no single-bit correction is tried).
    BadHec,
}

/// Computes the HEC of the first four header octets.
pub fn hec(first4: &[u8; 4]) -> u8 {
    HEC.checksum(first4)
}

/// A checked view of a cell header (the buffer may hold the whole 53-octet cell).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking it; accessors return 0 on a short buffer.
    pub const fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }

    /// Wraps a buffer after checking its length and HEC.
    pub fn new_checked(buffer: T) -> Result<Self, CellError> {
        let p = Packet { buffer };
        p.check()?;
        Ok(p)
    }

    /// Checks the length and the HEC.
    pub fn check(&self) -> Result<(), CellError> {
        let b = self.buffer.as_ref();
        let hec_octet = *b.get(field::HEC).ok_or(CellError::Truncated)?;
        if hec(&self.word_bytes()) != hec_octet {
            return Err(CellError::BadHec);
        }
        Ok(())
    }

    /// Returns the wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn word_bytes(&self) -> [u8; 4] {
        let mut a = [0u8; 4];
        if let Some(b) = self.buffer.as_ref().get(field::WORD) {
            a.copy_from_slice(b);
        }
        a
    }

    fn word(&self) -> u32 {
        u32::from_be_bytes(self.word_bytes())
    }

    /// Generic flow control (4 bits).
    pub fn gfc(&self) -> u8 {
        ((self.word() >> 28) & 0x0f) as u8
    }
    /// Virtual path identifier (8 bits at the UNI).
    pub fn vpi(&self) -> u8 {
        ((self.word() >> 20) & 0xff) as u8
    }
    /// Virtual channel identifier.
    pub fn vci(&self) -> u16 {
        ((self.word() >> 4) & 0xffff) as u16
    }
    /// Payload type indicator (3 bits).
    pub fn pti(&self) -> u8 {
        ((self.word() >> 1) & 0x07) as u8
    }
    /// Cell loss priority.
    pub fn clp(&self) -> bool {
        self.word() & 1 != 0
    }
    /// The HEC octet as received.
    pub fn hec(&self) -> u8 {
        self.buffer.as_ref().get(field::HEC).copied().unwrap_or(0)
    }
    /// The payload following the header (empty if the buffer holds only the header).
    pub fn payload(&self) -> &[u8] {
        self.buffer.as_ref().get(HEADER_LEN..).unwrap_or(&[])
    }
}

/// A parsed cell header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Header {
    /// Generic flow control (4 bits; 0 at a UNI that does not use it).
    pub gfc: u8,
    /// Virtual path identifier.
    pub vpi: u8,
    /// Virtual channel identifier.
    pub vci: u16,
    /// Payload type (3 bits): see the `PTI_*` constants.
    pub pti: u8,
    /// Cell loss priority.
    pub clp: bool,
}

impl Header {
    /// Reads a header from a checked view.
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Self {
        Header { gfc: p.gfc(), vpi: p.vpi(), vci: p.vci(), pti: p.pti(), clp: p.clp() }
    }

    /// Octets `emit` writes.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// The first four header octets.
    fn word_bytes(&self) -> Result<[u8; 4], super::Error> {
        if self.gfc > 0x0f || self.pti > 0x07 {
            return Err(super::Error);
        }
        let w = (u32::from(self.gfc) << 28)
            | (u32::from(self.vpi) << 20)
            | (u32::from(self.vci) << 4)
            | (u32::from(self.pti) << 1)
            | u32::from(self.clp);
        Ok(w.to_be_bytes())
    }

    /// Writes the five header octets, computing the HEC. Errors if `out` is shorter than
    /// [`HEADER_LEN`] or `gfc`/`pti` do not fit their fields.
    pub fn emit(&self, out: &mut [u8]) -> Result<usize, super::Error> {
        let w = self.word_bytes()?;
        let dst = out.get_mut(..HEADER_LEN).ok_or(super::Error)?;
        let (head, tail) = dst.split_at_mut(4);
        head.copy_from_slice(&w);
        if let Some(h) = tail.first_mut() {
            *h = hec(&w);
        }
        Ok(HEADER_LEN)
    }

    /// True on the last cell of an AAL5 frame (user data with PTI bit 0 set).
    pub const fn is_end_of_frame(&self) -> bool {
        self.pti & PTI_NON_USER == 0 && self.pti & PTI_SDU_TYPE_1 != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hec_matches_known_vectors() {
        // Idle cell (the I.432 reference value), and VC 0/5 with PTI 1 / PTI 0.
        assert_eq!(hec(&[0, 0, 0, 1]), 0x52);
        assert_eq!(hec(&[0, 0, 0, 0x52]), 0xec);
        assert_eq!(hec(&[0, 0, 0, 0x50]), 0xe2);
    }

    #[test]
    fn emit_signalling_last_cell_matches_vector() {
        let h = Header { gfc: 0, vpi: 0, vci: 5, pti: PTI_SDU_TYPE_1, clp: false };
        let mut out = [0u8; CELL_LEN];
        assert_eq!(h.emit(&mut out), Ok(HEADER_LEN));
        assert_eq!(&out[..5], &[0, 0, 0, 0x52, 0xec]);
        let h0 = Header { pti: 0, ..h };
        h0.emit(&mut out).unwrap();
        assert_eq!(&out[..5], &[0, 0, 0, 0x50, 0xe2]);
        assert!(h.is_end_of_frame());
        assert!(!h0.is_end_of_frame());
    }

    #[test]
    fn parse_round_trips_every_field() {
        let h = Header { gfc: 0xa, vpi: 0xc3, vci: 0xbeef, pti: 5, clp: true };
        let mut out = [0u8; 5];
        h.emit(&mut out).unwrap();
        let p = Packet::new_checked(&out[..]).unwrap();
        assert_eq!(Header::parse(&p), h);
        assert_eq!(p.hec(), out[4]);
        assert!(p.payload().is_empty());
    }

    #[test]
    fn new_checked_rejects_bad_hec() {
        let good = [0u8, 0, 0, 0x52, 0xec];
        assert!(Packet::new_checked(&good[..]).is_ok());
        for bit in 0..40 {
            let mut bad = good;
            bad[bit / 8] ^= 1 << (bit % 8);
            assert_eq!(Packet::new_checked(&bad[..]), Err(CellError::BadHec), "bit {bit}");
        }
    }

    #[test]
    fn new_checked_rejects_short_buffer() {
        for n in 0..HEADER_LEN {
            let b = [0u8, 0, 0, 0x52, 0xec];
            assert_eq!(Packet::new_checked(&b[..n]), Err(CellError::Truncated));
        }
        // Unchecked accessors on a short buffer read zeros instead of panicking.
        let p = Packet::new_unchecked(&[0xffu8][..]);
        assert_eq!((p.vpi(), p.vci(), p.hec()), (0, 0, 0));
    }

    #[test]
    fn emit_rejects_out_of_range_fields_and_short_buffer() {
        let mut out = [0u8; 5];
        assert!(Header { gfc: 0x10, ..Header::default() }.emit(&mut out).is_err());
        assert!(Header { pti: 8, ..Header::default() }.emit(&mut out).is_err());
        assert!(Header::default().emit(&mut out[..4]).is_err());
    }
}
