//! What the macro benchmarks run the real `Adapter` on: a thin NDIS (`BenchNdis`: an NBL arena,
//! virtual time, a client that answers the way a well-behaved CoNDIS client does, and nothing
//! logged or verified, so the driver's own cost is what is timed), a null NIC for the data path
//! (`NullNic`: every frame "sent" at once) and the scale lab's frame-level NIC
//! (`atmmcm_hw::scale::FrameNic`) that hands 0/5 frames straight to the lab's network-side SSCOP +
//! Q.2931 peer (`atmmcm_hw::network`), with no cell-level NIC model in between (it measures the
//! driver and the peer, not the NIC model).
//!
//! The lab (`atmmcm_hw::lab`) is what tests correctness; this is only for timing.
#![allow(dead_code)]

use std::cell::UnsafeCell;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use atmmcm::Adapter;
use atmmcm::config::Config;
use atmmcm::ndis::{
    AfContext, CallParameters, CoAddressFamily, Handle, Ndis, NdisStatus, PartyContext, Sap, SapContext,
    StatusIndication, VcContext,
};
use atmmcm::nic::{ConnId, ConnParams, Device, DeviceEvent, TxCookie};
use atmmcm_hw::network::{Network, PortId};
use atmmcm_hw::scale::FrameNic;

// ---- handles -----------------------------------------------------------------------------------

macro_rules! handle {
    ($name:ident) => {
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
        pub struct $name(pub usize);
        impl Handle for $name {
            fn to_word(self) -> usize {
                self.0
            }
            fn from_word(word: usize) -> Self {
                $name(word)
            }
        }
    };
}
handle!(BAf);
handle!(BSap);
handle!(BVc);
handle!(BParty);
handle!(BNbl);

/// A plain test-and-set spin lock (the control lock; uncontended in these runs).
pub struct BenchLock(AtomicBool);

