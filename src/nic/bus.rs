//! The register-level seam under [`super::regnic::RegNic`]: BAR0 register access and DMA memory
//! shared with the NIC. Everything the driver does to the hardware goes through [`Bus`], so the
//! driver itself holds no `unsafe`.
//!
//! On Windows a `Bus` is a thin wrapper over what MiniportInitializeEx obtains:
//! - `read32`/`write32`: BAR0 mapped with `NdisMMapIoSpace` (a `*mut u8` and the BAR length);
//!   `READ_REGISTER_ULONG` / `WRITE_REGISTER_ULONG` (volatile, ordered w.r.t. other MMIO) at
//!   `base + off` after checking `off + 4 <= len` and 4-byte alignment (out of range: read
//!   returns `!0`, write is dropped).
//! - `dma_alloc`: `NdisMAllocateSharedMemory(handle, len, cached = FALSE, &va, &pa)` (PASSIVE);
//!   the [`DmaRegion`] keeps `pa` as `bus_addr` and `va` as `host` (an address, not a pointer,
//!   so the core stays `unsafe`-free); `dma_free` calls `NdisMFreeSharedMemory` with both.
//! - `dma_read`/`dma_write`: bounds-checked against `len`, then a volatile byte copy to/from
//!   `host + off` (`core::ptr::copy_nonoverlapping` on uncached common buffer).
//! - `dma_read32_acquire`: a volatile `u32` load of `host + off` followed by an acquire fence
//!   (`KeMemoryBarrier` on ARM64); `dma_write32_release`: a release fence, then one volatile
//!   `u32` store — so every plain write to the descriptor and its buffer is visible to the NIC
//!   before the `OWN` bit is. On x86 both are compiler fences plus the store.
//!
//! Those bodies live in `src/windows/` (one unsafe op per block, each with a SAFETY comment).

/// A block of DMA-able memory shared with the NIC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DmaRegion {
    /// The address the NIC uses (physical / logical address).
    pub bus_addr: u64,
    /// Octets.
    pub len: usize,
    /// The host-side handle (Windows: the mapped virtual address; the lab: unused).
    pub host: usize,
}

impl DmaRegion {
    /// Bus address of octet `off`, if inside the region.
    pub fn bus_at(&self, off: usize) -> Option<u64> {
        if off >= self.len {
            return None;
        }
        self.bus_addr.checked_add(u64::try_from(off).ok()?)
    }
}

/// A DMA access outside its region (the access did nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OutOfRange;

/// Register and DMA access to one NIC. Little-endian registers and descriptor words.
pub trait Bus: Send + Sync + 'static {
    /// Reads the 32-bit register at BAR0 offset `off`.
    fn read32(&self, off: u32) -> u32;
    /// Writes the 32-bit register at BAR0 offset `off`.
    fn write32(&self, off: u32, v: u32);
    /// Allocates `len` octets of zeroed DMA memory, 64-byte aligned (initialization only).
    fn dma_alloc(&self, len: usize) -> Option<DmaRegion>;
    /// Frees a region from [`Bus::dma_alloc`] (after the NIC was reset).
    fn dma_free(&self, r: DmaRegion);
    /// Copies `dst.len()` octets at `off` of `r` into `dst`.
    fn dma_read(&self, r: &DmaRegion, off: usize, dst: &mut [u8]) -> Result<(), OutOfRange>;
    /// Copies `src` to `off` of `r` (plain stores; ordered before a later release write).
    fn dma_write(&self, r: &DmaRegion, off: usize, src: &[u8]) -> Result<(), OutOfRange>;
    /// Reads a little-endian descriptor word; later reads see what the NIC wrote before it
    /// (acquire). Out of range reads 0.
    fn dma_read32_acquire(&self, r: &DmaRegion, off: usize) -> u32;
    /// Writes a little-endian descriptor word after every earlier write (release): the store
    /// that hands a descriptor over with `OWN`.
    fn dma_write32_release(&self, r: &DmaRegion, off: usize, v: u32) -> Result<(), OutOfRange>;
    /// Writes a little-endian descriptor word (plain store).
    fn dma_write32(&self, r: &DmaRegion, off: usize, v: u32) -> Result<(), OutOfRange> {
        self.dma_write(r, off, &v.to_le_bytes())
    }
}
