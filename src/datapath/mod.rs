//! The hot path: MiniportCoSendNetBufferLists → per-VC ring → NIC; transmit completion;
//! receive → NdisMCoIndicateReceiveNetBufferLists.
//!
//! Senders touch only their VC's [`VcPath`]: the rundown word, the lock-free send ring and a few
//! atomics; no lock, no allocation. The transmit engine, completion handling and teardown run in
//! the DPC, whose state ([`DpcState`]) is owned by whichever CPU runs the DPC (taken with a
//! try-lock that never spins: a second CPU just asks the first to go round again).

use core::sync::atomic::{AtomicU16, AtomicU32, AtomicU64, AtomicUsize, Ordering};

use alloc::boxed::Box;
use alloc::collections::{TryReserveError, VecDeque};
use alloc::vec::Vec;

use crate::ndis::Token;
use crate::nic::ConnId;
use crate::ring::sync;
use crate::vc::Rundown;

/// No connection / no CPU.
pub const NONE: u32 = u32::MAX;
/// Slot marker in the connection→slot map.
const NO_SLOT: u16 = u16::MAX;

/// Per-VC flags.
pub mod flag {
    /// The VC is open for data (activated).
    pub const OPEN: u32 = 1 << 0;
    /// Teardown requested.
    pub const TEARDOWN: u32 = 1 << 1;
    /// The NIC close was requested.
    pub const NIC_CLOSE_SENT: u32 = 1 << 2;
    /// The NIC reported the connection closed (or there was none).
    pub const NIC_CLOSED: u32 = 1 << 3;
    /// Drained and reported to the control path.
    pub const REPORTED: u32 = 1 << 4;
    /// A ProtocolCmCloseCall is running on the VC: the drain is not reported before it returns
    /// (and seals the rundown), so every sender the client began before its NdisClCloseCall
    /// returned is waited for.
    pub const CLOSE_CALL: u32 = 1 << 5;
}

/// The lock-free part of one VC slot (same index as the control state's VC table).
#[derive(Debug)]
pub struct VcPath {
    /// The token generation of the VC in this slot; 0 = none. Checked on every send.
    pub generation: AtomicU32,
    /// The NDIS VC handle as a word.
    pub handle: AtomicUsize,
    /// NIC connection or [`NONE`].
    pub conn: AtomicU32,
    pub flags: AtomicU32,
    pub rundown: Rundown,
    /// The send ring (and in-flight queue) this VC's call holds from the pool, or [`NONE`]: taken
    /// with the call's NIC connection, given back when that connection closes.
    pub ring: AtomicU32,
    /// Indicated NBLs not yet returned.
    pub rx_outstanding: AtomicU32,
    /// The CPU inside an indication on this VC, or [`NONE`].
    pub rx_cpu: AtomicU32,
    /// When the NIC close was requested plus the drain allowance (µs of `Ndis::now`); 0 = none.
    pub close_deadline: AtomicU64,
}

impl Default for VcPath {
    fn default() -> Self {
        Self::new()
    }
}

impl VcPath {
    pub fn new() -> VcPath {
        let rundown = Rundown::new();
        // A slot starts closed: nothing may be sent until the VC is activated.
        rundown.begin_close();
        VcPath {
            generation: AtomicU32::new(0),
            handle: AtomicUsize::new(0),
            conn: AtomicU32::new(NONE),
            flags: AtomicU32::new(0),
            rundown,
            ring: AtomicU32::new(NONE),
            rx_outstanding: AtomicU32::new(0),
            rx_cpu: AtomicU32::new(NONE),
            close_deadline: AtomicU64::new(0),
        }
    }

    /// The slot holds the VC named by `token`.
    #[inline]
    pub fn is(&self, token: Token) -> bool {
        self.generation.load(Ordering::Acquire) == token.generation()
    }
}

/// One NBL on the wire: how many of its frames are still with the NIC.
#[derive(Copy, Clone, Debug, Default)]
pub struct InFlight {
    pub nbl: usize,
    pub frames_left: u32,
    pub failed: bool,
}

/// Where one pool ring's in-flight FIFO starts and how long it is.
#[derive(Copy, Clone, Debug, Default)]
struct Ends {
    head: u16,
    len: u16,
}

/// NBLs per VC (per pool ring) the NIC may hold at once.
pub const INFLIGHT_PER_RING: usize = 64;

