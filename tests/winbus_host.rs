//! Host tests for the kernel-independent body of `WinBus` (`src/windows/busmem.rs`): the BAR
//! window's bounds and alignment checks, the shared-memory table (alignment, zeroing, refusal of
//! forged and freed regions, hand-back of the original allocation), the checked copies, and
//! `MemBus` — the very `Bus` the driver runs on Windows — under `RegNic`, over heap memory
//! standing in for the BAR (`NdisMMapIoSpace`) and for `NdisMAllocateSharedMemory` blocks.

/// `busmem` names `crate::nic::bus`; here that is the driver crate's.
mod nic {
    pub use atmmcm::nic::bus;
}

#[path = "../src/windows/busmem.rs"]
#[allow(dead_code)]
mod busmem;

use std::alloc::{Layout, alloc_zeroed, dealloc};
use std::sync::{Arc, Mutex};

use atmmcm::NdisStatus;
use atmmcm::ndis::{AalType, VpiVci};
use atmmcm::nic::bus::{Bus, DmaRegion, OutOfRange};
use atmmcm::nic::desc::{DESC_LEN, OWN, TxCtl, word};
use atmmcm::nic::regnic::{RegNic, RegNicConfig};
use atmmcm::nic::regs::{self, Ctrl, IntBits};
use atmmcm::nic::{ConnId, ConnParams, Device, TxCookie};
use atmmcm_hw::host::LabSpinLock;
use busmem::{
    DMA_ALIGN, DMA_SLOTS, DmaTable, MemBus, Mmio, Platform, Raw, align_adjust, alloc_request, reg_index, span,
};

/// A heap block, 4096-aligned, standing in for device or shared memory.
struct Block {
    p: *mut u8,
    layout: Layout,
}

impl Block {
    fn new(len: usize) -> Block {
        let layout = Layout::from_size_align(len, 4096).unwrap();
        let p = unsafe { alloc_zeroed(layout) };
        assert!(!p.is_null());
        Block { p, layout }
    }
    fn bytes(&self) -> &[u8] {
        unsafe { std::slice::from_raw_parts(self.p, self.layout.size()) }
    }
    fn fill(&self, v: u8) {
        unsafe { self.p.write_bytes(v, self.layout.size()) };
    }
}

impl Drop for Block {
    fn drop(&mut self) {
        unsafe { dealloc(self.p, self.layout) };
    }
}

// ---- address arithmetic ----------------------------------------------------------------------------

#[test]
fn reg_index_accepts_aligned_offsets_inside_the_bar_only() {
    let len = 0x8000; // ATM1's BAR0
    assert_eq!(reg_index(len, 0), Some(0));
    assert_eq!(reg_index(len, 0x7FFC), Some(0x7FFC), "the last register");
    assert_eq!(reg_index(len, 0x8000), None, "one past the end");
    for off in [1, 2, 3, 0x7FFD, 0x7FFE, 0x7FFF] {
        assert_eq!(reg_index(len, off), None, "unaligned {off:#x}");
    }
    assert_eq!(reg_index(len, 0xFFFF_FFFC), None, "far outside");
    assert_eq!(reg_index(0, 0), None, "no BAR");
    assert_eq!(reg_index(2, 0), None, "a BAR shorter than a register");
}

#[test]
fn span_refuses_overflowing_and_overlong_ranges() {
    assert_eq!(span(64, 0, 64), Some(0), "exactly the whole region");
    assert_eq!(span(64, 60, 4), Some(60), "the last word");
    assert_eq!(span(64, 61, 4), None, "one octet over");
    assert_eq!(span(64, 64, 0), Some(64), "empty access at the end");
    assert_eq!(span(64, 65, 0), None, "empty access past the end");
    assert_eq!(span(usize::MAX, usize::MAX, 1), None, "off + n overflows");
    assert_eq!(span(usize::MAX, 1, usize::MAX), None, "n huge");
}