// SAFETY: the flag is taken with an Acquire CAS and given back with a Release store, so one
// holder at a time and each holder sees the previous holder's writes.
unsafe impl lock_api::RawMutex for BenchLock {
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: BenchLock = BenchLock(AtomicBool::new(false));
    type Guard = ();
    fn lock(&self) {
        while self.0.compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
            std::hint::spin_loop();
        }
    }
    fn try_lock(&self) -> Option<()> {
        self.0.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).is_ok().then_some(())
    }
    unsafe fn unlock(&self, _guard: ()) {
        self.0.store(false, Ordering::Release);
    }
    fn is_locked(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

// ---- the NDIS ------------------------------------------------------------------------------------

/// One NET_BUFFER_LIST with one NET_BUFFER of `len` octets of the shared payload.
struct NblRec {
    next: AtomicUsize,
    status: AtomicU32,
    len: AtomicUsize,
}

/// Deferred client work (what a client does after a callback returns).
#[derive(Copy, Clone, Debug)]
enum Action {
    /// NdisClCloseCall after NdisMCmDispatchIncomingCloseCall.
    Close(VcContext),
    /// NdisCoDeleteVc of a client VC whose call ended.
    Delete(VcContext),
}

/// The first VC handle `BenchNdis::new_handle` gives (handles are dense from here).
const HANDLE_BASE: usize = 1 << 20;

/// What the client knows of one VC handle.
#[derive(Copy, Clone, Debug)]
struct ClientVc {
    /// The driver's context for the VC.
    ctx: VcContext,
    /// Created by the client (NdisCoCreateVc), not by the driver: the client deletes it.
    client: bool,
}

/// VC handle → what the client knows of it: a slab indexed by `handle - HANDLE_BASE` (handles are
/// handed out in order), so a teardown walks it in order instead of probing hash tables.
#[derive(Default)]
struct VcSlab(Vec<Option<ClientVc>>);

impl VcSlab {
    fn at(&self, h: usize) -> Option<&ClientVc> {
        self.0.get(h.checked_sub(HANDLE_BASE)?)?.as_ref()
    }
    fn insert(&mut self, h: usize, vc: ClientVc) {
        let Some(i) = h.checked_sub(HANDLE_BASE) else { return };
        if i >= self.0.len() {
            self.0.resize(i + 1, None);
        }
        self.0[i] = Some(vc);
    }
    fn remove(&mut self, h: usize) {
        if let Some(e) = h.checked_sub(HANDLE_BASE).and_then(|i| self.0.get_mut(i)) {
            *e = None;
        }
    }
}

#[derive(Default)]
pub struct ClientState {
    vcs: VcSlab,
    actions: VecDeque<Action>,
    pub made_ok: u64,
    pub made_failed: u64,
    pub last_failure: Option<NdisStatus>,
    pub connected: u64,
    pub incoming_closes: u64,
    pub closed: u64,
    pub deleted: u64,
}

pub struct Inner {
    now_us: AtomicU64,
    timer_due_us: AtomicU64,
    dpc_requested: AtomicBool,
    nbls: Vec<NblRec>,
    payload: Vec<u8>,
    pub completed: AtomicU64,
    pub completed_failed: AtomicU64,
    next_handle: AtomicUsize,
    pub client: Mutex<ClientState>,
}

/// The thin NDIS. Cloning shares it.
#[derive(Clone)]
pub struct BenchNdis(pub Arc<Inner>);

impl BenchNdis {
    /// `nbls` send NBLs whose frames are `frame_len` octets.
    pub fn new(nbls: usize, frame_len: usize) -> BenchNdis {
        let nbls = (0..nbls)
            .map(|_| NblRec { next: AtomicUsize::new(0), status: AtomicU32::new(0), len: AtomicUsize::new(frame_len) })
            .collect();
        BenchNdis(Arc::new(Inner {
            now_us: AtomicU64::new(1),
            timer_due_us: AtomicU64::new(u64::MAX),
            dpc_requested: AtomicBool::new(false),
            nbls,
            payload: (0..frame_len.max(1)).map(|i| i as u8).collect(),
            completed: AtomicU64::new(0),
            completed_failed: AtomicU64::new(0),
            next_handle: AtomicUsize::new(HANDLE_BASE),
            client: Mutex::new(ClientState {
                // Sized up front so the client's own bookkeeping never allocates mid-run.
                vcs: VcSlab(Vec::with_capacity(1 << 17)),
                actions: VecDeque::with_capacity(1 << 17),
                ..ClientState::default()
            }),
        }))
    }

    pub fn now_us(&self) -> u64 {
        self.0.now_us.load(Ordering::Acquire)
    }
    pub fn set_now(&self, d: Duration) {
        self.0.now_us.store(d.as_micros() as u64, Ordering::Release);
    }
    pub fn timer_due(&self) -> Option<Duration> {
        match self.0.timer_due_us.load(Ordering::Acquire) {
            u64::MAX => None,
            us => Some(Duration::from_micros(us)),
        }
    }
    /// Takes a pending timer if it is due now.
    pub fn take_due_timer(&self) -> bool {
        let due = self.0.timer_due_us.load(Ordering::Acquire);
        if due <= self.now_us() {
            self.0.timer_due_us.store(u64::MAX, Ordering::Release);
            true
        } else {
            false
        }
    }
    pub fn take_dpc_request(&self) -> bool {
        self.0.dpc_requested.swap(false, Ordering::AcqRel)
    }
    /// Links NBLs `first..first+n` into a chain; returns its head.
    pub fn chain(&self, first: usize, n: usize) -> BNbl {
        for i in first..first + n {
            let next = if i + 1 < first + n { i + 2 } else { 0 };
            self.0.nbls[i].next.store(next, Ordering::Relaxed);
        }
        BNbl(first + 1)
    }
    /// A new VC handle (client VCs).
    pub fn new_handle(&self) -> BVc {
        BVc(self.0.next_handle.fetch_add(1, Ordering::Relaxed))
    }
    pub fn remember_client_vc(&self, h: BVc, ctx: VcContext) {
        self.0.client.lock().unwrap().vcs.insert(h.0, ClientVc { ctx, client: true });
    }
    pub fn client(&self) -> std::sync::MutexGuard<'_, ClientState> {
        self.0.client.lock().unwrap()
    }
    fn rec(&self, nbl: BNbl) -> &NblRec {
        &self.0.nbls[nbl.0 - 1]
    }
}

