//! The lab: nodes (emulated NDIS + the driver's `RegNic` over the ATM1 NIC model + the real
//! driver) on ports of a cell switch in front of an emulated ATM network, in virtual time.
//! Cells leave each NIC's PHY into the switch; data cells are switched cell by cell along the
//! network's cross-connects, signalling cells on 0/5 are reassembled for the network-side peer.
//!
//! Deterministic by default: nothing moves until the test pumps. [`Lab::settle`] runs NICs,
//! network, DPCs, timers and deferred client actions until the world is quiet;
//! [`Lab::advance`] moves the clock deadline by deadline (T308 = 30 s takes microseconds).

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use atmmcm::ndis::{
    AalType, AtmAddress, AtmAddressType, AtmFlowParameters, AtmMediaParameters, CallParameters, VpiVci,
};
use atmmcm::{Adapter, Config, NdisStatus, SignallingVariant};

use atmmcm::nic::regnic::{RegNic, RegNicConfig};

use crate::clock::Clock;
use crate::host::{Client, EmuNdis, LabSpinLock};
use crate::network::{Network, PortId};
use crate::pcap::Pcap;
use crate::regnic_model::{ModelBus, RegNicModel};
use crate::switch::CellSwitch;

/// The driver's NIC layer as the lab runs it: `RegNic` over the model's registers and DMA.
pub type LabNic = RegNic<ModelBus, LabSpinLock>;
/// Frames each NIC model transmits per lab step.
pub const LAB_TX_FRAMES_PER_STEP: usize = 8;

/// The driver as the lab runs it.
pub type LabAdapter = Adapter<EmuNdis, LabNic>;

/// Which driver the lab's nodes run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum LabDriver {
    /// The Rust `Adapter`, called directly (fast, debuggable).
    #[default]
    InProcess,
    /// The real `atmmcm.sys` at this path, loaded by the sys-lab (x86_64 Linux only).
    Sys(std::path::PathBuf),
}

/// A node's driver. Dereferences to the in-process `Adapter` (its counters and internals);
/// that panics for a node running `atmmcm.sys`, whose internals the lab cannot see.
pub enum NodeDriver {
    InProcess(Arc<LabAdapter>),
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    Sys(Arc<crate::sys::SysDriver>),
}

impl std::ops::Deref for NodeDriver {
    type Target = LabAdapter;
    fn deref(&self) -> &LabAdapter {
        match self {
            NodeDriver::InProcess(a) => a,
            #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
            NodeDriver::Sys(_) => panic!("this node runs atmmcm.sys: the in-process Adapter's internals do not exist"),
        }
    }
}

/// One machine: its NDIS, NIC, driver and the CoNDIS client bound to it.
pub struct Node {
    pub name: String,
    pub address: Vec<u8>,
    pub ndis: EmuNdis,
    /// The NIC hardware (registers, DMA, SAR, PHY).
    pub model: RegNicModel,
    pub adapter: NodeDriver,
    pub port: PortId,
    /// MiniportHaltEx returned: the node is quiet (its NIC is not serviced any more).
    pub halted: std::sync::atomic::AtomicBool,
}

impl Node {
    /// The scriptable CoNDIS client bound to this node's adapter.
    pub fn client(&self) -> Client {
        self.ndis.client()
    }

    /// The driver's NIC layer.
    pub fn nic(&self) -> &LabNic {
        self.adapter.parts().1
    }

    /// What the sys-lab's NDIS refused while starting (empty for the in-process driver).
    fn start_findings(&self) -> String {
        #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
        if let Some(s) = self.sys() {
            return s.findings().iter().map(|(r, m)| format!("\n  {r}: {m}")).collect();
        }
        String::new()
    }

    /// The node's driver as NDIS calls it (either kind), for tests that call an entry point
    /// directly (forged contexts, hostile sizes).
    pub fn driver(&self) -> Arc<dyn crate::host::Driver> {
        match &self.adapter {
            NodeDriver::InProcess(a) => a.clone(),
            #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
            NodeDriver::Sys(s) => s.clone(),
        }
    }

