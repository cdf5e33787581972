//! The lab at the driver's limit: one adapter with up to 65 534 calls, under the emulated NDIS and
//! its verifier, in front of the network-side SSCOP + Q.2931 peer. The NIC is either the
//! register-level one ([`NicKind::Atm1`]: the driver's `RegNic` over the ATM1 model, whose table
//! holds 65 536 connections, cells through a one-port [`CellSwitch`]) or a frame-level stand-in
//! ([`NicKind::Frame`], [`FrameNic`]: the driver's 0/5 AAL5 frames go straight to the network,
//! data frames are taken and reported sent), kept as the fast reference.
//!
//! [`link_flap`] is the scenario: `calls` calls offered by the network and accepted, the PHY
//! lost, T309 expiring into `NDIS_STATUS_DEST_OUT_OF_ORDER` for every call, the PHY back and the
//! signalling link re-established, then halt; the verifier must see no violation and no leak.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use atmmcm::nic::regnic::{RegNic, RegNicConfig};
use atmmcm::nic::{ConnId, ConnParams, Device, DeviceEvent, TxCookie};
use atmmcm::{Adapter, Config, NdisStatus};

use crate::clock::Clock;
use crate::host::{EmuNdis, LiveCounts};
use crate::lab::{LAB_TX_FRAMES_PER_STEP, LabNic};
use crate::network::{Network, OfferParams, PortId};
use crate::regnic_model::RegNicModel;
use crate::switch::CellSwitch;

/// Which NIC a [`ScaleLab`] runs the driver on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NicKind {
    /// The driver's `RegNic` over the ATM1 register-level model (cells, SAR, DMA rings).
    #[default]
    Atm1,
    /// [`FrameNic`]: frames straight to the network.
    Frame,
}

/// What a NIC's wire needs from the lab for one round.
pub struct Wire<'a> {
    pub net: &'a Mutex<Network>,
    pub switch: &'a Mutex<CellSwitch>,
    pub port: PortId,
    pub now: Duration,
}

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A NIC the scale lab can run: built in front of the lab network, moved one round at a time.
pub trait ScaleDevice: Device + Send + Sync + Sized + 'static {
    fn build(net: &Arc<Mutex<Network>>, port: PortId, clock: &Arc<Clock>) -> Result<Self, String>;
    /// One round of the wire: (anything moved, the driver's DPC should run).
    fn wire(&self, w: &Wire<'_>) -> (bool, bool);
    /// PHY up or down (the driver hears it through the NIC).
    fn set_link(&self, up: bool);
    /// Connections open at the NIC and not being closed.
    fn open_connections(&self) -> usize;
    /// Cells sent and received by the PHY (None: the NIC has no cells).
    fn cells(&self) -> Option<(u32, u32)>;
}

impl ScaleDevice for LabNic {
    fn build(_: &Arc<Mutex<Network>>, _: PortId, _: &Arc<Clock>) -> Result<Self, String> {
        let model = RegNicModel::new();
        model.set_tx_frames_per_step(LAB_TX_FRAMES_PER_STEP);
        let cfg = RegNicConfig { rx_ring: 1024, rxc_ring: 1024, ..RegNicConfig::default() };
        RegNic::new(model.bus(), cfg).map_err(|s| format!("RegNic::new failed: {s}"))
    }

    fn wire(&self, w: &Wire<'_>) -> (bool, bool) {
        let model = self.bus().model();
        let mut moved = model.step();
        let cells = model.take_cells();
        let mut sw = locked(w.switch);
        moved |= !cells.is_empty();
        for c in cells {
            sw.input(w.port, c);
        }
        moved |= sw.step(w.now, &mut locked(w.net));
        for c in sw.output(w.port) {
            moved = true;
            model.put_cell(&c);
        }
        drop(sw);
        (moved, model.interrupt_line())
    }

    fn set_link(&self, up: bool) {
        self.bus().model().set_los(!up);
    }