impl Ndis for BenchNdis {
    type AfHandle = BAf;
    type SapHandle = BSap;
    type VcHandle = BVc;
    type PartyHandle = BParty;
    type ClientParams = ();
    type Nbl = BNbl;
    type RawLock = BenchLock;

    fn cm_register_address_family_ex(&self, _af: &CoAddressFamily) -> NdisStatus {
        NdisStatus::SUCCESS
    }
    fn cm_open_address_family_complete(&self, _s: NdisStatus, _af: BAf, _ctx: AfContext) {}
    fn cm_close_address_family_complete(&self, _s: NdisStatus, _af: BAf) {}
    fn cm_notify_close_address_family(&self, _af: BAf) -> NdisStatus {
        NdisStatus::SUCCESS
    }
    fn cm_register_sap_complete(&self, _s: NdisStatus, _sap: BSap, _ctx: SapContext) {}
    fn cm_deregister_sap_complete(&self, _s: NdisStatus, _sap: BSap) {}
    fn cm_create_vc(&self, _af: BAf, ctx: VcContext) -> Result<BVc, NdisStatus> {
        let h = self.new_handle();
        self.client().vcs.insert(h.0, ClientVc { ctx, client: false });
        Ok(h)
    }
    fn cm_delete_vc(&self, vc: BVc) -> NdisStatus {
        let mut c = self.client();
        c.vcs.remove(vc.0);
        c.deleted += 1;
        NdisStatus::SUCCESS
    }
    fn cm_activate_vc(&self, _vc: BVc, _p: &CallParameters) -> NdisStatus {
        NdisStatus::SUCCESS
    }
    fn cm_deactivate_vc(&self, _vc: BVc) -> NdisStatus {
        NdisStatus::SUCCESS
    }
    fn cm_make_call_complete(
        &self,
        status: NdisStatus,
        _vc: BVc,
        _party: Option<BParty>,
        _pc: Option<PartyContext>,
        _client: (),
        _p: &CallParameters,
    ) {
        let mut c = self.client();
        if status == NdisStatus::SUCCESS {
            c.made_ok += 1;
        } else {
            c.made_failed += 1;
            c.last_failure = Some(status);
        }
    }
    fn cm_dispatch_incoming_call(&self, _sap: BSap, _vc: BVc, _p: &CallParameters) -> NdisStatus {
        NdisStatus::SUCCESS
    }
    fn cm_dispatch_call_connected(&self, _vc: BVc) {
        self.client().connected += 1;
    }
    fn cm_close_call_complete(&self, _s: NdisStatus, vc: BVc, _party: Option<BParty>) {
        let mut c = self.client();
        c.closed += 1;
        if let Some(&ClientVc { ctx, client: true }) = c.vcs.at(vc.0) {
            c.actions.push_back(Action::Delete(ctx));
        }
    }
    fn cm_dispatch_incoming_close_call(&self, _s: NdisStatus, vc: BVc, _data: &[u8]) {
        let mut c = self.client();
        c.incoming_closes += 1;
        if let Some(v) = c.vcs.at(vc.0).copied() {
            c.actions.push_back(Action::Close(v.ctx));
        }
    }
    fn cm_add_party_complete(
        &self,
        _s: NdisStatus,
        _p: BParty,
        _pc: Option<PartyContext>,
        _c: (),
        _pa: &CallParameters,
    ) {
    }
    fn cm_drop_party_complete(&self, _s: NdisStatus, _p: BParty) {}
    fn cm_dispatch_incoming_drop_party(&self, _s: NdisStatus, _p: BParty, _d: &[u8]) {}
    fn cm_modify_call_qos_complete(&self, _s: NdisStatus, _vc: BVc, _c: (), _p: &CallParameters) {}