    /// The driver's control-path counters as it reports them to NDIS, either kind: a query of
    /// its vendor OID `OID_ATMMCM_CONTROL_COUNTERS` through MiniportCoOidRequest (the call is
    /// logged like any handler), by name (`oid::value::CONTROL_COUNTERS`). `None` once the node
    /// is halted, or when the driver does not answer.
    pub fn control_counters(&self) -> Option<Vec<(&'static str, u64)>> {
        use atmmcm::adapter::oid;
        if self.halted.load(std::sync::atomic::Ordering::Acquire) {
            return None;
        }
        let mut buf = [0u8; 8 * oid::value::CONTROL_COUNTERS.len()];
        let (st, done, _) = self.client().oid_request(None, oid::ATMMCM_CONTROL_COUNTERS, true, &mut buf);
        if st != NdisStatus::SUCCESS || done != buf.len() {
            return None;
        }
        let values = buf.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8])));
        Some(oid::value::CONTROL_COUNTERS.iter().copied().zip(values).collect())
    }

    /// The in-process driver's live objects; `None` for `atmmcm.sys` (whose allocations the
    /// sys-lab's HALT-NO-LEAK counter checks instead).
    pub fn live_objects(&self) -> Option<atmmcm::cm::LiveCounts> {
        match &self.adapter {
            NodeDriver::InProcess(a) => Some(a.live_objects()),
            #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
            NodeDriver::Sys(_) => None,
        }
    }

    /// The in-process driver's calls by what a link loss does to them, as it keeps them and as
    /// recounted from its VCs (`None` for `atmmcm.sys`).
    pub fn link_counts(&self) -> Option<(atmmcm::cm::objects::LinkCounts, atmmcm::cm::objects::LinkCounts)> {
        match &self.adapter {
            NodeDriver::InProcess(a) => Some(a.link_counts()),
            #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
            NodeDriver::Sys(_) => None,
        }
    }

    /// Whether the node runs the real `atmmcm.sys`.
    pub fn is_sys(&self) -> bool {
        !matches!(self.adapter, NodeDriver::InProcess(_))
    }

    /// The in-process driver's own view of its signalling link (SSCOP established); `None` for
    /// `atmmcm.sys`, whose state the lab cannot read (see [`Lab::peer_link_up`]).
    pub fn signalling_up(&self) -> Option<bool> {
        match &self.adapter {
            NodeDriver::InProcess(a) => Some(a.signalling_up()),
            #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
            NodeDriver::Sys(_) => None,
        }
    }

    /// What the driver still holds after MiniportHaltEx, either kind: the in-process driver's
    /// live objects (AFs, SAPs, VCs, calls, parties); for `atmmcm.sys`, whose objects live
    /// inside its adapter block, the same objects as the verifier saw them handed out across
    /// NDIS and not retired, plus its allocations (pool blocks, shared memory, timers, NBL
    /// pools, NBLs, MDLs, interrupt, SG DMA, configuration handles: what HALT-NO-LEAK counts).
    pub fn held_after_halt(&self) -> usize {
        match &self.adapter {
            NodeDriver::InProcess(a) => a.live_objects().total(),
            #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
            NodeDriver::Sys(s) => self.ndis.live().total() + s.live_allocations(),
        }
    }

    /// What the sys-lab's NDIS and kernel emulation flagged (`SYS-*` rule, message): refusals
    /// and broken kernel rules the CoNDIS verifier does not see. Empty for the in-process driver.
    pub fn sys_findings(&self) -> Vec<(String, String)> {
        #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
        if let Some(s) = self.sys() {
            return s.findings();
        }
        Vec::new()
    }

    /// The deepest driver stack seen below any entry, for a node running `atmmcm.sys`.
    pub fn sys_stack_depth(&self) -> Option<usize> {
        #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
        if let Some(s) = self.sys() {
            return Some(s.max_stack_depth());
        }
        None
    }

    /// The loaded image, for a node running `atmmcm.sys`.
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    pub fn sys(&self) -> Option<&Arc<crate::sys::SysDriver>> {
        match &self.adapter {
            NodeDriver::Sys(s) => Some(s),
            NodeDriver::InProcess(_) => None,
        }
    }
}

