//! Call, media and address-family parameters in Rust terms (`CO_CALL_PARAMETERS`,
//! `ATM_MEDIA_PARAMETERS`, `CO_ADDRESS_FAMILY`, `CO_SAP`). `windows/` converts to and from the
//! C structures; the core only ever sees these.

/// `CO_ADDRESS_FAMILY_Q2931`.
pub const CO_ADDRESS_FAMILY_Q2931: u32 = 0x1;
/// `CO_ADDRESS_FAMILY_PROXY` flag.
pub const CO_ADDRESS_FAMILY_PROXY: u32 = 0x8000_0000;

/// `CO_ADDRESS_FAMILY`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct CoAddressFamily {
    pub address_family: u32,
    pub major_version: u32,
    pub minor_version: u32,
}

impl CoAddressFamily {
    /// The one address family this call manager registers: Q.2931, UNI 3.1 (major 3, minor 1).
    pub const Q2931_UNI31: CoAddressFamily =
        CoAddressFamily { address_family: CO_ADDRESS_FAMILY_Q2931, major_version: 3, minor_version: 1 };
}

/// `CO_CALL_PARAMETERS.Flags`.
pub mod call_flags {
    pub const PERMANENT_VC: u32 = 0x1;
    pub const CALL_PARAMETERS_CHANGED: u32 = 0x2;
    pub const QUERY_CALL_PARAMETERS: u32 = 0x4;
    pub const BROADCAST_VC: u32 = 0x8;
    pub const MULTIPOINT_VC: u32 = 0x10;
}

/// `CO_MEDIA_PARAMETERS.Flags`.
pub mod media_flags {
    pub const TRANSMIT_VC: u32 = 0x4;
    pub const RECEIVE_VC: u32 = 0x8;
    pub const ROUND_DOWN_FLOW: u32 = 0x80;
    pub const ROUND_UP_FLOW: u32 = 0x100;
}

/// `ATM_AAL_TYPE`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum AalType {
    Aal0 = 1,
    Aal1 = 2,
    Aal34 = 4,
    Aal5 = 8,
}

impl AalType {
    pub const fn from_u32(v: u32) -> Option<AalType> {
        match v {
            1 => Some(AalType::Aal0),
            2 => Some(AalType::Aal1),
            4 => Some(AalType::Aal34),
            8 => Some(AalType::Aal5),
            _ => None,
        }
    }
}

/// `ATM_SERVICE_CATEGORY`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum ServiceCategory {
    Cbr = 1,
    Vbr = 2,
    Ubr = 4,
    Abr = 8,
}

impl ServiceCategory {
    pub const fn from_u32(v: u32) -> Option<ServiceCategory> {
        match v {
            1 => Some(ServiceCategory::Cbr),
            2 => Some(ServiceCategory::Vbr),
            4 => Some(ServiceCategory::Ubr),
            8 => Some(ServiceCategory::Abr),
            _ => None,
        }
    }
}

/// `ATM_FLOW_PARAMETERS` (the fields this driver honours). Rates in cells per second.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct AtmFlowParameters {
    pub service_category: ServiceCategory,
    /// Peak cell rate.
    pub pcr: u32,
    /// Sustainable cell rate (VBR).
    pub scr: u32,
    /// Maximum burst size in cells (VBR).
    pub mbs: u32,
    /// Maximum CPCS-SDU size in octets.
    pub max_sdu_size: u32,
}

impl AtmFlowParameters {
    /// UBR at `pcr`, 9188-octet SDUs (RFC 2225's default MTU).
    pub const fn ubr(pcr: u32) -> Self {
        AtmFlowParameters { service_category: ServiceCategory::Ubr, pcr, scr: 0, mbs: 0, max_sdu_size: 9188 }
    }
}

/// `ATM_VPIVCI`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct VpiVci {
    pub vpi: u16,
    pub vci: u16,
}

/// `ATM_MEDIA_PARAMETERS` (in `CO_MEDIA_PARAMETERS.MediaSpecific`, ParamType `ATM_MEDIA_SPECIFIC`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct AtmMediaParameters {
    /// The VPI/VCI of the connection. In a MakeCall the client leaves it zero and the network
    /// assigns it (Connection Identifier IE); the completed parameters carry the assigned value.
    pub connection_id: VpiVci,
    pub aal_type: AalType,
    pub transmit: AtmFlowParameters,
    pub receive: AtmFlowParameters,
}

/// `ATM_ADDRESS_TYPE`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum AtmAddressType {
    /// `SAP_TYPE_NSAP` / ATM end system address (20 octets).
    Nsap,
    /// `SAP_TYPE_E164` (up to 15 IA5 digits).
    E164,
}

/// `ATM_ADDRESS`: up to 20 octets.
#[derive(Copy, Clone, PartialEq, Eq)]
pub struct AtmAddress {
    pub kind: AtmAddressType,
    len: u8,
    octets: [u8; AtmAddress::MAX_LEN],
}

