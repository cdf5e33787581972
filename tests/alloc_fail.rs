//! Allocation failure at initialize (issue 8, deliver 4): a global allocator that fails exactly
//! the k-th heap allocation made on the test thread while MiniportInitializeEx's work runs —
//! `RegNic::new` (the NIC's own tables) and then `Adapter::initialize` — for every k, and the NIC
//! model failing the k-th DMA (shared-memory) allocation of `RegNic::new`. Each must end in an
//! NDIS status (RESOURCES), never abort (an infallible allocation that fails aborts the whole test
//! binary) and never panic, and must give back everything it took: the heap bytes it allocated and
//! the NIC's DMA regions. `the_allocation_sites_of_initialize_are_listed` names every site.
//!
//! One test per binary: the allocator is process-wide (it only fails on the armed thread).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;

use atmmcm::NdisStatus;
use atmmcm::adapter::Adapter;
use atmmcm::config::Config;
use atmmcm::nic::bus::{Bus, DmaRegion, OutOfRange};
use atmmcm::nic::regnic::{RegNic, RegNicConfig};
use atmmcm_hw::clock::Clock;
use atmmcm_hw::host::{EmuNdis, LabSpinLock};
use atmmcm_hw::lab::LabNic;
use atmmcm_hw::regnic_model::RegNicModel;

struct FailKth;

thread_local! {
    /// Allocations left before the one that fails; negative = disarmed.
    static LEFT: Cell<isize> = const { Cell::new(-1) };
    /// An allocation was failed since arming.
    static FAILED: Cell<bool> = const { Cell::new(false) };
    /// Allocations made while armed (success or not).
    static SEEN: Cell<usize> = const { Cell::new(0) };
    /// Heap bytes held by allocations made on this thread while counting.
    static NET: Cell<isize> = const { Cell::new(0) };
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

thread_local! {
    /// Record where each allocation is made (`record_site`).
    static RECORD: Cell<bool> = const { Cell::new(false) };
    /// Inside `record_site` (its own allocations pass through).
    static IN_RECORD: Cell<bool> = const { Cell::new(false) };
    static SITES: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The driver function (and source line) that made this allocation: the innermost frame of the
/// `atmmcm` crate outside `alloc`/`core`.
fn record_site() {
    if !RECORD.try_with(|r| r.get()).unwrap_or(false) || IN_RECORD.try_with(|r| r.replace(true)).unwrap_or(true) {
        return;
    }
    let bt = std::backtrace::Backtrace::force_capture().to_string();
    let lines: Vec<&str> = bt.lines().map(str::trim).collect();
    // The innermost two frames of the driver crate: the allocating helper and its caller.
    let frames: Vec<String> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.split_once(": ").is_some_and(|(_, f)| f.starts_with("atmmcm::")))
        .take(2)
        .map(|(i, l)| {
            let name = l.split_once(": ").map_or(*l, |x| x.1).trim_start_matches("atmmcm::");
            let at = lines.get(i + 1).filter(|n| n.starts_with("at ")).map_or("", |n| n.trim_start_matches("at "));
            let at = at.rsplit_once("/src/").map_or(at.to_string(), |(_, f)| format!("src/{f}"));
            format!("{name} ({at})")
        })
        .collect();
    let site = if frames.is_empty() { "(outside atmmcm)".to_string() } else { frames.join(" <- ") };
    SITES.with(|s| s.borrow_mut().push(site));
    IN_RECORD.with(|r| r.set(false));
}

thread_local! {
    /// The NIC model (the emulated hardware and host memory behind the bus) is running: its own
    /// allocations are not the driver's — failing shared memory is the DMA sweep's business.
    static IN_MODEL: Cell<bool> = const { Cell::new(false) };
}

/// The model's bus, with the model's own heap allocations left out of the sweep.
struct Shielded(atmmcm_hw::regnic_model::ModelBus);

fn model<R>(f: impl FnOnce() -> R) -> R {
    let was = IN_MODEL.with(|m| m.replace(true));
    let r = f();
    IN_MODEL.with(|m| m.set(was));
    r
}

impl Bus for Shielded {
    fn read32(&self, off: u32) -> u32 {
        model(|| self.0.read32(off))
    }
    fn write32(&self, off: u32, v: u32) {
        model(|| self.0.write32(off, v))
    }
    fn dma_alloc(&self, len: usize) -> Option<DmaRegion> {
        model(|| self.0.dma_alloc(len))
    }
    fn dma_free(&self, r: DmaRegion) {
        model(|| self.0.dma_free(r))
    }
    fn dma_read(&self, r: &DmaRegion, off: usize, dst: &mut [u8]) -> Result<(), OutOfRange> {
        model(|| self.0.dma_read(r, off, dst))
    }
    fn dma_write(&self, r: &DmaRegion, off: usize, src: &[u8]) -> Result<(), OutOfRange> {
        model(|| self.0.dma_write(r, off, src))
    }
    fn dma_read32_acquire(&self, r: &DmaRegion, off: usize) -> u32 {
        model(|| self.0.dma_read32_acquire(r, off))
    }
    fn dma_write32_release(&self, r: &DmaRegion, off: usize, v: u32) -> Result<(), OutOfRange> {
        model(|| self.0.dma_write32_release(r, off, v))
    }
}

/// The NIC driver over the shielded model bus.
fn regnic(model: &RegNicModel) -> Result<RegNic<Shielded, LabSpinLock>, NdisStatus> {
    RegNic::new(Shielded(model.bus()), RegNicConfig::default())
}

fn fail_now() -> bool {
    if IN_MODEL.try_with(|m| m.get()).unwrap_or(true) || IN_RECORD.try_with(|r| r.get()).unwrap_or(true) {
        return false;
    }
    record_site();
    LEFT.try_with(|l| {
        let v = l.get();
        if v < 0 {
            return false;
        }
        SEEN.with(|s| s.set(s.get() + 1));
        if v == 0 {
            l.set(-1);
            FAILED.with(|f| f.set(true));
            true
        } else {
            l.set(v - 1);
            false
        }
    })
    .unwrap_or(false)
}

fn count(bytes: isize) {
    let _ = COUNTING.try_with(|c| {
        if c.get() {
            NET.with(|n| n.set(n.get() + bytes));
        }
    });
}

// SAFETY: forwards to the system allocator; only ever returns null (an allowed answer) instead.
unsafe impl GlobalAlloc for FailKth {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if fail_now() {
            return std::ptr::null_mut();
        }
        count(layout.size() as isize);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if fail_now() {
            return std::ptr::null_mut();
        }
        count(layout.size() as isize);
        // SAFETY: same contract as ours.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as isize));
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if fail_now() {
            return std::ptr::null_mut();
        }
        // SAFETY: same contract as ours.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            count(new_size as isize - layout.size() as isize);
        }
        p
    }
}