    fn open_connections(&self) -> usize {
        self.bus().model().connections_open()
    }

    fn cells(&self) -> Option<(u32, u32)> {
        let c = self.bus().model().counters();
        Some((c.tx_cells, c.rx_cells))
    }
}

impl ScaleDevice for FrameNic {
    fn build(net: &Arc<Mutex<Network>>, port: PortId, clock: &Arc<Clock>) -> Result<Self, String> {
        Ok(FrameNic::new(net.clone(), port, clock.clone()))
    }

    fn wire(&self, _: &Wire<'_>) -> (bool, bool) {
        let pending = self.pull();
        (pending, pending)
    }

    fn set_link(&self, up: bool) {
        FrameNic::set_link(self, up);
    }

    fn open_connections(&self) -> usize {
        FrameNic::open_connections(self)
    }

    fn cells(&self) -> Option<(u32, u32)> {
        None
    }
}

enum Ev {
    Rx(Vec<u8>),
    Sent(u16, u64),
    Closed(u16),
    Link(bool),
}

struct FrameState {
    /// Connection id → (VPI, VCI); `None` = free.
    conns: Vec<Option<(u16, u16)>>,
    free: Vec<u16>,
    events: VecDeque<Ev>,
    sig: Option<u16>,
}

/// Where a [`FrameNic`] reads virtual time: the lab's [`Clock`], or a bench's own.
pub type TimeSource = Arc<dyn Fn() -> Duration + Send + Sync>;

/// A frame-level NIC with 65 535 connections in front of the lab network (see the module docs):
/// the driver's 0/5 frames go to the network's SSCOP peer while the PHY is up, data frames are
/// taken and reported sent. Also the NIC of the call-storm benches (`benches/support`).
pub struct FrameNic {
    net: Arc<Mutex<Network>>,
    port: PortId,
    now: TimeSource,
    link: AtomicBool,
    st: Mutex<FrameState>,
}

impl FrameNic {
    /// On the lab's clock.
    pub fn new(net: Arc<Mutex<Network>>, port: PortId, clock: Arc<Clock>) -> FrameNic {
        FrameNic::with_time(net, port, Arc::new(move || clock.now()))
    }

    /// On any virtual time source.
    pub fn with_time(net: Arc<Mutex<Network>>, port: PortId, now: TimeSource) -> FrameNic {
        let n = usize::from(u16::MAX);
        FrameNic {
            net,
            port,
            now,
            link: AtomicBool::new(true),
            st: Mutex::new(FrameState {
                conns: vec![None; n],
                free: (0..u16::MAX).rev().collect(),
                // Room for a close of every connection at once (a link-loss teardown) without
                // growing the queue (a regrowth copies every queued event through the cache).
                events: VecDeque::with_capacity(n + 1024),
                sig: None,
            }),
        }
    }

    fn st(&self) -> MutexGuard<'_, FrameState> {
        self.st.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn net(&self) -> MutexGuard<'_, Network> {
        self.net.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// PHY loss or return (the driver hears it at its next poll).
    pub fn set_link(&self, up: bool) {
        self.link.store(up, Ordering::Release);
        self.st().events.push_back(Ev::Link(up));
    }

    /// Whether events wait for the driver's next poll.
    pub fn has_events(&self) -> bool {
        !self.st().events.is_empty()
    }

    /// Moves what the network sent on 0/5 into the event queue; whether anything is pending.
    pub fn pull(&self) -> bool {
        loop {
            let next = self.net().to_user(self.port);
            let Some((vpi, vci, frame)) = next else { break };
            if (vpi, vci) == (0, 5) {
                self.st().events.push_back(Ev::Rx(frame));
            }
        }
        !self.st().events.is_empty()
    }

    /// Connections open and not being closed.
    pub fn open_connections(&self) -> usize {
        let st = self.st();
        let closing = st.events.iter().filter(|e| matches!(e, Ev::Closed(_))).count();
        st.conns.iter().filter(|c| c.is_some()).count().saturating_sub(closing)
    }
}

