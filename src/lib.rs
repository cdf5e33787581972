//! atmmcm: a CoNDIS integrated call-manager (MCM) miniport for an ATM-style NIC.
//!
//! One driver is both the data path (VCs, AAL5 frames, per-VC lock-free rings) and the call
//! manager (UNI 3.1/4.0 signalling over SSCOP on VPI 0 / VCI 5). The core is `no_std` + alloc and
//! talks to the world through two seams: [`ndis::Ndis`] (every NDIS call the driver makes) and
//! [`nic::Device`] (the NIC). `windows/` binds them to the real NDIS; the `atmmcm-hw` lab binds
//! them to an emulated NDIS, NIC and ATM network.
//!
//! The core never panics: bad input from the network or a client ends in an
//! [`ndis::NdisStatus`] or a Q.2931 cause.
#![no_std]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented
    )
)]
#![deny(clippy::undocumented_unsafe_blocks, clippy::multiple_unsafe_ops_per_block)]

extern crate alloc;
// Off Windows (the lab, tests, the Linux cdylib) std supplies the panic handler and allocator.
// Nothing in the core names a `std::` path; the Windows cross build (scripts/build-sys) proves it.
#[cfg(any(test, not(windows)))]
extern crate std;

pub mod adapter;
pub mod cm;
pub mod config;
pub mod datapath;
pub mod msgq;
pub mod ndis;
pub mod nic;
pub mod ring;
pub mod saal;
pub mod uni;
pub mod vc;
pub mod wire;

#[cfg(windows)]
pub mod windows;

pub use adapter::Adapter;
pub use config::{Config, SignallingVariant};
pub use ndis::{Ndis, NdisStatus};
