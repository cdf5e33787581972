//! The CoNDIS call-manager face: address family, SAP, call and party objects, the ProtocolCm*
//! request logic, and the mapping between NDIS requests and UNI signalling.

pub(crate) mod completions;
pub mod control;
pub mod index;
pub mod objects;
pub mod ops;
pub(crate) mod requests;

pub use control::{CloseOutcome, Control, Env, LiveCounts};
