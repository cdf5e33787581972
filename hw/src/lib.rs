//! The lab: the world the atmmcm driver core lives in when no NIC is present.
pub mod clock;
pub mod host;
