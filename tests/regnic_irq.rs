//! The register-level NIC's interrupt and shutdown duties on Windows (issue 7 items 7, 8, 9), on
//! the ATM1 model behind a probing bus that logs every register access and can play a NIC that
//! has left the bus (every read all-ones, writes lost).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use atmmcm::ndis::{AalType, VpiVci};
use atmmcm::nic::bus::{Bus, DmaRegion, OutOfRange};
use atmmcm::nic::regnic::{IrqSync, RegNic, RegNicConfig};
use atmmcm::nic::regs::{self, IntBits, Status};
use atmmcm::nic::{ConnParams, Device, TxCookie};
use atmmcm_hw::host::LabSpinLock;
use atmmcm_hw::regnic_model::{ModelBus, RegNicModel};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Access {
    Read(u32),
    Write(u32, u32),
}

#[derive(Clone)]
struct Probe {
    inner: ModelBus,
    gone: Arc<AtomicBool>,
    log: Arc<Mutex<Vec<Access>>>,
}

impl Bus for Probe {
    fn read32(&self, off: u32) -> u32 {
        self.log.lock().unwrap().push(Access::Read(off));
        if self.gone.load(Ordering::SeqCst) { u32::MAX } else { self.inner.read32(off) }
    }
    fn write32(&self, off: u32, v: u32) {
        self.log.lock().unwrap().push(Access::Write(off, v));
        if !self.gone.load(Ordering::SeqCst) {
            self.inner.write32(off, v);
        }
    }
    fn dma_alloc(&self, len: usize) -> Option<DmaRegion> {
        self.inner.dma_alloc(len)
    }
    fn dma_free(&self, r: DmaRegion) {
        self.inner.dma_free(r)
    }
    fn dma_read(&self, r: &DmaRegion, off: usize, dst: &mut [u8]) -> Result<(), OutOfRange> {
        self.inner.dma_read(r, off, dst)
    }
    fn dma_write(&self, r: &DmaRegion, off: usize, src: &[u8]) -> Result<(), OutOfRange> {
        self.inner.dma_write(r, off, src)
    }
    fn dma_read32_acquire(&self, r: &DmaRegion, off: usize) -> u32 {
        self.inner.dma_read32_acquire(r, off)
    }
    fn dma_write32_release(&self, r: &DmaRegion, off: usize, v: u32) -> Result<(), OutOfRange> {
        self.inner.dma_write32_release(r, off, v)
    }
}

type Nic = RegNic<Probe, LabSpinLock>;

struct Rig {
    model: RegNicModel,
    probe: Probe,
    nic: Nic,
}

fn rig() -> Rig {
    let model = RegNicModel::new();
    let probe = Probe { inner: model.bus(), gone: Arc::default(), log: Arc::default() };
    let nic = RegNic::new(probe.clone(), RegNicConfig::default()).expect("RegNic::new");
    probe.log.lock().unwrap().clear();
    Rig { model, probe, nic }
}

impl Rig {
    fn int_mask(&self) -> u32 {
        self.model.bus().read32(regs::INT_MASK)
    }
    /// A frame on a fresh connection makes the NIC raise TX_DONE once the model runs.
    fn raise_an_interrupt(&self) {
        let p = ConnParams { id: VpiVci { vpi: 0, vci: 100 }, aal: AalType::Aal5, tx_pcr: 0, max_rx_sdu: 9180 };
        let c = self.nic.open_connection(&p).unwrap();
        self.nic.transmit(c, &[0x55; 100], TxCookie(1)).unwrap();
        while self.model.step() {}
        assert!(self.model.interrupt_line(), "the model raised its line");
    }
    fn log(&self) -> Vec<Access> {
        std::mem::take(&mut *self.probe.log.lock().unwrap())
    }
}

fn drain<B: Bus>(nic: &RegNic<B, LabSpinLock>) {
    while nic.poll(256, &mut |_| {}) > 0 {}
}

// ---- item 8: all-ones is "not ours" -----------------------------------------------------------------

#[test]
fn isr_claims_a_pending_unmasked_cause_and_masks_the_line() {
    let r = rig();
    r.raise_an_interrupt();
    assert!(r.nic.interrupt());
    assert_eq!(r.int_mask(), 0);
    assert!(!r.model.interrupt_line());
    drain(&r.nic);
    assert_eq!(r.int_mask(), IntBits::ALL.0, "the DPC's poll unmasks");
}

#[test]
fn isr_does_not_claim_when_nothing_is_pending() {
    let r = rig();
    assert!(!r.nic.interrupt());
    assert_eq!(r.int_mask(), IntBits::ALL.0);
}

#[test]
fn isr_after_surprise_removal_reads_all_ones_and_does_not_claim_the_shared_line() {
    let r = rig();
    r.probe.gone.store(true, Ordering::SeqCst);
    r.log();
    for _ in 0..3 {
        assert!(!r.nic.interrupt(), "all-ones INT_STATUS / INT_MASK is a NIC that left the bus");
    }
    assert!(r.log().iter().all(|a| matches!(a, Access::Read(_))), "nothing written to a gone NIC");
    // The DPC's poll does not "acknowledge" all-ones either.
    r.nic.poll(16, &mut |_| {});
    assert!(!r.log().contains(&Access::Write(regs::INT_STATUS, u32::MAX)));
}

// ---- item 9: INT_MASK writers synchronized --------------------------------------------------------

