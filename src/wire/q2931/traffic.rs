//! ATM traffic descriptor IE (0x59; Q.2931 4.5.6, UNI 3.1 §5.4.5.6, UNI 4.0): a list of
//! subfields, each an identifier octet followed by a 3-octet cell rate / burst size, except
//! best effort (no value) and traffic management options (1 octet). Identifiers as in ngatm
//! `unistruct.h` (`UNI_TRAFFIC_*_ID`).
//!
//! Each subfield may appear once: a repeated identifier makes the contents invalid (cause #100
//! with the IE identifier, Q.2931 5.6.8.2; for SETUP, where the IE is mandatory, RELEASE
//! COMPLETE #100). Two peak cell rates for one direction leave the rate the caller asked for
//! undecided, and the cell rate is what the call is admitted on.

use super::ie::{IeBody, InvalidIe, put};
use crate::wire::Error;

mod sub {
    pub const FWD_PCR_0: u8 = 0x82;
    pub const BWD_PCR_0: u8 = 0x83;
    pub const FWD_PCR_01: u8 = 0x84;
    pub const BWD_PCR_01: u8 = 0x85;
    pub const FWD_SCR_0: u8 = 0x88;
    pub const BWD_SCR_0: u8 = 0x89;
    pub const FWD_SCR_01: u8 = 0x90;
    pub const BWD_SCR_01: u8 = 0x91;
    pub const FWD_ABR_MCR: u8 = 0x92;
    pub const BWD_ABR_MCR: u8 = 0x93;
    pub const FWD_MBS_0: u8 = 0xa0;
    pub const BWD_MBS_0: u8 = 0xa1;
    pub const FWD_MBS_01: u8 = 0xb0;
    pub const BWD_MBS_01: u8 = 0xb1;
    pub const BEST_EFFORT: u8 = 0xbe;
    pub const OPTIONS: u8 = 0xbf;
}

/// Largest 24-bit rate / burst value.
pub const MAX_RATE: u32 = 0xff_ffff;

/// An ATM traffic descriptor IE. Rates are cells/s, burst sizes cells, all 24-bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TrafficDescriptor {
    /// Forward peak cell rate, CLP=0.
    pub fwd_pcr_0: Option<u32>,
    /// Backward peak cell rate, CLP=0.
    pub bwd_pcr_0: Option<u32>,
    /// Forward peak cell rate, CLP=0+1.
    pub fwd_pcr_01: Option<u32>,
    /// Backward peak cell rate, CLP=0+1.
    pub bwd_pcr_01: Option<u32>,
    /// Forward sustainable cell rate, CLP=0.
    pub fwd_scr_0: Option<u32>,
    /// Backward sustainable cell rate, CLP=0.
    pub bwd_scr_0: Option<u32>,
    /// Forward sustainable cell rate, CLP=0+1.
    pub fwd_scr_01: Option<u32>,
    /// Backward sustainable cell rate, CLP=0+1.
    pub bwd_scr_01: Option<u32>,
    /// Forward ABR minimum cell rate (UNI 4.0).
    pub fwd_abr_mcr: Option<u32>,
    /// Backward ABR minimum cell rate (UNI 4.0).
    pub bwd_abr_mcr: Option<u32>,
    /// Forward maximum burst size, CLP=0.
    pub fwd_mbs_0: Option<u32>,
    /// Backward maximum burst size, CLP=0.
    pub bwd_mbs_0: Option<u32>,
    /// Forward maximum burst size, CLP=0+1.
    pub fwd_mbs_01: Option<u32>,
    /// Backward maximum burst size, CLP=0+1.
    pub bwd_mbs_01: Option<u32>,
    /// Best effort indicator (UBR).
    pub best_effort: bool,
    /// Traffic management options octet (bit 1 forward tagging, bit 2 backward tagging; UNI 4.0
    /// adds frame discard bits 0x80 / 0x40).
    pub options: Option<u8>,
}

