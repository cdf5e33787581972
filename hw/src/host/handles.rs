//! The handles the emulated NDIS hands out: small ids, allocated from one counter and never reused,
//! so a stale handle is always recognisable.

use std::fmt;

macro_rules! handle {
    ($(#[$m:meta])* $name:ident, $prefix:literal) => {
        $(#[$m])*
        #[derive(Copy, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u32);

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }
        impl atmmcm::ndis::Handle for $name {
            fn to_word(self) -> usize {
                self.0 as usize
            }
            fn from_word(word: usize) -> Self {
                $name(word as u32)
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(self, f)
            }
        }
    };
}

handle!(
    /// `NdisAfHandle`.
    AfHandle, "af"
);
handle!(
    /// `NdisSapHandle`.
    SapHandle, "sap"
);
handle!(
    /// `NdisVcHandle`.
    VcHandle, "vc"
);
handle!(
    /// `NdisPartyHandle`.
    PartyHandle, "party"
);
handle!(
    /// The client's `PCO_CALL_PARAMETERS` of a pended request, as an id.
    ClientParams, "cp"
);
handle!(
    /// A `NET_BUFFER_LIST`: an id into the emulated NDIS's NBL pool.
    Nbl, "nbl"
);