/// Loads `atmmcm.sys` (DriverEntry run) with its adapter key holding the INF defaults and every
/// registry setting of `config` (as the Advanced tab writes them), not yet attached to a lab.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub(crate) fn load_sys(
    path: &std::path::Path,
    clock: &Arc<Clock>,
    config: &Config,
) -> Result<Arc<crate::sys::SysDriver>, String> {
    let sys = match crate::sys::SysDriver::load(path, clock.clone()) {
        Ok(s) => Arc::new(s),
        Err(e) => return Err(format!("cannot load {}: {e}", path.display())),
    };
    for k in atmmcm::config::REGISTRY_KEYS {
        if let Some(v) = config.get(k.name) {
            sys.set_registry(k.name, v);
        }
    }
    // The INF declares no NetworkAddress, so the key has none unless the lab's ESI differs
    // from the default (then as an administrator would set it: REG_SZ, 12 hex digits).
    if config.esi != Config::DEFAULT_ESI {
        let hex: String = config.esi.iter().map(|b| format!("{b:02X}")).collect();
        sys.set_registry_value("NetworkAddress", crate::sys::config::RegValue::Sz(hex));
    }
    Ok(sys)
}

/// The lab.
pub struct Lab {
    pub clock: Arc<Clock>,
    network: Arc<Mutex<Network>>,
    switch: Mutex<CellSwitch>,
    pub nodes: Vec<Node>,
    /// Pump rounds after which `settle` gives up (a livelock is a bug worth a clear panic).
    pub max_rounds: usize,
}

/// What `Lab::new` builds.
#[derive(Clone, Debug)]
pub struct LabConfig {
    pub config: Config,
    /// E.164 addresses of the nodes, one node each.
    pub addresses: Vec<Vec<u8>>,
    /// Write every frame crossing the network to this SunATM pcap.
    pub pcap: Option<std::path::PathBuf>,
    /// The driver every node runs.
    pub driver: LabDriver,
    /// One SunATM capture per port (port i → `port_pcaps[i]`), so each side can be told apart.
    pub port_pcaps: Vec<std::path::PathBuf>,
}

impl Default for LabConfig {
    fn default() -> Self {
        LabConfig {
            config: Config::default(),
            addresses: vec![b"1001".to_vec()],
            pcap: None,
            port_pcaps: Vec::new(),
            driver: LabDriver::InProcess,
        }
    }
}

impl LabConfig {
    pub fn nodes(mut self, addresses: &[&[u8]]) -> Self {
        self.addresses = addresses.iter().map(|a| a.to_vec()).collect();
        self
    }
    pub fn variant(mut self, v: SignallingVariant) -> Self {
        self.config.variant = v;
        self
    }
    pub fn with_config(mut self, f: impl FnOnce(&mut Config)) -> Self {
        f(&mut self.config);
        self
    }
    pub fn driver(mut self, d: LabDriver) -> Self {
        self.driver = d;
        self
    }
}

impl Lab {
    /// A lab with one node at address "1001", UNI 4.0, started and with its signalling link up.
    pub fn new() -> Lab {
        Lab::with(LabConfig::default())
    }

    /// Builds the nodes, starts each driver (AF registered, signalling VC open) and settles, so
    /// the SSCOP links are up when this returns. Panics where [`Lab::try_with`] fails.
    pub fn with(cfg: LabConfig) -> Lab {
        match Lab::try_with(cfg) {
            Ok(lab) => lab,
            Err(e) => panic!("lab: {e}"),
        }
    }

