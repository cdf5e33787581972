//! [`WinBus`]: the register/DMA seam ([`Bus`]) over what MiniportInitializeEx obtains — BAR 0
//! mapped with `NdisMMapIoSpace`, shared memory from `NdisMAllocateSharedMemory` (which needs the
//! scatter-gather DMA registration `initialize_slot` makes first).
//!
//! The checked accesses live in [`busmem`](super::busmem); this file only adds the NDIS calls:
//! mapping and unmapping the BAR, allocating blocks (over-allocated by `DMA_ALIGN - 1` and
//! aligned, since NDIS documents no alignment) and giving them back when the bus is dropped
//! (`RegNic` resets the NIC before it frees, so the NIC no longer writes them). PASSIVE_LEVEL for
//! `map`, `dma_alloc` and the drop; every other method runs at any IRQL.

use super::busmem::{self, DmaTable, Mmio, Raw};
use super::ffi::*;
use crate::ndis::NdisStatus;
use crate::nic::bus::{Bus, DmaRegion, OutOfRange};

/// `Cached` for NdisMAllocateSharedMemory / NdisMFreeSharedMemory (ignored on x86/x64; the two
/// calls must agree).
const CACHED: BOOLEAN = 0;

pub struct WinBus {
    /// MiniportAdapterHandle (for the shared-memory and unmap calls).
    adapter: usize,
    mmio: Mmio,
    /// The length passed to NdisMMapIoSpace (0: nothing mapped).
    mapped_len: u32,
    dma: DmaTable,
}

impl WinBus {
    /// Maps the adapter's first memory BAR. `ADAPTER_NOT_FOUND` when the resource list has none.
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
        if st != NDIS_STATUS_SUCCESS || va.is_null() {
            return Err(NdisStatus(if st == NDIS_STATUS_SUCCESS { NDIS_STATUS_RESOURCES } else { st }));
        }
        // SAFETY: NdisMMapIoSpace mapped `len` octets of device memory at `va` (page-aligned)
        // until NdisMUnmapIoSpace in Drop.
        let mmio = unsafe { Mmio::new(va.cast(), len as usize) };
        Ok(WinBus {
            adapter: adapter as usize,
            mmio,
            mapped_len: len,
            dma: DmaTable::new(),
        })
    }

    /// The mapped BAR length.
    pub fn bar_len(&self) -> usize {
        self.mmio.len()
    }

    fn free_raw(&self, raw: Raw) {
        let Ok(len) = u32::try_from(raw.got) else { return };
        let Ok(pa) = i64::try_from(raw.pa) else { return };
        // SAFETY: the block came from NdisMAllocateSharedMemory on this adapter with this length
        // and Cached value; nothing refers to it any more (table drained); PASSIVE (halt / failed
        // initialisation).
        unsafe {
            NdisMFreeSharedMemory(self.adapter as NDIS_HANDLE, len, CACHED, raw.va.cast(), LARGE_INTEGER { QuadPart: pa })
        };
    }
}

impl Bus for WinBus {
    fn read32(&self, off: u32) -> u32 {
        self.mmio.read32(off)
    }

    fn write32(&self, off: u32, v: u32) {
        self.mmio.write32(off, v);
    }

    fn dma_alloc(&self, len: usize) -> Option<DmaRegion> {
        let ask = busmem::alloc_request(len)?;
        let mut va: PVOID = core::ptr::null_mut();
        let mut pa = LARGE_INTEGER { QuadPart: 0 };
        // SAFETY: PASSIVE (RegNic::new, from MiniportInitializeEx) after
        // NdisMRegisterScatterGatherDma; both out-pointers are locals.
        unsafe { NdisMAllocateSharedMemory(self.adapter as NDIS_HANDLE, ask, CACHED, &mut va, &mut pa) };
        if va.is_null() {
            return None;
        }
        let raw = Raw {
            va: va.cast(),
            pa: pa.QuadPart as u64,
            got: ask as usize,
        };
        // SAFETY: NDIS just gave us `ask` octets at `va`, used by nothing else.
        let region = unsafe { self.dma.insert(raw.va, raw.pa, raw.got, len) };
        if region.is_none() {
            self.free_raw(raw);
        }
        region
    }

    fn dma_free(&self, r: DmaRegion) {
        // Released with the bus (Drop): a `&self` free cannot race a copy into the block.
        self.dma.retire(&r);
    }

    fn dma_read(&self, r: &DmaRegion, off: usize, dst: &mut [u8]) -> Result<(), OutOfRange> {
        self.dma.read(r, off, dst)
    }

    fn dma_write(&self, r: &DmaRegion, off: usize, src: &[u8]) -> Result<(), OutOfRange> {
        self.dma.write(r, off, src)
    }

    fn dma_read32_acquire(&self, r: &DmaRegion, off: usize) -> u32 {
        self.dma.read32_acquire(r, off)
    }

    fn dma_write32_release(&self, r: &DmaRegion, off: usize, v: u32) -> Result<(), OutOfRange> {
        self.dma.write32_release(r, off, v)
    }

    fn dma_write32(&self, r: &DmaRegion, off: usize, v: u32) -> Result<(), OutOfRange> {
        self.dma.write32(r, off, v)
    }
}

/// Gives every shared-memory block back, then unmaps the BAR (MiniportHaltEx / failed
/// initialisation, PASSIVE; `RegNic`'s drop has reset the NIC first).
impl Drop for WinBus {
    fn drop(&mut self) {
        let mut blocks: [Option<Raw>; busmem::DMA_SLOTS] = [None; busmem::DMA_SLOTS];
        let mut n = 0;
        self.dma.drain(|raw| {
            if let Some(b) = blocks.get_mut(n) {
                *b = Some(raw);
                n += 1;
            }
        });
        for raw in blocks.into_iter().flatten() {
            self.free_raw(raw);
        }
        let base = self.mmio.base();
        if !base.is_null() {
            self.mmio = Mmio::none();
            // SAFETY: the mapping came from NdisMMapIoSpace with this length for this adapter,
            // and no access can follow (`&mut self`, the window is gone from `mmio`).
            unsafe { NdisMUnmapIoSpace(self.adapter as NDIS_HANDLE, base.cast(), self.mapped_len) };
        }
    }
}
