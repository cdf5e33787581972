//! ATM adaptation layer parameters IE (0x58; Q.2931 4.5.5, UNI 3.1 §5.4.5.5):
//! octet 5 = AAL type; for AAL5 a list of (identifier, value) subfields:
//!
//! ```text
//! 0x8c  forward maximum CPCS-SDU size   (2 octets)
//! 0x81  backward maximum CPCS-SDU size  (2 octets)
//! 0x83  mode, 1 = message, 2 = streaming (UNI 3.1 only; 1 octet)
//! 0x84  SSCS type (0 null, 1 SSCOP assured, 2 SSCOP non-assured, 4 frame relay; 1 octet)
//! ```
//!
//! Only AAL5 subfields are decoded; for other AAL types only the type octet is kept.
//!
//! Each subfield may appear once: a repeated identifier makes the contents invalid (cause #100
//! with the IE identifier, Q.2931 5.6.8.2), as ngatm's `decode_aal_5` rejects it. Taking the
//! first or the last would guess which SDU size the sender meant.

use super::ie::{IeBody, InvalidIe, put};
use crate::wire::{Error, get_u16};

/// AAL type 5.
pub const AAL5: u8 = 0x05;

mod sub {
    pub const FWD_CPCS: u8 = 0x8c;
    pub const BWD_CPCS: u8 = 0x81;
    pub const MODE: u8 = 0x83;
    pub const SSCS: u8 = 0x84;
}

/// An AAL parameters IE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AalParams {
    /// AAL type (5 for AAL5).
    pub aal_type: u8,
    /// Forward maximum CPCS-SDU size.
    pub fwd_max_sdu: Option<u16>,
    /// Backward maximum CPCS-SDU size.
    pub bwd_max_sdu: Option<u16>,
    /// UNI 3.1 mode subfield.
    pub mode: Option<u8>,
    /// SSCS type.
    pub sscs: Option<u8>,
}

impl AalParams {
    /// AAL5 with both maximum SDU sizes and a null SSCS.
    pub const fn aal5(fwd_max_sdu: u16, bwd_max_sdu: u16) -> Self {
        AalParams {
            aal_type: AAL5,
            fwd_max_sdu: Some(fwd_max_sdu),
            bwd_max_sdu: Some(bwd_max_sdu),
            mode: None,
            sscs: Some(0),
        }
    }
}

impl<'a> IeBody<'a> for AalParams {
    fn parse(c: &'a [u8]) -> Result<Self, InvalidIe> {
        let (&aal_type, mut rest) = c.split_first().ok_or(InvalidIe)?;
        let mut p = AalParams { aal_type, fwd_max_sdu: None, bwd_max_sdu: None, mode: None, sscs: None };
        if aal_type != AAL5 {
            return Ok(p);
        }
        // Subfields already read, one bit each: a repeated identifier is a content error.
        let mut seen = 0u8;
        while let Some((&id, tail)) = rest.split_first() {
            let bit = match id {
                sub::FWD_CPCS => 1,
                sub::BWD_CPCS => 2,
                sub::MODE => 4,
                sub::SSCS => 8,
                _ => return Err(InvalidIe),
            };
            if seen & bit != 0 {
                return Err(InvalidIe);
            }
            seen |= bit;
            rest = match id {
                sub::FWD_CPCS | sub::BWD_CPCS => {
                    let v = get_u16(tail, 0).ok_or(InvalidIe)?;
                    if id == sub::FWD_CPCS {
                        p.fwd_max_sdu = Some(v);
                    } else {
                        p.bwd_max_sdu = Some(v);
                    }
                    tail.get(2..).ok_or(InvalidIe)?
                }
                sub::MODE | sub::SSCS => {
                    let (&v, t) = tail.split_first().ok_or(InvalidIe)?;
                    if id == sub::MODE {
                        p.mode = Some(v);
                    } else {
                        p.sscs = Some(v);
                    }
                    t
                }
                _ => return Err(InvalidIe),
            };
        }
        Ok(p)
    }

    fn content_len(&self) -> usize {
        if self.aal_type != AAL5 {
            return 1;
        }
        1 + usize::from(self.fwd_max_sdu.is_some()) * 3
            + usize::from(self.bwd_max_sdu.is_some()) * 3
            + usize::from(self.mode.is_some()) * 2
            + usize::from(self.sscs.is_some()) * 2
    }

    fn emit(&self, out: &mut [u8]) -> Result<(), Error> {
        let mut rest = put(out, &[self.aal_type])?;
        if self.aal_type != AAL5 {
            return Ok(());
        }
        if let Some(v) = self.fwd_max_sdu {
            let [h, l] = v.to_be_bytes();
            rest = put(rest, &[sub::FWD_CPCS, h, l])?;
        }
        if let Some(v) = self.bwd_max_sdu {
            let [h, l] = v.to_be_bytes();
            rest = put(rest, &[sub::BWD_CPCS, h, l])?;
        }
        if let Some(v) = self.mode {
            rest = put(rest, &[sub::MODE, v])?;
        }
        if let Some(v) = self.sscs {
            put(rest, &[sub::SSCS, v])?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aal5_round_trip() {
        let a = AalParams { mode: Some(1), ..AalParams::aal5(9188, 9188) };
        let mut out = [0u8; 11];
        a.emit(&mut out).unwrap();
        assert_eq!(out, [0x05, 0x8c, 0x23, 0xe4, 0x81, 0x23, 0xe4, 0x83, 0x01, 0x84, 0x00]);
        assert_eq!(a.content_len(), 11);
        assert_eq!(AalParams::parse(&out), Ok(a));
    }

    #[test]
    fn parse_rejects_unknown_and_truncated_subfields() {
        assert!(AalParams::parse(&[]).is_err());
        assert!(AalParams::parse(&[0x05, 0x8c, 0x23]).is_err());
        assert!(AalParams::parse(&[0x05, 0x84]).is_err());
        assert!(AalParams::parse(&[0x05, 0x99, 0x00]).is_err());
        // Non-AAL5 types keep only the type octet.
        assert_eq!(AalParams::parse(&[0x01, 0x85, 0x01]).map(|a| a.aal_type), Ok(1));
    }

    #[test]
    fn a_repeated_subfield_identifier_is_invalid_contents() {
        // Forward maximum CPCS-SDU size twice (9188, then 1500): neither can be trusted.
        let twice = [0x05, 0x8c, 0x23, 0xe4, 0x81, 0x23, 0xe4, 0x8c, 0x05, 0xdc, 0x84, 0x00];
        assert_eq!(AalParams::parse(&twice), Err(InvalidIe));
        assert_eq!(AalParams::parse(&[0x05, 0x84, 0x00, 0x84, 0x00]), Err(InvalidIe));
        assert_eq!(AalParams::parse(&[0x05, 0x83, 0x01, 0x83, 0x02]), Err(InvalidIe));
        assert_eq!(AalParams::parse(&[0x05, 0x81, 0x00, 0x30, 0x81, 0x00, 0x30]), Err(InvalidIe));
        // Each once, in any order, is fine.
        let once = [0x05, 0x84, 0x00, 0x81, 0x23, 0xe4, 0x8c, 0x23, 0xe4];
        assert_eq!(AalParams::parse(&once), Ok(AalParams::aal5(9188, 9188)));
    }
}
