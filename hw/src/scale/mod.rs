//! The lab at the driver's limit: one adapter with up to 65 534 calls, under the emulated NDIS and
//! its verifier, in front of the network-side SSCOP + Q.2931 peer.
//!
//! The adapter is either driver ([`ScaleDriver`]): the driver core linked in ([`CoreDriver`],
//! `atmmcm::Adapter` on a [`ScaleDevice`]) or the real `atmmcm.sys` in the sys-lab
//! ([`SysImage`], x86_64 Linux: the emulated NDIS calls the image's MiniportXxx / ProtocolCmXxx
//! entry points, the image's own `RegNic` drives the ATM1 model through trapped BAR0 accesses).
//! The core's NIC is either the register-level one ([`NicKind::Atm1`]: the driver's `RegNic`
//! over the ATM1 model, whose table holds 65 536 connections, cells through a one-port
//! [`CellSwitch`]) or a frame-level stand-in ([`NicKind::Frame`], [`FrameNic`]: the driver's 0/5
//! AAL5 frames go straight to the network, data frames are taken and reported sent), kept as the
//! fast reference.
//!
//! [`link_flap`] is the scenario, one procedure for every driver: `calls` calls offered by the
//! network and accepted, the PHY lost, T309 expiring into `NDIS_STATUS_DEST_OUT_OF_ORDER` for
//! every call, the PHY back and the signalling link re-established, then halt; the verifier must
//! see no violation and no leak.

mod driver;
mod flap;
mod frame;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use atmmcm::NdisStatus;
use atmmcm::nic::Device;
use atmmcm::nic::regnic::{RegNic, RegNicConfig};

use crate::clock::Clock;
use crate::host::{EmuNdis, LiveCounts};
use crate::lab::{LAB_TX_FRAMES_PER_STEP, LabNic};
use crate::network::{Network, OfferParams, PortId};
use crate::regnic_model::RegNicModel;
use crate::switch::CellSwitch;

pub use driver::CoreDriver;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub use driver::SysImage;
pub use flap::{FlapDriver, FlapFault, FlapReport, link_flap, run_flap};
pub use frame::{FrameNic, TimeSource};

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
    /// The ATM1 model under the driver, if the NIC is one.
    fn model(&self) -> Option<RegNicModel> {
        None
    }
}

impl ScaleDevice for LabNic {
    fn build(_: &Arc<Mutex<Network>>, _: PortId, _: &Arc<Clock>) -> Result<Self, String> {
        let model = RegNicModel::new();
        model.set_tx_frames_per_step(LAB_TX_FRAMES_PER_STEP);
        let cfg = RegNicConfig { rx_ring: 1024, rxc_ring: 1024, ..RegNicConfig::default() };
        RegNic::new(model.bus(), cfg).map_err(|s| format!("RegNic::new failed: {s}"))
    }

