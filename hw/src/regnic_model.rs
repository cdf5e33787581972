//! The ATM1 NIC at register level (`hw/REGISTERS.md`): a register file, host DMA memory shared
//! with the driver through [`ModelBus`] (the lab's [`Bus`]), a TX engine (descriptors it owns →
//! AAL5 CPCS-PDU with CRC-32 → 53-octet cells with HEC out of the PHY), an RX engine (cells →
//! per-connection reassembly → CRC check → posted buffers and completions), the event ring, the
//! PHY (LOS/LOF), interrupt coalescing, and ownership enforcement: every driver write that
//! touches a descriptor the NIC owns is recorded ([`RegNicModel::violations`]).
//!
//! The model uses the driver crate's register and descriptor declarations (`atmmcm::nic::regs`,
//! `atmmcm::nic::desc`) and its AAL5/cell codecs: it is the hardware, not an independent peer.
//! Time is the caller's: `step` is one NIC tick (the TX engine runs, closes finish, the coalescing
//! timer ticks); `put_cell` receives at once.
//!
//! Every per-descriptor and per-cell lookup is O(1) in the table size (up to
//! [`regs::MAX_CONNECTIONS`] entries): the table is indexed by connection id, VPI/VCI → connection
//! is a hash map, closes wait in a set ordered by the TX descriptor count at which they drain, and
//! partial reassemblies are a set. [`RegNicModel::table_work`] counts the entries the engines
//! touch, so a test can show a step's cost does not grow with the connections open.
//!
//! Here: the model's state, host memory, interrupts and events, the PHY, and the public handle;
//! the register file and command interface in `registers`, the TX and RX engines in `sar`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use atmmcm::nic::bus::{Bus, DmaRegion, OutOfRange};
use atmmcm::nic::desc::{
    self, DESC_LEN, Desc, EvInfo, EvType, NO_BUFFER, RxBufInfo, RxcBuf, RxcInfo, RxcTrailer, TxCtl, TxLenConn, ev_type,
    rx_status, tx_status,
};
use atmmcm::nic::regnic::HwCounters;
use atmmcm::nic::regs::{
    self, Cmd, CmdStatus, Coalesce, ConnCfg, ConnMaxSdu, ConnVc, Ctrl, IntBits, PhyStatus, Status, cmd_result,
    conn_state, op,
};
use atmmcm::wire::{aal5, cell};

mod registers;
mod sar;

/// One cell on the wire.
pub type Cell = [u8; cell::CELL_LEN];

/// A driver write that touched a descriptor the NIC owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// "tx", "rxb", "rxc" or "ev".
    pub ring: &'static str,
    pub index: u32,
    /// Octet offset of the write inside the descriptor.
    pub offset: usize,
}

const RING_NAMES: [&str; 4] = ["tx", "rxb", "rxc", "ev"];
const R_TX: usize = 0;
const R_RXB: usize = 1;
const R_RXC: usize = 2;
const R_EV: usize = 3;

#[derive(Debug, Clone, Copy, Default)]
struct Ring {
    base: u64,
    size: u32,
    prod: u32,
    cons: u32,
}

impl Ring {
    fn next(&self, i: u32) -> u32 {
        if self.size == 0 { 0 } else { (i + 1) % self.size }
    }
    fn desc_addr(&self, i: u32) -> u64 {
        self.base + u64::from(i) * DESC_LEN as u64
    }
}

#[derive(Debug, Clone, Default)]
struct Entry {
    vc: ConnVc,
    cfg: ConnCfg,
    pcr: u32,
    max_sdu: ConnMaxSdu,
    /// While CLOSING: the value of `Model::tx_consumed` at which every descriptor posted before
    /// the CLOSE has been consumed.
    close_at: u64,
    reasm: Vec<u8>,
    too_long: bool,
}

#[derive(Debug, Clone, Copy, Default)]
struct Counters {
    tx_cells: u32,
    rx_cells: u32,
    hec_errors: u32,
    crc_errors: u32,
    rx_dropped: u32,
    tx_pdus: u32,
    rx_pdus: u32,
    rx_unknown: u32,
    tx_flushed: u32,
}