impl AtmAddress {
    pub const MAX_LEN: usize = 20;

    /// An address from its octets; `None` when longer than [`AtmAddress::MAX_LEN`] or empty.
    pub fn new(kind: AtmAddressType, octets: &[u8]) -> Option<Self> {
        if octets.is_empty() || octets.len() > Self::MAX_LEN {
            return None;
        }
        let mut buf = [0u8; Self::MAX_LEN];
        buf.get_mut(..octets.len())?.copy_from_slice(octets);
        Some(AtmAddress { kind, len: octets.len() as u8, octets: buf })
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.octets.get(..usize::from(self.len)).unwrap_or(&[])
    }
}

impl core::fmt::Debug for AtmAddress {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.kind {
            AtmAddressType::E164 => {
                f.write_str("E164:")?;
                for &b in self.as_bytes() {
                    write!(f, "{}", b as char)?;
                }
                Ok(())
            }
            AtmAddressType::Nsap => {
                f.write_str("NSAP:")?;
                for b in self.as_bytes() {
                    write!(f, "{b:02x}")?;
                }
                Ok(())
            }
        }
    }
}

/// The call parameters the call manager works with: `CO_CALL_PARAMETERS` with its
/// `CO_CALL_MANAGER_PARAMETERS` (called/calling address) and `CO_MEDIA_PARAMETERS` (ATM).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct CallParameters {
    /// [`call_flags`].
    pub flags: u32,
    /// [`media_flags`].
    pub media_flags: u32,
    pub media: AtmMediaParameters,
    /// Called party (outgoing: where to; incoming: the SAP address that matched).
    pub called: Option<AtmAddress>,
    /// Calling party, when known.
    pub calling: Option<AtmAddress>,
}

impl CallParameters {
    pub const fn is_multipoint(&self) -> bool {
        self.flags & call_flags::MULTIPOINT_VC != 0
    }
    pub const fn is_permanent(&self) -> bool {
        self.flags & call_flags::PERMANENT_VC != 0
    }
}

/// `CO_SAP` for the Q.2931 family: the address (or prefix) incoming calls are matched on.
/// An empty address is the wildcard SAP.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Sap {
    pub address: Option<AtmAddress>,
}

/// The `CloseData`/`Size` pair of ProtocolCmCloseCall / ProtocolCmDropParty, as the core sees it.
///
/// The Windows trampoline builds a slice only when `Size` is within
/// [`CloseData::MAX_SLICE`]; a larger `Size` arrives as [`CloseData::Oversized`] so the core can
/// answer it with a status without anyone touching the buffer.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum CloseData<'a> {
    /// `CloseData == NULL` or `Size == 0`.
    None,
    Bytes(&'a [u8]),
    /// `Size` larger than any signalling variant can carry.
    Oversized(usize),
}

impl<'a> CloseData<'a> {
    /// Larger than the largest user-user information any variant carries (UNI 4.0: 128 octets),
    /// small enough that the FFI layer never builds a slice over a hostile `Size`.
    pub const MAX_SLICE: usize = 4096;

    /// Classifies a raw `(present, size)` pair; `bytes` is asked for the slice only when it is
    /// non-empty and within [`CloseData::MAX_SLICE`].
    pub fn from_raw(present: bool, size: usize, bytes: impl FnOnce() -> &'a [u8]) -> Self {
        if !present || size == 0 {
            CloseData::None
        } else if size > Self::MAX_SLICE {
            CloseData::Oversized(size)
        } else {
            CloseData::Bytes(bytes())
        }
    }

    pub fn len(&self) -> usize {
        match self {
            CloseData::None => 0,
            CloseData::Bytes(b) => b.len(),
            CloseData::Oversized(n) => *n,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_data_never_builds_a_slice_over_a_hostile_size() {
        let d = CloseData::from_raw(true, usize::MAX, || panic!("slice must not be built"));
        assert_eq!(d, CloseData::Oversized(usize::MAX));
        assert_eq!(CloseData::from_raw(true, 0, || panic!("no slice for 0")), CloseData::None);
        assert_eq!(CloseData::from_raw(false, 7, || panic!("no slice for NULL")), CloseData::None);
        assert_eq!(CloseData::from_raw(true, 2, || &[1, 2]), CloseData::Bytes(&[1, 2]));
    }

    #[test]
    fn atm_address_rejects_empty_and_over_long() {
        assert!(AtmAddress::new(AtmAddressType::E164, b"").is_none());
        assert!(AtmAddress::new(AtmAddressType::Nsap, &[0; 21]).is_none());
        assert_eq!(AtmAddress::new(AtmAddressType::E164, b"123").map(|a| a.as_bytes().len()), Some(3));
    }
}
