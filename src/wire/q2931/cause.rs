//! Cause IE (0x08; Q.2931 4.5.15, Q.850, UNI 3.1 §5.4.5.15):
//!
//! ```text
//! octet 5   1 | spare(3) | location (4)
//! octet 6   1 | cause value (7)
//! octet 7-  diagnostics
//! ```
//!
//! Contents shorter than 2 or longer than 30 octets are invalid: ngatm's decoder (FreeBSD
//! `netnatm/msg/uni_ie.c`, Cause IE maximum length 34 in `ie.def` = 4 header + 30).

use super::ie::{IeBody, InvalidIe, put};
use crate::wire::Error;

/// Largest Cause IE contents (ngatm `ie.def`: maximum IE length 34, minus the 4-octet header).
pub const MAX_CONTENT: usize = 30;
/// Largest diagnostics field ([`MAX_CONTENT`] minus location and value octets).
pub const MAX_DIAGNOSTICS: usize = MAX_CONTENT - 2;

/// Cause location (Q.850 Table 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Location(pub u8);

impl Location {
    /// User.
    pub const USER: Location = Location(0);
    /// Private network serving the local user.
    pub const PRIVATE_LOCAL: Location = Location(1);
    /// Public network serving the local user.
    pub const PUBLIC_LOCAL: Location = Location(2);
    /// Transit network.
    pub const TRANSIT: Location = Location(3);
    /// Public network serving the remote user.
    pub const PUBLIC_REMOTE: Location = Location(4);
    /// Private network serving the remote user.
    pub const PRIVATE_REMOTE: Location = Location(5);
    /// International network.
    pub const INTERNATIONAL: Location = Location(7);
    /// Network beyond the interworking point.
    pub const BEYOND_INTERWORKING: Location = Location(10);
}

/// A cause value (7 bits; Q.850 / Q.2610 / UNI 3.1, values as listed by linux-atm `uni.h` and
/// ngatm `unistruct.h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CauseValue(pub u8);

