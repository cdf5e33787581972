//! The adapter: wires the pieces together (MiniportInitializeEx .. MiniportHaltEx) and carries
//! every entry point NDIS calls. `windows/` wraps each method in an `extern "system"`
//! trampoline; the lab's emulated NDIS calls them directly, from several threads where NDIS would.
//!
//! Concurrency in one paragraph: the control state sits behind one lock that is never held across
//! an NDIS call. Decisions become ops that one drainer at a time performs with the lock released
//! (`drain_ops`), so NDIS sees calls in exactly the order the state machine made them and a
//! client re-entering the driver from inside a callback never deadlocks. The hot path (sends,
//! receives, completions) takes no lock at all: see `datapath`.

use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use core::time::Duration;

use alloc::vec::Vec;

use crate::cm::objects::UuBuf;
use crate::cm::ops::{Work, adapter_op, af_op, next_op, party_op, vc_op};
use crate::cm::{CloseOutcome, Control, Env, LiveCounts};
use crate::config::Config;
use crate::datapath::{Chain, ConnMap, DataStats, DpcState, InFlight, NONE, SlotSet, VcPath, flag};
use crate::msgq::MsgQueue;
use crate::ndis::{
    AfContext, CallParameters, CloseData, CoAddressFamily, Handle, Ndis, NdisStatus, PartyContext, Sap, SapContext,
    StatusIndication, Token, VcContext, VpiVci, receive_flags, send_complete_flags,
};
use crate::nic::{ConnId, ConnParams, Device, DeviceEvent, TxCookie};
use crate::ring::SendRing;
use crate::saal::SaalEvent;

/// An OID request as the core sees it (`NDIS_OID_REQUEST`, the parts used).
#[derive(Debug)]
pub struct OidRequest<'a> {
    pub oid: u32,
    /// Query: the output buffer. Set: the input.
    pub buffer: &'a mut [u8],
    pub is_query: bool,
    /// Octets written (query) or read (set).
    pub bytes_done: usize,
    /// Octets needed when the buffer was too short.
    pub bytes_needed: usize,
}

/// OIDs answered by MiniportCoOidRequest (values: ndis6-facts.tsv, checked by tests/ffi_facts.rs).
pub mod oid {
    pub const GEN_SUPPORTED_LIST: u32 = 0x0001_0101;
    pub const GEN_HARDWARE_STATUS: u32 = 0x0001_0102;
    pub const GEN_MEDIA_SUPPORTED: u32 = 0x0001_0103;
    pub const GEN_MEDIA_IN_USE: u32 = 0x0001_0104;
    pub const GEN_CO_LINK_SPEED: u32 = 0x0001_0107;
    pub const GEN_VENDOR_DESCRIPTION: u32 = 0x0001_010D;
    pub const GEN_DRIVER_VERSION: u32 = 0x0001_0110;
    pub const GEN_CO_MEDIA_CONNECT_STATUS: u32 = 0x0001_0114;
    pub const ATM_SUPPORTED_VC_RATES: u32 = 0x0801_0101;
    pub const ATM_SUPPORTED_SERVICE_CATEGORY: u32 = 0x0801_0102;
    pub const ATM_SUPPORTED_AAL_TYPES: u32 = 0x0801_0103;
    pub const ATM_HW_CURRENT_ADDRESS: u32 = 0x0801_0104;
    pub const ATM_MAX_ACTIVE_VCS: u32 = 0x0801_0105;
    pub const ATM_MAX_AAL5_PACKET_SIZE: u32 = 0x0801_010B;

    /// Exactly the OIDs [`super::Adapter::miniport_co_oid_request`] answers (queries): what
    /// OID_GEN_SUPPORTED_LIST returns and the general attributes' SupportedOidList carries.
    pub const SUPPORTED: [u32; 14] = [
        GEN_SUPPORTED_LIST,
        GEN_HARDWARE_STATUS,
        GEN_MEDIA_SUPPORTED,
        GEN_MEDIA_IN_USE,
        GEN_CO_LINK_SPEED,
        GEN_VENDOR_DESCRIPTION,
        GEN_DRIVER_VERSION,
        GEN_CO_MEDIA_CONNECT_STATUS,
        ATM_SUPPORTED_VC_RATES,
        ATM_SUPPORTED_SERVICE_CATEGORY,
        ATM_SUPPORTED_AAL_TYPES,
        ATM_HW_CURRENT_ADDRESS,
        ATM_MAX_ACTIVE_VCS,
        ATM_MAX_AAL5_PACKET_SIZE,
    ];

    /// Values the answers carry.
    pub mod value {
        /// `NDIS_HARDWARE_STATUS`: NdisHardwareStatusReady.
        pub const NDIS_HARDWARE_STATUS_READY: u32 = 0;
        /// `NDIS_MEDIUM`: NdisMediumAtm.
        pub const NDIS_MEDIUM_ATM: u32 = 8;
        /// `NDIS_MEDIA_STATE`: NdisMediaStateConnected / NdisMediaStateDisconnected.
        pub const NDIS_MEDIA_STATE_CONNECTED: u32 = 0;
        pub const NDIS_MEDIA_STATE_DISCONNECTED: u32 = 1;
        /// The NDIS version the driver is written to (OID_GEN_DRIVER_VERSION: major << 8 | minor).
        pub const NDIS_VERSION: u16 = 0x0600;
        /// `ATM_SERVICE_CATEGORY_CBR | ATM_SERVICE_CATEGORY_UBR` (what the NIC schedules).
        pub const SERVICE_CATEGORIES: u32 = 0x1 | 0x4;
        /// `AAL_TYPE_AAL5`.
        pub const AAL_TYPES: u32 = 0x8;
        /// Octets of an ATM cell on the wire (the unit of ATM_VC_RATES_SUPPORTED is cells/s).
        pub const CELL_BITS: u64 = 53 * 8;
        /// OID_GEN_VENDOR_DESCRIPTION (NUL-terminated ANSI).
        pub const VENDOR_DESCRIPTION: &[u8] = b"atmmcm ATM adapter (CoNDIS call manager)\0";
    }
}

/// The cookie marking a signalling frame (never an NBL word).
const SIG_COOKIE: u64 = u64::MAX;
/// Largest frame the adapter transmits (AAL5 CPCS-SDU).
pub const MAX_FRAME: usize = 65_535;
/// NBLs per VC the NIC may hold at once.
const INFLIGHT_PER_VC: usize = 64;
/// Octets of signalling PDUs the DPC queue holds (a full SSCOP window of SETUPs several times).
const SIG_QUEUE_BYTES: usize = 128 * 1024;
/// NBLs pushed into a VC's ring per claim on the send path.
const SEND_BATCH: usize = 32;
/// Events handled per `Device::poll` call.
const POLL_BUDGET: usize = 256;

/// Link events the SAAL reports outside a received PDU (timers, PHY changes), held until the
/// SAAL borrow ends. Messages only ever come with a received PDU (`signalling_pdu`).
struct SigInbox {
    established: bool,
    released: bool,
    /// Messages reported here (none expected) are counted as lost.
    stray: u64,
}

impl SigInbox {
    fn new() -> Self {
        SigInbox { established: false, released: false, stray: 0 }
    }

    fn collect(&mut self, ev: SaalEvent<'_>) {
        match ev {
            SaalEvent::Established => self.established = true,
            SaalEvent::Released { .. } => self.released = true,
            SaalEvent::Data(_) => self.stray += 1,
        }
    }
}

/// One adapter (one NIC).
pub struct Adapter<N: Ndis, D: Device> {
    ndis: N,
    device: D,
    config: Config,
    control: lock_api::Mutex<N::RawLock, Control<N>>,
    dpc_state: lock_api::Mutex<N::RawLock, DpcState>,
    /// Signalling PDUs for the DPC to hand to the NIC (its one transmit producer).
    sig_out: lock_api::Mutex<N::RawLock, MsgQueue>,
    /// PDUs lost because `sig_out` was full (SSCOP retransmits them).
    pub sig_overflow: AtomicU64,
    paths: Vec<VcPath>,
    /// The send-ring pool (`Config::max_active_vcs`); `VcPath::ring` names a call's ring.
    rings: Vec<SendRing<usize>>,
    /// Pool rings not held by any NIC connection.
    ring_free: lock_api::Mutex<N::RawLock, Vec<u16>>,
    /// NIC connection → the pool ring it holds ([`NONE`] = none).
    conn_ring: Vec<AtomicU32>,
    conn_map: ConnMap,
    tx_ready: SlotSet,
    teardown: SlotSet,
    sig_conn: AtomicU32,
    draining: AtomicBool,
    drain_again: AtomicBool,
    dpc_again: AtomicBool,
    armed: AtomicU64,
    /// The earliest NIC-close deadline of any VC (µs), `u64::MAX` when none.
    drain_deadline: AtomicU64,
    /// The timer saw `drain_deadline` pass: the DPC looks at the front of `DpcState::closing`.
    drain_overdue: AtomicBool,
    halted: AtomicBool,
    pub stats: DataStats,
}

