//! Broadband bearer capability IE (0x5e; Q.2931 4.5.7, UNI 3.1 §5.4.5.7, UNI 4.0 §4.5.7):
//!
//! ```text
//! octet 5    ext | spare(2) | bearer class (5)          ext = 0: octet 5a follows
//! octet 5a   1 | ATM transfer capability (7)            UNI 3.1: spare(2) | traffic type (3)
//!                                                        | timing requirements (2)
//! octet 6    1 | susceptibility to clipping (2) | spare(3) | user-plane configuration (2)
//! ```

use super::ie::{IeBody, InvalidIe, put};
use crate::wire::Error;

/// Bearer class BCOB-A.
pub const CLASS_A: u8 = 0x01;
/// Bearer class BCOB-C.
pub const CLASS_C: u8 = 0x03;
/// Bearer class BCOB-X.
pub const CLASS_X: u8 = 0x10;
/// Transparent VP service (UNI 4.0).
pub const CLASS_VP: u8 = 0x18;

/// A Broadband bearer capability IE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BearerCapability {
    /// Bearer class (5 bits): see the `CLASS_*` constants.
    pub class: u8,
    /// Octet 5a without its extension bit: the UNI 4.0 ATM transfer capability, or the UNI 3.1
    /// traffic type / timing requirements (see [`BearerCapability::traffic_type`]).
    pub atc: Option<u8>,
    /// Susceptible to clipping.
    pub clipping: bool,
    /// User-plane connection configuration: `false` point-to-point, `true` point-to-multipoint.
    pub point_to_multipoint: bool,
}

impl BearerCapability {
    /// BCOB-X, no octet 5a, not susceptible to clipping, point-to-point.
    pub const fn bcob_x() -> Self {
        BearerCapability { class: CLASS_X, atc: None, clipping: false, point_to_multipoint: false }
    }
    /// UNI 3.1 traffic type (bits 5-3 of octet 5a: 1 = CBR, 2 = VBR), if octet 5a is present.
    pub fn traffic_type(&self) -> Option<u8> {
        self.atc.map(|a| (a >> 2) & 0x07)
    }
    /// UNI 3.1 timing requirements (bits 2-1 of octet 5a), if octet 5a is present.
    pub fn timing(&self) -> Option<u8> {
        self.atc.map(|a| a & 0x03)
    }
}

impl<'a> IeBody<'a> for BearerCapability {
    fn parse(c: &'a [u8]) -> Result<Self, InvalidIe> {
        let (o5, atc, o6) = match *c {
            [o5, o6] if o5 & 0x80 != 0 => (o5, None, o6),
            [o5, o5a, o6] if o5 & 0x80 == 0 && o5a & 0x80 != 0 => (o5, Some(o5a & 0x7f), o6),
            _ => return Err(InvalidIe),
        };
        if o6 & 0x80 == 0 {
            return Err(InvalidIe);
        }
        let clip = (o6 >> 5) & 0x03;
        let cfg = o6 & 0x03;
        if clip > 1 || cfg > 1 {
            return Err(InvalidIe);
        }
        Ok(BearerCapability { class: o5 & 0x1f, atc, clipping: clip == 1, point_to_multipoint: cfg == 1 })
    }

    fn content_len(&self) -> usize {
        if self.atc.is_some() { 3 } else { 2 }
    }

    fn emit(&self, out: &mut [u8]) -> Result<(), Error> {
        if self.class > 0x1f {
            return Err(Error);
        }
        let o6 = 0x80 | (u8::from(self.clipping) << 5) | u8::from(self.point_to_multipoint);
        match self.atc {
            None => put(out, &[0x80 | self.class, o6])?,
            Some(a) if a <= 0x7f => put(out, &[self.class, 0x80 | a, o6])?,
            Some(_) => return Err(Error),
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_and_without_octet_5a() {
        let x = BearerCapability::bcob_x();
        let mut o = [0u8; 3];
        x.emit(&mut o).unwrap();
        assert_eq!(&o[..2], &[0x90, 0x80]);
        assert_eq!(BearerCapability::parse(&o[..2]), Ok(x));
        // UNI 3.1 BCOB-X, VBR (traffic type 2), end-to-end timing not required (2), p2mp.
        let v = BearerCapability { atc: Some(0x0a), point_to_multipoint: true, ..x };
        v.emit(&mut o).unwrap();
        assert_eq!(o, [0x10, 0x8a, 0x81]);
        assert_eq!(BearerCapability::parse(&o), Ok(v));
        assert_eq!((v.traffic_type(), v.timing()), (Some(2), Some(2)));
    }

    #[test]
    fn rejects_bad_extension_bits_lengths_and_reserved_values() {
        assert!(BearerCapability::parse(&[0x10, 0x80]).is_err()); // 5a announced, missing
        assert!(BearerCapability::parse(&[0x90, 0x00]).is_err()); // octet 6 ext bit clear
        assert!(BearerCapability::parse(&[0x10, 0x0a, 0x80]).is_err()); // 5a ext bit clear
        assert!(BearerCapability::parse(&[0x90, 0xc0]).is_err()); // clipping 2 reserved
        assert!(BearerCapability::parse(&[0x90, 0x82]).is_err()); // cfg 2 reserved
        assert!(BearerCapability::parse(&[0x90]).is_err());
        assert!(BearerCapability::parse(&[0x90, 0x80, 0x80, 0x80]).is_err());
    }
}
