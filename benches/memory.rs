//! Memory report (one-shot): what the adapter allocates, counted by a global allocator that
//! tracks live bytes. Also checks that nothing is allocated after initialize while calls are made
//! and frames are sent.
//!
//! - `memory/bytes_per_idle_vc_slot`: (total at MaxVcs 65 534 − total at MaxVcs 1 024) / 64 510,
//!   everything else at its default.
//! - `memory/bytes_per_active_call`: what one more possible active call costs (`MaxActiveVcs`:
//!   its call-state entry, its send ring and in-flight queue; the signalling backlog's share only
//!   once 96 B × MaxActiveVcs exceeds its 256 KiB floor); where there is no pool, every slot has
//!   its ring and this equals the slot.
//! - `memory/total_maxvcs_{1024,65534}`: the adapter at initialize, default ring size.
//!
//! `cargo bench --bench memory`

mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use atmmcm::Adapter;
use atmmcm::config::Config;
use support::{BenchNdis, DataBench, NullNic};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static ALLOCS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size(), Ordering::Relaxed);
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size(), Ordering::Relaxed);
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc_zeroed(l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(new, Ordering::Relaxed);
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static A: Counting = Counting;

/// Live bytes the adapter holds right after initialize with `config`.
fn adapter_bytes(config: Config) -> usize {
    let ndis = BenchNdis::new(0, 0);
    let nic = NullNic::new();
    let before = LIVE.load(Ordering::Relaxed);
    let a = Adapter::initialize(ndis, nic, config).expect("initialize");
    let after = LIVE.load(Ordering::Relaxed);
    drop(a);
    after - before
}

fn mb(b: usize) -> f64 {
    b as f64 / (1024.0 * 1024.0)
}

fn main() {
    let d = Config::DEFAULT;
    let small = adapter_bytes(Config { max_vcs: 1024, ..d });
    let big = adapter_bytes(Config { max_vcs: 65534, ..d });
    let per_slot = (big - small) as f64 / (65534.0 - 1024.0);
    // The goal's case: 65 534 slots, 1 024 of them with an active call (the default pool).
    println!("memory/total_maxvcs_1024: {small} bytes ({:.1} MiB), ring size {}", mb(small), d.ring_size);
    println!("memory/total_maxvcs_65534: {big} bytes ({:.1} MiB)", mb(big));
    println!("memory/bytes_per_idle_vc_slot: {per_slot:.0}");
    println!("memory/bytes_per_active_call: {}", per_active_call(d));

    // No allocation after initialize: 1 024 calls (PVCs) made and 64 frames sent on each.
    let b = DataBench::new(65534, 1024, 64, 64);
    let allocs = ALLOCS.load(Ordering::Relaxed);
    let live = LIVE.load(Ordering::Relaxed);
    for &vc in &b.vcs {
        for half in 0..2 {
            let head = b.ndis.chain(half * 32, 32);
            b.adapter.miniport_co_send_net_buffer_lists(vc, head, 0);
            b.run_dpc();
        }
    }
    b.run_dpc();
    let (da, dl) = (ALLOCS.load(Ordering::Relaxed) - allocs, LIVE.load(Ordering::Relaxed) as i64 - live as i64);
    println!("memory/allocations_while_sending_65536_frames_on_1024_vcs: {da} ({dl} bytes)");
    assert_eq!(da, 0, "the data path allocates nothing after initialize");
}

/// Bytes one more possible active call costs (`max_active_vcs` when the config has it).
fn per_active_call(d: Config) -> String {
    active_delta(d)
        .map_or_else(|| "n/a (every slot has its ring: see bytes_per_idle_vc_slot)".into(), |v| format!("{v:.0}"))
}

/// (total at MaxActiveVcs 2 048 − at 1 024) / 1 024, MaxVcs 65 534.
fn active_delta(d: Config) -> Option<f64> {
    let a = adapter_bytes(Config { max_vcs: 65534, max_active_vcs: 1024, ..d });
    let b = adapter_bytes(Config { max_vcs: 65534, max_active_vcs: 2048, ..d });
    Some((b - a) as f64 / 1024.0)
}
