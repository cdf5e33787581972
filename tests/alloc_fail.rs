//! Allocation failure at initialize (issue 8, deliver 4): a global allocator that fails exactly
//! the k-th heap allocation made on the test thread while `Adapter::initialize` runs, for every
//! k, and the NIC model failing the k-th DMA (shared-memory) allocation of `RegNic::new`. Each must end in an NDIS status (RESOURCES), never abort (an
//! infallible allocation that fails aborts the whole test binary) and never panic, and must give
//! back everything it took: the heap bytes it allocated and the NIC's DMA regions.
//!
//! One test per binary: the allocator is process-wide (it only fails on the armed thread).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;

use atmmcm::NdisStatus;
use atmmcm::adapter::Adapter;
use atmmcm::config::Config;
use atmmcm::nic::regnic::RegNicConfig;
use atmmcm_hw::clock::Clock;
use atmmcm_hw::host::EmuNdis;
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

fn fail_now() -> bool {
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
        let nic = LabNic::new(model.bus(), RegNicConfig::default()).expect("NIC");
        drop(nic);
        drop(ndis);
        COUNTING.with(|c| c.set(false));
        NET.with(|n| n.get())
    };
    baseline();
    let base = baseline();
    let mut sites = 0;
    for k in 0.. {
        // Counting covers the NIC and the emulated NDIS too (the NIC goes into initialize and is
        // dropped with it), so everything taken must be given back: the net is the baseline's.
        COUNTING.with(|c| c.set(true));
        NET.with(|n| n.set(0));
        let ndis = EmuNdis::new(clock.clone());
        let nic = LabNic::new(model.bus(), RegNicConfig::default()).expect("NIC");
        arm(k);
        let r = Adapter::initialize(ndis.clone(), nic, small_config()).map(drop);
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
    println!("Adapter::initialize: every one of its {sites} heap allocations failed in turn");
    assert!(sites > 10, "the sweep saw the allocations ({sites})");
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
