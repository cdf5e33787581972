//! The kernel-independent body of [`WinBus`](super::bus::WinBus): [`MemBus`], the [`Bus`] over a
//! BAR window ([`Mmio`]) and a table of shared-memory blocks ([`DmaTable`]), with the address
//! arithmetic both check with. Where the memory comes from is a [`Platform`].
//!
//! Nothing here calls NDIS: `bus.rs` supplies the NDIS platform (`NdisMMapIoSpace`,
//! `NdisMAllocateSharedMemory`, ...), and `tests/winbus_host.rs` runs the same code — `RegNic`
//! included — over heap memory on the host.
//!
//! Every access is checked before a pointer is formed: a register offset must be 4-aligned and
//! inside the BAR; a DMA access must name a live block of the table (a forged or freed
//! [`DmaRegion`] is refused) and lie inside its requested length. Freed blocks stay mapped until
//! the table is drained (`&mut`, so no access can be running then): `dma_free` through `&self`
//! never races a copy into released memory.

use core::sync::atomic::{AtomicPtr, AtomicU8, AtomicU64, AtomicUsize, Ordering, compiler_fence, fence};

use crate::nic::bus::{Bus, DmaRegion, OutOfRange};

/// Alignment of every DMA block handed out ([`crate::nic::bus::Bus::dma_alloc`]'s contract).
pub const DMA_ALIGN: usize = 64;
/// Live or retired blocks one bus can hold (`RegNic` allocates six).
pub const DMA_SLOTS: usize = 8;

/// Byte index of the 32-bit register at `off` in a BAR of `len` octets: 4-aligned and inside.
pub fn reg_index(len: usize, off: u32) -> Option<usize> {
    let off = usize::try_from(off).ok()?;
    if off % 4 != 0 {
        return None;
    }
    span(len, off, 4)
}

/// `off` when `n` octets at `off` fit in `len` (no overflow on hostile values).
pub fn span(len: usize, off: usize, n: usize) -> Option<usize> {
    let end = off.checked_add(n)?;
    (end <= len).then_some(off)
}

/// The length to ask `NdisMAllocateSharedMemory` for so that a [`DMA_ALIGN`]-aligned block of
/// `want` octets fits inside: `want + DMA_ALIGN - 1`, as a ULONG. None for 0 or too large.
pub fn alloc_request(want: usize) -> Option<u32> {
    if want == 0 {
        return None;
    }
    u32::try_from(want.checked_add(DMA_ALIGN - 1)?).ok()
}

/// Offset from an allocation (`va`, `pa`, `got` octets) to its first [`DMA_ALIGN`]-aligned octet,
/// if `want` octets fit from there. The virtual and bus addresses must agree modulo
/// [`DMA_ALIGN`] (they do for a common buffer: one mapping, page-granular), and the aligned bus
/// range must not wrap.
pub fn align_adjust(va: usize, pa: u64, got: usize, want: usize) -> Option<usize> {
    let mis = va % DMA_ALIGN;
    if u64::try_from(mis).ok()? != pa % DMA_ALIGN as u64 {
        return None;
    }
    let adj = (DMA_ALIGN - mis) % DMA_ALIGN;
    span(got, adj, want)?;
    let last = u64::try_from(adj.checked_add(want)?).ok()?;
    pa.checked_add(last)?;
    va.checked_add(adj.checked_add(want)?)?;
    Some(adj)
}

/// A mapped BAR: volatile, 4-aligned, bounds-checked 32-bit accesses.
pub struct Mmio {
    base: *mut u8,
    len: usize,
}

// SAFETY: the window is device memory; every access is one volatile 32-bit load or store, which
// the device serializes itself, so sharing the pointer across processors is sound.
unsafe impl Send for Mmio {}
// SAFETY: as above: `&Mmio` only ever performs single volatile accesses.
unsafe impl Sync for Mmio {}

impl Mmio {
    /// No BAR: every read returns `!0`, every write is dropped.
    pub const fn none() -> Mmio {
        Mmio { base: core::ptr::null_mut(), len: 0 }
    }