    /// [`Lab::with`], with a driver that cannot be loaded or started as an error: the image
    /// unreadable or refused by the loader, MiniportInitializeEx failing (with the sys-lab's
    /// findings).
    pub fn try_with(cfg: LabConfig) -> Result<Lab, String> {
        let clock = Arc::new(Clock::new());
        let mut net = Network::new();
        if let Some(path) = &cfg.pcap {
            match Pcap::create(path) {
                Ok(p) => net.set_pcap(Some(p)),
                Err(e) => eprintln!("lab: cannot write pcap {}: {e}", path.display()),
            }
        }
        let mut switch = CellSwitch::default();
        let mut nodes = Vec::new();
        for (i, address) in cfg.addresses.iter().enumerate() {
            let port = net.add_port(address.clone());
            if let Some(path) = cfg.port_pcaps.get(i) {
                match Pcap::create(path) {
                    Ok(p) => net.set_port_pcap(port, Some(p)),
                    Err(e) => return Err(format!("cannot write pcap {}: {e}", path.display())),
                }
            }
            assert_eq!(switch.add_port(), port, "switch and network ports line up");
            let ndis = EmuNdis::new(clock.clone());
            let model = RegNicModel::new();
            // Paced like a line: a few frames per lab step, so the receiving DPC runs between
            // bursts (a 64 KiB frame fills 32 RX buffers; 1023 are posted).
            model.set_tx_frames_per_step(LAB_TX_FRAMES_PER_STEP);
            let adapter = match &cfg.driver {
                LabDriver::InProcess => {
                    let nic_cfg = RegNicConfig { rx_ring: 1024, rxc_ring: 1024, ..RegNicConfig::default() };
                    let nic = match RegNic::new(model.bus(), nic_cfg) {
                        Ok(n) => n,
                        Err(s) => return Err(format!("RegNic::new failed: {s}")),
                    };
                    let adapter = match Adapter::initialize(ndis.clone(), nic, cfg.config) {
                        Ok(a) => Arc::new(a),
                        Err(s) => return Err(format!("Adapter::initialize failed: {s}")),
                    };
                    ndis.attach_arc(&adapter);
                    let live = Arc::downgrade(&adapter);
                    ndis.register_alloc_counter("driver live objects", move || {
                        live.upgrade().map_or(0, |a| a.live_objects().total())
                    });
                    NodeDriver::InProcess(adapter)
                }
                LabDriver::Sys(path) => Self::sys_node(path, &clock, &ndis, &model, &cfg.config)?,
            };
            ndis.phy_link_changed(true);
            let name = format!("node{i}");
            nodes.push(Node { name, address: address.clone(), ndis, model, adapter, port, halted: Default::default() });
        }
        let lab =
            Lab { clock, network: Arc::new(Mutex::new(net)), switch: Mutex::new(switch), nodes, max_rounds: 100_000 };
        for n in &lab.nodes {
            let st = n.ndis.start();
            if st != NdisStatus::SUCCESS {
                return Err(format!(
                    "{} driver start failed: {}{}",
                    n.name,
                    crate::host::verifier::status_name(st),
                    n.start_findings()
                ));
            }
        }
        lab.settle();
        Ok(lab)
    }

    /// Loads `atmmcm.sys` for one node (its registry from the INF defaults and `config`).
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    fn sys_node(
        path: &std::path::Path,
        clock: &Arc<Clock>,
        ndis: &EmuNdis,
        model: &RegNicModel,
        config: &Config,
    ) -> Result<NodeDriver, String> {
        let sys = load_sys(path, clock, config)?;
        sys.attach(ndis, model);
        Ok(NodeDriver::Sys(sys))
    }

    #[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
    fn sys_node(
        path: &std::path::Path,
        _: &Arc<Clock>,
        _: &EmuNdis,
        _: &RegNicModel,
        _: &Config,
    ) -> Result<NodeDriver, String> {
        Err(format!("{} needs the sys-lab (x86_64 Linux)", path.display()))
    }