/// Per pooled ring (`VcPath::ring`): the NBLs handed to the NIC, oldest first, at most `PER`
/// each (a power of two ≤ 32 768). One flat array allocated at initialize (ring `r` owns
/// `r * PER .. (r + 1) * PER`) and a dense array of 4-byte ends, so the DPC's per-VC check
/// touches one small word and a completion one entry — no per-ring heap object. DPC-only.
#[derive(Debug)]
pub struct InFlightQueues<const PER: usize> {
    entries: Box<[InFlight]>,
    ends: Box<[Ends]>,
}

impl<const PER: usize> InFlightQueues<PER> {
    const MASK: usize = {
        assert!(PER.is_power_of_two() && PER <= 1 << 15);
        PER - 1
    };

    /// `rings` FIFOs of `PER` entries.
    pub fn new(rings: usize) -> Result<Self, TryReserveError> {
        let mut entries = Vec::new();
        entries.try_reserve_exact(rings.saturating_mul(PER))?;
        entries.resize(rings.saturating_mul(PER), InFlight::default());
        let mut ends = Vec::new();
        ends.try_reserve_exact(rings)?;
        ends.resize(rings, Ends::default());
        // len == capacity (exact reservations): no reallocation on the way to a box.
        Ok(InFlightQueues { entries: entries.into_boxed_slice(), ends: ends.into_boxed_slice() })
    }

    /// NBLs ring `r` has with the NIC (0 for a ring out of range).
    #[inline]
    pub fn len(&self, r: usize) -> usize {
        self.ends.get(r).map_or(0, |e| usize::from(e.len))
    }

    /// Ring `r` has nothing with the NIC (true for a ring out of range).
    #[inline]
    pub fn is_empty(&self, r: usize) -> bool {
        self.len(r) == 0
    }

    /// Ring `r` may hand the NIC another NBL (false for a ring out of range).
    #[inline]
    pub fn has_room(&self, r: usize) -> bool {
        self.ends.get(r).is_some_and(|e| usize::from(e.len) < PER)
    }

    /// Ring `r` holds `PER` NBLs: its pump stopped for room, and the next completion restarts it.
    #[inline]
    pub fn is_full(&self, r: usize) -> bool {
        self.ends.get(r).is_some_and(|e| usize::from(e.len) >= PER)
    }

    /// Appends to ring `r`'s FIFO; `false` when it is full (or `r` out of range).
    #[inline]
    pub fn push_back(&mut self, r: usize, x: InFlight) -> bool {
        let Some(e) = self.ends.get_mut(r) else { return false };
        if usize::from(e.len) >= PER {
            return false;
        }
        let at = r * PER + ((usize::from(e.head) + usize::from(e.len)) & Self::MASK);
        let Some(dst) = self.entries.get_mut(at) else { return false };
        *dst = x;
        e.len += 1;
        true
    }

    /// The oldest of ring `r`.
    #[inline]
    pub fn front_mut(&mut self, r: usize) -> Option<&mut InFlight> {
        let e = *self.ends.get(r)?;
        if e.len == 0 {
            return None;
        }
        self.entries.get_mut(r * PER + usize::from(e.head))
    }

    /// Takes the oldest of ring `r`.
    #[inline]
    pub fn pop_front(&mut self, r: usize) -> Option<InFlight> {
        let e = self.ends.get_mut(r)?;
        if e.len == 0 {
            return None;
        }
        let x = *self.entries.get(r * PER + usize::from(e.head))?;
        e.head = ((usize::from(e.head) + 1) & Self::MASK) as u16;
        e.len -= 1;
        Some(x)
    }
}

/// Data-path counters the DPC gathers in a run and adds to [`DataStats`] once per flush (one
/// atomic add per counter per run, not per NBL).
#[derive(Copy, Clone, Debug, Default)]
pub struct TxCounts {
    pub accepted: u64,
    pub completed_ok: u64,
    pub completed_failed: u64,
    pub aborted: u64,
}

/// NBLs gathered for one call to NDIS: a chain linked through NET_BUFFER_LIST_NEXT_NBL, as
/// handle words.
#[derive(Copy, Clone, Debug, Default)]
pub struct Chain {
    pub head: usize,
    pub tail: usize,
    pub count: u32,
}