#[test]
fn alloc_request_adds_alignment_slack_and_fits_a_ulong() {
    assert_eq!(alloc_request(0), None);
    assert_eq!(alloc_request(1), Some(DMA_ALIGN as u32));
    assert_eq!(alloc_request(8192), Some(8192 + DMA_ALIGN as u32 - 1));
    let max = u32::MAX as usize - (DMA_ALIGN - 1);
    assert_eq!(alloc_request(max), Some(u32::MAX));
    assert_eq!(alloc_request(max + 1), None, "the padded length no longer fits a ULONG");
    assert_eq!(alloc_request(usize::MAX), None);
}

#[test]
fn align_adjust_moves_both_addresses_to_the_same_aligned_octet() {
    assert_eq!(align_adjust(0x1000, 0x7_0000, 100, 100), Some(0), "already aligned");
    assert_eq!(align_adjust(0x1010, 0x7_0010, 200, 100), Some(0x30));
    assert_eq!(align_adjust(0x103F, 0x7_003F, 200, 100), Some(1));
    assert_eq!(align_adjust(0x1010, 0x7_0010, 0x30 + 100, 100), Some(0x30), "exact fit after the slack");
    assert_eq!(align_adjust(0x1010, 0x7_0010, 0x30 + 99, 100), None, "one octet short");
    assert_eq!(align_adjust(0x1010, 0x7_0020, 200, 100), None, "virtual and bus addresses disagree mod 64");
    assert_eq!(align_adjust(0x1000, u64::MAX - 63, 200, 100), None, "the bus range would wrap");
}

// ---- the BAR window ----------------------------------------------------------------------------------

#[test]
fn mmio_reads_and_writes_little_endian_words_inside_the_window() {
    let b = Block::new(32);
    let m = unsafe { Mmio::new(b.p, 32) };
    m.write32(4, 0x4154_4D31);
    m.write32(28, 0xDEAD_BEEF);
    assert_eq!(&b.bytes()[4..8], &[0x31, 0x4D, 0x54, 0x41]);
    assert_eq!(m.read32(4), 0x4154_4D31);
    assert_eq!(m.read32(28), 0xDEAD_BEEF);
    assert_eq!(m.read32(0), 0);
}

#[test]
fn mmio_out_of_range_or_unaligned_reads_all_ones_and_drops_writes() {
    let b = Block::new(64);
    let m = unsafe { Mmio::new(b.p, 32) }; // only the first 32 octets are "the BAR"
    for off in [32, 36, 60, 1, 2, 3, 30, u32::MAX] {
        m.write32(off, 0x5A5A_5A5A);
        assert_eq!(m.read32(off), !0, "offset {off:#x}");
    }
    assert!(b.bytes().iter().all(|&x| x == 0), "no dropped write touched memory");
}

#[test]
fn mmio_without_a_bar_or_with_a_misaligned_base_is_inert() {
    let none = Mmio::none();
    assert!(none.is_empty());
    assert_eq!(none.read32(0), !0);
    none.write32(0, 1);
    let b = Block::new(64);
    let m = unsafe { Mmio::new(b.p.wrapping_add(2), 32) };
    assert!(m.is_empty(), "a base that is not 4-aligned maps nothing");
    m.write32(0, 0x1234_5678);
    assert_eq!(m.read32(0), !0);
    assert!(b.bytes().iter().all(|&x| x == 0));
    let null = unsafe { Mmio::new(std::ptr::null_mut(), 4096) };
    assert!(null.is_empty());
    assert_eq!(null.read32(0), !0);
}

// ---- the shared-memory table -----------------------------------------------------------------------------

/// Inserts a block whose virtual and bus addresses are both 8 octets past a 64-aligned address.
fn insert_misaligned(t: &DmaTable, b: &Block, want: usize) -> (DmaRegion, *mut u8, u64, usize) {
    let va = b.p.wrapping_add(8);
    let pa = 0x1_2345_0008u64;
    let got = alloc_request(want).unwrap() as usize;
    let r = unsafe { t.insert(va, pa, got, want) }.expect("insert");
    (r, va, pa, got)
}