struct Model {
    ctrl: Ctrl,
    int_status: u32,
    int_mask: u32,
    coalesce: Coalesce,
    cmd_status: CmdStatus,
    rings: [Ring; 4],
    table: Vec<Entry>,
    by_vc: HashMap<(u8, u16), u16>,
    /// CLOSING entries by (`close_at`, index): the drained ones are at the front.
    closing: BTreeSet<(u64, u16)>,
    /// Entries holding a partial reassembly (dropped when the link goes).
    reassembling: HashSet<u16>,
    /// TX descriptors consumed since power-up (never reset: `close_at` compares against it).
    tx_consumed: u64,
    /// Connection-table entries the engines touched (instrumentation, see the module docs).
    table_work: u64,
    cnt: Counters,
    /// Host memory: regions by bus address.
    mem: BTreeMap<u64, Vec<u8>>,
    /// Host memory the driver owns (the `.sys` lab's shared memory): length by address, bus
    /// address = host virtual address.
    host_mem: BTreeMap<u64, usize>,
    /// Surprise-removed: the device is gone from the bus (reads all-ones, writes dropped).
    removed: bool,
    next_bus: u64,
    dma_used: usize,
    dma_limit: Option<usize>,
    /// Fail the DMA allocation when this many more have been made (fault injection), once.
    dma_fail_in: Option<usize>,
    phy_out: VecDeque<Cell>,
    los: bool,
    lof: bool,
    violations: Vec<Violation>,
    events_lost: u64,
    stall_close: bool,
    tx_frames_per_step: usize,
    /// Status-setting occurrences / ticks with a pending status since the last acknowledge.
    occurrences: u32,
    pending_ticks: u32,
}

impl Model {
    fn new(connections: usize) -> Model {
        Model {
            ctrl: Ctrl(0),
            int_status: 0,
            int_mask: 0,
            coalesce: Coalesce(0),
            cmd_status: CmdStatus(0),
            rings: [Ring::default(); 4],
            table: vec![Entry::default(); connections],
            by_vc: HashMap::new(),
            closing: BTreeSet::new(),
            reassembling: HashSet::new(),
            tx_consumed: 0,
            table_work: 0,
            cnt: Counters::default(),
            mem: BTreeMap::new(),
            host_mem: BTreeMap::new(),
            removed: false,
            next_bus: 0x1_0000_0000,
            dma_used: 0,
            dma_limit: None,
            dma_fail_in: None,
            phy_out: VecDeque::new(),
            los: false,
            lof: false,
            violations: Vec::new(),
            events_lost: 0,
            stall_close: false,
            tx_frames_per_step: 0,
            occurrences: 0,
            pending_ticks: 0,
        }
    }

    fn link_up(&self) -> bool {
        !self.los && !self.lof
    }

    fn reset(&mut self) {
        self.ctrl = Ctrl(0);
        self.int_status = 0;
        self.int_mask = 0;
        self.coalesce = Coalesce(0);
        self.cmd_status = CmdStatus(0);
        self.rings = [Ring::default(); 4];
        // In place: a reset (the driver's halt) allocates nothing.
        self.table.fill(Entry::default());
        self.by_vc.clear();
        self.closing.clear();
        self.reassembling.clear();
        self.cnt = Counters::default();
        self.phy_out.clear();
        self.occurrences = 0;
        self.pending_ticks = 0;
    }

    // ---- host memory ---------------------------------------------------------------------------

    fn region(&self, addr: u64, len: usize) -> Option<(u64, usize)> {
        let (&base, v) = self.mem.range(..=addr).next_back()?;
        let off = usize::try_from(addr - base).ok()?;
        (off.checked_add(len)? <= v.len()).then_some((base, off))
    }

