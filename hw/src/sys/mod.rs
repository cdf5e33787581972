//! The sys-lab: the real `atmmcm.sys` (from `scripts/build-sys`) running in this process.
//!
//! Design:
//! - [`pe`] maps the PE32+ image with the `object` crate (sections with their protections, DIR64
//!   relocations, imports bound by name to [`imports`]; a missing host function fails the load
//!   naming the import).
//! - [`ndis`], [`config`], [`interrupt`], [`cm`], [`data`], [`nbl`], [`kernel`]: NDIS.SYS and
//!   ntoskrnl.exe as `extern "win64"` functions ([`config`]: the adapter's registry key as REG_SZ /
//!   REG_DWORD values; [`interrupt`]: one interrupt lock at DIRQL shared by the ISR,
//!   Disable/EnableInterrupt and NdisMSynchronizeWithInterruptEx). Every structure is read and written with [`layout`], the harness's own reading of
//!   `shared/reference/ndis6-facts.tsv` (never `src/windows/ffi.rs`), and validated as NDIS would
//!   (header type / revision / size, attribute flags, handlers). Refusals and broken kernel rules
//!   are "findings" with a `SYS-*` rule id; the CoNDIS calls go to the lab's [`EmuNdis`](crate::host::EmuNdis)
//!   and so to the existing verifier with its rule ids.
//! - [`driver::SysDriver`] implements the lab's [`Driver`](crate::host::Driver) by calling the
//!   handler pointers the image registered, so the same `EmuNdis`, client, NIC model and network
//!   run either driver.
//! - [`trap`]: BAR0 is a no-access window; a SIGSEGV handler decodes the faulting instruction
//!   (iced-x86), performs it on the ATM1 model's registers and moves RIP on. The same handler
//!   serves KUSER_SHARED_DATA interrupt-time reads (lab clock) and `mov cr8` (per-thread IRQL).
//!   DMA memory is host memory the model reads and writes directly.
//! - Threads and stacks: DriverEntry runs on its own thread with a 24 KiB stack (the x64 kernel
//!   stack), host functions included. Later entries run on the calling lab thread: there the
//!   host's own (debug-build) frames for EmuNdis and the verifier do not fit in 24 KiB beside the
//!   driver (tried: MiniportInitializeEx overflows), so [`SysDriver::max_stack_depth`] measures
//!   the deepest driver stack below any entry instead (sampled at every host call and every
//!   trap), and the tests assert it fits.
//! - KeBugCheckEx prints the code and the symbolised caller (link map) and aborts the test
//!   process: a driver frame cannot be unwound.
//!
//! x86_64 Linux only.

pub mod cm;
pub mod config;
pub mod cparams;
pub mod data;
pub mod driver;
pub mod host;
pub mod imports;
pub mod interrupt;
pub mod kernel;
pub mod layout;
pub mod linkmap;
pub mod nbl;
pub mod ndis;
pub mod pe;
pub mod rule;
pub mod trap;

pub use driver::{SysDriver, default_image_path, inf_defaults};
pub use pe::LoadError;

#[cfg(test)]
mod rule_tests;
#[cfg(test)]
mod tests;
