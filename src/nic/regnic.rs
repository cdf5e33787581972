//! [`RegNic`]: the frame-level [`Device`] implemented on the ATM1 registers and DMA rings
//! (`hw/REGISTERS.md`), entirely through [`Bus`] — no `unsafe` here.
//!
//! Shape: one TX descriptor ring whose descriptors each own a fixed slice of one TX buffer block
//! (a frame larger than a slice is chained over several descriptors, `EOP` on the last); an RX
//! free-buffer ring with `rx_ring - 1` fixed buffers posted at init and reposted after use; an RX
//! completion ring and an event ring the NIC writes. Everything (rings, buffers, the shadow
//! arrays, the 64 KiB receive scratch) is allocated by [`RegNic::new`]; afterwards nothing
//! allocates.
//!
//! Locking: `transmit` and `poll` share the data-path state under `dp` (uncontended by the
//! `Device` contract; taken with `try_lock`, so a contract breach answers RESOURCES / 0 instead of
//! deadlocking); `open_connection` / `close_connection` serialize the command registers under
//! `ctl`. Connection states are atomics both sides read.
//!
//! Here: set-up, interrupts, commands and the [`Device`] methods; the DPC's ring reaping in `reap`.

use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, Ordering};

use lock_api::{Mutex, RawMutex};

use super::bus::{Bus, DmaRegion};
use super::desc::{
    self, DESC_LEN, EvInfo, EvType, NO_BUFFER, OWN, RxBufInfo, RxcBuf, RxcInfo, TxCtl, TxLenConn, ev_type, rx_status,
    tx_status,
};
use super::regs::{
    self, Cmd, CmdStatus, Coalesce, ConnCfg, ConnMaxSdu, ConnVc, Ctrl, IntBits, PhyStatus, RingRegs, Status,
    cmd_result, conn_word, op, service,
};
use super::{ConnId, ConnParams, Device, DeviceEvent, TxCookie};
use crate::ndis::{AalType, NdisStatus};
use crate::wire::aal5::MAX_SDU_LEN;

mod reap;

/// Register polls before a command or reset counts as hung.
const SPIN_LIMIT: u32 = 10_000;

/// Driver-side connection states (`conns`).
mod cs {
    pub const FREE: u8 = 0;
    /// Being opened (the slot is taken while the command runs).
    pub const OPENING: u8 = 1;
    pub const OPEN: u8 = 2;
    pub const CLOSING: u8 = 3;
    /// The NIC refused the close command: `poll` reports it closed (forced).
    pub const CLOSE_LOCAL: u8 = 4;
}

/// Ring and buffer sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegNicConfig {
    /// TX descriptors (power of two, 2..=4096); at most `tx_ring - 1` are in flight.
    pub tx_ring: u32,
    /// Octets of TX buffer per descriptor (64..=65535).
    pub tx_buf: u32,
    /// RX free-buffer ring entries (power of two, 2..=4096); `rx_ring - 1` buffers are posted.
    pub rx_ring: u32,
    /// Octets per RX buffer (64..=65535).
    pub rx_buf: u32,
    /// RX completion ring entries (power of two, >= `rx_ring`).
    pub rxc_ring: u32,
    /// Event ring entries (power of two, 2..=4096).
    pub ev_ring: u32,
    /// `INT_COALESCE` value.
    pub coalesce: Coalesce,
}

impl Default for RegNicConfig {
    fn default() -> Self {
        RegNicConfig {
            tx_ring: 512,
            tx_buf: 2048,
            rx_ring: 256,
            rx_buf: 2048,
            rxc_ring: 512,
            ev_ring: 256,
            coalesce: Coalesce(0),
        }
    }
}

impl RegNicConfig {
    fn valid(&self) -> bool {
        let ring = |n: u32| n.is_power_of_two() && (2..=regs::MAX_RING).contains(&n);
        let buf = |n: u32| (64..=65_535).contains(&n);
        ring(self.tx_ring)
            && ring(self.rx_ring)
            && ring(self.rxc_ring)
            && ring(self.ev_ring)
            && self.rxc_ring >= self.rx_ring
            && buf(self.tx_buf)
            && buf(self.rx_buf)
    }
}