fn ticks(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl<N: Ndis, D: Device> Env<N> for Adapter<N, D> {
    fn now(&self) -> Duration {
        self.ndis.now()
    }

    fn config(&self) -> &Config {
        &self.config
    }

    fn send_message(&self, saal: &mut crate::saal::Link, msg: &[u8]) -> Result<(), crate::saal::SendError> {
        let now = self.ndis.now();
        saal.send(now, msg, &mut |pdu: &[u8]| self.sig_transmit(pdu))
    }

    /// Opens a call's NIC connection with a send ring from the pool (RESOURCES when the pool is
    /// empty: `MaxActiveVcs` calls have their data path open).
    fn open_connection(&self, params: &ConnParams) -> Result<ConnId, NdisStatus> {
        let ring = self.ring_free.lock().pop().ok_or(NdisStatus::RESOURCES)?;
        match self.device.open_connection(params) {
            Ok(conn) => {
                if let Some(r) = self.conn_ring.get(usize::from(conn.0)) {
                    r.store(u32::from(ring), Ordering::Release);
                }
                Ok(conn)
            }
            Err(s) => {
                self.ring_free.lock().push(ring);
                Err(s)
            }
        }
    }

    fn datapath_open(&self, slot: usize, generation: u32, handle: N::VcHandle, conn: ConnId) {
        let Some(p) = self.paths.get(slot) else { return };
        p.generation.store(generation, Ordering::Release);
        p.handle.store(handle.to_word(), Ordering::Release);
        p.conn.store(u32::from(conn.0), Ordering::Release);
        let ring = self.conn_ring.get(usize::from(conn.0)).map_or(NONE, |r| r.load(Ordering::Acquire));
        p.ring.store(ring, Ordering::Release);
        p.flags.store(flag::OPEN, Ordering::Release);
        self.conn_map.set(conn, Some(slot));
        p.rundown.reopen();
    }

    fn datapath_teardown(&self, slot: usize, conn: Option<ConnId>) {
        let Some(p) = self.paths.get(slot) else { return };
        let mut f = flag::TEARDOWN;
        if conn.is_none() {
            f |= flag::NIC_CLOSED;
        }
        p.flags.fetch_or(f, Ordering::AcqRel);
        p.rundown.begin_close();
        self.teardown.mark(slot);
        self.ndis.request_dpc();
    }

    fn datapath_forget(&self, slot: usize) {
        let Some(p) = self.paths.get(slot) else { return };
        p.generation.store(0, Ordering::Release);
        p.handle.store(0, Ordering::Release);
        p.flags.store(0, Ordering::Release);
        p.conn.store(NONE, Ordering::Release);
    }
}

/// One NDIS call the drainer performs, with its arguments taken under the lock.
enum Perform<N: Ndis> {
    CreateVc {
        index: usize,
        af: N::AfHandle,
        ctx: VcContext,
    },
    Activate {
        index: usize,
        vc: N::VcHandle,
        params: CallParameters,
    },
    DispatchIncomingCall {
        index: usize,
        sap: N::SapHandle,
        vc: N::VcHandle,
        params: CallParameters,
    },
    MakeCallComplete {
        status: NdisStatus,
        vc: N::VcHandle,
        party: Option<(N::PartyHandle, PartyContext)>,
        client: N::ClientParams,
        params: CallParameters,
    },
    CallConnected {
        vc: N::VcHandle,
    },
    IncomingClose {
        index: usize,
        status: NdisStatus,
        vc: N::VcHandle,
        data: UuBuf,
    },
    Deactivate {
        vc: N::VcHandle,
    },
    CloseComplete {
        status: NdisStatus,
        vc: N::VcHandle,
        party: Option<N::PartyHandle>,
    },
    Delete {
        index: usize,
        vc: N::VcHandle,
    },
    AddPartyComplete {
        token: Token,
        status: NdisStatus,
        party: N::PartyHandle,
        ctx: Option<PartyContext>,
        client: N::ClientParams,
        params: CallParameters,
    },
    IncomingDrop {
        token: Token,
        status: NdisStatus,
        party: N::PartyHandle,
        data: UuBuf,
    },
    DropComplete {
        token: Token,
        status: NdisStatus,
        party: N::PartyHandle,
    },
    CloseAfComplete {
        af: N::AfHandle,
    },
    IndicateLink,
    /// The op could not be performed (its object vanished); nothing to call.
    Nothing,
}

impl<N: Ndis, D: Device> Adapter<N, D> {
    // ---- miniport ---------------------------------------------------------------------------------

    /// MiniportInitializeEx, up to (not including) the address-family registration. All of the
    /// adapter's memory is allocated here; nothing later allocates.
    pub fn initialize(ndis: N, device: D, config: Config) -> Result<Self, NdisStatus> {
        let slots = config.max_vcs.clamp(1, Token::MAX_SLOTS);
        let ring = config.ring_size.max(2).next_power_of_two();
        let pool = config.max_active_vcs.clamp(1, slots);
        // The largest SSCOP window (128): call storms are limited by credit, not by the queue.
        let saal_cfg = crate::saal::SaalConfig { window: 128, ..crate::saal::SaalConfig::default() };
        let saal = crate::saal::Link::new(saal_cfg).map_err(|_| NdisStatus::RESOURCES)?;
        let control = Control::new(&config, saal).map_err(|_| NdisStatus::RESOURCES)?;
        let dpc = DpcState::new(slots, pool, INFLIGHT_PER_VC, MAX_FRAME).map_err(|_| NdisStatus::RESOURCES)?;
        let mut paths = Vec::new();
        paths.try_reserve_exact(slots).map_err(|_| NdisStatus::RESOURCES)?;
        for _ in 0..slots {
            paths.push(VcPath::new());
        }
        let mut rings = Vec::new();
        rings.try_reserve_exact(pool).map_err(|_| NdisStatus::RESOURCES)?;
        let mut ring_free = Vec::new();
        ring_free.try_reserve_exact(pool).map_err(|_| NdisStatus::RESOURCES)?;
        for i in 0..pool {
            rings.push(SendRing::new(ring, 1).map_err(|_| NdisStatus::RESOURCES)?);
            // Lowest index on top.
            ring_free.push((pool - 1 - i) as u16);
        }
        let mut conn_ring = Vec::new();
        conn_ring.try_reserve_exact(usize::from(u16::MAX)).map_err(|_| NdisStatus::RESOURCES)?;
        for _ in 0..u16::MAX {
            conn_ring.push(AtomicU32::new(NONE));
        }
        // Every fallible part before the literal: no `?` inside it, so the adapter is built once,
        // in the caller's slot, not assembled on this stack and copied (issue 7 item 10).
        let sig_out = MsgQueue::new(SIG_QUEUE_BYTES).map_err(|_| NdisStatus::RESOURCES)?;
        let conn_map = ConnMap::new(usize::from(u16::MAX)).map_err(|_| NdisStatus::RESOURCES)?;
        let tx_ready = SlotSet::new(slots).map_err(|_| NdisStatus::RESOURCES)?;
        let teardown = SlotSet::new(slots).map_err(|_| NdisStatus::RESOURCES)?;
        Ok(Adapter {
            ndis,
            device,
            config,
            control: lock_api::Mutex::new(control),
            dpc_state: lock_api::Mutex::new(dpc),
            sig_out: lock_api::Mutex::new(sig_out),
            sig_overflow: AtomicU64::new(0),
            paths,
            rings,
            ring_free: lock_api::Mutex::new(ring_free),
            conn_ring,
            conn_map,
            tx_ready,
            teardown,
            sig_conn: AtomicU32::new(NONE),
            draining: AtomicBool::new(false),
            drain_again: AtomicBool::new(false),
            dpc_again: AtomicBool::new(false),
            armed: AtomicU64::new(u64::MAX),
            drain_deadline: AtomicU64::new(u64::MAX),
            drain_overdue: AtomicBool::new(false),
            halted: AtomicBool::new(false),
            stats: DataStats::default(),
        })
    }

    /// The end of MiniportInitializeEx (PASSIVE): the signalling VC,
    /// NdisMCmRegisterAddressFamilyEx, and the signalling link if the PHY is up.
    pub fn start(&self) -> NdisStatus {
        // 0/5 takes any AAL5 frame: a 4 096-octet message is 4 100 octets with its SSCOP trailer,
        // and an SD over that must reach SSCOP to be skipped in sequence — dropped by the NIC, it
        // would be retransmitted forever and stall everything behind it.
        let sig = ConnParams {
            id: VpiVci { vpi: 0, vci: 5 },
            aal: crate::ndis::AalType::Aal5,
            tx_pcr: 0,
            max_rx_sdu: MAX_FRAME as u32,
        };
        match self.device.open_connection(&sig) {
            Ok(c) => self.sig_conn.store(u32::from(c.0), Ordering::Release),
            Err(s) => return s,
        }
        let st = self.ndis.cm_register_address_family_ex(&CoAddressFamily::Q2931_UNI31);
        if st != NdisStatus::SUCCESS {
            return st;
        }
        if self.device.link_up() {
            self.phy_change(true);
        }
        self.after_control();
        NdisStatus::SUCCESS
    }

    /// MiniportHaltEx (PASSIVE): NdisMCmNotifyCloseAddressFamily for every open AF, then waits —
    /// calling `idle` between checks (the lab pumps its world there; Windows sleeps) — until the
    /// clients have torn everything down, and quiets the NIC. No NDIS call follows its return.
    pub fn halt(&self, mut idle: impl FnMut()) {
        let mut notify = [None; 8];
        self.control.lock().begin_halt(&mut notify);
        for af in notify.into_iter().flatten() {
            let _ = self.ndis.cm_notify_close_address_family(af);
        }
        self.drain_ops();
        // The clients close their calls, SAPs and AFs; each close may need the network, at
        // worst a RELEASE sent twice (2 × T308) and a forced NIC close. Past that (plus slack)
        // the halt stops waiting; the verifier's HALT rules then report what was left.
        let t = &self.config.timers;
        let give_up = self.ndis.now().saturating_add(t.t308 * 2 + t.tx_drain + Duration::from_secs(10));
        let mut rounds: u32 = 0;
        loop {
            let done = {
                let c = self.control.lock();
                c.afs.is_empty() && c.work.is_empty()
            };
            if done || self.ndis.now() > give_up || rounds > 10_000_000 {
                break;
            }
            idle();
            rounds += 1;
        }
        self.halted.store(true, Ordering::Release);
        let sig = self.sig_conn.swap(NONE, Ordering::AcqRel);
        if sig != NONE {
            self.device.close_connection(ConnId(sig as u16));
        }
    }

    /// MiniportPause.
    pub fn pause(&self) -> NdisStatus {
        NdisStatus::SUCCESS
    }

    /// MiniportRestart.
    pub fn restart(&self) -> NdisStatus {
        NdisStatus::SUCCESS
    }

    /// MiniportShutdownEx: quiet the NIC; no NDIS calls.
    pub fn shutdown(&self) {
        self.halted.store(true, Ordering::Release);
    }

    /// MiniportDevicePnPEventNotify with NdisDevicePnPEventSurpriseRemoved: the NIC is gone, so
    /// the link is down for good.
    pub fn surprise_removed(&self) {
        self.phy_change(false);
        self.after_control();
    }

    /// Live objects (AFs, SAPs, VCs, calls, parties) the driver still holds.
    pub fn live_objects(&self) -> LiveCounts {
        self.control.lock().live()
    }

    /// Control-path counters.
    pub fn control_stats(&self) -> crate::cm::control::Stats {
        self.control.lock().stats
    }

    /// Whether the signalling link is established.
    pub fn signalling_up(&self) -> bool {
        self.control.lock().saal_up()
    }

    /// The configuration the adapter runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    #[doc(hidden)]
    pub fn parts(&self) -> (&N, &D) {
        (&self.ndis, &self.device)
    }

    // ---- control plumbing -------------------------------------------------------------------------

    fn with_control<R>(&self, f: impl FnOnce(&mut Control<N>) -> R) -> R {
        let mut c = self.control.lock();
        f(&mut c)
    }

    /// Queues a signalling PDU for the DPC, the NIC's one transmit producer.
    fn sig_transmit(&self, pdu: &[u8]) {
        if self.sig_out.lock().push(pdu).is_err() {
            self.sig_overflow.fetch_add(1, Ordering::Relaxed);
        }
        self.ndis.request_dpc();
    }

    /// Hands queued signalling PDUs to the NIC (DPC only); what does not fit waits.
    fn flush_sig(&self, st: &mut DpcState) {
        let conn = self.sig_conn.load(Ordering::Acquire);
        if conn == NONE {
            return;
        }
        let mut q = self.sig_out.lock();
        while let Some(len) = q.peek(&mut st.scratch) {
            let pdu = st.scratch.get(..len).unwrap_or(&[]);
            if self.device.transmit(ConnId(conn as u16), pdu, TxCookie(SIG_COOKIE)).is_err() {
                return;
            }
            q.pop();
        }
    }

    /// The signalling link was released while the PHY is up (the peer's END, no response,
    /// failed recovery): AAL-ESTABLISH again at once (Q.2931 5.6.10), or the UNI stays without
    /// signalling until the next PHY change. SSCOP's Timer_CC paces the attempts.
    fn reestablish(&self, c: &mut Control<N>) {
        if self.device.link_up() && !c.halting && !self.halted.load(Ordering::Acquire) {
            let now = self.ndis.now();
            c.saal.establish(now, &mut |pdu: &[u8]| self.sig_transmit(pdu));
        }
    }

    /// PHY up/down: indicate it, and start or lose the signalling link.
    fn phy_change(&self, up: bool) {
        let now = self.ndis.now();
        let mut inbox = SigInbox::new();
        self.with_control(|c| {
            c.on_phy(self, up);
            if up {
                c.saal.establish(now, &mut |pdu: &[u8]| self.sig_transmit(pdu));
            } else {
                c.saal.link_lost(&mut |e| inbox.collect(e));
            }
            self.deliver(c, &inbox);
        });
    }

    /// After any control activity: perform the ops it decided and re-arm the timer.
    fn after_control(&self) {
        self.drain_ops();
        self.rearm();
    }

    fn rearm(&self) {
        if self.halted.load(Ordering::Acquire) {
            return;
        }
        let control = self.control.lock().next_deadline();
        let drain = match self.drain_deadline.load(Ordering::Acquire) {
            u64::MAX => None,
            us => Some(Duration::from_micros(us)),
        };
        let due = control.into_iter().chain(drain).min();
        if let Some(due) = due {
            let t = ticks(due);
            if self.armed.swap(t, Ordering::AcqRel) != t {
                self.ndis.set_timer(due);
            }
        }
    }

    /// Performs pending ops until none is left; one drainer at a time (see the module docs).
    fn drain_ops(&self) {
        // Announce the work first, then try to become the drainer: a drainer that is just
        // leaving re-checks the flag after dropping its role, so no op is ever stranded.
        self.drain_again.store(true, Ordering::SeqCst);
        loop {
            if self.draining.swap(true, Ordering::SeqCst) {
                return;
            }
            self.drain_again.store(false, Ordering::SeqCst);
            loop {
                let next = self.control.lock().work.pop();
                let Some(work) = next else { break };
                let perform = {
                    let mut c = self.control.lock();
                    Self::take_op(&mut c, work)
                };
                self.perform(perform);
            }
            self.draining.store(false, Ordering::SeqCst);
            if !self.drain_again.load(Ordering::SeqCst) {
                return;
            }
        }
    }

    fn requeue(c: &mut Control<N>, work: Work, more: bool) {
        if more {
            if !c.work.push(work) {
                c.stats.internal_errors += 1;
            }
            return;
        }
        match work {
            Work::Vc(i) => {
                if let Some(t) = c.vcs.token_at(usize::from(i))
                    && let Some(v) = c.vcs.get_mut(t)
                {
                    v.queued = false;
                }
            }
            Work::Party(i) => {
                if let Some(t) = c.parties.token_at(usize::from(i))
                    && let Some(p) = c.parties.get_mut(t)
                {
                    p.queued = false;
                }
            }
            Work::Af(i) => {
                if let Some(t) = c.afs.token_at(usize::from(i))
                    && let Some(a) = c.afs.get_mut(t)
                {
                    a.queued = false;
                }
            }
            Work::Adapter => c.adapter_dequeued(),
        }
    }

    fn take_op(c: &mut Control<N>, work: Work) -> Perform<N> {
        match work {
            Work::Vc(i) => {
                let index = usize::from(i);
                let Some(vc) = c.vcs.token_at(index) else { return Perform::Nothing };
                let Some(v) = c.vcs.get_mut(vc) else { return Perform::Nothing };
                let Some(op) = next_op(v.ops) else {
                    v.queued = false;
                    return Perform::Nothing;
                };
                v.ops &= !op;
                let more = v.ops != 0;
                let (handle, params, af, sap, client) = (v.handle, v.params, v.af, v.sap, v.client);
                let (make_status, close_status) = (v.make_status, v.close_status);
                let (in_status, in_data, close_party) = (v.incoming_close_status, v.incoming_close_data, v.close_party);
                Self::requeue(c, work, more);
                let ctx = VcContext(vc);
                let party_of = |c: &Control<N>| {
                    c.first_party_where(ctx, |_| true)
                        .and_then(|t| c.parties.get(t).map(|p| (p.handle, PartyContext(t))))
                };
                let r = match (op, handle, params) {
                    (vc_op::CREATE_VC, _, _) => c.afs.get(af.0).map(|a| Perform::CreateVc { index, af: a.handle, ctx }),
                    (vc_op::ACTIVATE_VC, Some(h), Some(p)) => Some(Perform::Activate { index, vc: h, params: p }),
                    (vc_op::DISPATCH_INCOMING_CALL, Some(h), Some(p)) => sap
                        .and_then(|s| c.saps.get(s.0))
                        .map(|s| Perform::DispatchIncomingCall { index, sap: s.handle, vc: h, params: p }),
                    (vc_op::MAKE_CALL_COMPLETE, Some(h), Some(p)) => client.map(|cl| Perform::MakeCallComplete {
                        status: make_status,
                        vc: h,
                        party: if p.is_multipoint() { party_of(c) } else { None },
                        client: cl,
                        params: p,
                    }),
                    (vc_op::DISPATCH_CALL_CONNECTED, Some(h), _) => Some(Perform::CallConnected { vc: h }),
                    (vc_op::DISPATCH_INCOMING_CLOSE, Some(h), _) => {
                        Some(Perform::IncomingClose { index, status: in_status, vc: h, data: in_data })
                    }
                    (vc_op::DEACTIVATE_VC, Some(h), _) => Some(Perform::Deactivate { vc: h }),
                    (vc_op::CLOSE_CALL_COMPLETE, Some(h), _) => Some(Perform::CloseComplete {
                        status: close_status,
                        vc: h,
                        party: close_party.and_then(|p| c.parties.get(p.0)).map(|p| p.handle),
                    }),
                    (vc_op::DELETE_VC, Some(h), _) => Some(Perform::Delete { index, vc: h }),
                    _ => None,
                };
                // State moves before the call: the client may re-enter from inside it.
                match &r {
                    Some(Perform::MakeCallComplete { status, .. }) => c.make_call_completing(index, *status),
                    Some(Perform::CloseComplete { .. }) => c.close_call_completing(index),
                    Some(Perform::Deactivate { .. }) => c.deactivating(index),
                    _ => {}
                }
                r.unwrap_or_else(|| {
                    c.stats.internal_errors += 1;
                    Perform::Nothing
                })
            }
            Work::Party(i) => {
                let Some(t) = c.parties.token_at(usize::from(i)) else { return Perform::Nothing };
                let Some(p) = c.parties.get_mut(t) else { return Perform::Nothing };
                let Some(op) = next_op(p.ops) else {
                    p.queued = false;
                    return Perform::Nothing;
                };
                p.ops &= !op;
                let more = p.ops != 0;
                let (status, handle, client, params, data) = (p.op_status, p.handle, p.client, p.params, p.drop_data);
                Self::requeue(c, work, more);
                let r = match op {
                    party_op::ADD_PARTY_COMPLETE => client.zip(params).map(|(cl, pa)| Perform::AddPartyComplete {
                        token: t,
                        status,
                        party: handle,
                        ctx: (status == NdisStatus::SUCCESS).then_some(PartyContext(t)),
                        client: cl,
                        params: pa,
                    }),
                    party_op::DISPATCH_INCOMING_DROP => {
                        Some(Perform::IncomingDrop { token: t, status, party: handle, data })
                    }
                    party_op::DROP_PARTY_COMPLETE => Some(Perform::DropComplete { token: t, status, party: handle }),
                    _ => None,
                };
                r.unwrap_or(Perform::Nothing)
            }
            Work::Af(i) => {
                let Some(t) = c.afs.token_at(usize::from(i)) else { return Perform::Nothing };
                let Some(a) = c.afs.get_mut(t) else { return Perform::Nothing };
                let Some(op) = next_op(a.ops) else {
                    a.queued = false;
                    return Perform::Nothing;
                };
                a.ops &= !op;
                let h = a.handle;
                if op == af_op::CLOSE_AF_COMPLETE {
                    // The AF dies with its completion.
                    c.afs.remove(t);
                    Perform::CloseAfComplete { af: h }
                } else {
                    let more = a.ops != 0;
                    Self::requeue(c, work, more);
                    Perform::Nothing
                }
            }
            Work::Adapter => {
                let ops = c.adapter_ops;
                c.adapter_ops = 0;
                Self::requeue(c, work, false);
                if ops & adapter_op::INDICATE_LINK != 0 { Perform::IndicateLink } else { Perform::Nothing }
            }
        }
    }

    fn perform(&self, p: Perform<N>) {
        let n = &self.ndis;
        match p {
            Perform::Nothing => {}
            Perform::CreateVc { index, af, ctx } => {
                let r = n.cm_create_vc(af, ctx);
                self.with_control(|c| c.on_create_vc(self, index, r));
            }
            Perform::Activate { index, vc, params } => {
                let st = n.cm_activate_vc(vc, &params);
                self.with_control(|c| c.on_activate(self, index, st));
            }
            Perform::DispatchIncomingCall { index, sap, vc, params } => {
                let st = n.cm_dispatch_incoming_call(sap, vc, &params);
                self.with_control(|c| c.on_dispatch_incoming_call(self, index, st));
            }
            Perform::MakeCallComplete { status, vc, party, client, params } => {
                let (ph, pc) = match party {
                    Some((h, c)) if status == NdisStatus::SUCCESS => (Some(h), Some(c)),
                    Some((h, _)) => (Some(h), None),
                    None => (None, None),
                };
                n.cm_make_call_complete(status, vc, ph, pc, client, &params);
            }
            Perform::CallConnected { vc } => n.cm_dispatch_call_connected(vc),
            Perform::IncomingClose { index, status, vc, data } => {
                self.wait_rx_quiet(index);
                n.cm_dispatch_incoming_close_call(status, vc, data.as_slice());
            }
            Perform::Deactivate { vc } => {
                let _ = n.cm_deactivate_vc(vc);
            }
            Perform::CloseComplete { status, vc, party } => n.cm_close_call_complete(status, vc, party),
            Perform::Delete { index, vc } => {
                let _ = n.cm_delete_vc(vc);
                self.with_control(|c| c.on_deleted(self, index));
            }
            Perform::AddPartyComplete { token, status, party, ctx, client, params } => {
                n.cm_add_party_complete(status, party, ctx, client, &params);
                self.with_control(|c| c.maybe_free_party(token));
            }
            Perform::IncomingDrop { token, status, party, data } => {
                n.cm_dispatch_incoming_drop_party(status, party, data.as_slice());
                self.with_control(|c| c.maybe_free_party(token));
            }
            Perform::DropComplete { token, status, party } => {
                n.cm_drop_party_complete(status, party);
                self.with_control(|c| c.maybe_free_party(token));
            }
            Perform::CloseAfComplete { af } => n.cm_close_address_family_complete(NdisStatus::SUCCESS, af),
            Perform::IndicateLink => {
                let link = self.control.lock().link_report;
                n.co_indicate_status_ex(None, StatusIndication::LinkState(link));
            }
        }
    }

    /// Waits until no other CPU is inside a receive indication on `slot` (one on this CPU is the
    /// caller itself, re-entered from the client's receive handler).
    fn wait_rx_quiet(&self, slot: usize) {
        let Some(p) = self.paths.get(slot) else { return };
        let me = self.ndis.current_cpu();
        loop {
            let cpu = p.rx_cpu.load(Ordering::Acquire);
            if cpu == NONE || cpu == me {
                return;
            }
            core::hint::spin_loop();
        }
    }

    // ---- call manager -------------------------------------------------------------------------------

    /// ProtocolCmOpenAf (always completes synchronously).
    pub fn protocol_cm_open_af(&self, af: &CoAddressFamily, ndis_af: N::AfHandle) -> Result<AfContext, NdisStatus> {
        self.with_control(|c| c.open_af(af, ndis_af))
    }

    /// ProtocolCmCloseAf: SUCCESS when nothing is left on the AF, else PENDING until the last SAP
    /// and VC are gone (then NdisMCmCloseAddressFamilyComplete).
    pub fn protocol_cm_close_af(&self, af: AfContext) -> NdisStatus {
        let st = self.with_control(|c| c.close_af(af));
        self.after_control();
        st
    }

    /// ProtocolCmRegisterSap (always completes synchronously).
    pub fn protocol_cm_register_sap(
        &self,
        af: AfContext,
        sap: &Sap,
        ndis_sap: N::SapHandle,
    ) -> Result<SapContext, NdisStatus> {
        self.with_control(|c| c.register_sap(af, sap, ndis_sap))
    }

    /// ProtocolCmDeregisterSap (always completes synchronously).
    pub fn protocol_cm_deregister_sap(&self, sap: SapContext) -> NdisStatus {
        let st = self.with_control(|c| c.deregister_sap(sap));
        self.after_control();
        st
    }

    /// ProtocolCoCreateVc (never PENDING).
    pub fn protocol_co_create_vc(&self, af: AfContext, ndis_vc: N::VcHandle) -> Result<VcContext, NdisStatus> {
        let r = self.with_control(|c| c.create_vc(af, ndis_vc));
        if let Ok(vc) = r
            && let Some(p) = self.paths.get(vc.0.index())
        {
            p.generation.store(vc.0.generation(), Ordering::Release);
            p.handle.store(ndis_vc.to_word(), Ordering::Release);
        }
        r
    }

    /// ProtocolCoDeleteVc (never PENDING; NOT_ACCEPTED while a call is on the VC).
    pub fn protocol_co_delete_vc(&self, vc: VcContext) -> NdisStatus {
        let st = self.with_control(|c| c.delete_vc(self, vc));
        self.after_control();
        st
    }

    /// ProtocolCmMakeCall. A pended call completes through NdisMCmMakeCallComplete with `client`.
    pub fn protocol_cm_make_call(
        &self,
        vc: VcContext,
        params: &mut CallParameters,
        client: N::ClientParams,
        ndis_party: Option<N::PartyHandle>,
    ) -> (NdisStatus, Option<PartyContext>) {
        let r = self.with_control(|c| c.make_call(self, vc, params, client, ndis_party));
        self.after_control();
        r
    }

    /// ProtocolCmCloseCall: SUCCESS when the close completes at once, PENDING when the network
    /// release (or the data path) is outstanding — exactly one NdisMCmCloseCallComplete follows —
    /// or an error (INVALID_DATA: UNI 3.1 cannot carry CloseData; INVALID_LENGTH: CloseData larger
    /// than the UNI 4.0 user-user IE; FAILURE: more than one party remains).
    pub fn protocol_cm_close_call(
        &self,
        vc: VcContext,
        party: Option<PartyContext>,
        data: CloseData<'_>,
    ) -> NdisStatus {
        let path = self.paths.get(vc.0.index()).filter(|p| p.is(vc.0));
        if let Some(p) = path {
            p.flags.fetch_or(flag::CLOSE_CALL, Ordering::AcqRel);
        }
        let outcome = self.with_control(|c| c.close_call(self, vc, party, data));
        // After the close started no indication may begin on this VC: wait out one in progress
        // on another CPU.
        self.wait_rx_quiet(vc.0.index());
        let st = match outcome {
            CloseOutcome::Status(s) => s,
            CloseOutcome::DeactivateThenSuccess(h) => {
                let _ = self.ndis.cm_deactivate_vc(h);
                NdisStatus::SUCCESS
            }
        };
        self.after_control();
        // The client's NdisClCloseCall returns now and it may not send after it: a sender that
        // still comes is late, completed with CLOSING at once, and the drain does not wait for
        // it (a client flooding a closed VC cannot keep it open).
        if let Some(p) = path {
            if !st.is_error() {
                p.rundown.seal();
            }
            let f = p.flags.fetch_and(!flag::CLOSE_CALL, Ordering::AcqRel);
            if f & flag::TEARDOWN != 0 {
                // The teardown may have been waiting for this return.
                self.teardown.mark(vc.0.index());
                self.ndis.request_dpc();
            }
        }
        st
    }

    /// ProtocolCmIncomingCallComplete.
    pub fn protocol_cm_incoming_call_complete(&self, status: NdisStatus, vc: VcContext, params: &CallParameters) {
        self.with_control(|c| c.incoming_call_complete(self, status, vc, params));
        self.after_control();
    }

    /// ProtocolCmAddParty.
    pub fn protocol_cm_add_party(
        &self,
        vc: VcContext,
        params: &mut CallParameters,
        client: N::ClientParams,
        ndis_party: N::PartyHandle,
    ) -> Result<(NdisStatus, PartyContext), NdisStatus> {
        let r = self.with_control(|c| c.add_party(self, vc, params, client, ndis_party));
        self.after_control();
        r
    }

    /// ProtocolCmDropParty: FAILURE for the last party (it leaves through NdisClCloseCall).
    pub fn protocol_cm_drop_party(&self, party: PartyContext, data: CloseData<'_>) -> NdisStatus {
        let st = self.with_control(|c| c.drop_party(self, party, data));
        self.after_control();
        st
    }

    /// ProtocolCmModifyCallQoS: not supported (UNI 3.1 has no call modification).
    pub fn protocol_cm_modify_call_qos(
        &self,
        vc: VcContext,
        params: &CallParameters,
        client: N::ClientParams,
    ) -> NdisStatus {
        let _ = (vc, params, client);
        NdisStatus::NOT_SUPPORTED
    }

    /// ProtocolCoOidRequest (requests that carry an AF handle): answered like MiniportCoOidRequest.
    pub fn protocol_co_oid_request(
        &self,
        af: AfContext,
        vc: Option<VcContext>,
        party: Option<PartyContext>,
        req: &mut OidRequest<'_>,
    ) -> NdisStatus {
        let _ = (af, party);
        self.miniport_co_oid_request(vc, req)
    }

    /// ProtocolCoOidRequestComplete (the driver never sends OID requests to clients).
    pub fn protocol_co_oid_request_complete(&self, af: AfContext, status: NdisStatus) {
        let _ = (af, status);
    }

    /// ProtocolCmActivateVcComplete: NDIS never calls it for an MCM; a no-op.
    pub fn protocol_cm_activate_vc_complete(&self, status: NdisStatus, vc: VcContext) {
        let _ = (status, vc);
    }

    /// ProtocolCmDeactivateVcComplete: NDIS never calls it for an MCM; a no-op.
    pub fn protocol_cm_deactivate_vc_complete(&self, status: NdisStatus, vc: VcContext) {
        let _ = (status, vc);
    }

    /// ProtocolCmNotifyCloseAfComplete: the client has closed the AF (its CloseAf already ran).
    pub fn protocol_cm_notify_close_af_complete(&self, status: NdisStatus, af: AfContext) {
        let _ = (status, af);
    }

    /// MiniportCoOidRequest: answers every OID in [`oid::SUPPORTED`] (queries only; a set of one
    /// is NOT_SUPPORTED, any other OID INVALID_OID). A buffer shorter than the answer gets
    /// BUFFER_TOO_SHORT with BytesNeeded set and nothing written.
    pub fn miniport_co_oid_request(&self, vc: Option<VcContext>, req: &mut OidRequest<'_>) -> NdisStatus {
        use oid::value::*;
        let _ = vc;
        req.bytes_done = 0;
        req.bytes_needed = 0;
        if !oid::SUPPORTED.contains(&req.oid) {
            return NdisStatus::INVALID_OID;
        }
        if !req.is_query {
            return NdisStatus::NOT_SUPPORTED;
        }
        let u32_le = |v: u64| u32::try_from(v).unwrap_or(u32::MAX).to_le_bytes();
        let mut out = [0u8; 4 * oid::SUPPORTED.len()];
        let mut put = |parts: &[&[u8]]| {
            let mut n = 0;
            for p in parts {
                if let Some(dst) = out.get_mut(n..n + p.len()) {
                    dst.copy_from_slice(p);
                    n += p.len();
                }
            }
            n
        };
        let link_100bps = u32_le(self.config.link_speed_bps / 100);
        let answer: &[u8] = match req.oid {
            oid::GEN_SUPPORTED_LIST => {
                let mut n = 0;
                for (dst, o) in out.chunks_exact_mut(4).zip(oid::SUPPORTED) {
                    dst.copy_from_slice(&o.to_le_bytes());
                    n += 4;
                }
                out.get(..n).unwrap_or(&[])
            }
            oid::GEN_HARDWARE_STATUS => &NDIS_HARDWARE_STATUS_READY.to_le_bytes(),
            oid::GEN_MEDIA_SUPPORTED | oid::GEN_MEDIA_IN_USE => &NDIS_MEDIUM_ATM.to_le_bytes(),
            // NDIS_CO_LINK_SPEED { Outbound, Inbound }, in units of 100 bit/s.
            oid::GEN_CO_LINK_SPEED => {
                let n = put(&[&link_100bps, &link_100bps]);
                out.get(..n).unwrap_or(&[])
            }
            oid::GEN_VENDOR_DESCRIPTION => VENDOR_DESCRIPTION,
            oid::GEN_DRIVER_VERSION => &NDIS_VERSION.to_le_bytes(),
            oid::GEN_CO_MEDIA_CONNECT_STATUS => {
                let up = self.control.lock().phy_up();
                &(if up { NDIS_MEDIA_STATE_CONNECTED } else { NDIS_MEDIA_STATE_DISCONNECTED }).to_le_bytes()
            }
            // ATM_VC_RATES_SUPPORTED { MinCellRate, MaxCellRate } in cells/s.
            oid::ATM_SUPPORTED_VC_RATES => {
                let n = put(&[&0u32.to_le_bytes(), &u32_le(self.config.link_speed_bps / CELL_BITS)]);
                out.get(..n).unwrap_or(&[])
            }
            oid::ATM_SUPPORTED_SERVICE_CATEGORY => &SERVICE_CATEGORIES.to_le_bytes(),
            oid::ATM_SUPPORTED_AAL_TYPES => &AAL_TYPES.to_le_bytes(),
            // The End System Identifier (6 octets), what ILMI address registration uses.
            oid::ATM_HW_CURRENT_ADDRESS => &self.config.esi,
            // VCs that can be active at once: a VC slot and a ring from the pool each.
            oid::ATM_MAX_ACTIVE_VCS => &u32_le(self.config.max_vcs.min(self.config.max_active_vcs) as u64),
            oid::ATM_MAX_AAL5_PACKET_SIZE => &u32_le(MAX_FRAME as u64),
            _ => return NdisStatus::INVALID_OID,
        };
        match req.buffer.get_mut(..answer.len()) {
            Some(dst) => {
                dst.copy_from_slice(answer);
                req.bytes_done = answer.len();
                NdisStatus::SUCCESS
            }
            None => {
                req.bytes_needed = answer.len();
                NdisStatus::BUFFER_TOO_SHORT
            }
        }
    }

    // ---- data path ------------------------------------------------------------------------------------

    /// MiniportCoSendNetBufferLists: every NBL is accepted and completed exactly once — queued
    /// for the NIC, or completed at once with CLOSING (the VC is closing), VC_NOT_ACTIVATED (no
    /// call) or RESOURCES (ring full). No lock, no allocation. The sender is counted in the VC's
    /// rundown for the whole call, rejected NBLs included: the close cannot deactivate or delete
    /// the VC while a rejected NBL is still waiting for its completion.
    pub fn miniport_co_send_net_buffer_lists(&self, vc: VcContext, nbls: N::Nbl, flags: u32) {
        let _ = flags;
        let n = &self.ndis;
        let slot = vc.0.index();
        let Some(path) = self.paths.get(slot).filter(|p| p.is(vc.0)) else {
            // A VC context that is not (or no longer) ours names no VC to complete on.
            DataStats::bump(&self.stats.stale_context, 1);
            return;
        };
        // One trip through the rundown word per call: the whole chain is in, or none of it.
        let Some(entry) = path.rundown.enter() else {
            DataStats::bump(&self.stats.stale_context, 1);
            return;
        };
        let handle = N::VcHandle::from_word(path.handle.load(Ordering::Acquire));
        let lane = n.current_cpu() as usize;
        let mut rejected: Option<(N::Nbl, N::Nbl)> = None;
        let mut reject = |nbl: N::Nbl, status: NdisStatus| {
            n.nbl_set_status(nbl, status);
            n.nbl_set_next(nbl, None);
            rejected = match rejected {
                None => Some((nbl, nbl)),
                Some((head, tail)) => {
                    n.nbl_set_next(tail, Some(nbl));
                    Some((head, nbl))
                }
            };
        };
        let mut queued = 0u64;
        let mut next = Some(nbls);
        if !entry.open {
            let (status, counter) = if path.flags.load(Ordering::Acquire) & flag::OPEN != 0 {
                (NdisStatus::CLOSING, &self.stats.tx_rejected_closing)
            } else {
                (NdisStatus::VC_NOT_ACTIVATED, &self.stats.tx_rejected_inactive)
            };
            while let Some(nbl) = next {
                next = n.nbl_next(nbl);
                DataStats::bump(counter, 1);
                reject(nbl, status);
            }
        } else {
            // The chain goes into the ring in batches: one claim (one CAS) per batch.
            let mut batch = [0usize; SEND_BATCH];
            loop {
                let mut k = 0;
                while k < SEND_BATCH {
                    let Some(nbl) = next else { break };
                    next = n.nbl_next(nbl);
                    n.nbl_set_status(nbl, NdisStatus::SUCCESS);
                    if let Some(w) = batch.get_mut(k) {
                        *w = nbl.to_word();
                    }
                    k += 1;
                }
                if k == 0 {
                    break;
                }
                let words = batch.get(..k).unwrap_or(&[]);
                path.tx_outstanding.fetch_add(k as u32, Ordering::AcqRel);
                let pushed = self.ring_of(path).map_or(0, |r| r.push_batch(lane, words));
                if pushed < k {
                    // Ring full: what did not fit completes with RESOURCES.
                    path.tx_outstanding.fetch_sub((k - pushed) as u32, Ordering::AcqRel);
                    for &w in words.get(pushed..).unwrap_or(&[]) {
                        DataStats::bump(&self.stats.tx_rejected_full, 1);
                        reject(N::Nbl::from_word(w), NdisStatus::RESOURCES);
                    }
                }
                queued += pushed as u64;
            }
        }
        // Rejected NBLs complete while this sender still holds the rundown.
        if let Some((head, _)) = rejected {
            n.co_send_net_buffer_lists_complete(handle, head, send_complete_flags::DISPATCH_LEVEL);
        }
        if queued > 0 {
            DataStats::bump(&self.stats.tx_accepted, queued);
            self.tx_ready.mark(slot);
        }
        if path.rundown.leave(entry) {
            // Last sender out of a closing VC: the teardown can go on.
            self.teardown.mark(slot);
            n.request_dpc();
        } else if queued > 0 {
            n.request_dpc();
        }
    }

    /// MiniportReturnNetBufferLists.
    pub fn miniport_return_net_buffer_lists(&self, nbls: N::Nbl, flags: u32) {
        let _ = flags;
        let n = &self.ndis;
        let mut next = Some(nbls);
        let mut wake = false;
        while let Some(nbl) = next {
            next = n.nbl_next(nbl);
            let tag = n.rx_nbl_tag(nbl);
            n.rx_nbl_free(nbl);
            if let Some(t) = Token::from_usize(tag)
                && let Some(p) = self.paths.get(t.index())
            {
                // A double return (NDIS, or a buggy client, hands one NBL back twice) must not
                // wrap the count: the VC would never drain and its close never complete.
                match p.rx_outstanding.fetch_update(Ordering::AcqRel, Ordering::Acquire, |v| v.checked_sub(1)) {
                    Ok(1) if p.flags.load(Ordering::Acquire) & flag::TEARDOWN != 0 => {
                        self.teardown.mark(t.index());
                        wake = true;
                    }
                    Ok(_) => {}
                    Err(_) => DataStats::bump(&self.stats.rx_double_return, 1),
                }
            }
        }
        if wake {
            n.request_dpc();
        }
    }

    /// The interrupt DPC (and any DPC requested with `Ndis::request_dpc`).
    pub fn dpc(&self) {
        if self.halted.load(Ordering::Acquire) {
            return;
        }
        self.dpc_again.store(true, Ordering::SeqCst);
        loop {
            let Some(mut st) = self.dpc_state.try_lock() else { return };
            self.dpc_again.store(false, Ordering::SeqCst);
            self.dpc_body(&mut st);
            drop(st);
            if !self.dpc_again.load(Ordering::SeqCst) {
                break;
            }
        }
        self.after_control();
    }

    /// The adapter timer fired.
    pub fn timer(&self) {
        if self.halted.load(Ordering::Acquire) {
            return;
        }
        self.armed.store(u64::MAX, Ordering::Release);
        let now = self.ndis.now();
        // NIC closes past their deadline: the DPC forces them (it owns the list of closes).
        if self.drain_deadline.load(Ordering::Acquire) <= ticks(now) {
            self.drain_deadline.store(u64::MAX, Ordering::Release);
            self.drain_overdue.store(true, Ordering::Release);
            self.ndis.request_dpc();
        }
        let mut inbox = SigInbox::new();
        self.with_control(|c| {
            c.saal.on_timer(now, &mut |pdu: &[u8]| self.sig_transmit(pdu), &mut |e| inbox.collect(e));
            self.deliver(c, &inbox);
            c.on_timer(self);
        });
        self.after_control();
    }

    fn deliver(&self, c: &mut Control<N>, inbox: &SigInbox) {
        c.stats.messages_lost += inbox.stray;
        if inbox.released {
            c.on_saal_released(self);
            self.reestablish(c);
        }
        if inbox.established {
            c.on_saal_established();
        }
        // Credit may have come back (or the link up): messages waiting in the backlog go.
        c.pump_backlog(self);
    }

    fn dpc_body(&self, st: &mut DpcState) {
        let sig = self.sig_conn.load(Ordering::Acquire);
        // 1. NIC events: receives, transmit completions, closes, link.
        let mut phy: Option<bool> = None;
        let mut room = false;
        loop {
            let mut sink = |ev: DeviceEvent<'_>| match ev {
                DeviceEvent::Received { conn, frame } if u32::from(conn.0) == sig => self.signalling_pdu(st, frame),
                DeviceEvent::Received { conn, frame } => self.receive(st, conn, frame),
                DeviceEvent::Transmitted { cookie, .. } if cookie.0 == SIG_COOKIE => room = true,
                DeviceEvent::Transmitted { conn, sent, .. } => {
                    room = true;
                    self.transmitted(st, conn, sent)
                }
                DeviceEvent::ConnectionClosed { conn, .. } => {
                    room = true;
                    // Every transmit of the connection was reported before this: its ring and
                    // in-flight queue are empty and go back to the pool.
                    self.release_ring(conn, self.conn_map.get(conn));
                    if let Some(slot) = self.conn_map.get(conn) {
                        self.conn_map.set(conn, None);
                        if let Some(p) = self.paths.get(slot) {
                            p.flags.fetch_or(flag::NIC_CLOSED, Ordering::AcqRel);
                            p.conn.store(NONE, Ordering::Release);
                            p.close_deadline.store(0, Ordering::Release);
                        }
                        st.closing.remove(slot);
                        self.teardown.mark(slot);
                    }
                }
                DeviceEvent::Link { up } => phy = Some(up),
            };
            let handled = self.device.poll(POLL_BUDGET, &mut sink);
            self.flush_rx(st);
            if handled < POLL_BUDGET {
                break;
            }
        }
        if let Some(up) = phy {
            self.phy_change(up);
        }
        // 2. Transmit: signalling first, then queued NBLs; frames left the NIC, so every VC that
        // found its ring full goes again.
        if room {
            st.wake_waiting(|slot| {
                self.tx_ready.mark(slot);
            });
        }
        self.flush_sig(st);
        self.tx_ready.take_all(|slot| self.pump_tx(st, slot));
        self.flush_tx(st);
        // 3. Teardown: abort what is still queued, close the NIC connection, report drained VCs.
        if self.drain_overdue.swap(false, Ordering::AcqRel) {
            // Overdue closes sit at the front of the list (deadline order): mark those.
            let now = ticks(self.ndis.now());
            let mut at = st.closing.front();
            while let Some(slot) = at {
                let due = self.paths.get(slot).map_or(0, |p| p.close_deadline.load(Ordering::Acquire));
                if due > now {
                    self.drain_deadline.fetch_min(due, Ordering::AcqRel);
                    break;
                }
                self.teardown.mark(slot);
                at = st.closing.after(slot);
            }
        }
        self.teardown.take_all(|slot| self.step_teardown(st, slot));
        self.flush_tx(st);
        self.flush_rx(st);
    }

    /// One SSCOP PDU from 0/5: through the SAAL, then every message it releases to Q.2931, in
    /// order, before the next PDU.
    fn signalling_pdu(&self, st: &mut DpcState, pdu: &[u8]) {
        let now = self.ndis.now();
        let DpcState { scratch, sig_inbox, .. } = st;
        let (mut established, mut released, mut lost) = (false, false, 0u64);
        let mut c = self.control.lock();
        c.saal.receive(now, pdu, &mut |p: &[u8]| self.sig_transmit(p), &mut |e| match e {
            SaalEvent::Established => established = true,
            SaalEvent::Released { .. } => released = true,
            SaalEvent::Data(m) => {
                if sig_inbox.push(m).is_err() {
                    lost += 1;
                }
            }
        });
        c.stats.messages_lost += lost;
        if released {
            c.on_saal_released(self);
            self.reestablish(&mut c);
        }
        if established {
            c.on_saal_established();
        }
        while let Some(n) = sig_inbox.peek(scratch) {
            if let Some(m) = scratch.get(..n) {
                c.on_message(self, m);
            }
            sig_inbox.pop();
        }
        c.pump_backlog(self);
    }

    /// A received frame: copied into a receive NBL and gathered for its VC's indication.
    fn receive(&self, st: &mut DpcState, conn: ConnId, frame: &[u8]) {
        let n = &self.ndis;
        let Some(slot) = self.conn_map.get(conn) else {
            DataStats::bump(&self.stats.rx_dropped, 1);
            return;
        };
        let Some(p) = self.paths.get(slot) else { return };
        if p.rundown.is_closing() {
            DataStats::bump(&self.stats.rx_dropped, 1);
            return;
        }
        let generation = p.generation.load(Ordering::Acquire);
        let tag = Token::new(slot, generation).map_or(0, Token::as_usize);
        let Some(nbl) = n.rx_nbl_alloc(tag, frame) else {
            DataStats::bump(&self.stats.rx_dropped, 1);
            return;
        };
        n.nbl_set_next(nbl, None);
        Self::chain_push(n, &mut st.rx_ready, &mut st.rx_touched, slot, nbl);
    }

    /// Appends `nbl` to slot's chain; remembers the slot when its chain was empty.
    fn chain_push(n: &N, chains: &mut [Chain], touched: &mut alloc::vec::Vec<u16>, slot: usize, nbl: N::Nbl) {
        let Some(c) = chains.get_mut(slot) else { return };
        let w = nbl.to_word();
        if c.count == 0 {
            *c = Chain { head: w, tail: w, count: 1 };
            if touched.len() < touched.capacity() {
                touched.push(slot as u16);
            }
        } else {
            n.nbl_set_next(N::Nbl::from_word(c.tail), Some(nbl));
            c.tail = w;
            c.count += 1;
        }
    }

    /// One NdisMCoIndicateReceiveNetBufferLists per VC for what this poll gathered — unless the
    /// VC's close began meanwhile: then the NBLs go back to the pool unindicated.
    fn flush_rx(&self, st: &mut DpcState) {
        let n = &self.ndis;
        for slot in st.rx_touched.drain(..) {
            let slot = usize::from(slot);
            let Some(c) = st.rx_ready.get_mut(slot).map(core::mem::take) else { continue };
            if c.count == 0 {
                continue;
            }
            let Some(p) = self.paths.get(slot) else { continue };
            if !p.rundown.try_acquire() {
                let mut next = Some(N::Nbl::from_word(c.head));
                while let Some(nbl) = next {
                    next = n.nbl_next(nbl);
                    n.rx_nbl_free(nbl);
                }
                DataStats::bump(&self.stats.rx_dropped, u64::from(c.count));
                continue;
            }
            p.rx_outstanding.fetch_add(c.count, Ordering::AcqRel);
            p.rx_cpu.store(n.current_cpu(), Ordering::Release);
            let handle = N::VcHandle::from_word(p.handle.load(Ordering::Acquire));
            n.co_indicate_receive_net_buffer_lists(
                handle,
                N::Nbl::from_word(c.head),
                c.count,
                receive_flags::DISPATCH_LEVEL,
            );
            p.rx_cpu.store(NONE, Ordering::Release);
            DataStats::bump(&self.stats.rx_indicated, u64::from(c.count));
            if p.rundown.release() {
                self.teardown.mark(slot);
            }
        }
    }

    /// One NdisMCoSendNetBufferListsComplete per VC for what this run completed.
    fn flush_tx(&self, st: &mut DpcState) {
        let n = &self.ndis;
        for slot in st.tx_touched.drain(..) {
            let slot = usize::from(slot);
            let Some(c) = st.tx_done.get_mut(slot).map(core::mem::take) else { continue };
            if c.count == 0 {
                continue;
            }
            let Some(p) = self.paths.get(slot) else { continue };
            let handle = N::VcHandle::from_word(p.handle.load(Ordering::Acquire));
            n.co_send_net_buffer_lists_complete(handle, N::Nbl::from_word(c.head), send_complete_flags::DISPATCH_LEVEL);
            let prev = p.tx_outstanding.fetch_sub(c.count, Ordering::AcqRel);
            if prev == c.count && p.flags.load(Ordering::Acquire) & flag::TEARDOWN != 0 {
                self.teardown.mark(slot);
            }
        }
    }

    fn transmitted(&self, st: &mut DpcState, conn: ConnId, sent: bool) {
        let Some(slot) = self.conn_map.get(conn) else { return };
        let ri = self.paths.get(slot).map_or(usize::MAX, |p| p.ring.load(Ordering::Acquire) as usize);
        let Some(q) = st.inflight.get_mut(ri) else { return };
        let Some(front) = q.front_mut() else { return };
        front.frames_left = front.frames_left.saturating_sub(1);
        front.failed |= !sent;
        if front.frames_left > 0 {
            return;
        }
        let done = *front;
        q.pop_front();
        let status = if done.failed { NdisStatus::FAILURE } else { NdisStatus::SUCCESS };
        self.complete_one(st, slot, done.nbl, status);
        // Room on the NIC again: keep this VC moving.
        self.tx_ready.mark(slot);
    }

    /// Sets the NBL's final status and gathers it for its VC's completion (`flush_tx`).
    fn complete_one(&self, st: &mut DpcState, slot: usize, nbl_word: usize, status: NdisStatus) {
        let n = &self.ndis;
        let nbl = N::Nbl::from_word(nbl_word);
        n.nbl_set_status(nbl, status);
        n.nbl_set_next(nbl, None);
        match status {
            NdisStatus::SUCCESS => DataStats::bump(&self.stats.tx_completed_ok, 1),
            NdisStatus::SEND_ABORTED => DataStats::bump(&self.stats.tx_aborted, 1),
            _ => DataStats::bump(&self.stats.tx_completed_failed, 1),
        }
        Self::chain_push(n, &mut st.tx_done, &mut st.tx_touched, slot, nbl);
    }

    fn pump_tx(&self, st: &mut DpcState, slot: usize) {
        let n = &self.ndis;
        let Some(p) = self.paths.get(slot) else { return };
        let tearing = p.flags.load(Ordering::Acquire) & flag::TEARDOWN != 0;
        let conn = p.conn.load(Ordering::Acquire);
        // The DPC is the ring's one consumer: one claim for this whole run on the VC.
        let ri = p.ring.load(Ordering::Acquire) as usize;
        let mut consumer = self.ring_of(p).and_then(|r| r.consumer());
        loop {
            let room = st.inflight.get(ri).is_some_and(|q| q.len() < INFLIGHT_PER_VC);
            if !room && !tearing {
                return;
            }
            let parked = st.parked.get_mut(slot).and_then(Option::take);
            let word = match parked {
                Some(w) => w,
                None => match consumer.as_mut().and_then(|c| c.pop()) {
                    Some(w) => w,
                    None => return,
                },
            };
            if tearing || conn == NONE {
                // Queued but never on the wire: it completes with a failure status.
                self.complete_one(st, slot, word, NdisStatus::SEND_ABORTED);
                continue;
            }
            let nbl = N::Nbl::from_word(word);
            let frames = n.nbl_frame_count(nbl);
            // A frame AAL5 cannot carry (empty, or over 65 535 octets) fails the whole NBL before
            // any of it reaches the NIC: never truncated, never retried.
            let limit = st.scratch.len().min(MAX_FRAME);
            if (0..frames).any(|i| !(1..=limit).contains(&n.nbl_frame_len(nbl, i))) {
                DataStats::bump(&self.stats.tx_invalid_length, 1);
                self.complete_one(st, slot, word, NdisStatus::INVALID_LENGTH);
                continue;
            }
            let mut given = 0u32;
            let mut refused: Option<NdisStatus> = None;
            for i in 0..frames {
                let len = n.nbl_frame_len(nbl, i);
                let Some(buf) = st.scratch.get_mut(..len) else { break };
                let copied = n.nbl_copy_frame(nbl, i, buf);
                let frame = buf.get(..copied).unwrap_or(&[]);
                match self.device.transmit(ConnId(conn as u16), frame, TxCookie(word as u64)) {
                    Ok(()) => given += 1,
                    Err(e) => {
                        refused = Some(e);
                        break;
                    }
                }
            }
            match (given, refused) {
                // The NIC had no room for its first frame: park it until any VC's frames leave the
                // NIC (`dpc_body` wakes every VC waiting for room).
                (0, Some(NdisStatus::RESOURCES)) => {
                    if let Some(slot_parked) = st.parked.get_mut(slot) {
                        *slot_parked = Some(word);
                    }
                    st.wait_for_room(slot);
                    return;
                }
                // The NIC refused the frame for good (closing connection, a length it cannot
                // carry): the NBL fails now and the VC goes on with the next one.
                (0, Some(e)) => {
                    let status = if e == NdisStatus::INVALID_LENGTH { e } else { NdisStatus::FAILURE };
                    self.complete_one(st, slot, word, status);
                }
                // No frames at all (an empty NBL): done at once.
                (0, None) => self.complete_one(st, slot, word, NdisStatus::SUCCESS),
                // Some or all frames are with the NIC; a partial one counts as failed (it
                // completes when the frames given have left).
                (g, refused) => {
                    if let Some(q) = st.inflight.get_mut(ri) {
                        q.push_back(InFlight { nbl: word, frames_left: g, failed: refused.is_some() });
                    }
                    if refused == Some(NdisStatus::RESOURCES) {
                        st.wait_for_room(slot);
                        return;
                    }
                }
            }
        }
    }

    /// The pool ring a VC's call holds.
    #[inline]
    fn ring_of(&self, p: &VcPath) -> Option<&SendRing<usize>> {
        self.rings.get(p.ring.load(Ordering::Acquire) as usize)
    }

    /// A NIC connection is closed: the ring it held goes back to the pool, and the VC using it
    /// (if any) has none any more.
    fn release_ring(&self, conn: ConnId, slot: Option<usize>) {
        let Some(r) = self.conn_ring.get(usize::from(conn.0)) else { return };
        let ring = r.swap(NONE, Ordering::AcqRel);
        if ring == NONE {
            return;
        }
        if let Some(p) = slot.and_then(|s| self.paths.get(s)) {
            let _ = p.ring.compare_exchange(ring, NONE, Ordering::AcqRel, Ordering::Acquire);
        }
        self.ring_free.lock().push(ring as u16);
    }

    fn step_teardown(&self, st: &mut DpcState, slot: usize) {
        let Some(p) = self.paths.get(slot) else { return };
        let f = p.flags.load(Ordering::Acquire);
        if f & flag::TEARDOWN == 0 || f & flag::REPORTED != 0 {
            return;
        }
        if !p.rundown.is_drained() {
            // A sender is still inside; its release marks us again.
            return;
        }
        // Everything still queued (never given to the NIC) aborts.
        if let Some(w) = st.parked.get_mut(slot).and_then(Option::take) {
            self.complete_one(st, slot, w, NdisStatus::SEND_ABORTED);
        }
        let mut buf = [0usize; 32];
        loop {
            let k = self.ring_of(p).map_or(0, |r| r.pop_batch(&mut buf));
            if k == 0 {
                break;
            }
            for &w in buf.iter().take(k) {
                self.complete_one(st, slot, w, NdisStatus::SEND_ABORTED);
            }
        }
        // The NIC drains what it holds and reports the connection closed.
        let conn = p.conn.load(Ordering::Acquire);
        if f & flag::NIC_CLOSE_SENT == 0 && f & flag::NIC_CLOSED == 0 && conn != NONE {
            p.flags.fetch_or(flag::NIC_CLOSE_SENT, Ordering::AcqRel);
            let deadline = ticks(self.ndis.now().saturating_add(self.config.timers.tx_drain)).max(1);
            p.close_deadline.store(deadline, Ordering::Release);
            st.closing.push_back(slot);
            self.drain_deadline.fetch_min(deadline, Ordering::AcqRel);
            self.device.close_connection(ConnId(conn as u16));
            return;
        }
        // A NIC that never says "closed" is forced closed once the deadline passes: what it
        // still holds is completed as not sent, and its events for the connection are ignored.
        let deadline = p.close_deadline.load(Ordering::Acquire);
        if f & flag::NIC_CLOSE_SENT != 0 && f & flag::NIC_CLOSED == 0 && deadline != 0 {
            if ticks(self.ndis.now()) < deadline {
                self.drain_deadline.fetch_min(deadline, Ordering::AcqRel);
                return;
            }
            if conn != NONE {
                self.conn_map.set(ConnId(conn as u16), None);
            }
            p.conn.store(NONE, Ordering::Release);
            p.flags.fetch_or(flag::NIC_CLOSED, Ordering::AcqRel);
            DataStats::bump(&self.stats.forced_closes, 1);
            let ri = p.ring.load(Ordering::Acquire) as usize;
            while let Some(w) = st.inflight.get_mut(ri).and_then(|q| q.pop_front()) {
                self.complete_one(st, slot, w.nbl, NdisStatus::FAILURE);
            }
            if conn != NONE {
                self.release_ring(ConnId(conn as u16), Some(slot));
            }
        }
        if f & flag::NIC_CLOSED != 0 || p.flags.load(Ordering::Acquire) & flag::NIC_CLOSED != 0 {
            p.close_deadline.store(0, Ordering::Release);
            st.closing.remove(slot);
        }
        // Completions gathered above reach NDIS before the VC can be called quiet.
        self.flush_tx(st);
        let f = p.flags.load(Ordering::Acquire);
        // A sender that entered while the NIC closed (before the client's close returned) is
        // waited for too: its leaving marks the slot again.
        let quiet = f & flag::NIC_CLOSED != 0
            && f & flag::CLOSE_CALL == 0
            && p.rundown.is_drained()
            && p.tx_outstanding.load(Ordering::Acquire) == 0
            && p.rx_outstanding.load(Ordering::Acquire) == 0
            && st.inflight.get(p.ring.load(Ordering::Acquire) as usize).is_none_or(|q| q.is_empty());
        if quiet {
            p.flags.fetch_or(flag::REPORTED, Ordering::AcqRel);
            self.with_control(|c| c.on_drained(self, slot));
        }
    }
}