#[test]
fn insert_aligns_the_region_and_zeroes_exactly_its_octets() {
    let b = Block::new(4096);
    b.fill(0xAA);
    let t = DmaTable::new();
    let (r, va, pa, _) = insert_misaligned(&t, &b, 256);
    assert_eq!(r.host % DMA_ALIGN, 0);
    assert_eq!(r.bus_addr % DMA_ALIGN as u64, 0);
    assert_eq!(r.len, 256);
    let adj = r.host - va as usize;
    assert_eq!(adj, 56);
    assert_eq!(r.bus_addr - pa, adj as u64, "bus and host moved by the same amount");
    let start = r.host - b.p as usize;
    let bytes = b.bytes();
    assert!(bytes[start..start + 256].iter().all(|&x| x == 0), "region zeroed");
    assert_eq!(bytes[start - 1], 0xAA, "the slack before is untouched");
    assert_eq!(bytes[start + 256], 0xAA, "nothing after the region is touched");
    assert_eq!(t.live(), 1);
}

#[test]
fn insert_refuses_disagreeing_addresses_and_a_full_table() {
    let b = Block::new(4096);
    let t = DmaTable::new();
    let bad = unsafe { t.insert(b.p.wrapping_add(8), 0x1000, 200, 100) };
    assert_eq!(bad, None, "va and pa disagree mod 64");
    assert_eq!(unsafe { t.insert(std::ptr::null_mut(), 0, 200, 100) }, None, "NULL");
    assert_eq!(unsafe { t.insert(b.p, 0, 200, 0) }, None, "empty");
    assert_eq!(t.live(), 0, "nothing recorded for a refused block");
    for i in 0..DMA_SLOTS {
        let va = b.p.wrapping_add(i * 256);
        assert!(unsafe { t.insert(va, 0x10_0000 + (i * 256) as u64, 256, 128) }.is_some(), "slot {i}");
    }
    assert_eq!(unsafe { t.insert(b.p.wrapping_add(3072), 0x20_0000, 256, 128) }, None, "table full");
}

#[test]
fn copies_round_trip_inside_the_region_and_refuse_outside() {
    let b = Block::new(4096);
    let t = DmaTable::new();
    let (r, _, _, _) = insert_misaligned(&t, &b, 128);
    let data: Vec<u8> = (0..32u8).collect();
    t.write(&r, 96, &data).unwrap();
    let mut back = [0u8; 32];
    t.read(&r, 96, &mut back).unwrap();
    assert_eq!(&back[..], &data[..]);
    let start = r.host - b.p as usize;
    assert_eq!(&b.bytes()[start + 96..start + 128], &data[..], "landed at host + off");

    let snapshot = b.bytes().to_vec();
    assert_eq!(t.write(&r, 97, &data), Err(OutOfRange), "one octet past the end");
    assert_eq!(t.write(&r, usize::MAX, &data), Err(OutOfRange), "overflowing offset");
    let mut big = [0u8; 129];
    assert_eq!(t.read(&r, 0, &mut big), Err(OutOfRange));
    assert_eq!(b.bytes(), &snapshot[..], "refused writes changed nothing");
}

#[test]
fn descriptor_words_are_little_endian_aligned_and_bounds_checked() {
    let b = Block::new(4096);
    let t = DmaTable::new();
    let (r, _, _, _) = insert_misaligned(&t, &b, 64);
    let start = r.host - b.p as usize;
    t.write32_release(&r, 12, 0x8000_0001).unwrap();
    assert_eq!(&b.bytes()[start + 12..start + 16], &[0x01, 0x00, 0x00, 0x80]);
    assert_eq!(t.read32_acquire(&r, 12), 0x8000_0001);
    t.write32(&r, 60, 0x1122_3344).unwrap();
    assert_eq!(t.read32_acquire(&r, 60), 0x1122_3344);
    assert_eq!(t.write32_release(&r, 64, 1), Err(OutOfRange), "past the end");
    assert_eq!(t.write32(&r, 2, 1), Err(OutOfRange), "unaligned word");
    assert_eq!(t.read32_acquire(&r, 2), 0, "unaligned read reads 0");
    assert_eq!(t.read32_acquire(&r, 64), 0, "out of range reads 0");
}