    fn wire(&self, w: &Wire<'_>) -> (bool, bool) {
        model_wire(&self.bus().model(), w)
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

    fn model(&self) -> Option<RegNicModel> {
        Some(self.bus().model())
    }
}

/// One round of the ATM1 model's wire, whichever driver runs it: the NIC engines step, cells
/// from its PHY go through the switch to the network and back. (anything moved, the interrupt
/// line).
pub(crate) fn model_wire(model: &RegNicModel, w: &Wire<'_>) -> (bool, bool) {
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

/// A driver a [`ScaleLab`] runs, with the NIC under it: what the lab needs to move its wire and
/// what the flap's verdict reads. [`CoreDriver`] is the driver core linked in, [`SysImage`] the
/// real `atmmcm.sys`; the emulated NDIS ([`EmuNdis`]) reaches either through the same
/// `Driver` entry points.
pub trait ScaleDriver: Send + Sync + 'static {
    /// One round of the NIC's wire: (anything moved, the driver's ISR/DPC should run).
    fn wire(&self, w: &Wire<'_>) -> (bool, bool);
    /// PHY up or down at the NIC (the driver hears it through its NIC).
    fn set_link(&self, up: bool);
    /// Connections open at the NIC and not being closed.
    fn open_connections(&self) -> usize;
    /// Cells sent and received by the PHY (None: the NIC has no cells).
    fn cells(&self) -> Option<(u32, u32)>;
    /// The driver's own count of its objects; `None` where the lab cannot see inside (the
    /// `.sys`: the verifier's count from what crossed NDIS is the one both drivers give).
    fn live_objects(&self) -> Option<LiveCounts>;
    /// The driver's own view of its signalling link (`None`: not visible; the wire's view,
    /// [`ScaleLab::peer_link_up`], is the one both drivers give).
    fn signalling_up(&self) -> Option<bool>;
    /// What the driver still holds beside the objects the verifier counts: the `.sys`'s
    /// allocations through NDIS (pool, shared memory, timers, NBL pools, ...; what HALT-NO-LEAK
    /// counts), the core's live objects.
    fn held(&self) -> usize;
    /// What the lab saw go wrong outside the CoNDIS verifier: the NIC model's descriptor-ownership
    /// violations, the sys-lab's findings (`SYS-*`), a driver stack beyond the kernel's.
    fn findings(&self) -> Vec<String>;
    /// [`FlapFault::Leak`]: the driver holds one thing it should have released (the core: a
    /// connection opened on its NIC behind its call state; the `.sys`: a pool block allocated
    /// through its NDIS and never freed).
    fn inject_leak(&self);
}

/// The NIC model's violations as findings.
fn model_findings(model: Option<&RegNicModel>) -> Vec<String> {
    model.map_or_else(Vec::new, |m| m.violations().iter().map(|v| format!("NIC model: {v:?}")).collect())
}

/// One adapter (address 1001) on the emulated NDIS, driver `D`.
pub struct ScaleLab<D: ScaleDriver> {
    pub clock: Arc<Clock>,
    pub net: Arc<Mutex<Network>>,
    pub port: PortId,
    /// Between the NIC's PHY and the network (ATM1 only).
    switch: Mutex<CellSwitch>,
    pub ndis: EmuNdis,
    pub driver: D,
    /// Virtual time the network's timers last ran at (once per instant).
    net_at: AtomicU64,
    pub halted: AtomicBool,
}

/// What a [`ScaleDriver`] is built in front of.
pub struct Setup<'a> {
    pub clock: &'a Arc<Clock>,
    pub net: &'a Arc<Mutex<Network>>,
    pub port: PortId,
    /// The driver's NDIS (attach the driver to it).
    pub ndis: &'a EmuNdis,
}

impl<D: ScaleDriver> ScaleLab<D> {
    /// Builds the driver with `build`, starts it (MiniportInitializeEx), opens the AF, registers a
    /// wildcard SAP and waits for the signalling link. An error names the step that failed.
    pub fn try_new(build: impl FnOnce(&Setup<'_>) -> Result<D, String>) -> Result<ScaleLab<D>, String> {
        let clock = Arc::new(Clock::new());
        let mut network = Network::new();
        let port = network.add_port(b"1001".to_vec());
        let mut switch = CellSwitch::default();
        assert_eq!(switch.add_port(), port, "switch and network ports line up");
        let net = Arc::new(Mutex::new(network));
        let ndis = EmuNdis::new(clock.clone());
        let driver = build(&Setup { clock: &clock, net: &net, port, ndis: &ndis })?;
        ndis.phy_link_changed(true);
        let lab = ScaleLab {
            clock,
            net,
            port,
            switch: Mutex::new(switch),
            ndis,
            driver,
            net_at: AtomicU64::new(u64::MAX),
            halted: AtomicBool::new(false),
        };
        let st = lab.ndis.start();
        if st != NdisStatus::SUCCESS {
            let f = lab.driver.findings().join("; ");
            return Err(format!("driver start failed: {} {f}", crate::host::verifier::status_name(st)));
        }
        let client = lab.ndis.client();
        client.open_af().map_err(|s| format!("NdisClOpenAddressFamilyEx failed: {s:?}"))?;
        client.register_sap(None).map_err(|s| format!("NdisClRegisterSap failed: {s:?}"))?;
        lab.settle();
        if !lab.peer_link_up() {
            return Err("the signalling link did not come up".into());
        }
        Ok(lab)
    }

    fn net(&self) -> MutexGuard<'_, Network> {
        locked(&self.net)
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
        let (mut busy, dpc) = self.driver.wire(&w);
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
        self.driver.set_link(up);
        self.ndis.phy_link_changed(up);
        let now = self.clock.now();
        self.net().set_link(now, self.port, up);
        self.settle();
    }

    /// The signalling link as the wire shows it, for either driver: the network-side SSCOP peer
    /// is in Data Transfer Ready and, polled now, the adapter answers with the STAT for that POLL
    /// (only an SSCOP in state 10 does). Settles the lab.
    pub fn peer_link_up(&self) -> bool {
        self.settle();
        let now = self.clock.now();
        let Some(nps) = self.net().probe_link(now, self.port) else { return false };
        self.settle();
        let net = self.net();
        net.link_state(self.port) == Some(crate::network::sscop::LinkState::DataTransferReady)
            && net.sscop(self.port).and_then(|s| s.last_stat_nps()) == Some(nps)
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