#[global_allocator]
static ALLOC: FailKth = FailKth;

fn arm(k: isize) {
    LEFT.with(|l| l.set(k));
    FAILED.with(|f| f.set(false));
    SEEN.with(|s| s.set(0));
}

fn disarm() -> (bool, usize) {
    LEFT.with(|l| l.set(-1));
    (FAILED.with(|f| f.get()), SEEN.with(|s| s.get()))
}

fn small_config() -> Config {
    Config { max_vcs: 8, ring_size: 8, ..Config::default() }
}

#[test]
fn failing_any_single_allocation_of_adapter_initialize_returns_resources_and_frees_everything() {
    let clock = Arc::new(Clock::new());
    let model = RegNicModel::new();
    // Adapter::initialize: control state, SAAL, DPC state, per-VC paths and rings, queues. The NIC
    // and the emulated NDIS are built first, unarmed; only initialize's own allocations count.
    // What building and dropping the NIC and the emulated NDIS alone leaves behind (the model
    // and the emulator keep some bookkeeping): measured after a warm-up, the same every time.
    let baseline = || {
        COUNTING.with(|c| c.set(true));
        NET.with(|n| n.set(0));
        let ndis = EmuNdis::new(clock.clone());
        let nic = regnic(&model).expect("NIC");
        drop(nic);
        drop(ndis);
        COUNTING.with(|c| c.set(false));
        NET.with(|n| n.get())
    };
    baseline();
    let base = baseline();
    let (mut sites, mut in_nic) = (0, 0);
    for k in 0.. {
        // Counting covers the NIC and the emulated NDIS too (the NIC goes into initialize and is
        // dropped with it), so everything taken must be given back: the net is the baseline's.
        // Armed from RegNic::new on: its own tables are allocations of initialize too.
        COUNTING.with(|c| c.set(true));
        NET.with(|n| n.set(0));
        let ndis = EmuNdis::new(clock.clone());
        arm(k);
        let r = match regnic(&model) {
            Ok(nic) => Adapter::initialize(ndis.clone(), nic, small_config()).map(drop),
            Err(e) => {
                in_nic += 1;
                Err(e)
            }
        };
        let (failed, seen) = disarm();
        drop(ndis);
        COUNTING.with(|c| c.set(false));
        let net = NET.with(|n| n.get());
        assert_eq!(model.dma_regions(), 0, "allocation #{k}: the NIC's DMA regions were not given back");
        if !failed {
            assert_eq!(r, Ok(()), "no allocation failed, yet {r:?}");
            sites = seen;
            break;
        }
        assert_eq!(r, Err(NdisStatus::RESOURCES), "allocation #{k} failed");
        assert_eq!(net - base, 0, "allocation #{k} failed and {} heap bytes were not given back", net - base);
    }
    println!(
        "RegNic::new + Adapter::initialize: every one of their {sites} heap allocations failed in turn \
         ({in_nic} in RegNic::new)"
    );
    assert!(sites > 10, "the sweep saw the allocations ({sites})");
    assert!(in_nic >= 5, "the sweep reached RegNic::new's own allocations ({in_nic})");
}

