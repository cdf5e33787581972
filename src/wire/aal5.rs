//! AAL5 CPCS-PDU (I.363.5): `SDU | PAD (0..=47) | UU | CPI | Length (BE16) | CRC-32 (BE32)`,
//! the whole a multiple of 48 octets (one cell payload each).
//!
//! The CRC covers everything before it, PAD included, and is CRC-32/BZIP2 ("CRC-32/AAL5": poly
//! 0x04C11DB7, init and xorout 0xFFFFFFFF, no reflection). Run without the final xor over the
//! whole PDU (CRC-32/MPEG-2) it leaves the residue [`CRC_RESIDUE`], which is how Wireshark's
//! `packet-atm.c` checks it. A Length field of 0 is the abort indication.

use crc::{CRC_32_BZIP2, Crc};

use super::{Error, get_u16, get_u32, put_u16, put_u32};

/// Octets in the CPCS-PDU trailer.
pub const TRAILER_LEN: usize = 8;
/// Octets per cell payload; a CPCS-PDU is a multiple of this.
pub const CELL_PAYLOAD: usize = 48;
/// Largest CPCS-SDU (the Length field is 16 bits; 0 means abort).
pub const MAX_SDU_LEN: usize = 65535;
/// CRC-32/MPEG-2 over a whole valid CPCS-PDU (data, pad, trailer, CRC) gives this value.
pub const CRC_RESIDUE: u32 = 0xC704_DD7B;

const CRC32: Crc<u32> = Crc::<u32>::new(&CRC_32_BZIP2);

mod field {
    //! Offsets inside the 8-octet trailer.
    pub const UU: usize = 0;
    pub const CPI: usize = 1;
    pub const LENGTH: usize = 2;
    pub const CRC: usize = 4;
}

/// Why a received CPCS-PDU was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Aal5Error {
    /// Empty, or not a whole number of cell payloads.
    BadPduLength,
    /// The Length field is 0: the sender aborted the frame.
    Abort,
    /// The Length field is larger than the PDU allows, or implies more than 47 octets of pad.
    BadLength,
    /// The CRC-32 does not match.
    BadCrc,
}

/// Octets of CPCS-PDU needed to carry `sdu_len` octets: the SDU plus the 8-octet trailer,
/// rounded up to a multiple of 48. Saturates (any `sdu_len` above [`MAX_SDU_LEN`] is refused by
/// [`encapsulate`] anyway).
pub const fn pdu_len(sdu_len: usize) -> usize {
    let n = sdu_len.saturating_add(TRAILER_LEN);
    match n % CELL_PAYLOAD {
        0 => n,
        r => n.saturating_add(CELL_PAYLOAD - r),
    }
}

/// Computes the AAL5 CRC-32 of `data` (everything in the PDU before the CRC field).
pub fn crc32(data: &[u8]) -> u32 {
    CRC32.checksum(data)
}

/// A view of the 8-octet trailer at the end of a CPCS-PDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trailer<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Trailer<T> {
    /// Wraps a whole CPCS-PDU without checking it; accessors return 0 when it is too short.
    pub const fn new_unchecked(pdu: T) -> Self {
        Trailer { buffer: pdu }
    }

    /// Wraps a whole CPCS-PDU after checking that it is a non-empty multiple of 48 octets.
    /// (The Length field and the CRC are checked by [`Trailer::check_pdu`] / [`decapsulate`].)
    pub fn new_checked(pdu: T) -> Result<Self, Aal5Error> {
        let n = pdu.as_ref().len();
        if n == 0 || n % CELL_PAYLOAD != 0 {
            return Err(Aal5Error::BadPduLength);
        }
        Ok(Trailer { buffer: pdu })
    }

    fn at(&self) -> usize {
        self.buffer.as_ref().len().saturating_sub(TRAILER_LEN)
    }

    fn octet(&self, off: usize) -> u8 {
        self.at().checked_add(off).and_then(|i| self.buffer.as_ref().get(i)).copied().unwrap_or(0)
    }

    /// CPCS user-to-user indication.
    pub fn uu(&self) -> u8 {
        self.octet(field::UU)
    }
    /// Common part indicator (0 for the 1990s-era uses).
    pub fn cpi(&self) -> u8 {
        self.octet(field::CPI)
    }
    /// Length of the CPCS-SDU (0 = abort).
    pub fn length(&self) -> u16 {
        self.at().checked_add(field::LENGTH).and_then(|i| get_u16(self.buffer.as_ref(), i)).unwrap_or(0)
    }
    /// The received CRC-32.
    pub fn crc(&self) -> u32 {
        self.at().checked_add(field::CRC).and_then(|i| get_u32(self.buffer.as_ref(), i)).unwrap_or(0)
    }

    /// Checks the Length field against the PDU size and the pad bound, then the CRC.
    pub fn check_pdu(&self) -> Result<usize, Aal5Error> {
        let pdu = self.buffer.as_ref();
        if pdu.is_empty() || pdu.len() % CELL_PAYLOAD != 0 {
            return Err(Aal5Error::BadPduLength);
        }
        let len = usize::from(self.length());
        let room = pdu.len().saturating_sub(TRAILER_LEN);
        if len == 0 {
            return Err(Aal5Error::Abort);
        }
        // The pad is room - len and must be 0..=47.
        let pad = room.checked_sub(len).ok_or(Aal5Error::BadLength)?;
        if pad >= CELL_PAYLOAD {
            return Err(Aal5Error::BadLength);
        }
        let covered = pdu.get(..pdu.len().saturating_sub(4)).ok_or(Aal5Error::BadPduLength)?;
        if crc32(covered) != self.crc() {
            return Err(Aal5Error::BadCrc);
        }
        Ok(len)
    }
}