    /// A window of `len` octets at `base`.
    ///
    /// # Safety
    /// `base` is NULL (then `len` is ignored) or valid for volatile reads and writes of `len`
    /// octets, 4-aligned, for the life of the value.
    pub unsafe fn new(base: *mut u8, len: usize) -> Mmio {
        if base.is_null() || base.align_offset(4) != 0 {
            return Mmio::none();
        }
        Mmio { base, len }
    }

    /// The mapped base (NULL for none).
    pub fn base(&self) -> *mut u8 {
        self.base
    }

    /// Octets mapped.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is mapped.
    pub fn is_empty(&self) -> bool {
        self.base.is_null() || self.len == 0
    }

    fn reg(&self, off: u32) -> Option<*mut u32> {
        if self.base.is_null() {
            return None;
        }
        let i = reg_index(self.len, off)?;
        // `wrapping_add` within the window (checked above) is an in-bounds offset.
        Some(self.base.wrapping_add(i).cast::<u32>())
    }

    /// `READ_REGISTER_ULONG`: a compiler barrier, then one volatile load. Out of range: `!0`
    /// (what a read of an absent PCI device returns).
    pub fn read32(&self, off: u32) -> u32 {
        let Some(p) = self.reg(off) else { return !0 };
        compiler_fence(Ordering::SeqCst);
        // SAFETY: `p` is 4-aligned and inside the window `new` was promised to be valid for.
        u32::from_le(unsafe { p.read_volatile() })
    }

    /// `WRITE_REGISTER_ULONG`: one volatile store, then a full fence (the x64 WDK inline follows
    /// the store with a locked operation). Out of range: dropped.
    pub fn write32(&self, off: u32, v: u32) {
        let Some(p) = self.reg(off) else { return };
        // SAFETY: as in `read32`.
        unsafe { p.write_volatile(v.to_le()) };
        fence(Ordering::SeqCst);
    }
}

/// Slot states.
mod st {
    pub const FREE: u8 = 0;
    /// Being filled by `insert`.
    pub const CLAIMED: u8 = 1;
    pub const LIVE: u8 = 2;
    /// Freed by the driver; still mapped until `drain`.
    pub const RETIRED: u8 = 3;
}

/// One shared-memory block: what `NdisMAllocateSharedMemory` returned, and the aligned part
/// handed out.
struct Slot {
    state: AtomicU8,
    va: AtomicPtr<u8>,
    pa: AtomicU64,
    got: AtomicUsize,
    adj: AtomicUsize,
    want: AtomicUsize,
}

impl Slot {
    const fn new() -> Slot {
        Slot {
            state: AtomicU8::new(st::FREE),
            va: AtomicPtr::new(core::ptr::null_mut()),
            pa: AtomicU64::new(0),
            got: AtomicUsize::new(0),
            adj: AtomicUsize::new(0),
            want: AtomicUsize::new(0),
        }
    }

    /// The aligned base, if the slot is live and `r` names it exactly.
    fn base_for(&self, r: &DmaRegion) -> Option<*mut u8> {
        if self.state.load(Ordering::Acquire) != st::LIVE {
            return None;
        }
        let va = self.va.load(Ordering::Relaxed);
        let adj = self.adj.load(Ordering::Relaxed);
        let base = va.wrapping_add(adj);
        let pa = self.pa.load(Ordering::Relaxed);
        let matches = base.addr() == r.host
            && pa.checked_add(adj as u64) == Some(r.bus_addr)
            && self.want.load(Ordering::Relaxed) == r.len;
        matches.then_some(base)
    }
}

/// An allocation to give back (from [`DmaTable::drain`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Raw {
    pub va: *mut u8,
    pub pa: u64,
    /// The length passed to the allocator.
    pub got: usize,
}

/// The shared-memory blocks of one bus.
pub struct DmaTable {
    slots: [Slot; DMA_SLOTS],
}

impl Default for DmaTable {
    fn default() -> Self {
        DmaTable::new()
    }
}

impl DmaTable {
    pub const fn new() -> DmaTable {
        DmaTable { slots: [const { Slot::new() }; DMA_SLOTS] }
    }