/// Names every heap allocation site the sweep above fails, in order, with how many times each
/// is reached; RegNic::new's own tables are among them.
#[test]
fn the_allocation_sites_of_initialize_are_listed() {
    let clock = Arc::new(Clock::new());
    let model = RegNicModel::new();
    let ndis = EmuNdis::new(clock.clone());
    // Warm-up outside the record (lazy statics of the backtrace machinery).
    let _ = std::backtrace::Backtrace::force_capture().to_string();
    SITES.with(|s| s.borrow_mut().clear());
    arm(isize::MAX);
    RECORD.with(|r| r.set(true));
    let r = regnic(&model).and_then(|nic| Adapter::initialize(ndis.clone(), nic, small_config()).map(drop));
    RECORD.with(|r| r.set(false));
    let (_, seen) = disarm();
    assert_eq!(r, Ok(()));
    let sites = SITES.with(|s| s.borrow().clone());
    assert_eq!(sites.len(), seen, "one site per allocation");
    let mut distinct: Vec<(String, usize)> = Vec::new();
    for s in &sites {
        match distinct.iter_mut().find(|(n, _)| n == s) {
            Some((_, c)) => *c += 1,
            None => distinct.push((s.clone(), 1)),
        }
    }
    println!("{} heap allocations at {} sites:", sites.len(), distinct.len());
    for (s, c) in &distinct {
        println!("  {c:>3} x {s}");
    }
    assert!(distinct.iter().any(|(s, _)| s.contains("regnic")), "RegNic::new's allocations are swept: {distinct:?}");
    assert!(distinct.iter().any(|(s, _)| s.contains("adapter")), "Adapter::initialize's are: {distinct:?}");
}

#[test]
fn failing_any_single_dma_allocation_of_nic_initialize_returns_resources_and_frees_every_region() {
    let model = RegNicModel::new();
    let mut sites = 0;
    for k in 0.. {
        model.fail_dma_alloc(Some(k));
        let r = LabNic::new(model.bus(), RegNicConfig::default()).map(drop);
        let failed = !model.dma_failure_pending();
        model.fail_dma_alloc(None);
        assert_eq!(model.dma_regions(), 0, "DMA allocation #{k}: regions left after RegNic::new / drop");
        if !failed {
            assert!(r.is_ok(), "no DMA allocation failed, yet {r:?}");
            sites = k;
            break;
        }
        assert_eq!(r.err(), Some(NdisStatus::RESOURCES), "DMA allocation #{k} failed");
    }
    println!("RegNic::new: every one of its {sites} DMA allocations failed in turn");
    assert!(sites >= 3, "the sweep saw the DMA allocations ({sites})");
}

/// The harness's own check: a leaked allocation shows in the net count, a failed one is seen.
#[test]
fn the_harness_sees_a_leak_and_a_failed_allocation() {
    COUNTING.with(|c| c.set(true));
    NET.with(|n| n.set(0));
    let mut v: Vec<u8> = Vec::new();
    v.try_reserve_exact(100).unwrap();
    std::mem::forget(v);
    COUNTING.with(|c| c.set(false));
    assert_eq!(NET.with(|n| n.get()), 100);
    arm(0);
    let mut w: Vec<u8> = Vec::new();
    assert!(w.try_reserve_exact(10).is_err(), "the armed allocation fails");
    assert_eq!(disarm(), (true, 1));
}