/// Builds a CPCS-PDU for `sdu` in `out`: SDU, zero pad, UU, CPI, Length, CRC. Returns the PDU
/// length ([`pdu_len`]). Errors if `sdu` is empty or longer than [`MAX_SDU_LEN`], or `out` is
/// too short.
pub fn encapsulate(sdu: &[u8], uu: u8, cpi: u8, out: &mut [u8]) -> Result<usize, Error> {
    if sdu.is_empty() || sdu.len() > MAX_SDU_LEN {
        return Err(Error);
    }
    let total = pdu_len(sdu.len());
    let pdu = out.get_mut(..total).ok_or(Error)?;
    let (data, trailer) = pdu.split_at_mut(total.saturating_sub(TRAILER_LEN));
    let (body, pad) = data.split_at_mut(sdu.len());
    body.copy_from_slice(sdu);
    pad.fill(0);
    let t = trailer.get_mut(..TRAILER_LEN).ok_or(Error)?;
    t.get_mut(field::UU..field::LENGTH).ok_or(Error)?.copy_from_slice(&[uu, cpi]);
    put_u16(t, field::LENGTH, u16::try_from(sdu.len()).map_err(|_| Error)?)?;
    let crc = crc32(pdu.get(..total.saturating_sub(4)).ok_or(Error)?);
    put_u32(pdu, total.saturating_sub(4), crc)?;
    Ok(total)
}