/// Driver-side counters (the NIC's own are in [`HwCounters`]).
#[derive(Debug, Default)]
pub struct RegNicStats {
    pub tx_frames: AtomicU64,
    /// Frames completed not sent (flushed, bad connection, DMA error).
    pub tx_failed: AtomicU64,
    pub tx_ring_full: AtomicU64,
    pub rx_frames: AtomicU64,
    pub rx_crc_errors: AtomicU64,
    pub rx_too_long: AtomicU64,
    pub rx_aborted: AtomicU64,
    /// Completions that did not make sense (unknown buffer id, SDU overrunning the scratch).
    pub rx_malformed: AtomicU64,
    pub events: AtomicU64,
}

/// The NIC's counter registers.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct HwCounters {
    pub tx_cells: u32,
    pub rx_cells: u32,
    pub hec_errors: u32,
    pub crc_errors: u32,
    pub rx_dropped: u32,
    pub tx_pdus: u32,
    pub rx_pdus: u32,
    pub rx_unknown: u32,
    pub tx_flushed: u32,
}

#[derive(Debug, Clone, Copy, Default)]
struct TxShadow {
    cookie: u64,
    conn: u16,
    eop: bool,
}

/// DMA regions, in allocation order.
#[derive(Debug, Clone, Copy)]
struct Regions {
    txd: DmaRegion,
    txb: DmaRegion,
    rxbd: DmaRegion,
    rxb: DmaRegion,
    rxc: DmaRegion,
    ev: DmaRegion,
}

impl Regions {
    fn all(&self) -> [DmaRegion; 6] {
        [self.txd, self.txb, self.rxbd, self.rxb, self.rxc, self.ev]
    }
}

/// Data-path state (`transmit` / `poll`).
struct DataPath {
    /// Free-running: descriptors posted / reaped.
    tx_prod: u32,
    tx_clean: u32,
    tx_shadow: Vec<TxShadow>,
    /// A fragment of the frame being reaped was not sent.
    tx_frame_failed: bool,
    rxb_prod: u32,
    rxc_next: u32,
    ev_next: u32,
    /// The SDU being gathered from RX buffers.
    scratch: Vec<u8>,
    rx_fill: usize,
    rx_conn: u16,
    rx_bad: bool,
}

/// The register-level NIC as the adapter's [`Device`].
pub struct RegNic<B: Bus, R: RawMutex + Send + Sync> {
    bus: B,
    cfg: RegNicConfig,
    regions: Regions,
    conns: Vec<AtomicU8>,
    /// Connections whose CLOSE the NIC refused (`CLOSE_LOCAL`), to report closed at the next
    /// `poll` without walking the table.
    close_local: crate::datapath::SlotSet,
    /// `interrupt` masked the line; the next `poll` unmasks it.
    irq_masked: AtomicBool,
    /// NDIS disabled the interrupt (MiniportDisableInterruptEx) or the NIC is being shut down:
    /// nothing but [`RegNic::enable_interrupts`] unmasks it.
    irq_disabled: AtomicBool,
    /// Runs INT_MASK updates made outside the interrupt's own routines under the interrupt lock
    /// (NdisMSynchronizeWithInterruptEx on Windows); `None`: directly.
    irq_sync: Option<IrqSync>,
    /// Extra cap on TX descriptors in flight (0: the ring's `tx_ring - 1`).
    tx_limit: AtomicU32,
    /// Serializes open and close commands; holds the stack of free connections (lowest on top),
    /// so an open takes one without searching the table.
    ctl: Mutex<R, Vec<u16>>,
    /// Connections freed by `poll` since the stack was last refilled from here.
    freed: crate::datapath::SlotSet,
    dp: Mutex<R, DataPath>,
    pub stats: RegNicStats,
}

/// Serializes a body with the ISR and the interrupt-enable/-disable routines (which the OS already
/// runs under the interrupt lock): `run(ctx, body)` must call `body` exactly once, holding it.
#[derive(Clone, Copy, Debug)]
pub struct IrqSync {
    pub run: fn(ctx: usize, body: &mut dyn FnMut()),
    pub ctx: usize,
}

/// What a register of a NIC that has left the bus (surprise removal) reads.
pub const GONE: u32 = u32::MAX;

