//! [`WinBus`]: the register/DMA seam ([`Bus`](crate::nic::bus::Bus)) over what
//! MiniportInitializeEx obtains — BAR 0 mapped with `NdisMMapIoSpace`, shared memory from
//! `NdisMAllocateSharedMemory` (which needs the scatter-gather DMA registration `initialize_slot`
//! makes first).
//!
//! The checked accesses and the block table are [`MemBus`](super::busmem::MemBus) (host-tested);
//! this file is only the NDIS [`Platform`]: map / unmap the BAR, allocate / free shared memory.
//! Blocks are over-allocated by `DMA_ALIGN - 1` and aligned, since NDIS documents no alignment.
//! PASSIVE_LEVEL for `map`, `dma_alloc` and the drop; the accesses run at any IRQL.

use super::busmem::{MemBus, Mmio, Platform, Raw};
use super::ffi::*;
use crate::ndis::NdisStatus;

/// `Cached` for NdisMAllocateSharedMemory / NdisMFreeSharedMemory (ignored on x86/x64; the two
/// calls must agree).
const CACHED: BOOLEAN = 0;

/// The NIC's bus on Windows.
pub type WinBus = MemBus<NdisPlatform>;

/// NDIS as a [`Platform`]: the adapter handle and the mapped BAR length.
pub struct NdisPlatform {
    /// MiniportAdapterHandle.
    adapter: usize,
    /// The length passed to NdisMMapIoSpace.
    bar_len: u32,
}

/// Maps the adapter's first memory BAR into a [`WinBus`]. `ADAPTER_NOT_FOUND` when the resource
/// list has none.
///
/// # Safety
/// `resources` is NULL or the `AllocatedResources` list NDIS passed to MiniportInitializeEx;
/// `adapter` is the MiniportAdapterHandle, with scatter-gather DMA already registered; PASSIVE.
pub unsafe fn map(adapter: NDIS_HANDLE, resources: PNDIS_RESOURCE_LIST) -> Result<WinBus, NdisStatus> {
    // SAFETY: caller's contract.
    let bar = unsafe { super::device::first_resource(resources, CmResourceTypeMemory) };
    let Some((start, len)) = bar.map(|d| d.memory()) else {
        return Err(NdisStatus(NDIS_STATUS_ADAPTER_NOT_FOUND));
    };
    if len == 0 {
        return Err(NdisStatus(NDIS_STATUS_ADAPTER_NOT_FOUND));
    }
    let mut va: PVOID = core::ptr::null_mut();
    // SAFETY: maps the BAR NDIS assigned to this adapter; PASSIVE.
    let st = unsafe { NdisMMapIoSpace(&mut va, adapter, LARGE_INTEGER { QuadPart: start }, len) };
    if st != NDIS_STATUS_SUCCESS {
        return Err(NdisStatus(st));
    }
    let platform = NdisPlatform { adapter: adapter as usize, bar_len: len };
    if va.is_null() {
        return Err(NdisStatus(NDIS_STATUS_RESOURCES));
    }
    // SAFETY: NdisMMapIoSpace mapped `len` octets of device memory at `va` (page-aligned), until
    // the bus's drop calls `unmap_bar`.
    let mmio = unsafe { Mmio::new(va.cast(), len as usize) };
    if mmio.is_empty() {
        // SAFETY: just mapped, never accessed.
        unsafe { platform.unmap_bar(va.cast()) };
        return Err(NdisStatus(NDIS_STATUS_RESOURCES));
    }
    Ok(MemBus::new(mmio, platform))
}

impl Platform for NdisPlatform {
    fn alloc_shared(&self, len: u32) -> Option<(*mut u8, u64)> {
        let mut va: PVOID = core::ptr::null_mut();
        let mut pa = LARGE_INTEGER { QuadPart: 0 };
        // SAFETY: PASSIVE (RegNic::new, from MiniportInitializeEx) after
        // NdisMRegisterScatterGatherDma; both out-pointers are locals.
        unsafe { NdisMAllocateSharedMemory(self.adapter as NDIS_HANDLE, len, CACHED, &mut va, &mut pa) };
        if va.is_null() {
            return None;
        }
        Some((va.cast(), pa.QuadPart as u64))
    }

    unsafe fn free_shared(&self, raw: Raw) {
        let Ok(len) = u32::try_from(raw.got) else { return };
        // SAFETY: the block came from NdisMAllocateSharedMemory on this adapter with this length
        // and Cached value, and nothing refers to it (caller); PASSIVE (halt / failed init).
        unsafe {
            NdisMFreeSharedMemory(
                self.adapter as NDIS_HANDLE,
                len,
                CACHED,
                raw.va.cast(),
                LARGE_INTEGER { QuadPart: raw.pa as i64 },
            )
        };
    }

    unsafe fn unmap_bar(&self, base: *mut u8) {
        // SAFETY: the mapping came from NdisMMapIoSpace with this length for this adapter, and no
        // access follows (caller).
        unsafe { NdisMUnmapIoSpace(self.adapter as NDIS_HANDLE, base.cast(), self.bar_len) };
    }
}