/// State only the DPC touches.
#[derive(Debug)]
/// (Per-slot arrays are boxed slices, not `Vec`s: this struct is built on MiniportInitializeEx's
/// stack, which has little to spare — `tests/sys_defects.rs` bounds the depth at 12 KiB.)
pub struct DpcState {
    /// Per slot: send completions gathered this run (one NdisMCoSendNetBufferListsComplete each).
    pub tx_done: Box<[Chain]>,
    /// Per slot: received frames gathered this poll (one indication each).
    pub rx_ready: Box<[Chain]>,
    /// Slots with a non-empty `tx_done` / `rx_ready`.
    pub tx_touched: Vec<u16>,
    pub rx_touched: Vec<u16>,
    /// Copy buffer for one outgoing frame.
    pub scratch: Box<[u8]>,
    /// Per pooled ring (`VcPath::ring`): NBLs handed to the NIC, oldest first.
    pub inflight: InFlightQueues<INFLIGHT_PER_RING>,
    /// Counters of this run, not yet added to [`DataStats`].
    pub counts: TxCounts,
    /// Per slot: an NBL popped from the ring that the NIC had no room for yet (through
    /// `park` / `take_parked`, which keep `parked_count`).
    parked: Box<[Option<usize>]>,
    /// How many slots of `parked` hold an NBL: when none does, the pump of a VC does not look.
    parked_count: usize,
    /// Slots waiting for room on the NIC's shared transmit ring, oldest first; each at most once
    /// (`waiting`). Any frame leaving the NIC wakes them all (one VC's completions are not
    /// enough: the ring may be full of other VCs' frames).
    pub blocked: VecDeque<u16>,
    pub waiting: Box<[bool]>,
    /// Q.2931 messages SSCOP delivered from one PDU (up to a whole window of them at once).
    pub sig_inbox: crate::msgq::MsgQueue,
    /// Slots waiting for the NIC to report a close, oldest request first: every deadline is
    /// "request + the drain allowance", so this order is deadline order and the overdue ones are
    /// found at the front without a walk over every slot.
    pub closing: CloseList,
}

/// Not linked in the [`CloseList`].
const UNLINKED: u16 = u16::MAX - 1;
/// End of the [`CloseList`].
const END: u16 = u16::MAX;

/// A FIFO of slot indices with O(1) removal from anywhere (an intrusive doubly linked list over
/// two `u16` arrays). DPC-only.
#[derive(Debug)]
pub struct CloseList {
    prev: Vec<u16>,
    next: Vec<u16>,
    head: u16,
    tail: u16,
}

impl CloseList {
    pub fn new(slots: usize) -> Result<Self, TryReserveError> {
        let mut prev = Vec::new();
        prev.try_reserve_exact(slots)?;
        prev.resize(slots, UNLINKED);
        let mut next = Vec::new();
        next.try_reserve_exact(slots)?;
        next.resize(slots, UNLINKED);
        Ok(CloseList { prev, next, head: END, tail: END })
    }

    /// Appends `slot` (nothing if it is already in the list or out of range).
    pub fn push_back(&mut self, slot: usize) {
        if self.prev.get(slot).is_none_or(|&p| p != UNLINKED) {
            return;
        }
        let s = slot as u16;
        if let Some(p) = self.prev.get_mut(slot) {
            *p = self.tail;
        }
        if let Some(n) = self.next.get_mut(slot) {
            *n = END;
        }
        match self.next.get_mut(usize::from(self.tail)) {
            Some(t) => *t = s,
            None => self.head = s,
        }
        self.tail = s;
    }

    /// Takes `slot` out (nothing if it is not in the list).
    pub fn remove(&mut self, slot: usize) {
        let (Some(&p), Some(&n)) = (self.prev.get(slot), self.next.get(slot)) else { return };
        if p == UNLINKED {
            return;
        }
        match self.next.get_mut(usize::from(p)) {
            Some(x) => *x = n,
            None => self.head = n,
        }
        match self.prev.get_mut(usize::from(n)) {
            Some(x) => *x = p,
            None => self.tail = p,
        }
        if let Some(x) = self.prev.get_mut(slot) {
            *x = UNLINKED;
        }
        if let Some(x) = self.next.get_mut(slot) {
            *x = UNLINKED;
        }
    }

    /// The oldest slot.
    pub fn front(&self) -> Option<usize> {
        (self.head != END).then_some(usize::from(self.head))
    }

    /// The slot after `slot`.
    pub fn after(&self, slot: usize) -> Option<usize> {
        self.next.get(slot).filter(|&&n| n < UNLINKED).map(|&n| usize::from(n))
    }
}