#[test]
fn a_dpc_finishing_after_disable_interrupt_does_not_unmask() {
    let r = rig();
    r.raise_an_interrupt();
    assert!(r.nic.interrupt()); // ISR: masks, DPC queued
    r.nic.disable_interrupts(); // NDIS: MiniportDisableInterruptEx
    drain(&r.nic); // the queued DPC runs
    assert_eq!(r.int_mask(), 0, "the DPC undid MiniportDisableInterruptEx");
    r.nic.enable_interrupts();
    assert_eq!(r.int_mask(), IntBits::ALL.0);
}

#[test]
fn enable_interrupt_leaves_the_unmask_to_a_pending_dpc() {
    let r = rig();
    r.raise_an_interrupt();
    assert!(r.nic.interrupt());
    r.nic.disable_interrupts();
    r.nic.enable_interrupts();
    assert_eq!(r.int_mask(), 0, "the ISR's mask stands until its DPC has polled");
    drain(&r.nic);
    assert_eq!(r.int_mask(), IntBits::ALL.0);
}

#[test]
fn the_dpc_unmask_runs_inside_the_interrupt_synchronizer() {
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    static INSIDE: AtomicBool = AtomicBool::new(false);
    fn sync(ctx: usize, body: &mut dyn FnMut()) {
        assert_eq!(ctx, 0xC0DE);
        CALLS.fetch_add(1, Ordering::SeqCst);
        INSIDE.store(true, Ordering::SeqCst);
        body();
        INSIDE.store(false, Ordering::SeqCst);
    }
    let model = RegNicModel::new();
    // Logs whether each INT_MASK write happened inside the synchronizer.
    #[derive(Clone)]
    struct Inside(ModelBus, Arc<Mutex<Vec<(u32, bool)>>>);
    let seen: Arc<Mutex<Vec<(u32, bool)>>> = Arc::default();
    impl Bus for Inside {
        fn read32(&self, off: u32) -> u32 {
            self.0.read32(off)
        }
        fn write32(&self, off: u32, v: u32) {
            if off == regs::INT_MASK {
                self.1.lock().unwrap().push((v, INSIDE.load(Ordering::SeqCst)));
            }
            self.0.write32(off, v)
        }
        fn dma_alloc(&self, len: usize) -> Option<DmaRegion> {
            self.0.dma_alloc(len)
        }
        fn dma_free(&self, r: DmaRegion) {
            self.0.dma_free(r)
        }
        fn dma_read(&self, r: &DmaRegion, off: usize, dst: &mut [u8]) -> Result<(), OutOfRange> {
            self.0.dma_read(r, off, dst)
        }
        fn dma_write(&self, r: &DmaRegion, off: usize, src: &[u8]) -> Result<(), OutOfRange> {
            self.0.dma_write(r, off, src)
        }
        fn dma_read32_acquire(&self, r: &DmaRegion, off: usize) -> u32 {
            self.0.dma_read32_acquire(r, off)
        }
        fn dma_write32_release(&self, r: &DmaRegion, off: usize, v: u32) -> Result<(), OutOfRange> {
            self.0.dma_write32_release(r, off, v)
        }
    }
    let nic: RegNic<Inside, LabSpinLock> = RegNic::new(Inside(model.bus(), seen.clone()), RegNicConfig::default())
        .unwrap()
        .with_irq_sync(IrqSync { run: sync, ctx: 0xC0DE });
    seen.lock().unwrap().clear();
    let p = ConnParams { id: VpiVci { vpi: 0, vci: 100 }, aal: AalType::Aal5, tx_pcr: 0, max_rx_sdu: 9180 };
    let c = nic.open_connection(&p).unwrap();
    nic.transmit(c, &[1; 64], TxCookie(1)).unwrap();
    while model.step() {}
    assert!(nic.interrupt()); // ISR context: its own mask write needs no synchronizer
    drain(&nic);
    nic.mask_interrupts(); // halt
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen, [(0, false), (IntBits::ALL.0, true), (0, true)]);
    assert_eq!(CALLS.load(Ordering::SeqCst), 2);
}

// ---- item 7: MiniportShutdownEx quiesces the NIC ---------------------------------------------------

#[test]
fn shutdown_masks_interrupts_and_stops_dma_with_register_writes_only() {
    let r = rig();
    let p = ConnParams { id: VpiVci { vpi: 0, vci: 100 }, aal: AalType::Aal5, tx_pcr: 0, max_rx_sdu: 9180 };
    let c = r.nic.open_connection(&p).unwrap();
    r.nic.transmit(c, &[7; 4000], TxCookie(9)).unwrap();
    let before = r.model.counters().tx_pdus;
    r.log();
    r.nic.shutdown();
    let log = r.log();
    assert!(!log.is_empty());
    assert!(log.iter().all(|a| matches!(a, Access::Write(..))), "no register read (no busy poll): {log:?}");
    assert_eq!(log.first(), Some(&Access::Write(regs::INT_MASK, 0)), "interrupts masked first");
    assert_eq!(r.int_mask(), 0);
    assert!(!Status(r.model.bus().read32(regs::STATUS)).enabled(), "the NIC stopped");
    // The frame posted before the shutdown never leaves: DMA is stopped.
    for _ in 0..100 {
        r.model.step();
    }
    assert_eq!(r.model.counters().tx_pdus, before);
    assert!(r.model.take_cells().is_empty());
    assert!(!r.model.interrupt_line());
    // A late DPC does not bring the interrupt back.
    drain(&r.nic);
    assert_eq!(r.int_mask(), 0);
}
