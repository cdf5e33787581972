//! Endpoint reference (0x54) and Endpoint state (0x55) IEs (Q.2971 8.2.1.1 / 8.2.1.2,
//! UNI 3.1 §5.6.4.1 / 5.6.4.2):
//!
//! ```text
//! Endpoint reference: octet 5 type (0 = locally defined integer)
//!                     octets 6-7 flag (bit 8) | 15-bit value
//! Endpoint state:     octet 5 spare(2) | party state (6)
//! ```

use super::ie::{IeBody, InvalidIe, put};
use crate::wire::Error;

/// An Endpoint reference IE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EndpointRef {
    /// Endpoint reference type (0 = locally defined integer, the only defined value).
    pub kind: u8,
    /// 15-bit endpoint reference value (0 identifies the first party).
    pub value: u16,
    /// `false` when sent by the side that allocated the value (like the call reference flag).
    pub flag: bool,
}

impl EndpointRef {
    /// Largest value.
    pub const MAX_VALUE: u16 = 0x7fff;

    /// A locally defined integer reference.
    pub const fn new(value: u16, flag: bool) -> Self {
        EndpointRef { kind: 0, value, flag }
    }
}

impl<'a> IeBody<'a> for EndpointRef {
    fn parse(c: &'a [u8]) -> Result<Self, InvalidIe> {
        match *c {
            [0, hi, lo] => {
                Ok(EndpointRef { kind: 0, value: u16::from_be_bytes([hi & 0x7f, lo]), flag: hi & 0x80 != 0 })
            }
            _ => Err(InvalidIe),
        }
    }

    fn content_len(&self) -> usize {
        3
    }

    fn emit(&self, out: &mut [u8]) -> Result<(), Error> {
        if self.value > Self::MAX_VALUE {
            return Err(Error);
        }
        let [hi, lo] = self.value.to_be_bytes();
        put(out, &[self.kind, hi | if self.flag { 0x80 } else { 0 }, lo])?;
        Ok(())
    }
}

/// An Endpoint state IE: the party state (Q.2971: 0 null, 1 add party initiated, 6 add party
/// received, 11 drop party initiated, 12 drop party received, 10 active; UNI 4.0 adds 4 and 7
/// for party alerting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EndpointState(pub u8);

impl<'a> IeBody<'a> for EndpointState {
    fn parse(c: &'a [u8]) -> Result<Self, InvalidIe> {
        super::simple::parse_state(c).map(EndpointState)
    }

    fn content_len(&self) -> usize {
        1
    }

    fn emit(&self, out: &mut [u8]) -> Result<(), Error> {
        super::simple::emit_state(self.0, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_ref_round_trip_with_flag() {
        let e = EndpointRef::new(0x1234, true);
        let mut out = [0u8; 3];
        e.emit(&mut out).unwrap();
        assert_eq!(out, [0x00, 0x92, 0x34]);
        assert_eq!(EndpointRef::parse(&out), Ok(e));
    }

    #[test]
    fn endpoint_ref_rejects_bad_type_length_and_value() {
        assert!(EndpointRef::parse(&[1, 0, 0]).is_err());
        assert!(EndpointRef::parse(&[0, 0]).is_err());
        assert!(EndpointRef::parse(&[0, 0, 0, 0]).is_err());
        assert!(EndpointRef::new(0x8000, false).emit(&mut [0u8; 3]).is_err());
    }

    #[test]
    fn endpoint_state_round_trip_and_rejects() {
        assert_eq!(EndpointState::parse(&[0xca]), Ok(EndpointState(0x0a)));
        assert!(EndpointState::parse(&[]).is_err());
        assert!(EndpointState::parse(&[1, 2]).is_err());
        assert!(EndpointState(0x40).emit(&mut [0u8; 1]).is_err());
    }
}
