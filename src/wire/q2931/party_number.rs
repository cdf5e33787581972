//! Called party number (0x70) and Calling party number (0x6c) IEs (Q.2931 4.5.11 / 4.5.13,
//! UNI 3.1 §5.4.5.11 / 5.4.5.13):
//!
//! ```text
//! octet 5    ext | type of number (3) | addressing/numbering plan (4)
//! octet 5a   1 | presentation indicator (2) | spare(3) | screening indicator (2)
//!            (Calling party number only, present when octet 5's ext bit is 0)
//! octets 6-  address: IA5 digits for E.164 (1..=15), 20 octets for an ATM endsystem address
//! ```
//!
//! Length and digit checks follow ngatm's decoder (`decode_addr` in `uni_ie.c`).

use super::ie::{IeBody, InvalidIe, put};
use crate::wire::Error;

/// Numbering plan: E.164 (ISDN telephony), IA5 digits.
pub const PLAN_E164: u8 = 0x1;
/// Numbering plan: ATM endsystem address (NSAP format, 20 octets).
pub const PLAN_ATM_ENDSYSTEM: u8 = 0x2;
/// Type of number: unknown (used with ATM endsystem addresses).
pub const TON_UNKNOWN: u8 = 0x0;
/// Type of number: international (used with E.164).
pub const TON_INTERNATIONAL: u8 = 0x1;
/// Octets in an ATM endsystem address.
pub const NSAP_LEN: usize = 20;
/// Most E.164 digits.
pub const MAX_E164_DIGITS: usize = 15;

/// A called or calling party number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PartyNumber {
    /// Type of number (3 bits).
    pub type_of_number: u8,
    /// Addressing / numbering plan (4 bits): [`PLAN_E164`] or [`PLAN_ATM_ENDSYSTEM`].
    pub plan: u8,
    /// Octet 5a (Calling party number only): presentation indicator and screening indicator.
    pub presentation_screening: Option<(u8, u8)>,
    addr: [u8; NSAP_LEN],
    len: u8,
}

impl PartyNumber {
    /// An ATM endsystem (NSAP-format) address.
    pub const fn nsap(addr: [u8; NSAP_LEN]) -> Self {
        PartyNumber {
            type_of_number: TON_UNKNOWN,
            plan: PLAN_ATM_ENDSYSTEM,
            presentation_screening: None,
            addr,
            len: NSAP_LEN as u8,
        }
    }

    /// An international E.164 number from IA5 digits; errors unless 1..=15 ASCII digits.
    pub fn e164(digits: &[u8]) -> Result<Self, Error> {
        if digits.is_empty() || digits.len() > MAX_E164_DIGITS || !digits.iter().all(u8::is_ascii_digit) {
            return Err(Error);
        }
        let mut addr = [0u8; NSAP_LEN];
        addr.get_mut(..digits.len()).ok_or(Error)?.copy_from_slice(digits);
        Ok(PartyNumber {
            type_of_number: TON_INTERNATIONAL,
            plan: PLAN_E164,
            presentation_screening: None,
            addr,
            len: u8::try_from(digits.len()).map_err(|_| Error)?,
        })
    }

    /// The address octets.
    pub fn address(&self) -> &[u8] {
        self.addr.get(..usize::from(self.len)).unwrap_or(&[])
    }

    fn valid_address(plan: u8, a: &[u8]) -> bool {
        match plan {
            PLAN_E164 => !a.is_empty() && a.len() <= MAX_E164_DIGITS && a.iter().all(|&d| d != 0 && d < 0x80),
            PLAN_ATM_ENDSYSTEM => a.len() == NSAP_LEN,
            _ => false,
        }
    }
}