    fn co_send_net_buffer_lists_complete(&self, _vc: BVc, nbls: BNbl, _flags: u32) {
        let (mut n, mut failed) = (0, 0);
        let mut at = nbls.0;
        while at != 0 {
            let r = &self.0.nbls[at - 1];
            n += 1;
            if r.status.load(Ordering::Relaxed) != NdisStatus::SUCCESS.0 as u32 {
                failed += 1;
            }
            at = r.next.load(Ordering::Relaxed);
        }
        self.0.completed.fetch_add(n, Ordering::Relaxed);
        if failed > 0 {
            self.0.completed_failed.fetch_add(failed, Ordering::Relaxed);
        }
    }
    fn co_indicate_receive_net_buffer_lists(&self, _vc: BVc, _nbls: BNbl, _count: u32, _flags: u32) {}
    fn co_indicate_status_ex(&self, _vc: Option<BVc>, _i: StatusIndication) {}

    fn nbl_next(&self, nbl: BNbl) -> Option<BNbl> {
        match self.rec(nbl).next.load(Ordering::Relaxed) {
            0 => None,
            n => Some(BNbl(n)),
        }
    }
    fn nbl_set_next(&self, nbl: BNbl, next: Option<BNbl>) {
        self.rec(nbl).next.store(next.map_or(0, |n| n.0), Ordering::Relaxed);
    }
    fn nbl_set_status(&self, nbl: BNbl, status: NdisStatus) {
        self.rec(nbl).status.store(status.0 as u32, Ordering::Relaxed);
    }
    fn nbl_frame_count(&self, _nbl: BNbl) -> usize {
        1
    }
    fn nbl_frame_len(&self, nbl: BNbl, _i: usize) -> usize {
        self.rec(nbl).len.load(Ordering::Relaxed)
    }
    fn nbl_copy_frame(&self, nbl: BNbl, _i: usize, dst: &mut [u8]) -> usize {
        let n = self.rec(nbl).len.load(Ordering::Relaxed).min(dst.len()).min(self.0.payload.len());
        dst[..n].copy_from_slice(&self.0.payload[..n]);
        n
    }
    fn rx_nbl_alloc(&self, _tag: usize, _data: &[u8]) -> Option<BNbl> {
        None
    }
    fn rx_nbl_tag(&self, _nbl: BNbl) -> usize {
        0
    }
    fn rx_nbl_free(&self, _nbl: BNbl) {}

    fn now(&self) -> Duration {
        Duration::from_micros(self.now_us())
    }
    fn set_timer(&self, due: Duration) {
        self.0.timer_due_us.store(due.as_micros() as u64, Ordering::Release);
    }
    fn request_dpc(&self) {
        self.0.dpc_requested.store(true, Ordering::Release);
    }
    fn current_cpu(&self) -> u32 {
        0
    }
}

// ---- the null NIC ----------------------------------------------------------------------------------

/// Every frame is taken at once and reported sent at the next poll. `transmit` and `poll` run
/// only in the DPC, never two at once (the `Device` contract), which is what makes the
/// unsynchronized queue below sound.
pub struct NullNic {
    next_conn: AtomicU32,
    done: UnsafeCell<VecDeque<(u16, u64)>>,
    closed: Mutex<Vec<u16>>,
}

// SAFETY: `done` is touched only by `transmit` and `poll`, which the driver calls from its DPC
// alone, one at a time (the `Device` contract); everything else is atomic or behind a mutex.
unsafe impl Sync for NullNic {}

impl NullNic {
    pub fn new() -> NullNic {
        NullNic {
            next_conn: AtomicU32::new(0),
            done: UnsafeCell::new(VecDeque::with_capacity(1 << 18)),
            closed: Mutex::new(Vec::new()),
        }
    }
}