fn try_vec<T>(n: usize, mut f: impl FnMut() -> T) -> Result<Vec<T>, NdisStatus> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| NdisStatus::RESOURCES)?;
    for _ in 0..n {
        v.push(f());
    }
    Ok(v)
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

fn ring_regs<B: Bus>(bus: &B, r: RingRegs, region: &DmaRegion, size: u32) {
    bus.write32(r.base_lo, region.bus_addr as u32);
    bus.write32(r.base_hi, (region.bus_addr >> 32) as u32);
    bus.write32(r.size, size);
}

impl<B: Bus, R: RawMutex + Send + Sync> RegNic<B, R> {
    /// Resets the NIC, allocates and programs the rings, posts the RX buffers and enables it.
    /// FAILURE when the ID does not match or the NIC does not come out of reset; RESOURCES when
    /// memory is short; INVALID_PARAMETER for a bad `cfg`. Nothing is left allocated on error.
    pub fn new(bus: B, cfg: RegNicConfig) -> Result<Self, NdisStatus> {
        if !cfg.valid() {
            return Err(NdisStatus::INVALID_PARAMETER);
        }
        if bus.read32(regs::ID) != regs::ID_VALUE {
            return Err(NdisStatus::FAILURE);
        }
        Self::reset(&bus)?;
        // The table size is the NIC's (CONN_COUNT); every structure indexed by connection is sized
        // from it here, once. A value above the 16-bit id space is clamped.
        let conn_count = bus.read32(regs::CONN_COUNT).min(regs::MAX_CONNECTIONS);
        if conn_count == 0 {
            return Err(NdisStatus::FAILURE);
        }
        let regions = Self::alloc_regions(&bus, &cfg)?;
        let parts = (|| -> Result<_, NdisStatus> {
            let tx_shadow = try_vec(cfg.tx_ring as usize, TxShadow::default)?;
            let conns = try_vec(conn_count as usize, || AtomicU8::new(cs::FREE))?;
            let scratch = try_vec(MAX_SDU_LEN, || 0u8)?;
            let mut next = conn_count;
            let free = try_vec(conn_count as usize, || {
                next -= 1;
                next as u16
            })?;
            let freed = crate::datapath::SlotSet::new(conn_count as usize).map_err(|_| NdisStatus::RESOURCES)?;
            let close_local = crate::datapath::SlotSet::new(conn_count as usize).map_err(|_| NdisStatus::RESOURCES)?;
            Ok((tx_shadow, conns, scratch, free, freed, close_local))
        })();
        let (tx_shadow, conns, scratch, free, freed, close_local) = match parts {
            Ok(p) => p,
            Err(e) => {
                for r in regions.all() {
                    bus.dma_free(r);
                }
                return Err(e);
            }
        };
        let dp = DataPath {
            tx_prod: 0,
            tx_clean: 0,
            tx_shadow,
            tx_frame_failed: false,
            rxb_prod: 0,
            rxc_next: 0,
            ev_next: 0,
            scratch,
            rx_fill: 0,
            rx_conn: 0,
            rx_bad: false,
        };
        let nic = RegNic {
            bus,
            cfg,
            regions,
            conns,
            close_local,
            irq_masked: AtomicBool::new(false),
            irq_disabled: AtomicBool::new(false),
            irq_sync: None,
            tx_limit: AtomicU32::new(0),
            ctl: Mutex::new(free),
            freed,
            dp: Mutex::new(dp),
            stats: RegNicStats::default(),
        };
        nic.start();
        Ok(nic)
    }

    fn reset(bus: &B) -> Result<(), NdisStatus> {
        let mut c = Ctrl(0);
        c.set_reset(true);
        bus.write32(regs::CTRL, c.0);
        for _ in 0..SPIN_LIMIT {
            if !Status(bus.read32(regs::STATUS)).reset_busy() {
                return Ok(());
            }
        }
        Err(NdisStatus::FAILURE)
    }