    /// `addr..addr+len` inside one attached host region.
    fn host_region(&self, addr: u64, len: usize) -> bool {
        self.host_mem.range(..=addr).next_back().is_some_and(|(&base, &n)| {
            usize::try_from(addr - base).ok().and_then(|off| off.checked_add(len)).is_some_and(|end| end <= n)
        })
    }

    fn mem_read(&self, addr: u64, dst: &mut [u8]) -> bool {
        if self.region(addr, dst.len()).is_none() && self.host_region(addr, dst.len()) {
            // SAFETY: the range lies in a region attached by `attach_host_memory`, whose caller
            // keeps it mapped until `detach_host_memory`.
            unsafe { std::ptr::copy_nonoverlapping(addr as usize as *const u8, dst.as_mut_ptr(), dst.len()) };
            return true;
        }
        let Some((base, off)) = self.region(addr, dst.len()) else { return false };
        let Some(src) = self.mem.get(&base).and_then(|v| v.get(off..off + dst.len())) else { return false };
        dst.copy_from_slice(src);
        true
    }

    fn mem_write(&mut self, addr: u64, src: &[u8]) -> bool {
        if self.region(addr, src.len()).is_none() && self.host_region(addr, src.len()) {
            // SAFETY: as in `mem_read`; the model is the bus master writing host memory.
            unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), addr as usize as *mut u8, src.len()) };
            return true;
        }
        let Some((base, off)) = self.region(addr, src.len()) else { return false };
        let Some(dst) = self.mem.get_mut(&base).and_then(|v| v.get_mut(off..off + src.len())) else { return false };
        dst.copy_from_slice(src);
        true
    }

    fn write_word(&mut self, addr: u64, v: u32) -> bool {
        self.mem_write(addr, &v.to_le_bytes())
    }

    fn read_desc(&self, ring: usize, i: u32) -> Desc {
        let mut b = [0u8; DESC_LEN];
        self.mem_read(self.rings[ring].desc_addr(i), &mut b);
        Desc::from_bytes(&b)
    }

    fn write_desc(&mut self, ring: usize, i: u32, d: &Desc) {
        // Words 0-2 first, word 3 (OWN) last.
        let a = self.rings[ring].desc_addr(i);
        let b = d.to_bytes();
        self.mem_write(a, &b[..desc::word::W3]);
        self.mem_write(a + desc::word::W3 as u64, &b[desc::word::W3..]);
    }

    /// A driver write of `len` octets at `addr`: records every NIC-owned descriptor it touches.
    fn check_ownership(&mut self, addr: u64, len: usize) {
        let end = addr + len as u64;
        for (r, name) in RING_NAMES.iter().enumerate() {
            let ring = self.rings[r];
            if ring.size == 0 {
                continue;
            }
            let lo = ring.base;
            let hi = ring.base + u64::from(ring.size) * DESC_LEN as u64;
            if end <= lo || addr >= hi {
                continue;
            }
            let first = (addr.max(lo) - lo) / DESC_LEN as u64;
            let last = (end.min(hi) - 1 - lo) / DESC_LEN as u64;
            for i in first..=last {
                let i = i as u32;
                if self.read_desc(r, i).own() {
                    let offset = addr.saturating_sub(ring.desc_addr(i)) as usize;
                    self.violations.push(Violation { ring: name, index: i, offset });
                }
            }
        }
    }

    // ---- interrupts and events -----------------------------------------------------------------

    fn raise(&mut self, bits: IntBits) {
        self.int_status |= bits.0;
        self.occurrences = self.occurrences.saturating_add(1);
    }

    fn line(&self) -> bool {
        if self.removed || !self.ctrl.irq_enable() || self.int_status & self.int_mask == 0 {
            return false;
        }
        let count = u32::from(self.coalesce.count());
        let timeout = u32::from(self.coalesce.timeout());
        count <= 1 || self.occurrences >= count || (timeout != 0 && self.pending_ticks >= timeout)
    }

    fn event(&mut self, kind: u8, info: EvInfo) {
        let ring = self.rings[R_EV];
        if ring.size == 0 {
            return;
        }
        let i = ring.prod;
        if !self.read_desc(R_EV, i).own() {
            self.events_lost += 1;
            let mut e = IntBits(0);
            e.set_error(true);
            self.raise(e);
            return;
        }
        let mut t = EvType(0);
        t.set_kind(kind);
        self.write_desc(R_EV, i, &Desc([t.0, info.0, 0, 0]));
        self.rings[R_EV].prod = ring.next(i);
        let mut e = IntBits(0);
        e.set_event(true);
        self.raise(e);
    }

    // ---- PHY -----------------------------------------------------------------------------------

    fn set_phy(&mut self, los: bool, lof: bool) {
        let was = self.link_up();
        self.los = los;
        self.lof = lof;
        let up = self.link_up();
        if was == up {
            return;
        }
        if !up {
            // Everything owned is flushed; partial reassemblies and unsent cells are lost.
            self.tx_engine(0);
            let mut dropped = 0u32;
            for conn in std::mem::take(&mut self.reassembling) {
                self.table_work += 1;
                let Some(e) = self.table.get_mut(usize::from(conn)) else { continue };
                if !e.reasm.is_empty() || e.too_long {
                    dropped += 1;
                }
                e.reasm.clear();
                e.too_long = false;
            }
            self.cnt.rx_dropped = self.cnt.rx_dropped.wrapping_add(dropped);
            self.phy_out.clear();
        }
        let mut info = EvInfo(0);
        info.set_link_up(up);
        self.event(ev_type::LINK_CHANGE, info);
        let mut b = IntBits(0);
        b.set_link(true);
        self.raise(b);
    }
}