impl Device for NullNic {
    fn open_connection(&self, _p: &ConnParams) -> Result<ConnId, NdisStatus> {
        let c = self.next_conn.fetch_add(1, Ordering::Relaxed);
        u16::try_from(c).map(ConnId).map_err(|_| NdisStatus::RESOURCES)
    }
    fn close_connection(&self, conn: ConnId) {
        self.closed.lock().unwrap().push(conn.0);
    }
    fn transmit(&self, conn: ConnId, _frame: &[u8], cookie: TxCookie) -> Result<(), NdisStatus> {
        // SAFETY: DPC-only and never concurrent with `poll` (see the impl Sync above).
        let q = unsafe { &mut *self.done.get() };
        if q.len() == q.capacity() {
            return Err(NdisStatus::RESOURCES);
        }
        q.push_back((conn.0, cookie.0));
        Ok(())
    }
    fn poll(&self, budget: usize, sink: &mut dyn FnMut(DeviceEvent<'_>)) -> usize {
        let mut n = 0;
        while n < budget {
            // SAFETY: DPC-only and never concurrent with `transmit` (see the impl Sync above).
            let next = unsafe { &mut *self.done.get() }.pop_front();
            let Some((conn, cookie)) = next else { break };
            sink(DeviceEvent::Transmitted { conn: ConnId(conn), cookie: TxCookie(cookie), sent: true });
            n += 1;
        }
        if n < budget {
            let mut closed = self.closed.lock().unwrap();
            while n < budget
                && let Some(c) = closed.pop()
            {
                sink(DeviceEvent::ConnectionClosed { conn: ConnId(c), forced: false });
                n += 1;
            }
        }
        n
    }
    fn link_up(&self) -> bool {
        false
    }
}

/// An adapter on the null NIC with `vcs` PVCs open and active (VPI 1, VCI 32..).
pub struct DataBench {
    pub ndis: BenchNdis,
    pub adapter: Adapter<BenchNdis, NullNic>,
    pub vcs: Vec<VcContext>,
}

impl DataBench {
    pub fn new(max_vcs: usize, vcs: usize, nbls: usize, frame_len: usize) -> DataBench {
        let ndis = BenchNdis::new(nbls, frame_len);
        let config = Config { max_vcs, ..Config::DEFAULT };
        let adapter = Adapter::initialize(ndis.clone(), NullNic::new(), config).expect("initialize");
        assert_eq!(adapter.start(), NdisStatus::SUCCESS);
        let af = adapter.protocol_cm_open_af(&CoAddressFamily::Q2931_UNI31, BAf(1)).expect("open af");
        let mut out = Vec::new();
        for i in 0..vcs {
            let h = ndis.new_handle();
            let vc = adapter.protocol_co_create_vc(af, h).expect("create vc");
            ndis.remember_client_vc(h, vc);
            let mut p = atmmcm_hw::lab::call_to(b"");
            p.flags |= atmmcm::ndis::call_flags::PERMANENT_VC;
            p.called = None;
            p.media.connection_id =
                atmmcm::ndis::VpiVci { vpi: 1 + (i / 60_000) as u16, vci: 32 + (i % 60_000) as u16 };
            let (st, _) = adapter.protocol_cm_make_call(vc, &mut p, (), None);
            assert!(st == NdisStatus::PENDING || st == NdisStatus::SUCCESS, "make pvc: {st:?}");
            out.push(vc);
        }
        let b = DataBench { ndis, adapter, vcs: out };
        b.run_dpc();
        assert_eq!(b.ndis.client().made_ok, vcs as u64, "every PVC is up");
        b
    }