impl DpcState {
    /// `rings`: the size of the ring pool (one in-flight queue each).
    pub fn new(slots: usize, rings: usize, max_frame: usize) -> Result<Self, TryReserveError> {
        let mut scratch = Vec::new();
        scratch.try_reserve_exact(max_frame)?;
        scratch.resize(max_frame, 0);
        let mut blocked = VecDeque::new();
        blocked.try_reserve_exact(slots)?;
        let mut waiting = Vec::new();
        waiting.try_reserve_exact(slots)?;
        waiting.resize(slots, false);
        let inflight = InFlightQueues::new(rings)?;
        let mut parked = Vec::new();
        parked.try_reserve_exact(slots)?;
        parked.resize(slots, None);
        // One received SD can release a whole window (64) of buffered messages.
        let sig_inbox = crate::msgq::MsgQueue::new(64 * (crate::saal::MAX_MESSAGE + 2))?;
        let chains = |n: usize| -> Result<Box<[Chain]>, TryReserveError> {
            let mut v = Vec::new();
            v.try_reserve_exact(n)?;
            v.resize(n, Chain::default());
            Ok(v.into_boxed_slice())
        };
        let mut tx_touched = Vec::new();
        tx_touched.try_reserve_exact(slots)?;
        let mut rx_touched = Vec::new();
        rx_touched.try_reserve_exact(slots)?;
        Ok(DpcState {
            tx_done: chains(slots)?,
            rx_ready: chains(slots)?,
            tx_touched,
            rx_touched,
            // Exact reservations (len == capacity): no reallocation on the way to a box.
            scratch: scratch.into_boxed_slice(),
            inflight,
            counts: TxCounts::default(),
            parked: parked.into_boxed_slice(),
            parked_count: 0,
            blocked,
            waiting: waiting.into_boxed_slice(),
            sig_inbox,
            closing: CloseList::new(slots)?,
        })
    }

    /// Parks `nbl` for `slot` until the NIC has room (one per slot: the pump takes it first).
    #[inline]
    pub fn park(&mut self, slot: usize, nbl: usize) {
        if let Some(p) = self.parked.get_mut(slot)
            && p.replace(nbl).is_none()
        {
            self.parked_count += 1;
        }
    }

    /// Takes `slot`'s parked NBL; one load when nothing is parked anywhere (the common case).
    #[inline]
    pub fn take_parked(&mut self, slot: usize) -> Option<usize> {
        if self.parked_count == 0 {
            return None;
        }
        let nbl = self.parked.get_mut(slot).and_then(Option::take);
        if nbl.is_some() {
            self.parked_count = self.parked_count.saturating_sub(1);
        }
        nbl
    }

    /// `slot` has an NBL parked; one load when nothing is parked anywhere.
    #[inline]
    pub fn is_parked(&self, slot: usize) -> bool {
        self.parked_count != 0 && self.parked.get(slot).is_some_and(Option::is_some)
    }

    /// `slot` waits for room on the NIC (idempotent).
    pub fn wait_for_room(&mut self, slot: usize) {
        if let Some(w) = self.waiting.get_mut(slot)
            && !*w
            && self.blocked.len() < self.blocked.capacity()
        {
            *w = true;
            self.blocked.push_back(slot as u16);
        }
    }

    /// Room came back on the NIC: every waiting slot, oldest first, to `f`.
    pub fn wake_waiting(&mut self, mut f: impl FnMut(usize)) {
        while let Some(s) = self.blocked.pop_front() {
            let s = usize::from(s);
            if let Some(w) = self.waiting.get_mut(s) {
                *w = false;
            }
            f(s);
        }
    }
}

/// A set of slot indices as a two-level atomic bitmap (senders mark, the DPC takes). The
/// summary has one bit per bitmap word, so taking the set costs the marked words plus one load
/// per 4 096 slots (16 at 65 536), not a walk over every slot's word. Its atomics come from
/// `ring::sync`, so tests/loom_slotset.rs models the real code.
#[derive(Debug)]
pub struct SlotSet {
    words: Vec<sync::AtomicU64>,
    /// Bit `i` set: `words[i]` may be non-zero.
    summary: Vec<sync::AtomicU64>,
}