#[test]
fn forged_regions_are_refused() {
    let b = Block::new(4096);
    let t = DmaTable::new();
    let (r, _, _, _) = insert_misaligned(&t, &b, 128);
    t.write32(&r, 0, 7).unwrap();
    let forged = [
        DmaRegion { len: 4096, ..r },
        DmaRegion { len: 64, ..r },
        DmaRegion { bus_addr: r.bus_addr + 64, ..r },
        DmaRegion { host: r.host + 64, ..r },
        DmaRegion { host: b.p as usize, ..r },
    ];
    for f in forged {
        assert_eq!(t.write32(&f, 0, 1), Err(OutOfRange), "{f:?}");
        assert_eq!(t.read32_acquire(&f, 0), 0, "{f:?}");
        assert_eq!(t.write(&f, 0, &[1]), Err(OutOfRange));
        assert!(!t.retire(&f), "a forged region cannot be freed");
    }
    assert_eq!(t.read32_acquire(&r, 0), 7, "the real region still works and was not overwritten");
}

#[test]
fn retired_regions_are_refused_and_drain_returns_the_original_allocations() {
    let b = Block::new(4096);
    let c = Block::new(4096);
    let mut t = DmaTable::new();
    let (r1, va1, pa1, got1) = insert_misaligned(&t, &b, 128);
    let r2 = unsafe { t.insert(c.p, 0x9000, 4096, 1024) }.unwrap();
    assert_eq!(r2.host, c.p as usize, "an aligned block is used as is");
    t.write32(&r1, 0, 5).unwrap();
    assert!(t.retire(&r1));
    assert!(!t.retire(&r1), "retired once only");
    assert_eq!(t.live(), 1);
    assert_eq!(t.read32_acquire(&r1, 0), 0, "a freed region reads nothing");
    assert_eq!(t.write32(&r1, 0, 1), Err(OutOfRange));
    assert_eq!(t.read32_acquire(&r2, 0), 0);
    t.write32(&r2, 0, 9).unwrap();

    let mut back = Vec::new();
    t.drain(|raw| back.push(raw));
    back.sort_by_key(|raw| raw.pa);
    assert_eq!(
        back,
        vec![Raw { va: c.p, pa: 0x9000, got: 4096 }, Raw { va: va1, pa: pa1, got: got1 },],
        "both blocks (live and retired) come back with the allocator's own addresses and length"
    );
    assert_eq!(t.live(), 0);
    assert_eq!(t.read32_acquire(&r2, 0), 0, "nothing is reachable after drain");
    let mut again = 0;
    t.drain(|_| again += 1);
    assert_eq!(again, 0, "drain hands each block back once");
}

// ---- MemBus under RegNic ------------------------------------------------------------------------------------

/// What the heap platform did, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    Alloc { va: usize, pa: u64, len: u32 },
    Free { va: usize, pa: u64, len: usize },
    Unmap { base: usize },
}

/// Bus addresses are the virtual ones moved by this much (and so agree modulo 64).
const PA_SHIFT: u64 = 0x40_0000_0000;

#[derive(Default)]
struct Log {
    ops: Vec<Op>,
    /// Live heap blocks: (va handed out, real pointer, layout).
    blocks: Vec<(usize, usize, Layout)>,
    /// Fail the n-th allocation (0-based).
    fail_at: Option<usize>,
    allocs: usize,
}

