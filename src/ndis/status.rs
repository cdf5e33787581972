//! `NDIS_STATUS` with the real values (mingw-w64 `ndis.h`; `condis-contract.md` §2).

use core::fmt;

/// An `NDIS_STATUS` value. `repr(transparent)` over the C `int`, so it crosses FFI as is.
#[derive(Copy, Clone, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct NdisStatus(pub i32);

macro_rules! statuses {
    ($($name:ident = $val:expr,)*) => {
        impl NdisStatus {
            $(pub const $name: NdisStatus = NdisStatus($val as u32 as i32);)*

            /// The `NDIS_STATUS_*` name without its prefix, if this is a value we know.
            pub const fn name(self) -> Option<&'static str> {
                match self.0 as u32 {
                    $(v if v == $val => Some(stringify!($name)),)*
                    _ => None,
                }
            }
        }
    };
}

statuses! {
    SUCCESS = 0x0000_0000u32,
    PENDING = 0x0000_0103u32,
    NOT_RECOGNIZED = 0x0001_0001u32,
    NOT_ACCEPTED = 0x0001_0003u32,
    CALL_ACTIVE = 0x0001_0007u32,
    RESET_START = 0x4001_0004u32,
    RESET_END = 0x4001_0005u32,
    CLOSED = 0x4001_0007u32,
    MEDIA_CONNECT = 0x4001_000Bu32,
    MEDIA_DISCONNECT = 0x4001_000Cu32,
    LINK_STATE = 0x4001_0017u32,
    FAILURE = 0xC000_0001u32,
    INVALID_PARAMETER = 0xC000_000Du32,
    RESOURCES = 0xC000_009Au32,
    NOT_SUPPORTED = 0xC000_00BBu32,
    INVALID_STATE = 0xC000_0184u32,
    CLOSING = 0xC001_0002u32,
    REQUEST_ABORTED = 0xC001_000Cu32,
    RESET_IN_PROGRESS = 0xC001_000Du32,
    INVALID_PACKET = 0xC001_000Fu32,
    INVALID_LENGTH = 0xC001_0014u32,
    INVALID_DATA = 0xC001_0015u32,
    BUFFER_TOO_SHORT = 0xC001_0016u32,
    INVALID_OID = 0xC001_0017u32,
    INVALID_SAP = 0xC001_0020u32,
    SAP_IN_USE = 0xC001_0021u32,
    INVALID_ADDRESS = 0xC001_0022u32,
    VC_NOT_ACTIVATED = 0xC001_0023u32,
    DEST_OUT_OF_ORDER = 0xC001_0024u32,
    VC_NOT_AVAILABLE = 0xC001_0025u32,
    CELLRATE_NOT_AVAILABLE = 0xC001_0026u32,
    INCOMPATABLE_QOS = 0xC001_0027u32,
    AAL_PARAMS_UNSUPPORTED = 0xC001_0028u32,
    NO_ROUTE_TO_DESTINATION = 0xC001_0029u32,
    SEND_ABORTED = 0xC023_000Cu32,
    PAUSED = 0xC023_002Au32,
}

impl NdisStatus {
    /// `NT_SUCCESS`-style test: success and informational values (not errors).
    pub const fn is_success(self) -> bool {
        self.0 >= 0
    }
    /// An error value (severity bits 11).
    pub const fn is_error(self) -> bool {
        self.0 < 0
    }
}

impl fmt::Debug for NdisStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "NDIS_STATUS_{n}"),
            None => write!(f, "NDIS_STATUS(0x{:08X})", self.0 as u32),
        }
    }
}

impl fmt::Display for NdisStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn status_values_match_ndis_h() {
        assert_eq!(NdisStatus::PENDING.0, 0x103);
        assert_eq!(NdisStatus::CLOSING.0 as u32, 0xC001_0002);
        assert_eq!(NdisStatus::INVALID_DATA.0 as u32, 0xC001_0015);
        assert_eq!(NdisStatus::DEST_OUT_OF_ORDER.0 as u32, 0xC001_0024);
        assert!(NdisStatus::LINK_STATE.is_success());
        assert!(NdisStatus::FAILURE.is_error());
    }

    #[test]
    fn status_debug_prints_ndis_name_or_hex() {
        assert_eq!(format!("{:?}", NdisStatus::CLOSING), "NDIS_STATUS_CLOSING");
        assert_eq!(format!("{}", NdisStatus(0x1234)), "NDIS_STATUS(0x00001234)");
    }
}