impl SlotSet {
    pub fn new(slots: usize) -> Result<Self, TryReserveError> {
        let atomics = |n: usize| -> Result<Vec<sync::AtomicU64>, TryReserveError> {
            let mut v = Vec::new();
            v.try_reserve_exact(n)?;
            for _ in 0..n {
                v.push(sync::AtomicU64::new(0));
            }
            Ok(v)
        };
        let n = slots.div_ceil(64);
        Ok(SlotSet { words: atomics(n)?, summary: atomics(n.div_ceil(64))? })
    }

    /// Marks `slot`; `true` if it was not marked before.
    #[inline]
    pub fn mark(&self, slot: usize) -> bool {
        let i = slot / 64;
        let Some(w) = self.words.get(i) else { return false };
        let bit = 1u64 << (slot % 64);
        let prev = w.fetch_or(bit, Ordering::AcqRel);
        // The first mark in a word raises its summary bit; later marks find the bit raised (or
        // about to be, by that first marker), and a taker clears the summary before the word.
        if prev == 0
            && let Some(s) = self.summary.get(i / 64)
        {
            s.fetch_or(1u64 << (i % 64), Ordering::AcqRel);
        }
        prev & bit == 0
    }

    /// Takes every marked slot (clearing them) and calls `f` for each.
    pub fn take_all(&self, mut f: impl FnMut(usize)) {
        for (j, s) in self.summary.iter().enumerate() {
            if s.load(Ordering::Acquire) == 0 {
                continue;
            }
            let mut words = s.swap(0, Ordering::AcqRel);
            while words != 0 {
                let i = j * 64 + words.trailing_zeros() as usize;
                words &= words - 1;
                let Some(w) = self.words.get(i) else { continue };
                let mut bits = w.swap(0, Ordering::AcqRel);
                while bits != 0 {
                    let b = bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    f(i * 64 + b);
                }
            }
        }
    }
}

/// Connection → slot map (the NIC reports connections; the hot path needs slots).
#[derive(Debug)]
pub struct ConnMap {
    slots: Vec<AtomicU16>,
}

impl ConnMap {
    pub fn new(conns: usize) -> Result<Self, TryReserveError> {
        let mut slots = Vec::new();
        slots.try_reserve_exact(conns)?;
        for _ in 0..conns {
            slots.push(AtomicU16::new(NO_SLOT));
        }
        Ok(ConnMap { slots })
    }

    #[inline]
    pub fn set(&self, conn: ConnId, slot: Option<usize>) {
        if let Some(s) = self.slots.get(usize::from(conn.0)) {
            s.store(slot.map_or(NO_SLOT, |v| v as u16), Ordering::Release);
        }
    }

    #[inline]
    pub fn get(&self, conn: ConnId) -> Option<usize> {
        let v = self.slots.get(usize::from(conn.0))?.load(Ordering::Acquire);
        (v != NO_SLOT).then_some(usize::from(v))
    }
}

/// Counters for the data path (diagnostics, lab reports). The DPC adds its own (`tx_accepted`,
/// `tx_completed_*`, `tx_aborted`) once per run, before the run's completions reach NDIS;
/// `tx_accepted` counts NBLs the DPC took from a send ring (so it lags a send until the DPC runs).
#[derive(Debug, Default)]
pub struct DataStats {
    pub tx_accepted: AtomicU64,
    pub tx_rejected_closing: AtomicU64,
    pub tx_rejected_full: AtomicU64,
    pub tx_rejected_inactive: AtomicU64,
    pub tx_completed_ok: AtomicU64,
    pub tx_completed_failed: AtomicU64,
    pub tx_aborted: AtomicU64,
    /// NBLs failed with INVALID_LENGTH (an empty frame, or one over 65 535 octets).
    pub tx_invalid_length: AtomicU64,
    pub rx_indicated: AtomicU64,
    pub rx_dropped: AtomicU64,
    /// Receive NBLs returned when none was outstanding on their VC (a double return), ignored.
    pub rx_double_return: AtomicU64,
    pub stale_context: AtomicU64,
    /// NIC connections that never reported "closed" within the drain deadline and were forced.
    pub forced_closes: AtomicU64,
}