    pub fn network(&self) -> MutexGuard<'_, Network> {
        self.network.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn node(&self, i: usize) -> &Node {
        &self.nodes[i]
    }

    pub fn now(&self) -> Duration {
        self.clock.now()
    }

    /// One round: NIC engines, PHY → switch → network (and back), network timers, then each
    /// node's interrupt line, requested DPC, due timer and deferred client actions. Whether
    /// anything moved.
    pub fn pump_once(&self) -> bool {
        let now = self.clock.now();
        let mut busy = false;
        for n in &self.nodes {
            busy |= n.model.step();
            let cells = n.model.take_cells();
            if !cells.is_empty() {
                busy = true;
                let mut sw = self.switch.lock().unwrap_or_else(|e| e.into_inner());
                for c in cells {
                    sw.input(n.port, c);
                }
            }
        }
        {
            let mut net = self.network();
            let mut sw = self.switch.lock().unwrap_or_else(|e| e.into_inner());
            busy |= sw.step(now, &mut net);
            net.advance(now);
            busy |= sw.step(now, &mut net);
        }
        for n in &self.nodes {
            let cells = self.switch.lock().unwrap_or_else(|e| e.into_inner()).output(n.port);
            if !cells.is_empty() {
                busy = true;
                for c in cells {
                    n.model.put_cell(&c);
                }
            }
            if n.halted.load(std::sync::atomic::Ordering::Acquire) {
                continue;
            }
            if n.model.interrupt_line() {
                n.ndis.run_dpc();
                busy = true;
            }
            busy |= n.ndis.run_pending();
        }
        busy
    }

    /// Pumps until nothing moves (at the current virtual time).
    pub fn settle(&self) {
        for _ in 0..self.max_rounds {
            if !self.pump_once() {
                return;
            }
        }
        panic!("lab: the world did not settle within {} rounds", self.max_rounds);
    }

    /// The earliest deadline anywhere (network timers, driver timers).
    pub fn next_deadline(&self) -> Option<Duration> {
        let net = self.network().next_deadline();
        let drivers = self.nodes.iter().filter_map(|n| n.ndis.timer_due());
        net.into_iter().chain(drivers).min()
    }

    /// Moves virtual time forward by `d`, stopping at every deadline on the way and settling.
    pub fn advance(&self, d: Duration) {
        let end = self.clock.now() + d;
        self.settle();
        loop {
            match self.next_deadline() {
                Some(t) if t <= end => {
                    if t > self.clock.now() {
                        self.clock.advance_to(t);
                    }
                    self.settle();
                    // A deadline that does not move after settling would spin: step past it.
                    if self.next_deadline() == Some(t) {
                        self.clock.advance_to(t + Duration::from_micros(1));
                        self.settle();
                    }
                }
                _ => break,
            }
        }
        self.clock.advance_to(end);
        self.settle();
    }

    /// Runs `body` while a background thread keeps the world moving — NICs, network, every
    /// node's DPC and timer — so the driver's DPC runs concurrently with whatever threads `body`
    /// starts (clients sending and closing), as on a real machine. When the world is quiet the
    /// pump thread jumps the virtual clock to the next deadline. The lab is settled afterwards.
    pub fn threaded<R>(&self, body: impl FnOnce(&Lab) -> R) -> R {
        let stop = std::sync::atomic::AtomicBool::new(false);
        let r = std::thread::scope(|s| {
            s.spawn(|| {
                while !stop.load(std::sync::atomic::Ordering::Acquire) {
                    if !self.pump_once() {
                        match self.next_deadline() {
                            Some(t) if t > self.clock.now() => {
                                self.clock.advance_to(t);
                            }
                            _ => std::thread::yield_now(),
                        }
                    }
                }
            });
            let r = body(self);
            stop.store(true, std::sync::atomic::Ordering::Release);
            r
        });
        self.settle();
        r
    }

