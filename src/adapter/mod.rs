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
    /// Vendor-specific (custom) OID, query only: the control path's counters as
    /// `value::CONTROL_COUNTERS.len()` little-endian u64s in that order. A custom OID's most
    /// significant byte is 0xFF, the rest vendor-defined (NDIS_GUID documentation); no NDIS OID in
    /// ndis6-facts.tsv lies in that range.
    pub const ATMMCM_CONTROL_COUNTERS: u32 = 0xFFA7_0001;

    /// Exactly the OIDs [`super::Adapter::miniport_co_oid_request`] answers (queries): what
    /// OID_GEN_SUPPORTED_LIST returns and the general attributes' SupportedOidList carries.
    pub const SUPPORTED: [u32; 15] = [
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
        ATMMCM_CONTROL_COUNTERS,
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
        /// OID_ATMMCM_CONTROL_COUNTERS: the `cm::control::Stats` fields it carries, in order.
        pub const CONTROL_COUNTERS: [&str; 8] = [
            "malformed_in",
            "unknown_cref",
            "messages_lost",
            "internal_errors",
            "restart_unanswered",
            "restart_clearing_overdue",
            "restart_refused",
            "vcs_out_of_service",
        ];
    }
}

/// The cookie marking a signalling frame (never an NBL word).
const SIG_COOKIE: u64 = u64::MAX;
/// Largest frame the adapter transmits (AAL5 CPCS-SDU).
pub const MAX_FRAME: usize = 65_535;
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
    /// An expired T309's clearing has steps left: the next DPC runs one (`clear_step`).
    clearing: AtomicBool,
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
        p.rundown.begin_close();
        if let Some(c) = conn
            && p.flags.load(Ordering::Acquire) & flag::OPEN == 0
        {
            // A connection opened for a call that never got its NDIS VC (NdisMCmCreateVc
            // failed): published now, already closed to senders and indications, so the
            // teardown closes it and its ring goes back to the pool.
            p.handle.store(0, Ordering::Release);
            let ring = self.conn_ring.get(usize::from(c.0)).map_or(NONE, |r| r.load(Ordering::Acquire));
            p.ring.store(ring, Ordering::Release);
            p.conn.store(u32::from(c.0), Ordering::Release);
            p.flags.store(0, Ordering::Release);
            self.conn_map.set(c, Some(slot));
        }
        p.flags.fetch_or(f, Ordering::AcqRel);
        self.teardown.mark(slot);
        self.ndis.request_dpc();
    }

    fn datapath_redrain(&self, slot: usize) -> bool {
        let Some(p) = self.paths.get(slot) else { return false };
        if p.flags.load(Ordering::Acquire) & flag::TEARDOWN == 0 {
            return false;
        }
        p.rundown.seal();
        if p.rundown.early() == 0 {
            return false;
        }
        // The teardown reports again once the senders left and ProtocolCmCloseCall returned
        // (CLOSE_CALL is set until then, so it cannot report early).
        p.flags.fetch_and(!flag::REPORTED, Ordering::AcqRel);
        self.teardown.mark(slot);
        self.ndis.request_dpc();
        true
    }

    fn datapath_forget(&self, slot: usize) {
        let Some(p) = self.paths.get(slot) else { return };
        p.generation.store(0, Ordering::Release);
        p.handle.store(0, Ordering::Release);
        p.flags.store(0, Ordering::Release);
        p.conn.store(NONE, Ordering::Release);
    }
}

mod dpc;
mod ops;
mod requests;
mod send;
mod tx;

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
        let control = Control::new(&config, saal_cfg).map_err(|_| NdisStatus::RESOURCES)?;
        let dpc = DpcState::new(slots, pool, MAX_FRAME).map_err(|_| NdisStatus::RESOURCES)?;
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
            clearing: AtomicBool::new(false),
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
        {
            let mut c = self.control.lock();
            // What an expired T309 still had to clear is cleared now (its DPC steps stop here).
            c.finish_clearing(self);
            c.begin_halt(&mut notify);
        }
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
        self.quiesce_signalling(&mut idle);
        self.halted.store(true, Ordering::Release);
        let sig = self.sig_conn.swap(NONE, Ordering::AcqRel);
        if sig != NONE {
            self.device.close_connection(ConnId(sig as u16));
        }
    }

    /// The end of the halt's signalling: what the calls' clearing queued for the network (the
    /// backlog, SSCOP's transmit queue, the DPC's PDU queue) is sent and acknowledged by the peer,
    /// then SSCOP is released (END, awaiting ENDAK), so closing 0/5 loses no RELEASE. Each wait
    /// is bounded: SSCOP's own no-response timer ends a link whose peer stopped answering, and
    /// Timer_CC × MaxCC bounds the END; a link that is down ends both at once.
    fn quiesce_signalling(&self, idle: &mut impl FnMut()) {
        let s = crate::saal::SaalConfig::default();
        let slack = Duration::from_secs(1);
        // 1. Everything queued is on the wire and acknowledged (or the link went down).
        let drained = self.wait_signalling(idle, s.timer_noresponse + s.timer_poll + slack, |c, out_empty| {
            c.backlog.is_empty() && c.saal.queued() == 0 && out_empty
        });
        // 2. AAL-RELEASE.request: END, then ENDAK (or Timer_CC's last try) ends the link.
        if drained && self.signalling_up() {
            let now = self.ndis.now();
            self.with_control(|c| c.saal.release(now, &mut |pdu: &[u8]| self.sig_transmit(pdu)));
            self.rearm();
            self.wait_signalling(idle, s.timer_cc * s.max_cc + slack, |_, _| false);
        }
    }

    /// Calls `idle` until the signalling link is down or `done(control, DPC queue empty)` holds;
    /// false when `within` passed first (the lab's clock or the real one).
    fn wait_signalling(
        &self,
        idle: &mut impl FnMut(),
        within: Duration,
        done: impl Fn(&Control<N>, bool) -> bool,
    ) -> bool {
        let give_up = self.ndis.now().saturating_add(within);
        let mut rounds: u32 = 0;
        loop {
            let out_empty = self.sig_out.lock().is_empty();
            {
                let c = self.control.lock();
                if !c.saal_up || !self.device.link_up() {
                    return true;
                }
                if done(&c, out_empty) {
                    return true;
                }
            }
            if self.ndis.now() > give_up || rounds > 10_000_000 {
                return false;
            }
            idle();
            rounds += 1;
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

    /// The calls by what a link loss does to them, as kept and as recounted (a check).
    #[doc(hidden)]
    pub fn link_counts(&self) -> (crate::cm::objects::LinkCounts, crate::cm::objects::LinkCounts) {
        self.control.lock().link_counts_kept_and_recounted()
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
}