impl DataStats {
    pub fn bump(c: &AtomicU64, n: u64) {
        c.fetch_add(n, Ordering::Relaxed);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn slot_set_takes_exactly_the_marked_slots_across_summary_words() {
        let s = SlotSet::new(65_536).unwrap();
        let marked = [0usize, 1, 63, 64, 4095, 4096, 40_000, 65_535];
        for &m in &marked {
            assert!(s.mark(m));
        }
        assert!(!s.mark(4096), "second mark of a slot reports it was marked");
        assert!(!s.mark(65_536), "out of range is refused");
        let mut got = vec![];
        s.take_all(|i| got.push(i));
        assert_eq!(got, marked);
        let mut again = vec![];
        s.take_all(|i| again.push(i));
        assert!(again.is_empty(), "taking clears");
    }

    #[test]
    fn inflight_queues_are_fifo_per_ring_across_wraps_and_refuse_past_full() {
        let mut q = InFlightQueues::<4>::new(3).unwrap();
        let e = |nbl| InFlight { nbl, frames_left: 1, failed: false };
        assert!(q.is_empty(1) && q.has_room(1) && !q.is_full(1));
        for round in 0..5usize {
            for i in 0..4 {
                assert!(q.push_back(1, e(round * 10 + i)));
            }
            assert!(q.is_full(1) && !q.has_room(1));
            assert!(!q.push_back(1, e(99)), "a fifth entry is refused");
            assert!(q.is_empty(0) && q.is_empty(2), "rings do not share entries");
            q.front_mut(1).unwrap().frames_left = 7;
            assert_eq!(q.pop_front(1).map(|x| (x.nbl, x.frames_left)), Some((round * 10, 7)));
            // Wrap: one more in at the freed end, then all out in order.
            assert!(q.push_back(1, e(round * 10 + 4)));
            let out: Vec<usize> = core::iter::from_fn(|| q.pop_front(1).map(|x| x.nbl)).collect();
            assert_eq!(out, [1, 2, 3, 4].map(|i| round * 10 + i));
        }
        assert!(q.pop_front(1).is_none() && q.front_mut(1).is_none());
        assert!(!q.push_back(3, e(1)) && q.pop_front(3).is_none() && !q.has_room(3), "ring out of range");
    }

    #[test]
    fn close_list_keeps_request_order_and_removes_from_anywhere() {
        let mut l = CloseList::new(8).unwrap();
        for s in [5, 2, 7, 0] {
            l.push_back(s);
        }
        l.push_back(2); // already in: stays where it is
        let order = |l: &CloseList| {
            let mut v = vec![];
            let mut at = l.front();
            while let Some(s) = at {
                v.push(s);
                at = l.after(s);
            }
            v
        };
        assert_eq!(order(&l), [5, 2, 7, 0]);
        l.remove(2);
        l.remove(2);
        l.remove(5);
        assert_eq!(order(&l), [7, 0]);
        l.push_back(5);
        l.remove(0);
        assert_eq!(order(&l), [7, 5]);
        l.remove(7);
        l.remove(5);
        assert_eq!(l.front(), None);
        l.push_back(3);
        assert_eq!(order(&l), [3]);
    }

    /// Markers on two threads race a taker: after the markers stop, one last take finds every
    /// slot that was ever marked and not yet taken — no mark is lost between word and summary.
    #[test]
    fn slot_set_loses_no_mark_under_concurrent_marking_and_taking() {
        use std::sync::atomic::AtomicBool;
        let s = SlotSet::new(8192).unwrap();
        let seen: Vec<AtomicBool> = (0..8192).map(|_| AtomicBool::new(false)).collect();
        let stop = AtomicBool::new(false);
        std::thread::scope(|sc| {
            let mut markers = vec![];
            for t in 0..2u64 {
                let s = &s;
                markers.push(sc.spawn(move || {
                    let mut x = 0x1234_5678_9abc_def1u64 ^ t;
                    for _ in 0..200_000 {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        s.mark((x % 8192) as usize);
                    }
                }));
            }
            let (s, seen, stop) = (&s, &seen, &stop);
            sc.spawn(move || {
                while !stop.load(Ordering::Acquire) {
                    s.take_all(|i| seen[i].store(true, Ordering::Relaxed));
                }
            });
            for m in markers {
                m.join().unwrap();
            }
            stop.store(true, Ordering::Release);
        });
        s.take_all(|i| seen[i].store(true, Ordering::Relaxed));
        // Every slot the markers produced (the same xorshift sequences) was taken.
        for t in 0..2u64 {
            let mut x = 0x1234_5678_9abc_def1u64 ^ t;
            for _ in 0..200_000 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                assert!(seen[(x % 8192) as usize].load(Ordering::Relaxed));
            }
        }
    }
}