/// Checks a received CPCS-PDU and returns its CPCS-SDU.
pub fn decapsulate(pdu: &[u8]) -> Result<&[u8], Aal5Error> {
    let len = Trailer::new_checked(pdu)?.check_pdu()?;
    pdu.get(..len).ok_or(Aal5Error::BadLength)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RELEASE (#16) + 1 pad octet + SSCOP SD trailer (PL = 1, type SD = 8, N(S) = 0).
    const SD_RELEASE: [u8; 20] = [
        0x09, 0x03, 0x00, 0x00, 0x01, 0x4d, 0x80, 0x00, 0x06, 0x08, 0x80, 0x00, 0x02, 0x80, 0x90, 0x00, 0x48, 0x00,
        0x00, 0x00,
    ];

    fn mpeg2(data: &[u8]) -> u32 {
        Crc::<u32>::new(&crc::CRC_32_MPEG_2).checksum(data)
    }

    #[test]
    fn pdu_len_rounds_up_to_cells() {
        assert_eq!(pdu_len(1), 48);
        assert_eq!(pdu_len(40), 48);
        assert_eq!(pdu_len(41), 96);
        assert_eq!(pdu_len(88), 96);
        assert_eq!(pdu_len(89), 144);
        assert_eq!(pdu_len(MAX_SDU_LEN), 65568);
        assert_eq!(pdu_len(usize::MAX), usize::MAX);
    }

    #[test]
    fn crc_catalog_check_value() {
        assert_eq!(crc32(b"123456789"), 0xFC89_1918);
    }

    #[test]
    fn encapsulate_sd_release_matches_vector() {
        let mut out = [0xaau8; 64];
        assert_eq!(encapsulate(&SD_RELEASE, 0, 0, &mut out), Ok(48));
        let pdu = &out[..48];
        assert_eq!(&pdu[..20], &SD_RELEASE);
        assert!(pdu[20..40].iter().all(|&b| b == 0));
        assert_eq!(&pdu[40..44], &[0, 0, 0, 0x14]);
        assert_eq!(&pdu[44..48], &[0xda, 0x75, 0xf6, 0x33]);
        assert_eq!(mpeg2(pdu), CRC_RESIDUE);
        assert_eq!(decapsulate(pdu), Ok(&SD_RELEASE[..]));
        let t = Trailer::new_checked(pdu).unwrap();
        assert_eq!((t.uu(), t.cpi(), t.length(), t.crc()), (0, 0, 20, 0xda75_f633));
    }

    #[test]
    fn round_trip_every_size_across_cell_boundaries() {
        let sdu: [u8; 200] = core::array::from_fn(|i| i as u8);
        let mut out = [0u8; 256];
        for n in 1..=200 {
            let total = encapsulate(&sdu[..n], 0x5a, 0, &mut out).unwrap();
            assert_eq!(total, pdu_len(n));
            assert_eq!(mpeg2(&out[..total]), CRC_RESIDUE, "residue n={n}");
            assert_eq!(decapsulate(&out[..total]), Ok(&sdu[..n]));
            assert_eq!(Trailer::new_unchecked(&out[..total]).uu(), 0x5a);
        }
    }

    #[test]
    fn decapsulate_rejects_bad_crc_anywhere() {
        let mut out = [0u8; 48];
        encapsulate(&SD_RELEASE, 0, 0, &mut out).unwrap();
        for i in 0..48 {
            let mut bad = out;
            bad[i] ^= 0x01;
            let r = decapsulate(&bad);
            // Octet 42 is the Length high octet: 0x0114 is out of range before the CRC runs.
            let want = if i == 42 { Aal5Error::BadLength } else { Aal5Error::BadCrc };
            assert_eq!(r, Err(want), "octet {i}");
            assert_ne!(mpeg2(&bad), CRC_RESIDUE);
        }
    }

    #[test]
    fn decapsulate_rejects_abort_and_bad_lengths() {
        let mut out = [0u8; 96];
        let n = encapsulate(&SD_RELEASE, 0, 0, &mut out).unwrap();
        // Length 0 = abort.
        let mut a = out;
        a[42] = 0;
        a[43] = 0;
        assert_eq!(decapsulate(&a[..n]), Err(Aal5Error::Abort));
        // Length larger than the room in the PDU.
        let mut b = out;
        b[42] = 0;
        b[43] = 41;
        assert_eq!(decapsulate(&b[..n]), Err(Aal5Error::BadLength));
        // A 96-octet PDU claiming 20 octets has 68 octets of pad (> 47).
        let mut c = [0u8; 96];
        c[..20].copy_from_slice(&SD_RELEASE);
        c[90..92].copy_from_slice(&20u16.to_be_bytes());
        let crc = crc32(&c[..92]);
        c[92..].copy_from_slice(&crc.to_be_bytes());
        assert_eq!(decapsulate(&c), Err(Aal5Error::BadLength));
        // Not a multiple of 48, or empty.
        assert_eq!(decapsulate(&out[..47]), Err(Aal5Error::BadPduLength));
        assert_eq!(decapsulate(&out[..49]), Err(Aal5Error::BadPduLength));
        assert_eq!(decapsulate(&[]), Err(Aal5Error::BadPduLength));
    }

    #[test]
    fn encapsulate_rejects_empty_oversized_and_short_out() {
        let mut out = [0u8; 48];
        assert_eq!(encapsulate(&[], 0, 0, &mut out), Err(Error));
        assert_eq!(encapsulate(&[0u8; 41], 0, 0, &mut out), Err(Error));
        assert_eq!(encapsulate(&[1], 0, 0, &mut out[..47]), Err(Error));
        let big = [0u8; MAX_SDU_LEN + 1];
        let mut bigout = [0u8; 48];
        assert_eq!(encapsulate(&big, 0, 0, &mut bigout), Err(Error));
    }
}
