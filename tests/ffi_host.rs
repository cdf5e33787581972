//! Host tests for the two kernel-independent pieces of the Windows layer (the rest of
//! `src/windows/` is cfg(windows) and checked by `scripts/build-sys` / `scripts/ffi-check`):
//! the context-word encoding and the alignment-raising allocator adaptor.

#[path = "../src/windows/ctx.rs"]
#[allow(dead_code)]
mod ctx;

#[path = "../src/windows/align.rs"]
#[allow(dead_code, clippy::undocumented_unsafe_blocks)]
mod align;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::RefCell;

use atmmcm::ndis::{Token, VcContext};

#[test]
fn context_word_round_trips_slot_and_token() {
    let t = Token::new(0xFFFF, u32::MAX).unwrap();
    for slot in 0..ctx::MAX_ADAPTERS {
        let w = ctx::encode(slot, t.as_usize()).unwrap();
        assert_eq!(ctx::decode(w), Some((slot, t.as_usize())));
        assert_eq!(VcContext::from_usize(ctx::decode(w).unwrap().1), Some(VcContext(t)));
    }
}

#[test]
fn context_word_refuses_null_foreign_and_out_of_range_words() {
    let t = Token::new(3, 1).unwrap().as_usize();
    assert_eq!(ctx::encode(ctx::MAX_ADAPTERS, t), None);
    assert_eq!(ctx::encode(0, 0), None);
    assert_eq!(ctx::encode(0, 1 << 56), None, "a token touching the slot byte");
    assert_eq!(ctx::decode(0), None, "NULL");
    assert_eq!(ctx::decode(t), None, "a bare token (slot byte 0) is not ours");
    assert_eq!(ctx::decode((ctx::MAX_ADAPTERS + 1) << 56 | t), None, "slot out of range");
    assert_eq!(ctx::decode(1 << 56), None, "slot without a token");
    // A kernel pointer (0xFFFF8...) is not a context word either.
    assert_eq!(ctx::decode(0xFFFF_8000_1234_5670), None);
}

/// An allocator that, like the pool, only guarantees 16-byte alignment — and deliberately returns
/// blocks that are 16- but not 32-aligned, so over-alignment must come from the adaptor. Records
/// every (pointer, layout) it hands out and gets back.
struct Pool16 {
    log: RefCell<Vec<(usize, usize, bool)>>,
}

unsafe impl Sync for Pool16 {}

unsafe impl GlobalAlloc for Pool16 {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        assert!(l.align() <= 16, "the inner allocator is never asked for more than 16");
        let big = Layout::from_size_align(l.size() + 64, 64).unwrap();
        let p = unsafe { System.alloc(big) };
        let q = unsafe { p.add(16) }; // 16-aligned, never 32-aligned
        self.log.borrow_mut().push((q as usize, l.size(), true));
        q
    }
    unsafe fn dealloc(&self, q: *mut u8, l: Layout) {
        self.log.borrow_mut().push((q as usize, l.size(), false));
        let big = Layout::from_size_align(l.size() + 64, 64).unwrap();
        unsafe { System.dealloc(q.sub(16), big) };
    }
}

#[test]
fn aligned_adaptor_honours_every_alignment_and_frees_the_original_block() {
    let a = align::Aligned(Pool16 { log: RefCell::new(Vec::new()) });
    for shift in 0..=12 {
        let align = 1usize << shift;
        for size in [1usize, 7, 64, 4096] {
            let l = Layout::from_size_align(size, align).unwrap();
            let p = unsafe { a.alloc(l) };
            assert!(!p.is_null());
            assert_eq!(p as usize % align, 0, "align {align} size {size}");
            unsafe { p.write_bytes(0xA5, size) }; // the whole block is usable
            unsafe { a.dealloc(p, l) };
            let log = a.0.log.borrow();
            let (got, freed) = (log[log.len() - 2], log[log.len() - 1]);
            assert!(got.2 && !freed.2);
            assert_eq!(got.0, freed.0, "dealloc returns the inner allocator's own pointer");
            assert_eq!(got.1, freed.1, "with the same size");
        }
    }
}

#[test]
fn without_the_adaptor_the_pool_misaligns_large_alignments() {
    // The oracle above is not vacuous: the bare inner allocator fails it.
    let pool = Pool16 { log: RefCell::new(Vec::new()) };
    let l16 = Layout::from_size_align(64, 16).unwrap();
    let p = unsafe { pool.alloc(l16) };
    assert_ne!(p as usize % 32, 0);
    unsafe { pool.dealloc(p, l16) };
}

#[path = "../src/windows/netaddr.rs"]
mod netaddr;

#[test]
fn network_address_keyword_parses_as_a_unicast_esi() {
    let u = |s: &str| s.encode_utf16().collect::<Vec<u16>>();
    assert_eq!(netaddr::parse_esi(u("0020481A2B3C")), Some([0x00, 0x20, 0x48, 0x1A, 0x2B, 0x3C]));
    assert_eq!(netaddr::parse_esi(u("02-00-41-54-4d-31")), Some([0x02, 0x00, 0x41, 0x54, 0x4D, 0x31]));
    assert_eq!(netaddr::parse_esi(u("0020481A2B")), None, "too short");
    assert_eq!(netaddr::parse_esi(u("0020481A2B3C4D")), None, "too long");
    assert_eq!(netaddr::parse_esi(u("0020481A2B3G")), None, "not hex");
    assert_eq!(netaddr::parse_esi(u("0120481A2B3C")), None, "multicast");
}