    /// Node `i`'s signalling link as the wire shows it, for either driver: the network-side
    /// SSCOP peer is in Data Transfer Ready (Q.2110 state 10) and, polled now, the node answers
    /// with the STAT for that POLL (which only an SSCOP in state 10 sends; the peer's own state
    /// alone can be stale after PDUs injected behind its back). Settles the lab; the POLL/STAT
    /// exchange changes nothing at either end in state 10.
    pub fn peer_link_up(&self, i: usize) -> bool {
        self.settle();
        let port = self.nodes[i].port;
        let now = self.clock.now();
        let Some(nps) = self.network().probe_link(now, port) else { return false };
        self.settle();
        let net = self.network();
        net.link_state(port) == Some(crate::network::sscop::LinkState::DataTransferReady)
            && net.sscop(port).and_then(|s| s.last_stat_nps()) == Some(nps)
    }

    /// PHY of node `i` up or down (NIC, network port, and the verifier's expectation).
    pub fn set_link(&self, i: usize, up: bool) {
        let n = &self.nodes[i];
        n.model.set_los(!up);
        n.ndis.phy_link_changed(up);
        let now = self.clock.now();
        self.network().set_link(now, n.port, up);
        self.settle();
    }

    /// Cell faults towards node `i` (see [`CellSwitch::cell_faults`]).
    pub fn cell_faults(&self, i: usize, drop: u32, corrupt: u32) {
        let port = self.nodes[i].port;
        self.switch.lock().unwrap_or_else(|e| e.into_inner()).cell_faults(port, drop, corrupt);
    }

    /// Halts every node's driver (the clients tear down through the network) and checks the
    /// halt rules.
    pub fn halt_all(&self) {
        for i in 0..self.nodes.len() {
            self.halt(i);
        }
    }

    /// Halts node `i`: MiniportHaltEx runs while the lab keeps the network, the other nodes and
    /// the clock going (as the rest of a machine does while a halt waits).
    pub fn halt(&self, i: usize) {
        let n = &self.nodes[i];
        n.ndis.halt_with(&mut || {
            if self.pump_once() {
                return;
            }
            // Nothing moved: time passes (to the next deadline, or a second when nothing is
            // scheduled), so a halt waiting on a client that never closes reaches its own give-up
            // in virtual time instead of spinning through its round limit.
            let now = self.clock.now();
            match self.next_deadline() {
                Some(t) if t > now => {
                    self.clock.advance_to(t);
                }
                _ => {
                    self.clock.advance_to(now + std::time::Duration::from_secs(1));
                }
            }
        });
        n.halted.store(true, std::sync::atomic::Ordering::Release);
        self.settle();
    }
}

impl Default for Lab {
    fn default() -> Self {
        Lab::new()
    }
}

/// UBR/AAL5 call parameters towards E.164 `called`.
pub fn call_to(called: &[u8]) -> CallParameters {
    CallParameters {
        flags: 0,
        media_flags: atmmcm::ndis::media_flags::TRANSMIT_VC | atmmcm::ndis::media_flags::RECEIVE_VC,
        media: AtmMediaParameters {
            connection_id: VpiVci::default(),
            aal_type: AalType::Aal5,
            transmit: AtmFlowParameters::ubr(0),
            receive: AtmFlowParameters::ubr(0),
        },
        called: AtmAddress::new(AtmAddressType::E164, called),
        calling: None,
    }
}

/// A multipoint call towards `called` (the first leaf).
pub fn multipoint_call_to(called: &[u8]) -> CallParameters {
    let mut p = call_to(called);
    p.flags |= atmmcm::ndis::call_flags::MULTIPOINT_VC;
    p
}

/// An E.164 SAP address.
pub fn e164(a: &[u8]) -> Option<AtmAddress> {
    AtmAddress::new(AtmAddressType::E164, a)
}