/// The NIC model. Cheap to clone (`Arc` inside).
#[derive(Clone)]
pub struct RegNicModel {
    inner: Arc<Mutex<Model>>,
}

/// The driver's view of the model: registers and DMA memory ([`Bus`]).
#[derive(Clone)]
pub struct ModelBus {
    inner: Arc<Mutex<Model>>,
}

fn lock(m: &Mutex<Model>) -> MutexGuard<'_, Model> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Default for RegNicModel {
    fn default() -> Self {
        Self::new()
    }
}

impl RegNicModel {
    /// A NIC fresh from power-up with the full table ([`regs::MAX_CONNECTIONS`] entries): link
    /// up, engines off until the driver enables them.
    pub fn new() -> RegNicModel {
        Self::with_connections(regs::MAX_CONNECTIONS as usize)
    }

    /// [`RegNicModel::new`] with a connection table of `n` entries (1..=65 536; `CONN_COUNT`
    /// reads `n`), as a smaller ATM1 part would have.
    pub fn with_connections(n: usize) -> RegNicModel {
        let n = n.clamp(1, regs::MAX_CONNECTIONS as usize);
        RegNicModel { inner: Arc::new(Mutex::new(Model::new(n))) }
    }

    /// Connection-table entries the TX, RX, close and PHY engines and the command unit have
    /// touched since power-up: one per descriptor chain, cell, command, finished close or partial
    /// reassembly dropped. Never a whole-table pass, whatever the table size.
    pub fn table_work(&self) -> u64 {
        self.m().table_work
    }

    /// Connections OPEN or CLOSING (not IDLE).
    pub fn connections_in_use(&self) -> usize {
        self.m().by_vc.len()
    }

    /// Connections OPEN (not closing, not idle).
    pub fn connections_open(&self) -> usize {
        let m = self.m();
        m.by_vc.len().saturating_sub(m.closing.len())
    }

