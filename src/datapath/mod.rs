//! The hot path: MiniportCoSendNetBufferLists → per-VC ring → NIC; transmit completion;
//! receive → NdisMCoIndicateReceiveNetBufferLists.
//!
//! Senders touch only their VC's [`VcPath`]: the rundown word, the lock-free send ring and a few
//! atomics; no lock, no allocation. The transmit engine, completion handling and teardown run in
//! the DPC, whose state ([`DpcState`]) is owned by whichever CPU runs the DPC (taken with a
//! try-lock that never spins: a second CPU just asks the first to go round again).

use core::sync::atomic::{AtomicU16, AtomicU32, AtomicU64, AtomicUsize, Ordering};

use alloc::collections::{TryReserveError, VecDeque};
use alloc::vec::Vec;

use crate::ndis::Token;
use crate::nic::ConnId;
use crate::ring::SendRing;
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
    pub ring: SendRing<usize>,
    /// Accepted NBLs not yet completed.
    pub tx_outstanding: AtomicU32,
    /// Indicated NBLs not yet returned.
    pub rx_outstanding: AtomicU32,
    /// The CPU inside an indication on this VC, or [`NONE`].
    pub rx_cpu: AtomicU32,
    /// When the NIC close was requested plus the drain allowance (µs of `Ndis::now`); 0 = none.
    pub close_deadline: AtomicU64,
}

impl VcPath {
    pub fn new(ring_size: usize) -> Result<Self, crate::ring::AllocError> {
        let rundown = Rundown::new();
        // A slot starts closed: nothing may be sent until the VC is activated.
        rundown.begin_close();
        Ok(VcPath {
            generation: AtomicU32::new(0),
            handle: AtomicUsize::new(0),
            conn: AtomicU32::new(NONE),
            flags: AtomicU32::new(0),
            rundown,
            ring: SendRing::new(ring_size, 1)?,
            tx_outstanding: AtomicU32::new(0),
            rx_outstanding: AtomicU32::new(0),
            rx_cpu: AtomicU32::new(NONE),
            close_deadline: AtomicU64::new(0),
        })
    }

    /// The slot holds the VC named by `token`.
    #[inline]
    pub fn is(&self, token: Token) -> bool {
        self.generation.load(Ordering::Acquire) == token.generation()
    }
}

/// One NBL on the wire: how many of its frames are still with the NIC.
#[derive(Copy, Clone, Debug)]
pub struct InFlight {
    pub nbl: usize,
    pub frames_left: u32,
    pub failed: bool,
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
pub struct DpcState {
    /// Per slot: send completions gathered this run (one NdisMCoSendNetBufferListsComplete each).
    pub tx_done: Vec<Chain>,
    /// Per slot: received frames gathered this poll (one indication each).
    pub rx_ready: Vec<Chain>,
    /// Slots with a non-empty `tx_done` / `rx_ready`.
    pub tx_touched: Vec<u16>,
    pub rx_touched: Vec<u16>,
    /// Copy buffer for one outgoing frame.
    pub scratch: Vec<u8>,
    /// Per slot: NBLs handed to the NIC, oldest first.
    pub inflight: Vec<VecDeque<InFlight>>,
    /// Per slot: an NBL popped from the ring that the NIC had no room for yet.
    pub parked: Vec<Option<usize>>,
    /// Slots waiting for room on the NIC's shared transmit ring, oldest first; each at most once
    /// (`waiting`). Any frame leaving the NIC wakes them all (one VC's completions are not
    /// enough: the ring may be full of other VCs' frames).
    pub blocked: VecDeque<u16>,
    pub waiting: Vec<bool>,
    /// Q.2931 messages SSCOP delivered from one PDU (up to a whole window of them at once).
    pub sig_inbox: crate::msgq::MsgQueue,
}

impl DpcState {
    pub fn new(slots: usize, inflight_per_vc: usize, max_frame: usize) -> Result<Self, TryReserveError> {
        let mut scratch = Vec::new();
        scratch.try_reserve_exact(max_frame)?;
        scratch.resize(max_frame, 0);
        let mut inflight = Vec::new();
        inflight.try_reserve_exact(slots)?;
        let mut parked = Vec::new();
        parked.try_reserve_exact(slots)?;
        let mut blocked = VecDeque::new();
        blocked.try_reserve_exact(slots)?;
        let mut waiting = Vec::new();
        waiting.try_reserve_exact(slots)?;
        waiting.resize(slots, false);
        for _ in 0..slots {
            let mut q = VecDeque::new();
            q.try_reserve_exact(inflight_per_vc)?;
            inflight.push(q);
            parked.push(None);
        }
        // One received SD can release a whole window (64) of buffered messages.
        let sig_inbox = crate::msgq::MsgQueue::new(64 * (crate::saal::MAX_MESSAGE + 2))?;
        let chains = |n: usize| -> Result<Vec<Chain>, TryReserveError> {
            let mut v = Vec::new();
            v.try_reserve_exact(n)?;
            v.resize(n, Chain::default());
            Ok(v)
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
            scratch,
            inflight,
            parked,
            blocked,
            waiting,
            sig_inbox,
        })
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

/// A set of slot indices as an atomic bitmap (senders mark, the DPC takes).
#[derive(Debug)]
pub struct SlotSet {
    words: Vec<AtomicU64>,
}

impl SlotSet {
    pub fn new(slots: usize) -> Result<Self, TryReserveError> {
        let mut words = Vec::new();
        let n = slots.div_ceil(64);
        words.try_reserve_exact(n)?;
        for _ in 0..n {
            words.push(AtomicU64::new(0));
        }
        Ok(SlotSet { words })
    }

    /// Marks `slot`; `true` if it was not marked before.
    #[inline]
    pub fn mark(&self, slot: usize) -> bool {
        match self.words.get(slot / 64) {
            Some(w) => {
                let bit = 1u64 << (slot % 64);
                w.fetch_or(bit, Ordering::AcqRel) & bit == 0
            }
            None => false,
        }
    }

    /// Takes every marked slot (clearing them) and calls `f` for each.
    pub fn take_all(&self, mut f: impl FnMut(usize)) {
        for (i, w) in self.words.iter().enumerate() {
            let mut bits = w.swap(0, Ordering::AcqRel);
            while bits != 0 {
                let b = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                f(i * 64 + b);
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

    pub fn set(&self, conn: ConnId, slot: Option<usize>) {
        if let Some(s) = self.slots.get(usize::from(conn.0)) {
            s.store(slot.map_or(NO_SLOT, |v| v as u16), Ordering::Release);
        }
    }

    pub fn get(&self, conn: ConnId) -> Option<usize> {
        let v = self.slots.get(usize::from(conn.0))?.load(Ordering::Acquire);
        (v != NO_SLOT).then_some(usize::from(v))
    }
}

/// Counters for the data path (diagnostics, lab reports).
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
