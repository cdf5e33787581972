//! Connection identifier IE (0x5a; Q.2931 4.5.16, UNI 3.1 §5.4.5.16):
//!
//! ```text
//! octet 5     1 | spare(2) | VP-associated signalling (2) | preferred/exclusive (3)
//! octets 6-7  VPCI
//! octets 8-9  VCI
//! ```

use super::ie::{IeBody, InvalidIe, put};
use crate::wire::{Error, get_u16};

/// Contents length.
pub const CONTENT_LEN: usize = 5;

/// VP-associated signalling: 01 = explicit indication of VPCI (the only UNI 3.1 value).
pub const VP_EXPLICIT: u8 = 1;
/// Preferred/exclusive: 000 = exclusive VPCI, exclusive VCI.
pub const EXCLUSIVE_VPCI_VCI: u8 = 0;
/// Preferred/exclusive: 001 = exclusive VPCI, any VCI.
pub const EXCLUSIVE_VPCI_ANY_VCI: u8 = 1;
/// Preferred/exclusive: 100 = exclusive VPCI, no VCI (UNI 4.0 VP service).
pub const EXCLUSIVE_VPCI_NO_VCI: u8 = 4;

/// A Connection identifier IE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnectionId {
    /// VP-associated signalling field (2 bits).
    pub vp_assoc: u8,
    /// Preferred/exclusive field (3 bits).
    pub pref_excl: u8,
    /// Virtual path connection identifier.
    pub vpci: u16,
    /// Virtual channel identifier.
    pub vci: u16,
}

impl ConnectionId {
    /// Explicit VPCI, exclusive VPCI and VCI: what the network assigns in UNI 3.1.
    pub const fn exclusive(vpci: u16, vci: u16) -> Self {
        ConnectionId { vp_assoc: VP_EXPLICIT, pref_excl: EXCLUSIVE_VPCI_VCI, vpci, vci }
    }
}

impl<'a> IeBody<'a> for ConnectionId {
    fn parse(c: &'a [u8]) -> Result<Self, InvalidIe> {
        if c.len() != CONTENT_LEN {
            return Err(InvalidIe);
        }
        let o = c.first().copied().ok_or(InvalidIe)?;
        if o & 0x80 == 0 {
            return Err(InvalidIe);
        }
        let pref_excl = o & 0x07;
        if !matches!(pref_excl, EXCLUSIVE_VPCI_VCI | EXCLUSIVE_VPCI_ANY_VCI | EXCLUSIVE_VPCI_NO_VCI) {
            return Err(InvalidIe);
        }
        Ok(ConnectionId {
            vp_assoc: (o >> 3) & 0x03,
            pref_excl,
            vpci: get_u16(c, 1).ok_or(InvalidIe)?,
            vci: get_u16(c, 3).ok_or(InvalidIe)?,
        })
    }

    fn content_len(&self) -> usize {
        CONTENT_LEN
    }

    fn emit(&self, out: &mut [u8]) -> Result<(), Error> {
        if self.vp_assoc > 3 || self.pref_excl > 7 {
            return Err(Error);
        }
        let [p0, p1] = self.vpci.to_be_bytes();
        let [c0, c1] = self.vci.to_be_bytes();
        put(out, &[0x80 | (self.vp_assoc << 3) | self.pref_excl, p0, p1, c0, c1])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_vpci_vci() {
        let c = ConnectionId::exclusive(0x0102, 0x0304);
        let mut out = [0u8; 5];
        c.emit(&mut out).unwrap();
        assert_eq!(out, [0x88, 0x01, 0x02, 0x03, 0x04]);
        assert_eq!(ConnectionId::parse(&out), Ok(c));
    }

    #[test]
    fn parse_rejects_wrong_length_ext_bit_and_reserved_pref_excl() {
        assert!(ConnectionId::parse(&[0x88, 0, 0, 0]).is_err());
        assert!(ConnectionId::parse(&[0x88, 0, 0, 0, 0x20, 0]).is_err());
        assert!(ConnectionId::parse(&[0x08, 0, 0, 0, 0x20]).is_err());
        assert!(ConnectionId::parse(&[0x8a, 0, 0, 0, 0x20]).is_err());
    }
}