    fn m(&self) -> MutexGuard<'_, Model> {
        lock(&self.inner)
    }

    /// The [`Bus`] the driver uses.
    pub fn bus(&self) -> ModelBus {
        ModelBus { inner: self.inner.clone() }
    }

    /// One NIC tick: the TX engine sends (up to the per-step knob), drained closes report, the
    /// coalescing timer ticks. Whether anything moved.
    pub fn step(&self) -> bool {
        let mut m = self.m();
        let limit = m.tx_frames_per_step;
        let mut moved = m.tx_engine(limit);
        moved |= m.finish_closes();
        if m.int_status & m.int_mask != 0 {
            m.pending_ticks = m.pending_ticks.saturating_add(1);
        }
        moved
    }

    /// Cells that left the PHY since the last call.
    pub fn take_cells(&self) -> Vec<Cell> {
        self.m().phy_out.drain(..).collect()
    }

    /// A cell arriving at the PHY (processed at once).
    pub fn put_cell(&self, c: &Cell) {
        self.m().put_cell(c);
    }

    /// A whole SDU arriving on VPI/VCI: segmented into cells (as a peer would) and received.
    pub fn put_sdu(&self, vpi: u16, vci: u16, sdu: &[u8]) {
        let cells = crate::switch::segment(vpi, vci, sdu).unwrap_or_default();
        let mut m = self.m();
        for c in &cells {
            m.put_cell(c);
        }
    }

    /// The interrupt line.
    pub fn interrupt_line(&self) -> bool {
        self.m().line()
    }

    /// Same as [`RegNicModel::interrupt_line`] (the frame-level model's name).
    pub fn interrupt_pending(&self) -> bool {
        self.interrupt_line()
    }

    /// Loss of signal on/off.
    pub fn set_los(&self, los: bool) {
        let mut m = self.m();
        let lof = m.lof;
        m.set_phy(los, lof);
    }

    /// Loss of frame on/off.
    pub fn set_lof(&self, lof: bool) {
        let mut m = self.m();
        let los = m.los;
        m.set_phy(los, lof);
    }

    /// Link up (no LOS, no LOF).
    pub fn link_up(&self) -> bool {
        self.m().link_up()
    }

    /// Driver writes that touched NIC-owned descriptors, in order.
    pub fn violations(&self) -> Vec<Violation> {
        self.m().violations.clone()
    }

    /// Events lost because the event ring was full.
    pub fn events_lost(&self) -> u64 {
        self.m().events_lost
    }

    /// The counter registers.
    pub fn counters(&self) -> HwCounters {
        let m = self.m();
        let c = m.cnt;
        HwCounters {
            tx_cells: c.tx_cells,
            rx_cells: c.rx_cells,
            hec_errors: c.hec_errors,
            crc_errors: c.crc_errors,
            rx_dropped: c.rx_dropped,
            tx_pdus: c.tx_pdus,
            rx_pdus: c.rx_pdus,
            rx_unknown: c.rx_unknown,
            tx_flushed: c.tx_flushed,
        }
    }

    /// TX descriptors posted and not yet consumed.
    pub fn tx_pending(&self) -> u32 {
        let m = self.m();
        let r = m.rings[R_TX];
        if r.size == 0 { 0 } else { (r.prod + r.size - r.cons) % r.size }
    }

    /// Test knob: closes never finish (the driver's deadline must cope).
    pub fn set_stall_close(&self, stall: bool) {
        self.m().stall_close = stall;
    }

    /// Test knob: SDUs sent per `step` (0 = all owned).
    pub fn set_tx_frames_per_step(&self, n: usize) {
        self.m().tx_frames_per_step = n;
    }

    /// Test knob: host DMA memory available in total (None = unlimited).
    /// Fails the `k`-th DMA allocation from now on (0 = the next one), once; `None` disarms.
    pub fn fail_dma_alloc(&self, k: Option<usize>) {
        self.m().dma_fail_in = k;
    }

    /// Whether the armed DMA allocation failure has happened (the arm is spent).
    pub fn dma_failure_pending(&self) -> bool {
        self.m().dma_fail_in.is_some()
    }

    pub fn set_dma_limit(&self, bytes: Option<usize>) {
        self.m().dma_limit = bytes;
    }

    /// Test knob: overrides `INT_COALESCE` (as if the driver wrote it).
    pub fn set_coalesce(&self, count: u8, timeout_ticks: u16) {
        let mut c = Coalesce(0);
        c.set_count(count);
        c.set_timeout(timeout_ticks);
        self.m().coalesce = c;
    }

    /// Test knob: the device is surprise-removed (register reads return all-ones, writes are
    /// dropped, the line never asserts), as a PCI device that left the bus.
    pub fn set_removed(&self, removed: bool) {
        self.m().removed = removed;
    }

    /// Makes `len` bytes of host memory at `addr` reachable by the NIC's DMA at bus address
    /// `addr` (the `.sys` lab's NdisMAllocateSharedMemory: the driver reads and writes it with
    /// plain loads and stores).
    ///
    /// # Safety
    /// `addr..addr+len` must stay valid, readable and writable until
    /// [`RegNicModel::detach_host_memory`].
    pub unsafe fn attach_host_memory(&self, addr: usize, len: usize) {
        self.m().host_mem.insert(addr as u64, len);
    }

    /// Ends [`RegNicModel::attach_host_memory`]; false if `addr` was not attached.
    pub fn detach_host_memory(&self, addr: usize) -> bool {
        self.m().host_mem.remove(&(addr as u64)).is_some()
    }

    /// Regions of host DMA memory allocated.
    pub fn dma_regions(&self) -> usize {
        self.m().mem.len()
    }
}