impl<'a> IeBody<'a> for PartyNumber {
    fn parse(c: &'a [u8]) -> Result<Self, InvalidIe> {
        let (&o5, rest) = c.split_first().ok_or(InvalidIe)?;
        let (ps, addr) = if o5 & 0x80 == 0 {
            let (&o5a, addr) = rest.split_first().ok_or(InvalidIe)?;
            if o5a & 0x80 == 0 {
                return Err(InvalidIe);
            }
            (Some(((o5a >> 5) & 0x03, o5a & 0x03)), addr)
        } else {
            (None, rest)
        };
        let plan = o5 & 0x0f;
        if !Self::valid_address(plan, addr) {
            return Err(InvalidIe);
        }
        let mut buf = [0u8; NSAP_LEN];
        buf.get_mut(..addr.len()).ok_or(InvalidIe)?.copy_from_slice(addr);
        Ok(PartyNumber {
            type_of_number: (o5 >> 4) & 0x07,
            plan,
            presentation_screening: ps,
            addr: buf,
            len: u8::try_from(addr.len()).map_err(|_| InvalidIe)?,
        })
    }

    fn content_len(&self) -> usize {
        1 + usize::from(self.presentation_screening.is_some()) + usize::from(self.len)
    }

    fn emit(&self, out: &mut [u8]) -> Result<(), Error> {
        if self.type_of_number > 7 || self.plan > 0x0f {
            return Err(Error);
        }
        let o5 = (self.type_of_number << 4) | self.plan;
        let rest = match self.presentation_screening {
            None => put(out, &[0x80 | o5])?,
            Some((p, s)) if p <= 3 && s <= 3 => put(out, &[o5, 0x80 | (p << 5) | s])?,
            Some(_) => return Err(Error),
        };
        put(rest, self.address())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NSAP: [u8; 20] = [
        0x47, 0x00, 0x05, 0x80, 0xff, 0xe1, 0x00, 0x00, 0x00, 0xf2, 0x1a, 0x2b, 0x3c, 0x00, 0x20, 0x48, 0x1a, 0x2b,
        0x3c, 0x00,
    ];

    #[test]
    fn nsap_round_trip() {
        let n = PartyNumber::nsap(NSAP);
        let mut out = [0u8; 22];
        n.emit(&mut out).unwrap();
        assert_eq!(out[0], 0x82);
        assert_eq!(PartyNumber::parse(&out[..21]), Ok(n));
        assert_eq!(n.address(), &NSAP);
    }

    #[test]
    fn calling_e164_with_screening_round_trip() {
        let mut n = PartyNumber::e164(b"4122").unwrap();
        n.presentation_screening = Some((0, 3));
        let mut out = [0u8; 6];
        n.emit(&mut out).unwrap();
        assert_eq!(out, [0x11, 0x83, b'4', b'1', b'2', b'2']);
        assert_eq!(PartyNumber::parse(&out), Ok(n));
    }

    #[test]
    fn rejects_bad_lengths_plans_and_digits() {
        assert!(PartyNumber::parse(&[]).is_err());
        assert!(PartyNumber::parse(&[0x82; 20]).is_err()); // NSAP of 19 octets
        assert!(PartyNumber::parse(&[0x82; 22]).is_err()); // NSAP of 21 octets
        assert!(PartyNumber::parse(&[0x91]).is_err()); // E.164 with no digits
        assert!(PartyNumber::parse(&[0x91; 17]).is_err()); // 16 digits, and not IA5
        assert!(PartyNumber::parse(&[0x91, b'1', 0x00]).is_err()); // NUL digit
        assert!(PartyNumber::parse(&[0x93, b'1']).is_err()); // plan 3 unsupported
        assert!(PartyNumber::parse(&[0x11]).is_err()); // octet 5a missing
        assert!(PartyNumber::parse(&[0x11, 0x03, b'1']).is_err()); // 5a ext bit clear
        assert!(PartyNumber::e164(b"12a").is_err());
        assert!(PartyNumber::e164(b"").is_err());
        assert!(PartyNumber::e164(b"1234567890123456").is_err());
    }
}