impl Device for FrameNic {
    fn open_connection(&self, p: &ConnParams) -> Result<ConnId, NdisStatus> {
        let mut st = self.st();
        let key = (p.id.vpi, p.id.vci);
        let c = st.free.pop().ok_or(NdisStatus::RESOURCES)?;
        if let Some(slot) = st.conns.get_mut(usize::from(c)) {
            *slot = Some(key);
        }
        if key == (0, 5) {
            st.sig = Some(c);
        }
        Ok(ConnId(c))
    }

    fn close_connection(&self, conn: ConnId) {
        self.st().events.push_back(Ev::Closed(conn.0));
    }

    fn transmit(&self, conn: ConnId, frame: &[u8], cookie: TxCookie) -> Result<(), NdisStatus> {
        let mut st = self.st();
        let Some(Some((vpi, vci))) = st.conns.get(usize::from(conn.0)).copied() else {
            return Err(NdisStatus::INVALID_STATE);
        };
        st.events.push_back(Ev::Sent(conn.0, cookie.0));
        drop(st);
        if self.link.load(Ordering::Acquire) && (vpi, vci) == (0, 5) {
            let now = (self.now)();
            self.net().from_user(now, self.port, vpi, vci, frame);
        }
        Ok(())
    }

    fn poll(&self, budget: usize, sink: &mut dyn FnMut(DeviceEvent<'_>)) -> usize {
        let mut n = 0;
        while n < budget {
            let (ev, sig) = {
                let mut st = self.st();
                let ev = st.events.pop_front();
                if let Some(Ev::Closed(c)) = ev {
                    if let Some(slot) = st.conns.get_mut(usize::from(c)) {
                        *slot = None;
                    }
                    st.free.push(c);
                }
                (ev, st.sig)
            };
            let Some(ev) = ev else { break };
            match ev {
                Ev::Rx(frame) => {
                    if let Some(c) = sig {
                        sink(DeviceEvent::Received { conn: ConnId(c), frame: &frame });
                    }
                }
                Ev::Sent(c, k) => sink(DeviceEvent::Transmitted { conn: ConnId(c), cookie: TxCookie(k), sent: true }),
                Ev::Closed(c) => sink(DeviceEvent::ConnectionClosed { conn: ConnId(c), forced: false }),
                Ev::Link(up) => sink(DeviceEvent::Link { up }),
            }
            n += 1;
        }
        n
    }

    fn link_up(&self) -> bool {
        self.link.load(Ordering::Acquire)
    }
}

/// One adapter (address 1001) on the emulated NDIS with NIC `N`.
pub struct ScaleLab<N: ScaleDevice> {
    pub clock: Arc<Clock>,
    pub net: Arc<Mutex<Network>>,
    pub port: PortId,
    /// Between the NIC's PHY and the network ([`NicKind::Atm1`] only).
    switch: Mutex<CellSwitch>,
    pub ndis: EmuNdis,
    pub adapter: Arc<Adapter<EmuNdis, N>>,
    /// Virtual time the network's timers last ran at (once per instant).
    net_at: AtomicU64,
    pub halted: AtomicBool,
}

impl<N: ScaleDevice> ScaleLab<N> {
    /// Started, AF open, a wildcard SAP registered, signalling established.
    pub fn new(max_vcs: usize) -> ScaleLab<N> {
        let clock = Arc::new(Clock::new());
        let mut network = Network::new();
        let port = network.add_port(b"1001".to_vec());
        let mut switch = CellSwitch::default();
        assert_eq!(switch.add_port(), port, "switch and network ports line up");
        let net = Arc::new(Mutex::new(network));
        let ndis = EmuNdis::new(clock.clone());
        let nic = match N::build(&net, port, &clock) {
            Ok(n) => n,
            Err(e) => panic!("scale lab: {e}"),
        };
        // Every VC may carry a call at once: a ring each.
        let config = Config { max_vcs, max_parties: 64, max_active_vcs: max_vcs, ..Config::DEFAULT };
        let adapter = match Adapter::initialize(ndis.clone(), nic, config) {
            Ok(a) => Arc::new(a),
            Err(s) => panic!("scale lab: Adapter::initialize failed: {s}"),
        };
        ndis.attach_arc(&adapter);
        let live = Arc::downgrade(&adapter);
        ndis.register_alloc_counter("driver live objects", move || {
            live.upgrade().map_or(0, |a| a.live_objects().total())
        });
        ndis.phy_link_changed(true);
        let lab = ScaleLab {
            clock,
            net,
            port,
            switch: Mutex::new(switch),
            ndis,
            adapter,
            net_at: AtomicU64::new(u64::MAX),
            halted: AtomicBool::new(false),
        };
        assert_eq!(lab.ndis.start(), NdisStatus::SUCCESS, "scale lab: driver start failed");
        let client = lab.ndis.client();
        assert!(client.open_af().is_ok(), "scale lab: OpenAf");
        assert!(client.register_sap(None).is_ok(), "scale lab: RegisterSap");
        lab.settle();
        assert!(lab.adapter.signalling_up(), "scale lab: signalling link established");
        lab
    }