impl CauseValue {
    /// #1 Unallocated (unassigned) number.
    pub const UNALLOCATED_NUMBER: CauseValue = CauseValue(1);
    /// #3 No route to destination.
    pub const NO_ROUTE: CauseValue = CauseValue(3);
    /// #16 Normal call clearing.
    pub const NORMAL_CLEARING: CauseValue = CauseValue(16);
    /// #17 User busy.
    pub const USER_BUSY: CauseValue = CauseValue(17);
    /// #18 No user responding.
    pub const NO_USER_RESPONDING: CauseValue = CauseValue(18);
    /// #21 Call rejected.
    pub const CALL_REJECTED: CauseValue = CauseValue(21);
    /// #22 Number changed.
    pub const NUMBER_CHANGED: CauseValue = CauseValue(22);
    /// #27 Destination out of order.
    pub const DESTINATION_OUT_OF_ORDER: CauseValue = CauseValue(27);
    /// #28 Invalid number format (address incomplete).
    pub const INVALID_NUMBER_FORMAT: CauseValue = CauseValue(28);
    /// #30 Response to STATUS ENQUIRY.
    pub const STATUS_ENQUIRY_RESPONSE: CauseValue = CauseValue(30);
    /// #31 Normal, unspecified.
    pub const NORMAL_UNSPECIFIED: CauseValue = CauseValue(31);
    /// #35 Requested VPCI/VCI not available.
    pub const VPCI_VCI_UNAVAILABLE: CauseValue = CauseValue(35);
    /// #38 Network out of order.
    pub const NETWORK_OUT_OF_ORDER: CauseValue = CauseValue(38);
    /// #41 Temporary failure.
    pub const TEMPORARY_FAILURE: CauseValue = CauseValue(41);
    /// #45 No VPCI/VCI available.
    pub const NO_VPCI_VCI: CauseValue = CauseValue(45);
    /// #47 Resource unavailable, unspecified.
    pub const RESOURCE_UNAVAILABLE: CauseValue = CauseValue(47);
    /// #49 Quality of service not available.
    pub const QOS_UNAVAILABLE: CauseValue = CauseValue(49);
    /// #51 User cell rate not available (UNI 3.1).
    pub const CELL_RATE_UNAVAILABLE: CauseValue = CauseValue(51);
    /// #57 Bearer capability not authorized.
    pub const BEARER_NOT_AUTHORIZED: CauseValue = CauseValue(57);
    /// #58 Bearer capability not presently available.
    pub const BEARER_NOT_AVAILABLE: CauseValue = CauseValue(58);
    /// #63 Service or option not available, unspecified.
    pub const SERVICE_UNAVAILABLE: CauseValue = CauseValue(63);
    /// #65 Bearer capability not implemented.
    pub const BEARER_NOT_IMPLEMENTED: CauseValue = CauseValue(65);
    /// #73 Unsupported combination of traffic parameters.
    pub const UNSUPPORTED_TRAFFIC: CauseValue = CauseValue(73);
    /// #78 AAL parameters cannot be supported (UNI 3.1).
    pub const AAL_UNSUPPORTED_UNI31: CauseValue = CauseValue(78);
    /// #81 Invalid call reference value.
    pub const INVALID_CALL_REF: CauseValue = CauseValue(81);
    /// #82 Identified channel does not exist.
    pub const CHANNEL_DOES_NOT_EXIST: CauseValue = CauseValue(82);
    /// #88 Incompatible destination.
    pub const INCOMPATIBLE_DESTINATION: CauseValue = CauseValue(88);
    /// #89 Invalid endpoint reference.
    pub const INVALID_ENDPOINT_REF: CauseValue = CauseValue(89);
    /// #91 Invalid transit network selection.
    pub const INVALID_TNS: CauseValue = CauseValue(91);
    /// #92 Too many pending add party requests.
    pub const TOO_MANY_ADD_PARTY: CauseValue = CauseValue(92);
    /// #93 AAL parameters cannot be supported (Q.2610).
    pub const AAL_UNSUPPORTED: CauseValue = CauseValue(93);
    /// #96 Mandatory information element is missing.
    pub const MANDATORY_IE_MISSING: CauseValue = CauseValue(96);
    /// #97 Message type non-existent or not implemented.
    pub const MESSAGE_TYPE_NOT_IMPLEMENTED: CauseValue = CauseValue(97);
    /// #99 Information element non-existent or not implemented.
    pub const IE_NOT_IMPLEMENTED: CauseValue = CauseValue(99);
    /// #100 Invalid information element contents.
    pub const INVALID_IE_CONTENTS: CauseValue = CauseValue(100);
    /// #101 Message not compatible with call state.
    pub const MESSAGE_INCOMPATIBLE_STATE: CauseValue = CauseValue(101);
    /// #102 Recovery on timer expiry.
    pub const RECOVERY_ON_TIMER_EXPIRY: CauseValue = CauseValue(102);
    /// #104 Incorrect message length.
    pub const INCORRECT_MESSAGE_LENGTH: CauseValue = CauseValue(104);
    /// #111 Protocol error, unspecified.
    pub const PROTOCOL_ERROR: CauseValue = CauseValue(111);
}

/// A Cause IE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cause {
    /// Where the cause was generated.
    pub location: Location,
    /// The cause value.
    pub value: CauseValue,
    diag: [u8; MAX_DIAGNOSTICS],
    diag_len: u8,
}

impl Cause {
    /// A cause without diagnostics.
    pub const fn new(location: Location, value: CauseValue) -> Self {
        Cause { location, value, diag: [0; MAX_DIAGNOSTICS], diag_len: 0 }
    }

    /// The same cause with `diag` as diagnostics; errors above [`MAX_DIAGNOSTICS`] octets.
    pub fn with_diagnostics(mut self, diag: &[u8]) -> Result<Self, Error> {
        let n = diag.len();
        let dst = self.diag.get_mut(..n).ok_or(Error)?;
        dst.copy_from_slice(diag);
        if let Some(rest) = self.diag.get_mut(n..) {
            rest.fill(0);
        }
        self.diag_len = u8::try_from(n).map_err(|_| Error)?;
        Ok(self)
    }