    /// Records a fresh allocation of `got` octets at `va` / `pa` and zeroes the aligned `want`
    /// octets. None (nothing recorded: the caller frees it) when the table is full or the block
    /// cannot hold an aligned `want`.
    ///
    /// # Safety
    /// `va` is valid for reads and writes of `got` octets until [`DmaTable::drain`] hands it back,
    /// and nothing else uses it.
    pub unsafe fn insert(&self, va: *mut u8, pa: u64, got: usize, want: usize) -> Option<DmaRegion> {
        if va.is_null() || want == 0 {
            return None;
        }
        let adj = align_adjust(va.addr(), pa, got, want)?;
        let slot = self
            .slots
            .iter()
            .find(|s| s.state.compare_exchange(st::FREE, st::CLAIMED, Ordering::Acquire, Ordering::Relaxed).is_ok())?;
        let base = va.wrapping_add(adj);
        // SAFETY: `adj + want <= got` (align_adjust), inside the block the caller vouches for.
        unsafe { base.write_bytes(0, want) };
        slot.va.store(va, Ordering::Relaxed);
        slot.pa.store(pa, Ordering::Relaxed);
        slot.got.store(got, Ordering::Relaxed);
        slot.adj.store(adj, Ordering::Relaxed);
        slot.want.store(want, Ordering::Relaxed);
        slot.state.store(st::LIVE, Ordering::Release);
        Some(DmaRegion { bus_addr: pa.checked_add(adj as u64)?, len: want, host: base.addr() })
    }

    /// Retires `r`: later accesses through it are refused. Its memory is released by
    /// [`DmaTable::drain`]. False for a region this table does not hold live.
    pub fn retire(&self, r: &DmaRegion) -> bool {
        self.slots.iter().any(|s| {
            s.base_for(r).is_some()
                && s.state.compare_exchange(st::LIVE, st::RETIRED, Ordering::AcqRel, Ordering::Relaxed).is_ok()
        })
    }

    /// Live (not retired) blocks.
    pub fn live(&self) -> usize {
        self.slots.iter().filter(|s| s.state.load(Ordering::Acquire) == st::LIVE).count()
    }

    /// Empties the table, handing every block (live or retired) to `free`.
    pub fn drain(&mut self, mut free: impl FnMut(Raw)) {
        for s in &mut self.slots {
            let state = s.state.get_mut();
            if *state == st::LIVE || *state == st::RETIRED {
                free(Raw { va: *s.va.get_mut(), pa: *s.pa.get_mut(), got: *s.got.get_mut() });
            }
            *state = st::FREE;
        }
    }

    /// Pointer to `n` octets at `off` of the live region `r`.
    fn at(&self, r: &DmaRegion, off: usize, n: usize) -> Option<*mut u8> {
        let base = self.slots.iter().find_map(|s| s.base_for(r))?;
        let off = span(r.len, off, n)?;
        Some(base.wrapping_add(off))
    }

    /// Pointer to the 4-aligned descriptor word at `off` of `r`.
    fn word(&self, r: &DmaRegion, off: usize) -> Option<*mut u32> {
        let p = self.at(r, off, 4)?;
        (p.align_offset(4) == 0).then_some(p.cast::<u32>())
    }

    /// Copies `dst.len()` octets at `off` of `r` into `dst`.
    pub fn read(&self, r: &DmaRegion, off: usize, dst: &mut [u8]) -> Result<(), OutOfRange> {
        let p = self.at(r, off, dst.len()).ok_or(OutOfRange)?;
        // SAFETY: `p .. p + dst.len()` lies in a live block (checked); `dst` is a distinct Rust
        // buffer. Ordered after the caller's acquire read of the descriptor word.
        unsafe { core::ptr::copy_nonoverlapping(p.cast_const(), dst.as_mut_ptr(), dst.len()) };
        Ok(())
    }

    /// Copies `src` to `off` of `r` (plain stores, ordered by a later release write).
    pub fn write(&self, r: &DmaRegion, off: usize, src: &[u8]) -> Result<(), OutOfRange> {
        let p = self.at(r, off, src.len()).ok_or(OutOfRange)?;
        // SAFETY: as in `read`, the other way round.
        unsafe { core::ptr::copy_nonoverlapping(src.as_ptr(), p, src.len()) };
        Ok(())
    }

    /// One volatile little-endian load, then an acquire fence: the reads after it see what the
    /// NIC wrote before the word. Out of range: 0.
    pub fn read32_acquire(&self, r: &DmaRegion, off: usize) -> u32 {
        let Some(p) = self.word(r, off) else { return 0 };
        // SAFETY: 4-aligned, inside a live block (checked).
        let v = unsafe { p.read_volatile() };
        fence(Ordering::Acquire);
        u32::from_le(v)
    }