    pub fn nic(&self) -> &N {
        self.adapter.parts().1
    }

    fn net(&self) -> MutexGuard<'_, Network> {
        self.net.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One round: network timers (once per instant), the NIC's events → the DPC, the timer if
    /// due, deferred client work. Whether anything moved.
    pub fn pump_once(&self) -> bool {
        let now = self.clock.now();
        let us = now.as_micros() as u64;
        if self.net_at.swap(us, Ordering::AcqRel) != us {
            self.net().advance(now);
        }
        if self.halted.load(Ordering::Acquire) {
            return false;
        }
        let w = Wire { net: &self.net, switch: &self.switch, port: self.port, now };
        let (mut busy, dpc) = self.nic().wire(&w);
        if dpc {
            self.ndis.run_dpc();
            busy = true;
        }
        busy |= self.ndis.run_pending();
        busy
    }

    pub fn settle(&self) {
        for _ in 0..50_000_000u64 {
            if !self.pump_once() {
                return;
            }
        }
        panic!("scale lab: the world did not settle");
    }

    fn next_deadline(&self) -> Option<Duration> {
        let net = self.net().next_deadline();
        net.into_iter().chain(self.ndis.timer_due()).min()
    }

    /// Moves virtual time forward by `d`, deadline by deadline, settling at each.
    pub fn advance(&self, d: Duration) {
        let end = self.clock.now() + d;
        self.settle();
        while let Some(t) = self.next_deadline().filter(|&t| t <= end) {
            self.clock.advance_to(t.max(self.clock.now() + Duration::from_micros(1)));
            self.settle();
        }
        self.clock.advance_to(end);
        self.settle();
    }

    /// `n` calls offered by the network (VPI 1.., VCI 32..) and answered by the client.
    pub fn offer_calls(&self, n: usize) {
        for i in 0..n {
            let params =
                OfferParams { vpi: 1 + (i / 60_000) as u16, vci: Some(32 + (i % 60_000) as u16), ..Default::default() };
            let now = self.clock.now();
            self.net().offer_call(now, self.port, b"2002", params);
            if i % 64 == 63 {
                self.settle();
            }
        }
        self.advance(Duration::from_millis(100));
    }

    /// PHY of the adapter down or up (NIC, network port, and the verifier's expectation).
    pub fn set_link(&self, up: bool) {
        ScaleDevice::set_link(self.nic(), up);
        self.ndis.phy_link_changed(up);
        let now = self.clock.now();
        self.net().set_link(now, self.port, up);
        self.settle();
    }