    /// #102 with the timer number as IA5 digits, e.g. `timer_expiry(*b"308")` (Q.2931 4.5.15).
    pub fn timer_expiry(location: Location, timer: [u8; 3]) -> Self {
        let mut c = Cause::new(location, CauseValue::RECOVERY_ON_TIMER_EXPIRY);
        c.diag = [0; MAX_DIAGNOSTICS];
        if let Some(d) = c.diag.get_mut(..3) {
            d.copy_from_slice(&timer);
            c.diag_len = 3;
        }
        c
    }

    /// The diagnostics field.
    pub fn diagnostics(&self) -> &[u8] {
        self.diag.get(..usize::from(self.diag_len)).unwrap_or(&[])
    }
}

impl<'a> IeBody<'a> for Cause {
    fn parse(c: &'a [u8]) -> Result<Self, InvalidIe> {
        if c.len() < 2 || c.len() > MAX_CONTENT {
            return Err(InvalidIe);
        }
        let (lv, diag) = c.split_at(2);
        let (loc, val) = match *lv {
            [l, v] => (l, v),
            _ => return Err(InvalidIe),
        };
        // Octets 5 and 6 are each the last of their group (extension bit 1): Q.2931 defines no
        // octet 5a / 6a, so a 0 there is a content error (#100), not something to mask off.
        if loc & 0x80 == 0 || val & 0x80 == 0 {
            return Err(InvalidIe);
        }
        Cause::new(Location(loc & 0x0f), CauseValue(val & 0x7f)).with_diagnostics(diag).map_err(|_| InvalidIe)
    }

    fn content_len(&self) -> usize {
        2usize.saturating_add(usize::from(self.diag_len))
    }

    fn emit(&self, out: &mut [u8]) -> Result<(), Error> {
        if self.location.0 > 0x0f || self.value.0 > 0x7f {
            return Err(Error);
        }
        let rest = put(out, &[0x80 | self.location.0, 0x80 | self.value.0])?;
        put(rest, self.diagnostics())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_release_cause_and_timer_diagnostics() {
        let c = Cause::parse(&[0x80, 0x90]).unwrap();
        assert_eq!((c.location, c.value, c.diagnostics()), (Location::USER, CauseValue(16), &[][..]));
        let t = Cause::parse(&[0x80, 0xe6, 0x33, 0x30, 0x38]).unwrap();
        assert_eq!(t, Cause::timer_expiry(Location::USER, *b"308"));
        let mut out = [0u8; 5];
        t.emit(&mut out).unwrap();
        assert_eq!(out, [0x80, 0xe6, 0x33, 0x30, 0x38]);
    }

    #[test]
    fn parse_rejects_short_and_over_long_contents() {
        assert_eq!(Cause::parse(&[]), Err(InvalidIe));
        assert_eq!(Cause::parse(&[0x80]), Err(InvalidIe));
        assert!(Cause::parse(&[0x80u8; 30]).is_ok());
        assert_eq!(Cause::parse(&[0x80u8; 31]), Err(InvalidIe));
    }

    #[test]
    fn a_cause_octet_without_its_extension_bit_is_invalid() {
        assert_eq!(Cause::parse(&[0x80, 0x10]), Err(InvalidIe));
        assert_eq!(Cause::parse(&[0x00, 0x90]), Err(InvalidIe));
        assert!(Cause::parse(&[0x80, 0x90]).is_ok());
    }

    #[test]
    fn diagnostics_limit_enforced_on_build_and_emit() {
        let c = Cause::new(Location::USER, CauseValue(100));
        assert!(c.with_diagnostics(&[0u8; MAX_DIAGNOSTICS]).is_ok());
        assert_eq!(c.with_diagnostics(&[0u8; MAX_DIAGNOSTICS + 1]), Err(Error));
        let mut out = [0u8; 3];
        assert_eq!(c.with_diagnostics(&[1, 2]).unwrap().emit(&mut out), Err(Error));
        assert_eq!(Cause::new(Location(16), CauseValue(1)).emit(&mut out), Err(Error));
        assert_eq!(Cause::new(Location(0), CauseValue(128)).emit(&mut out), Err(Error));
    }
}