impl ModelBus {
    /// The NIC this bus belongs to.
    pub fn model(&self) -> RegNicModel {
        RegNicModel { inner: self.inner.clone() }
    }
}

impl Bus for ModelBus {
    fn read32(&self, off: u32) -> u32 {
        lock(&self.inner).read32(off)
    }

    fn write32(&self, off: u32, v: u32) {
        lock(&self.inner).write32(off, v);
    }

    fn dma_alloc(&self, len: usize) -> Option<DmaRegion> {
        let mut m = lock(&self.inner);
        let len = len.max(1).div_ceil(64) * 64;
        if m.dma_limit.is_some_and(|lim| m.dma_used + len > lim) {
            return None;
        }
        match m.dma_fail_in {
            Some(0) => {
                m.dma_fail_in = None;
                return None;
            }
            Some(k) => m.dma_fail_in = Some(k - 1),
            None => {}
        }
        let base = m.next_bus;
        m.next_bus += (len as u64).div_ceil(4096) * 4096 + 4096;
        m.dma_used += len;
        m.mem.insert(base, vec![0; len]);
        Some(DmaRegion { bus_addr: base, len, host: 0 })
    }

    fn dma_free(&self, r: DmaRegion) {
        let mut m = lock(&self.inner);
        if let Some(v) = m.mem.remove(&r.bus_addr) {
            m.dma_used = m.dma_used.saturating_sub(v.len());
        }
    }

    fn dma_read(&self, r: &DmaRegion, off: usize, dst: &mut [u8]) -> Result<(), OutOfRange> {
        let m = lock(&self.inner);
        if off.checked_add(dst.len()).is_none_or(|e| e > r.len) || !m.mem_read(r.bus_addr + off as u64, dst) {
            return Err(OutOfRange);
        }
        Ok(())
    }

    fn dma_write(&self, r: &DmaRegion, off: usize, src: &[u8]) -> Result<(), OutOfRange> {
        let mut m = lock(&self.inner);
        if off.checked_add(src.len()).is_none_or(|e| e > r.len) {
            return Err(OutOfRange);
        }
        let addr = r.bus_addr + off as u64;
        m.check_ownership(addr, src.len());
        if !m.mem_write(addr, src) {
            return Err(OutOfRange);
        }
        Ok(())
    }

    fn dma_read32_acquire(&self, r: &DmaRegion, off: usize) -> u32 {
        let mut b = [0u8; 4];
        match self.dma_read(r, off, &mut b) {
            Ok(()) => u32::from_le_bytes(b),
            Err(_) => 0,
        }
    }

    fn dma_write32_release(&self, r: &DmaRegion, off: usize, v: u32) -> Result<(), OutOfRange> {
        // The model's lock orders every access: release is a plain locked store.
        self.dma_write(r, off, &v.to_le_bytes())
    }
}
