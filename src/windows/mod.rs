//! cfg(windows) only: the driver's Windows layer.
//!
//! - [`ffi`]: our own declarations of the NDIS 6 / kernel surface (wdk-sys has no NDIS), checked
//!   against mingw-w64's headers and import libraries by `scripts/ffi-check`.
//! - [`miniport`]: DriverEntry, MiniportSetOptions, MiniportInitializeEx .. MiniportHaltEx,
//!   interrupt, timer and DPC routines, data-path and OID trampolines.
//! - [`cm`]: the call-manager trampolines (one per PROTOCOL_CM_* / PROTOCOL_CO_* role type).
//! - [`win_ndis`]: [`WinNdis`], the core's [`Ndis`](crate::Ndis) seam over NDIS (NBL walking, the
//!   RX NBL pool, timer, DPC, contexts).
//! - [`device`]: [`WinDevice`], the NIC: `RegNic` (the ATM1 register map) over [`WinBus`].
//! - [`bus`] / [`busmem`]: [`WinBus`], the register/DMA seam over `NdisMMapIoSpace` and
//!   `NdisMAllocateSharedMemory`; its checked MMIO window and shared-memory table.
//! - [`lock`]: the spin lock behind `Ndis::RawLock`.
//! - [`cparams`] / [`ctx`] / [`registry`]: C parameter conversions, context words, configuration.
//! - [`freelist`]: fallible allocation and the bounded free lists (host-tested).
//! - [`teardown`]: the halt order (host-tested).
//! - [`rt`]: global allocator (alignment-honouring), panic handler, `_fltused`, `__chkstk`.

pub mod align;
pub mod bus;
pub mod busmem;
pub mod cm;
pub mod cparams;
pub mod ctx;
pub mod device;
pub mod ffi;
pub mod freelist;
pub mod lock;
pub mod miniport;
pub mod netaddr;
pub mod registry;
pub mod rt;
pub mod teardown;
pub mod win_ndis;

pub use bus::WinBus;
pub use device::WinDevice;
pub use miniport::WinAdapter;
pub use win_ndis::WinNdis;