    /// A release fence, then one volatile little-endian store: every earlier write reaches
    /// memory before this word does.
    pub fn write32_release(&self, r: &DmaRegion, off: usize, v: u32) -> Result<(), OutOfRange> {
        let p = self.word(r, off).ok_or(OutOfRange)?;
        fence(Ordering::Release);
        // SAFETY: as in `read32_acquire`.
        unsafe { p.write_volatile(v.to_le()) };
        Ok(())
    }

    /// One volatile little-endian store (no ordering beyond program order).
    pub fn write32(&self, r: &DmaRegion, off: usize, v: u32) -> Result<(), OutOfRange> {
        let p = self.word(r, off).ok_or(OutOfRange)?;
        // SAFETY: as in `read32_acquire`.
        unsafe { p.write_volatile(v.to_le()) };
        Ok(())
    }
}

/// Where a [`MemBus`]'s memory comes from and goes back to.
pub trait Platform: Send + Sync + 'static {
    /// A block of `len` octets shared with the NIC: its virtual and bus addresses. PASSIVE.
    fn alloc_shared(&self, len: u32) -> Option<(*mut u8, u64)>;
    /// Gives a block back. PASSIVE.
    ///
    /// # Safety
    /// `raw` came from [`Platform::alloc_shared`] on this platform (`raw.got` its length), once,
    /// and nothing refers to it any more.
    unsafe fn free_shared(&self, raw: Raw);
    /// Unmaps the BAR window (`base` as the [`Mmio`] was built with). PASSIVE.
    ///
    /// # Safety
    /// Called once, after the last access through the window.
    unsafe fn unmap_bar(&self, base: *mut u8);
}

/// [`Bus`] over a mapped BAR and shared memory from a [`Platform`]. Dropping it gives every block
/// back (the driver has reset the NIC before), then unmaps the BAR.
pub struct MemBus<P: Platform> {
    mmio: Mmio,
    dma: DmaTable,
    platform: P,
}

impl<P: Platform> MemBus<P> {
    pub fn new(mmio: Mmio, platform: P) -> MemBus<P> {
        MemBus { mmio, dma: DmaTable::new(), platform }
    }

    /// The BAR window.
    pub fn mmio(&self) -> &Mmio {
        &self.mmio
    }

    /// The platform.
    pub fn platform(&self) -> &P {
        &self.platform
    }

    /// Blocks handed out and not freed.
    pub fn live_blocks(&self) -> usize {
        self.dma.live()
    }
}

impl<P: Platform> Bus for MemBus<P> {
    fn read32(&self, off: u32) -> u32 {
        self.mmio.read32(off)
    }

    fn write32(&self, off: u32, v: u32) {
        self.mmio.write32(off, v);
    }

    fn dma_alloc(&self, len: usize) -> Option<DmaRegion> {
        let ask = alloc_request(len)?;
        let (va, pa) = self.platform.alloc_shared(ask)?;
        if va.is_null() {
            return None;
        }
        let got = usize::try_from(ask).ok()?;
        // SAFETY: the platform just handed out `got` octets at `va`, used by nothing else.
        let region = unsafe { self.dma.insert(va, pa, got, len) };
        if region.is_none() {
            // SAFETY: from alloc_shared above, never recorded, so nothing refers to it.
            unsafe { self.platform.free_shared(Raw { va, pa, got }) };
        }
        region
    }

    fn dma_free(&self, r: DmaRegion) {
        // Given back with the bus (Drop): a `&self` free cannot race a copy into the block.
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

impl<P: Platform> Drop for MemBus<P> {
    fn drop(&mut self) {
        let platform = &self.platform;
        self.dma.drain(|raw| {
            // SAFETY: drained from the table (`&mut self`: no access can be running), so each
            // block comes back once and nothing refers to it.
            unsafe { platform.free_shared(raw) }
        });
        let base = self.mmio.base();
        self.mmio = Mmio::none();
        if !base.is_null() {
            // SAFETY: the window is gone from `mmio`, so no access follows; once.
            unsafe { platform.unmap_bar(base) };
        }
    }
}