    /// Runs the DPC while it asks for more.
    pub fn run_dpc(&self) {
        loop {
            self.adapter.dpc();
            if !self.ndis.take_dpc_request() {
                return;
            }
        }
    }
}

// ---- the frame-level NIC in front of the network ---------------------------------------------

/// `atmmcm_hw::scale::FrameNic` (the scale lab's frame-level NIC) on the bench's virtual time.
fn frame_nic(net: Arc<Mutex<Network>>, port: PortId, ndis: BenchNdis) -> FrameNic {
    FrameNic::with_time(net, port, Arc::new(move || Duration::from_micros(ndis.now_us())))
}

/// One adapter at address 1001 on the lab network, through the frame-level NIC, with its AF open
/// and a wildcard SAP registered, signalling established.
pub struct CallBench {
    pub ndis: BenchNdis,
    pub net: Arc<Mutex<Network>>,
    pub port: PortId,
    pub adapter: Arc<Adapter<BenchNdis, FrameNic>>,
    pub af: AfContext,
    /// Virtual time the network's timers were last run at (the lab network walks its calls
    /// there: once per instant, not once per pump round, keeps its cost out of the driver's).
    net_at: AtomicU64,
}

impl CallBench {
    pub fn new(max_vcs: usize) -> CallBench {
        let ndis = BenchNdis::new(0, 0);
        let mut network = Network::new();
        let port = network.add_port(b"1001".to_vec());
        let net = Arc::new(Mutex::new(network));
        let nic = frame_nic(net.clone(), port, ndis.clone());
        // Parties are not used here; a small table keeps the set-up cost to the VCs.
        let config = Config { max_vcs, max_parties: 16, max_active_vcs: max_vcs, ..Config::DEFAULT };
        let adapter = Arc::new(Adapter::initialize(ndis.clone(), nic, config).expect("initialize"));
        assert_eq!(adapter.start(), NdisStatus::SUCCESS);
        let af = adapter.protocol_cm_open_af(&CoAddressFamily::Q2931_UNI31, BAf(1)).expect("open af");
        adapter.protocol_cm_register_sap(af, &Sap { address: None }, BSap(1)).expect("sap");
        let b = CallBench { ndis, net, port, adapter, af, net_at: AtomicU64::new(u64::MAX) };
        b.settle();
        assert!(b.adapter.signalling_up(), "SSCOP established");
        b
    }

    pub fn nic(&self) -> &FrameNic {
        self.adapter.parts().1
    }

    /// One round: network timers, the DPC, the adapter timer, deferred client work. Whether
    /// anything moved.
    pub fn pump_once(&self) -> bool {
        let now_us = self.ndis.now_us();
        if self.net_at.swap(now_us, Ordering::AcqRel) != now_us {
            self.net.lock().unwrap().advance(Duration::from_micros(now_us));
        }
        let mut busy = false;
        let pending = self.nic().pull();
        if self.ndis.take_dpc_request() || pending {
            self.adapter.dpc();
            busy = true;
        }
        if self.ndis.take_due_timer() {
            self.adapter.timer();
            busy = true;
        }
        loop {
            let a = self.ndis.client().actions.pop_front();
            let Some(a) = a else { break };
            busy = true;
            match a {
                Action::Close(vc) => {
                    self.adapter.protocol_cm_close_call(vc, None, atmmcm::ndis::CloseData::None);
                }
                Action::Delete(vc) => {
                    self.adapter.protocol_co_delete_vc(vc);
                }
            }
        }
        busy
    }

    pub fn settle(&self) {
        for _ in 0..100_000_000u64 {
            if !self.pump_once() {
                return;
            }
        }
        panic!("did not settle");
    }

    /// Settles, then moves virtual time deadline by deadline up to `d` from now.
    pub fn advance(&self, d: Duration) {
        let end = self.ndis.now_us() + d.as_micros() as u64;
        self.settle();
        loop {
            let net = self.net.lock().unwrap().next_deadline();
            let next = net.into_iter().chain(self.ndis.timer_due()).min();
            match next {
                Some(t) if (t.as_micros() as u64) <= end => {
                    let t = (t.as_micros() as u64).max(self.ndis.now_us() + 1);
                    self.ndis.set_now(Duration::from_micros(t));
                    self.settle();
                }
                _ => break,
            }
        }
        self.ndis.set_now(Duration::from_micros(end));
        self.settle();
    }

    /// `n` calls offered by the network (VPI 1.., VCI 32..), accepted by the client and
    /// connected; returns the network's call references.
    pub fn incoming_calls(&self, n: usize) -> Vec<u32> {
        let mut refs = Vec::with_capacity(n);
        for i in 0..n {
            let now = Duration::from_micros(self.ndis.now_us());
            let params = atmmcm_hw::network::OfferParams {
                vpi: 1 + (i / 60_000) as u16,
                vci: Some(32 + (i % 60_000) as u16),
                ..Default::default()
            };
            refs.push(self.net.lock().unwrap().offer_call(now, self.port, b"2002", params));
            if i % 64 == 63 {
                self.settle();
            }
        }
        self.advance(Duration::from_millis(50));
        refs
    }
}