/// `NdisMAllocateSharedMemory` on the heap: every block deliberately 8 octets past a page, so the
/// bus must align it; frees are checked against what was handed out.
#[derive(Clone, Default)]
struct HeapPlatform(Arc<Mutex<Log>>);

impl Platform for HeapPlatform {
    fn alloc_shared(&self, len: u32) -> Option<(*mut u8, u64)> {
        let mut log = self.0.lock().unwrap();
        let n = log.allocs;
        log.allocs += 1;
        if log.fail_at == Some(n) {
            return None;
        }
        let layout = Layout::from_size_align(len as usize + 8, 4096).unwrap();
        let real = unsafe { alloc_zeroed(layout) };
        assert!(!real.is_null());
        let va = real.wrapping_add(8);
        let pa = va as u64 + PA_SHIFT;
        log.blocks.push((va as usize, real as usize, layout));
        log.ops.push(Op::Alloc { va: va as usize, pa, len });
        Some((va, pa))
    }

    unsafe fn free_shared(&self, raw: Raw) {
        let mut log = self.0.lock().unwrap();
        let i = log.blocks.iter().position(|b| b.0 == raw.va as usize).expect("freeing a block never handed out");
        let (_, real, layout) = log.blocks.remove(i);
        assert_eq!(raw.pa, raw.va as u64 + PA_SHIFT, "freed with its own bus address");
        assert_eq!(raw.got + 8, layout.size(), "freed with its own length");
        unsafe { dealloc(real as *mut u8, layout) };
        log.ops.push(Op::Free { va: raw.va as usize, pa: raw.pa, len: raw.got });
    }

    unsafe fn unmap_bar(&self, base: *mut u8) {
        self.0.lock().unwrap().ops.push(Op::Unmap { base: base as usize });
    }
}

impl HeapPlatform {
    fn ops(&self) -> Vec<Op> {
        self.0.lock().unwrap().ops.clone()
    }
    fn outstanding(&self) -> usize {
        self.0.lock().unwrap().blocks.len()
    }
    /// Host pointer for a bus address inside a live block.
    fn host(&self, bus: u64) -> *const u8 {
        let va = (bus - PA_SHIFT) as usize;
        let log = self.0.lock().unwrap();
        assert!(
            log.blocks.iter().any(|&(v, _, l)| va >= v && va < v + l.size() - 8),
            "bus address {bus:#x} is inside no block"
        );
        va as *const u8
    }
}

/// A heap BAR that answers like an idle ATM1: the ID, 1024 connections, never busy.
fn idle_bar() -> Block {
    let bar = Block::new(regs::BAR_LEN as usize);
    let m = unsafe { Mmio::new(bar.p, regs::BAR_LEN as usize) };
    m.write32(regs::ID, regs::ID_VALUE);
    m.write32(regs::CONN_COUNT, 1024);
    bar
}

type HostNic = RegNic<MemBus<HeapPlatform>, LabSpinLock>;

fn bus_over(bar: &Block, platform: &HeapPlatform) -> MemBus<HeapPlatform> {
    MemBus::new(unsafe { Mmio::new(bar.p, regs::BAR_LEN as usize) }, platform.clone())
}

fn ring_base(bar: &Mmio, r: regs::RingRegs) -> u64 {
    u64::from(bar.read32(r.base_lo)) | u64::from(bar.read32(r.base_hi)) << 32
}

fn word_at(p: *const u8, off: usize) -> u32 {
    u32::from_le_bytes(unsafe { std::slice::from_raw_parts(p.add(off), 4) }.try_into().unwrap())
}