    fn alloc_regions(bus: &B, cfg: &RegNicConfig) -> Result<Regions, NdisStatus> {
        let d = DESC_LEN;
        let rx_bufs = cfg.rx_ring as usize - 1;
        let sizes = [
            cfg.tx_ring as usize * d,
            cfg.tx_ring as usize * cfg.tx_buf as usize,
            cfg.rx_ring as usize * d,
            rx_bufs * cfg.rx_buf as usize,
            cfg.rxc_ring as usize * d,
            cfg.ev_ring as usize * d,
        ];
        let mut got: [Option<DmaRegion>; 6] = [None; 6];
        for (slot, len) in got.iter_mut().zip(sizes) {
            match bus.dma_alloc(len) {
                Some(r) if r.len >= len => *slot = Some(r),
                other => {
                    if let Some(r) = other {
                        bus.dma_free(r);
                    }
                    for r in got.iter().flatten() {
                        bus.dma_free(*r);
                    }
                    return Err(NdisStatus::RESOURCES);
                }
            }
        }
        match got {
            [Some(txd), Some(txb), Some(rxbd), Some(rxb), Some(rxc), Some(ev)] => {
                Ok(Regions { txd, txb, rxbd, rxb, rxc, ev })
            }
            _ => Err(NdisStatus::RESOURCES),
        }
    }

    /// Programs the rings, posts every RX buffer, unmasks and enables.
    fn start(&self) {
        let b = &self.bus;
        let rg = &self.regions;
        // Completion and event entries start owned by the NIC (it may write them).
        for i in 0..self.cfg.rxc_ring as usize {
            let _ = b.dma_write32_release(&rg.rxc, i * DESC_LEN + desc::word::W3, OWN);
        }
        for i in 0..self.cfg.ev_ring as usize {
            let _ = b.dma_write32_release(&rg.ev, i * DESC_LEN + desc::word::W3, OWN);
        }
        ring_regs(b, regs::TX, &rg.txd, self.cfg.tx_ring);
        ring_regs(b, regs::RXB, &rg.rxbd, self.cfg.rx_ring);
        ring_regs(b, regs::RXC, &rg.rxc, self.cfg.rxc_ring);
        ring_regs(b, regs::EV, &rg.ev, self.cfg.ev_ring);
        {
            let mut dp = self.dp.lock();
            for id in 0..(self.cfg.rx_ring - 1) as u16 {
                self.post_rx(&mut dp, id);
            }
            b.write32(regs::RXB.prod, dp.rxb_prod & (self.cfg.rx_ring - 1));
        }
        b.write32(regs::INT_COALESCE, self.cfg.coalesce.0);
        b.write32(regs::INT_MASK, IntBits::ALL.0);
        let mut c = Ctrl(0);
        c.set_enable(true);
        c.set_irq_enable(true);
        b.write32(regs::CTRL, c.0);
    }

    /// Routes the DPC's INT_MASK update through `sync` (set before the interrupt is registered).
    #[must_use]
    pub fn with_irq_sync(mut self, sync: IrqSync) -> Self {
        self.irq_sync = Some(sync);
        self
    }

    /// MiniportInterrupt: whether the (shared, level-triggered) line is ours. If so the line is
    /// masked until the DPC's next [`Device::poll`], which acknowledges and unmasks; the caller
    /// then queues the DPC. (The lab calls `poll` straight from its DPC and never needs this.)
    /// A NIC that reads all-ones has left the bus (surprise removal): never ours.
    pub fn interrupt(&self) -> bool {
        let status = self.bus.read32(regs::INT_STATUS);
        if status == GONE {
            return false;
        }
        let mask = self.bus.read32(regs::INT_MASK);
        if mask == GONE {
            return false;
        }
        if status & mask & IntBits::ALL.0 == 0 {
            return false;
        }
        self.bus.write32(regs::INT_MASK, 0);
        self.irq_masked.store(true, Ordering::Release);
        true
    }

    /// MiniportDisableInterruptEx (runs under the interrupt lock): masks every source; only
    /// [`RegNic::enable_interrupts`] unmasks again (a DPC finishing meanwhile does not).
    pub fn disable_interrupts(&self) {
        self.irq_disabled.store(true, Ordering::Release);
        self.bus.write32(regs::INT_MASK, 0);
    }

    /// MiniportEnableInterruptEx (runs under the interrupt lock): unmasks, unless the ISR masked
    /// the line for a DPC still to run (that DPC unmasks).
    pub fn enable_interrupts(&self) {
        self.irq_disabled.store(false, Ordering::Release);
        if !self.irq_masked.load(Ordering::Acquire) {
            self.bus.write32(regs::INT_MASK, IntBits::ALL.0);
        }
    }