impl TrafficDescriptor {
    /// UBR: best effort with both CLP=0+1 peak cell rates.
    pub const fn ubr(fwd_pcr: u32, bwd_pcr: u32) -> Self {
        TrafficDescriptor {
            fwd_pcr_0: None,
            bwd_pcr_0: None,
            fwd_pcr_01: Some(fwd_pcr),
            bwd_pcr_01: Some(bwd_pcr),
            fwd_scr_0: None,
            bwd_scr_0: None,
            fwd_scr_01: None,
            bwd_scr_01: None,
            fwd_abr_mcr: None,
            bwd_abr_mcr: None,
            fwd_mbs_0: None,
            bwd_mbs_0: None,
            fwd_mbs_01: None,
            bwd_mbs_01: None,
            best_effort: true,
            options: None,
        }
    }

    /// The 24-bit fields in emit order (ascending identifier).
    fn rates(&self) -> [(u8, Option<u32>); 14] {
        [
            (sub::FWD_PCR_0, self.fwd_pcr_0),
            (sub::BWD_PCR_0, self.bwd_pcr_0),
            (sub::FWD_PCR_01, self.fwd_pcr_01),
            (sub::BWD_PCR_01, self.bwd_pcr_01),
            (sub::FWD_SCR_0, self.fwd_scr_0),
            (sub::BWD_SCR_0, self.bwd_scr_0),
            (sub::FWD_SCR_01, self.fwd_scr_01),
            (sub::BWD_SCR_01, self.bwd_scr_01),
            (sub::FWD_ABR_MCR, self.fwd_abr_mcr),
            (sub::BWD_ABR_MCR, self.bwd_abr_mcr),
            (sub::FWD_MBS_0, self.fwd_mbs_0),
            (sub::BWD_MBS_0, self.bwd_mbs_0),
            (sub::FWD_MBS_01, self.fwd_mbs_01),
            (sub::BWD_MBS_01, self.bwd_mbs_01),
        ]
    }

    fn slot(&mut self, id: u8) -> Option<&mut Option<u32>> {
        Some(match id {
            sub::FWD_PCR_0 => &mut self.fwd_pcr_0,
            sub::BWD_PCR_0 => &mut self.bwd_pcr_0,
            sub::FWD_PCR_01 => &mut self.fwd_pcr_01,
            sub::BWD_PCR_01 => &mut self.bwd_pcr_01,
            sub::FWD_SCR_0 => &mut self.fwd_scr_0,
            sub::BWD_SCR_0 => &mut self.bwd_scr_0,
            sub::FWD_SCR_01 => &mut self.fwd_scr_01,
            sub::BWD_SCR_01 => &mut self.bwd_scr_01,
            sub::FWD_ABR_MCR => &mut self.fwd_abr_mcr,
            sub::BWD_ABR_MCR => &mut self.bwd_abr_mcr,
            sub::FWD_MBS_0 => &mut self.fwd_mbs_0,
            sub::BWD_MBS_0 => &mut self.bwd_mbs_0,
            sub::FWD_MBS_01 => &mut self.fwd_mbs_01,
            sub::BWD_MBS_01 => &mut self.bwd_mbs_01,
            _ => return None,
        })
    }
}

impl<'a> IeBody<'a> for TrafficDescriptor {
    fn parse(c: &'a [u8]) -> Result<Self, InvalidIe> {
        if c.is_empty() {
            return Err(InvalidIe);
        }
        let mut t = TrafficDescriptor::default();
        let mut rest = c;
        // Identifiers already read (0x80..=0xbf, one bit each; any other is no subfield): a
        // repeat is a content error.
        let mut seen = 0u64;
        while let Some((&id, tail)) = rest.split_first() {
            let bit = 1u64.checked_shl(u32::from(id.wrapping_sub(0x80))).ok_or(InvalidIe)?;
            if seen & bit != 0 {
                return Err(InvalidIe);
            }
            seen |= bit;
            rest = match id {
                sub::BEST_EFFORT => {
                    t.best_effort = true;
                    tail
                }
                sub::OPTIONS => {
                    let (&v, r) = tail.split_first().ok_or(InvalidIe)?;
                    t.options = Some(v);
                    r
                }
                _ => {
                    let slot = t.slot(id).ok_or(InvalidIe)?;
                    let v = match tail.get(..3).ok_or(InvalidIe)? {
                        &[a, b, c] => u32::from_be_bytes([0, a, b, c]),
                        _ => return Err(InvalidIe),
                    };
                    *slot = Some(v);
                    tail.get(3..).ok_or(InvalidIe)?
                }
            };
        }
        Ok(t)
    }