#[test]
fn regnic_comes_up_over_membus_with_aligned_rings_in_shared_memory() {
    let bar = idle_bar();
    let platform = HeapPlatform::default();
    let nic: HostNic = RegNic::new(bus_over(&bar, &platform), RegNicConfig::default()).expect("RegNic::new");
    let cfg = *nic.config();
    assert_eq!(platform.outstanding(), 6, "six shared-memory blocks");
    assert_eq!(nic.bus().live_blocks(), 6);
    let view = unsafe { Mmio::new(bar.p, regs::BAR_LEN as usize) };
    for r in [regs::TX, regs::RXB, regs::RXC, regs::EV] {
        let base = ring_base(&view, r);
        assert_eq!(base % DMA_ALIGN as u64, 0, "ring base {base:#x} aligned");
        platform.host(base);
    }
    // Every posted RX buffer: a descriptor the NIC owns, pointing into shared memory.
    let rxbd = platform.host(ring_base(&view, regs::RXB));
    for i in 0..(cfg.rx_ring - 1) as usize {
        let d = i * DESC_LEN;
        assert_eq!(word_at(rxbd, d + word::W3), OWN, "RX descriptor {i} handed over");
        let buf = u64::from(word_at(rxbd, d + word::W0)) | u64::from(word_at(rxbd, d + word::W1)) << 32;
        platform.host(buf);
    }
    assert_eq!(view.read32(regs::RXB.prod), cfg.rx_ring - 1);
    assert_eq!(view.read32(regs::INT_MASK), IntBits::ALL.0);
    let ctrl = Ctrl(view.read32(regs::CTRL));
    assert!(ctrl.enable() && ctrl.irq_enable());
}

#[test]
fn a_transmitted_frame_lands_where_its_descriptors_point() {
    let bar = idle_bar();
    let platform = HeapPlatform::default();
    let nic: HostNic = RegNic::new(bus_over(&bar, &platform), RegNicConfig::default()).unwrap();
    let conn = nic
        .open_connection(&ConnParams {
            id: VpiVci { vpi: 0, vci: 100 },
            aal: AalType::Aal5,
            tx_pcr: 0,
            max_rx_sdu: 9180,
        })
        .expect("open (the idle BAR answers every command OK)");
    let frame: Vec<u8> = (0..3000u32).map(|i| (i * 7 + 1) as u8).collect();
    nic.transmit(conn, &frame, TxCookie(1)).unwrap();
    let view = unsafe { Mmio::new(bar.p, regs::BAR_LEN as usize) };
    assert_eq!(view.read32(regs::TX.prod), 2, "3000 octets over 2048-octet buffers: two descriptors");
    let txd = platform.host(ring_base(&view, regs::TX));
    let mut gathered = Vec::new();
    for i in 0..2 {
        let d = i * DESC_LEN;
        let ctl = TxCtl(word_at(txd, d + word::W3));
        assert!(ctl.own(), "descriptor {i} handed over");
        assert_eq!(ctl.eop(), i == 1);
        let len = (word_at(txd, d + word::W2) & 0xFFFF) as usize;
        let buf = u64::from(word_at(txd, d + word::W0)) | u64::from(word_at(txd, d + word::W1)) << 32;
        let host = platform.host(buf);
        gathered.extend_from_slice(unsafe { std::slice::from_raw_parts(host, len) });
    }
    assert_eq!(gathered, frame, "the NIC would read exactly the frame");
    assert_eq!(nic.transmit(ConnId(999), &frame, TxCookie(2)), Err(NdisStatus::INVALID_STATE));
}

#[test]
fn dropping_regnic_resets_then_frees_every_block_then_unmaps() {
    let bar = idle_bar();
    let platform = HeapPlatform::default();
    let nic: HostNic = RegNic::new(bus_over(&bar, &platform), RegNicConfig::default()).unwrap();
    drop(nic);
    let view = unsafe { Mmio::new(bar.p, regs::BAR_LEN as usize) };
    assert!(Ctrl(view.read32(regs::CTRL)).reset(), "the NIC was reset");
    assert_eq!(platform.outstanding(), 0, "every block given back");
    let ops = platform.ops();
    let allocs: Vec<_> = ops.iter().filter(|o| matches!(o, Op::Alloc { .. })).collect();
    let frees: Vec<_> = ops.iter().filter(|o| matches!(o, Op::Free { .. })).collect();
    assert_eq!((allocs.len(), frees.len()), (6, 6));
    for a in &allocs {
        let Op::Alloc { va, pa, len } = **a else { unreachable!() };
        assert!(
            frees.contains(&&Op::Free { va, pa, len: len as usize }),
            "block {va:#x} freed with the allocator's own address and length"
        );
    }
    assert_eq!(ops.last(), Some(&Op::Unmap { base: bar.p as usize }), "the BAR goes last");
}