    /// MiniportHaltEx with the world kept moving.
    pub fn halt(&self) {
        self.ndis.halt_with(&mut || {
            if !self.pump_once()
                && let Some(t) = self.next_deadline()
                && t > self.clock.now()
            {
                self.clock.advance_to(t);
            }
        });
        self.halted.store(true, Ordering::Release);
    }
}

/// What [`link_flap`] saw.
#[derive(Debug)]
pub struct FlapReport {
    pub calls: usize,
    pub nic: NicKind,
    /// Calls connected (NdisMCmDispatchCallConnected) before the loss.
    pub connected: usize,
    /// Connections open at the NIC before the loss (every call's and the signalling VC).
    pub nic_connections_before_loss: usize,
    /// Cells the NIC's PHY sent and received over the whole run (None: frame-level NIC).
    pub cells: Option<(u32, u32)>,
    /// Calls closed towards the client after T309 (NdisMCmDispatchIncomingCloseCall).
    pub incoming_closes: usize,
    /// Driver objects left after T309 and after halt.
    pub live_after_t309: atmmcm::cm::LiveCounts,
    pub live_after_halt: LiveCounts,
    pub signalling_back: bool,
    pub violations: Vec<String>,
    /// NIC connections still open after halt (the signalling VC is closed by halt).
    pub nic_connections_after_halt: usize,
    pub wall_setup: Duration,
    pub wall_teardown: Duration,
}

impl FlapReport {
    /// The verdict: every call connected and cleared, the link back, nothing leaked, no violation.
    pub fn passed(&self) -> bool {
        self.connected == self.calls
            && self.nic_connections_before_loss == self.calls + 1
            && self.incoming_closes == self.calls
            && self.live_after_t309.vcs == 0
            && self.live_after_t309.calls == 0
            && self.signalling_back
            && self.live_after_halt == LiveCounts::default()
            && self.violations.is_empty()
            && self.nic_connections_after_halt == 0
    }
}

/// The link-flap scenario with `calls` calls (up to the VC table, 65 534) on `nic`. See the
/// module docs. `atmlab flap` runs it.
pub fn link_flap(calls: usize, nic: NicKind) -> FlapReport {
    match nic {
        NicKind::Atm1 => flap_on::<LabNic>(calls, nic),
        NicKind::Frame => flap_on::<FrameNic>(calls, nic),
    }
}

fn flap_on<N: ScaleDevice>(calls: usize, nic: NicKind) -> FlapReport {
    let lab = ScaleLab::<N>::new(calls.max(1));
    let t = Instant::now();
    lab.offer_calls(calls);
    let wall_setup = t.elapsed();
    let count = |name: &str| lab.ndis.ndis_calls().iter().filter(|n| n.starts_with(name)).count();
    let connected = count("NdisMCmDispatchCallConnected");
    let nic_connections_before_loss = lab.nic().open_connections();
    let t = Instant::now();
    lab.set_link(false);
    // T309 (10 s): active calls survive it, then are cleared with #27.
    lab.advance(Duration::from_secs(11));
    let wall_teardown = t.elapsed();
    let incoming_closes = count("NdisMCmDispatchIncomingCloseCall(DEST_OUT_OF_ORDER)");
    let live_after_t309 = lab.adapter.live_objects();
    lab.set_link(true);
    lab.advance(Duration::from_secs(2));
    let signalling_back = lab.adapter.signalling_up();
    lab.halt();
    lab.settle();
    let violations = lab.ndis.violations().iter().map(|v| v.to_string()).collect();
    FlapReport {
        calls,
        nic,
        connected,
        nic_connections_before_loss,
        cells: lab.nic().cells(),
        incoming_closes,
        live_after_t309,
        live_after_halt: lab.ndis.live(),
        signalling_back,
        violations,
        nic_connections_after_halt: ScaleDevice::open_connections(lab.nic()),
        wall_setup,
        wall_teardown,
    }
}