    fn content_len(&self) -> usize {
        let rates = self.rates().iter().filter(|(_, v)| v.is_some()).count();
        rates * 4 + usize::from(self.best_effort) + usize::from(self.options.is_some()) * 2
    }

    fn emit(&self, out: &mut [u8]) -> Result<(), Error> {
        let mut rest = out;
        for (id, v) in self.rates() {
            if let Some(v) = v {
                if v > MAX_RATE {
                    return Err(Error);
                }
                let [_, a, b, c] = v.to_be_bytes();
                rest = put(rest, &[id, a, b, c])?;
            }
        }
        if self.best_effort {
            rest = put(rest, &[sub::BEST_EFFORT])?;
        }
        if let Some(o) = self.options {
            put(rest, &[sub::OPTIONS, o])?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ubr_round_trip() {
        let t = TrafficDescriptor::ubr(353_207, 353_207);
        let mut out = [0u8; 9];
        assert_eq!(t.content_len(), 9);
        t.emit(&mut out).unwrap();
        assert_eq!(out, [0x84, 0x05, 0x63, 0xb7, 0x85, 0x05, 0x63, 0xb7, 0xbe]);
        assert_eq!(TrafficDescriptor::parse(&out), Ok(t));
    }

    #[test]
    fn full_vbr_round_trip() {
        let t = TrafficDescriptor {
            fwd_pcr_0: Some(1),
            fwd_pcr_01: Some(2),
            fwd_scr_01: Some(3),
            fwd_mbs_01: Some(4),
            bwd_pcr_01: Some(MAX_RATE),
            options: Some(0x03),
            ..TrafficDescriptor::default()
        };
        let mut out = [0u8; 32];
        t.emit(&mut out).unwrap();
        assert_eq!(TrafficDescriptor::parse(&out[..t.content_len()]), Ok(t));
    }

    #[test]
    fn rejects_unknown_subfield_truncation_empty_and_wide_rate() {
        assert!(TrafficDescriptor::parse(&[]).is_err());
        assert!(TrafficDescriptor::parse(&[0x84, 0, 1]).is_err());
        assert!(TrafficDescriptor::parse(&[0xbf]).is_err());
        assert!(TrafficDescriptor::parse(&[0x86, 0, 0, 1]).is_err());
        let t = TrafficDescriptor { fwd_pcr_01: Some(MAX_RATE + 1), ..Default::default() };
        assert!(t.emit(&mut [0u8; 8]).is_err());
    }

    #[test]
    fn a_repeated_subfield_identifier_is_invalid_contents() {
        // Forward PCR (CLP=0+1) twice with different values: neither can be trusted.
        let twice = [0x84, 0x05, 0x63, 0xb7, 0x84, 0x00, 0x03, 0xe8, 0x85, 0x05, 0x63, 0xb7, 0xbe];
        assert_eq!(TrafficDescriptor::parse(&twice), Err(InvalidIe));
        // Even with equal values, and for the value-less best effort and the options octet.
        let same = [0x84, 0x00, 0x03, 0xe8, 0x84, 0x00, 0x03, 0xe8];
        assert_eq!(TrafficDescriptor::parse(&same), Err(InvalidIe));
        assert_eq!(TrafficDescriptor::parse(&[0x84, 0x00, 0x03, 0xe8, 0xbe, 0xbe]), Err(InvalidIe));
        assert_eq!(TrafficDescriptor::parse(&[0xbf, 0x01, 0xbf, 0x02]), Err(InvalidIe));
        // The same subfields once each, in any order, are fine.
        let once = [0xbe, 0x85, 0x05, 0x63, 0xb7, 0x84, 0x05, 0x63, 0xb7];
        assert_eq!(TrafficDescriptor::parse(&once), Ok(TrafficDescriptor::ubr(353_207, 353_207)));
    }
}