    /// Masks every source from outside the interrupt routines (halt), under the interrupt lock.
    pub fn mask_interrupts(&self) {
        self.synchronized(&mut || self.disable_interrupts());
    }

    /// MiniportShutdownEx: quiesces the NIC with register writes only — no lock, no wait, no
    /// allocation (it may run at any IRQL during a bugcheck): every interrupt source masked, then
    /// a reset, which stops the NIC's DMA. The device is unusable afterwards.
    pub fn shutdown(&self) {
        self.irq_disabled.store(true, Ordering::Release);
        self.bus.write32(regs::INT_MASK, 0);
        let mut c = Ctrl(0);
        c.set_reset(true);
        self.bus.write32(regs::CTRL, c.0);
    }

    /// Runs `body` under the interrupt lock (or directly when no synchronizer is set).
    fn synchronized(&self, body: &mut dyn FnMut()) {
        match self.irq_sync {
            Some(s) => (s.run)(s.ctx, body),
            None => body(),
        }
    }

    /// The DPC's unmask (under the interrupt lock): only if the ISR masked and NDIS has not
    /// disabled the interrupt since.
    fn unmask_after_dpc(&self) {
        if self.irq_masked.swap(false, Ordering::AcqRel) && !self.irq_disabled.load(Ordering::Acquire) {
            // Anything still pending raises the line again at once.
            self.bus.write32(regs::INT_MASK, IntBits::ALL.0);
        }
    }

    /// Connection-table entries the NIC has (its `CONN_COUNT`, read at initialize).
    pub fn connections(&self) -> usize {
        self.conns.len()
    }

    /// The configuration in use.
    pub fn config(&self) -> &RegNicConfig {
        &self.cfg
    }

    /// The bus (tests, diagnostics).
    pub fn bus(&self) -> &B {
        &self.bus
    }

    /// The NIC's counter registers.
    pub fn hw_counters(&self) -> HwCounters {
        let r = |o| self.bus.read32(o);
        HwCounters {
            tx_cells: r(regs::CNT_TX_CELLS),
            rx_cells: r(regs::CNT_RX_CELLS),
            hec_errors: r(regs::CNT_HEC_ERRORS),
            crc_errors: r(regs::CNT_CRC_ERRORS),
            rx_dropped: r(regs::CNT_RX_DROPPED),
            tx_pdus: r(regs::CNT_TX_PDUS),
            rx_pdus: r(regs::CNT_RX_PDUS),
            rx_unknown: r(regs::CNT_RX_UNKNOWN),
            tx_flushed: r(regs::CNT_TX_FLUSHED),
        }
    }

    /// TX descriptors free for new frames.
    pub fn tx_free(&self) -> Option<u32> {
        let dp = self.dp.try_lock()?;
        Some(self.tx_room(&dp))
    }

    fn tx_room(&self, dp: &DataPath) -> u32 {
        let used = dp.tx_prod.wrapping_sub(dp.tx_clean);
        let cap = match self.tx_limit.load(Ordering::Relaxed) {
            0 => self.cfg.tx_ring - 1,
            n => n.min(self.cfg.tx_ring - 1),
        };
        cap.saturating_sub(used)
    }

    /// Caps the TX descriptors in flight below the ring size (0: no cap) — a test knob for
    /// back-pressure (`transmit` answers RESOURCES sooner).
    pub fn set_tx_limit(&self, descriptors: u32) {
        self.tx_limit.store(descriptors, Ordering::Relaxed);
    }

    fn conn_state(&self, conn: u16) -> u8 {
        self.conns.get(usize::from(conn)).map_or(cs::FREE, |c| c.load(Ordering::Acquire))
    }

    /// Issues a command and waits for its result.
    fn command(&self, opcode: u8, conn: u16) -> Option<u8> {
        let mut c = Cmd(0);
        c.set_op(opcode);
        c.set_conn(conn);
        self.bus.write32(regs::CMD, c.0);
        for _ in 0..SPIN_LIMIT {
            let s = CmdStatus(self.bus.read32(regs::CMD_STATUS));
            if !s.busy() {
                return Some(s.result());
            }
        }
        None
    }