#[test]
fn a_failed_allocation_gives_back_the_earlier_blocks_and_maps_nothing_more() {
    for fail_at in 0..6 {
        let bar = idle_bar();
        let platform = HeapPlatform::default();
        platform.0.lock().unwrap().fail_at = Some(fail_at);
        let r: Result<HostNic, _> = RegNic::new(bus_over(&bar, &platform), RegNicConfig::default());
        assert_eq!(r.err(), Some(NdisStatus::RESOURCES), "allocation {fail_at} failed");
        assert_eq!(platform.outstanding(), 0, "nothing leaked when allocation {fail_at} failed");
        assert_eq!(platform.ops().last(), Some(&Op::Unmap { base: bar.p as usize }));
    }
}

#[test]
fn a_bar_without_the_atm1_id_is_refused_before_any_allocation() {
    let bar = Block::new(regs::BAR_LEN as usize); // reads 0 where the ID should be
    let platform = HeapPlatform::default();
    let r: Result<HostNic, _> = RegNic::new(bus_over(&bar, &platform), RegNicConfig::default());
    assert_eq!(r.err(), Some(NdisStatus::FAILURE));
    assert_eq!(platform.ops(), vec![Op::Unmap { base: bar.p as usize }]);
    let none: Result<HostNic, _> = RegNic::new(MemBus::new(Mmio::none(), platform.clone()), RegNicConfig::default());
    assert_eq!(none.err(), Some(NdisStatus::FAILURE), "no BAR reads all ones: not ATM1");
}

#[test]
fn the_bus_refuses_a_region_it_did_not_hand_out() {
    let bar = idle_bar();
    let platform = HeapPlatform::default();
    let bus = bus_over(&bar, &platform);
    let r = bus.dma_alloc(256).unwrap();
    assert_eq!(r.host % DMA_ALIGN, 0);
    assert_eq!(r.bus_addr, r.host as u64 + PA_SHIFT, "bus and host addresses of one octet");
    let forged = DmaRegion { len: 1 << 20, ..r };
    assert_eq!(bus.dma_write(&forged, 0, &[1; 512]), Err(OutOfRange));
    bus.dma_write(&r, 0, &[1; 256]).unwrap();
    bus.dma_free(r);
    assert_eq!(bus.dma_write(&r, 0, &[2]), Err(OutOfRange), "a freed region");
    assert_eq!(platform.outstanding(), 1, "still mapped until the bus goes");
    assert_eq!(bus.dma_alloc(0), None, "empty");
    drop(bus);
    assert_eq!(platform.outstanding(), 0);
}

// ---- the test oracles fail on wrong input ----------------------------------------------------------------------

#[test]
#[should_panic(expected = "inside no block")]
fn the_host_translation_oracle_refuses_an_address_outside_every_block() {
    let platform = HeapPlatform::default();
    let (va, pa) = platform.alloc_shared(128).unwrap();
    assert_eq!(platform.host(pa), va.cast_const(), "inside: translated");
    platform.host(pa + 128);
}

#[test]
#[should_panic(expected = "freed with its own length")]
fn the_heap_platform_catches_a_free_with_the_wrong_length() {
    let platform = HeapPlatform::default();
    let (va, pa) = platform.alloc_shared(128).unwrap();
    unsafe { platform.free_shared(Raw { va, pa, got: 64 }) };
}