    /// Test-only misuse: rewrites word 2 of the oldest descriptor still in flight (owned by the
    /// NIC until it is written back), as a buggy driver would. Returns whether it wrote.
    #[doc(hidden)]
    pub fn misuse_rewrite_in_flight_descriptor(&self) -> bool {
        let Some(dp) = self.dp.try_lock() else {
            return false;
        };
        if dp.tx_clean == dp.tx_prod {
            return false;
        }
        let idx = (dp.tx_clean & (self.cfg.tx_ring - 1)) as usize;
        self.bus.dma_write32(&self.regions.txd, idx * DESC_LEN + desc::word::W2, 0).is_ok()
    }
}

impl<B: Bus, R: RawMutex + Send + Sync + 'static> Device for RegNic<B, R> {
    fn open_connection(&self, params: &ConnParams) -> Result<ConnId, NdisStatus> {
        if params.aal != AalType::Aal5 {
            return Err(NdisStatus::AAL_PARAMS_UNSUPPORTED);
        }
        let vpi = u8::try_from(params.id.vpi).map_err(|_| NdisStatus::INVALID_DATA)?;
        let max_sdu = params.max_rx_sdu.clamp(1, MAX_SDU_LEN as u32);
        let mut free = self.ctl.lock();
        if free.is_empty() {
            self.freed.take_all(|i| {
                if free.len() < free.capacity() {
                    free.push(i as u16);
                }
            });
        }
        // Every index on the stack is FREE; one that is not (cannot happen) is dropped.
        let idx = loop {
            let Some(i) = free.pop() else { return Err(NdisStatus::RESOURCES) };
            let c = self.conns.get(usize::from(i));
            if c.is_some_and(|c| c.compare_exchange(cs::FREE, cs::OPENING, Ordering::AcqRel, Ordering::Acquire).is_ok())
            {
                break usize::from(i);
            }
        };
        let conn = idx as u16;
        let mut vc = ConnVc(0);
        vc.set_vpi(vpi);
        vc.set_vci(params.id.vci);
        let mut cfg = ConnCfg(0);
        cfg.set_aal(regs::AAL5);
        cfg.set_service(if params.tx_pcr == 0 { service::UBR } else { service::CBR });
        let mut ms = ConnMaxSdu(0);
        ms.set_max_sdu(max_sdu);
        let b = &self.bus;
        b.write32(regs::conn_reg(conn, conn_word::VC), vc.0);
        b.write32(regs::conn_reg(conn, conn_word::CFG), cfg.0);
        b.write32(regs::conn_reg(conn, conn_word::PCR), params.tx_pcr);
        b.write32(regs::conn_reg(conn, conn_word::MAX_SDU), ms.0);
        let result = self.command(op::OPEN, conn);
        let state = self.conns.get(idx);
        match result {
            Some(cmd_result::OK) => {
                if let Some(s) = state {
                    s.store(cs::OPEN, Ordering::Release);
                }
                Ok(ConnId(conn))
            }
            other => {
                if let Some(s) = state {
                    s.store(cs::FREE, Ordering::Release);
                }
                if free.len() < free.capacity() {
                    free.push(conn);
                }
                match other {
                    Some(cmd_result::VC_IN_USE) => Err(NdisStatus::INVALID_DATA),
                    Some(cmd_result::BAD_PARAM) => Err(NdisStatus::INVALID_PARAMETER),
                    _ => Err(NdisStatus::FAILURE),
                }
            }
        }
    }

    fn close_connection(&self, conn: ConnId) {
        let _g = self.ctl.lock();
        let Some(state) = self.conns.get(usize::from(conn.0)) else {
            return;
        };
        if state.compare_exchange(cs::OPEN, cs::CLOSING, Ordering::AcqRel, Ordering::Acquire).is_err() {
            return;
        }
        if self.command(op::CLOSE, conn.0) != Some(cmd_result::OK) {
            // The NIC does not know it open (reset, or hung): nothing of it is in flight there.
            state.store(cs::CLOSE_LOCAL, Ordering::Release);
            self.close_local.mark(usize::from(conn.0));
        }
    }

    fn transmit(&self, conn: ConnId, frame: &[u8], cookie: TxCookie) -> Result<(), NdisStatus> {
        match self.conn_state(conn.0) {
            cs::OPEN => {}
            cs::CLOSING | cs::CLOSE_LOCAL => return Err(NdisStatus::CLOSING),
            _ => return Err(NdisStatus::INVALID_STATE),
        }
        if frame.is_empty() || frame.len() > MAX_SDU_LEN {
            return Err(NdisStatus::INVALID_LENGTH);
        }
        let Some(mut dp) = self.dp.try_lock() else {
            return Err(NdisStatus::RESOURCES);
        };
        let chunk = self.cfg.tx_buf as usize;
        let need = frame.len().div_ceil(chunk);
        if need > self.tx_room(&dp) as usize {
            bump(&self.stats.tx_ring_full);
            return Err(NdisStatus::RESOURCES);
        }
        let mask = self.cfg.tx_ring - 1;
        let b = &self.bus;
        let rg = &self.regions;
        let last = need.saturating_sub(1);
        // Buffers and words 0-2 of every descriptor first, plain stores.
        for (i, part) in frame.chunks(chunk).enumerate() {
            let idx = (dp.tx_prod.wrapping_add(i as u32) & mask) as usize;
            let buf_off = idx * chunk;
            let Some(addr) = rg.txb.bus_at(buf_off) else {
                return Err(NdisStatus::FAILURE);
            };
            if b.dma_write(&rg.txb, buf_off, part).is_err() {
                return Err(NdisStatus::FAILURE);
            }
            let mut lc = TxLenConn(0);
            lc.set_len(part.len() as u16);
            lc.set_conn(conn.0);
            let base = idx * DESC_LEN;
            let _ = b.dma_write32(&rg.txd, base + desc::word::W0, addr as u32);
            let _ = b.dma_write32(&rg.txd, base + desc::word::W1, (addr >> 32) as u32);
            let _ = b.dma_write32(&rg.txd, base + desc::word::W2, lc.0);
            if let Some(sh) = dp.tx_shadow.get_mut(idx) {
                *sh = TxShadow { cookie: cookie.0, conn: conn.0, eop: i == last };
            }
        }
        // OWN on the tail descriptors, then the head last: the NIC never sees half a chain.
        for i in (0..need).rev() {
            let idx = (dp.tx_prod.wrapping_add(i as u32) & mask) as usize;
            let mut ctl = TxCtl(0);
            ctl.set_own(true);
            ctl.set_eop(i == last);
            let _ = b.dma_write32_release(&rg.txd, idx * DESC_LEN + desc::word::W3, ctl.0);
        }
        dp.tx_prod = dp.tx_prod.wrapping_add(need as u32);
        b.write32(regs::TX.prod, dp.tx_prod & mask);
        Ok(())
    }

    fn poll(&self, budget: usize, sink: &mut dyn FnMut(DeviceEvent<'_>)) -> usize {
        if budget == 0 {
            return 0;
        }
        let Some(mut dp) = self.dp.try_lock() else {
            return 0;
        };
        // Acknowledge first: whatever the NIC writes after this read raises the line again.
        let st = self.bus.read32(regs::INT_STATUS);
        if st != 0 && st != GONE {
            self.bus.write32(regs::INT_STATUS, st);
        }
        let mut n = self.reap_tx(&mut dp, budget, sink);
        n += self.reap_rx(&mut dp, budget.saturating_sub(n), sink);
        n += self.reap_events(&mut dp, budget.saturating_sub(n), sink);
        n += self.reap_local_closes(budget.saturating_sub(n), sink);
        if self.irq_masked.load(Ordering::Acquire) {
            self.synchronized(&mut || self.unmask_after_dpc());
        }
        n
    }

    fn link_up(&self) -> bool {
        PhyStatus(self.bus.read32(regs::PHY_STATUS)).link_up()
    }
}

impl<B: Bus, R: RawMutex + Send + Sync> Drop for RegNic<B, R> {
    /// Stops the NIC's DMA (reset), then frees the memory it used.
    fn drop(&mut self) {
        let _ = Self::reset(&self.bus);
        for r in self.regions.all() {
            self.bus.dma_free(r);
        }
    }
}
