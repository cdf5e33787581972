//! The link flap at scale, one procedure for both drivers ([`run_flap`]), and its verdict
//! ([`FlapReport::failures`]).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::{CoreDriver, FrameNic, NicKind, ScaleDriver, ScaleLab, Setup};
use crate::host::{LiveCounts, When};
use crate::lab::LabNic;

/// The driver a flap runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FlapDriver {
    /// The driver core linked into the lab, on this NIC.
    Core(NicKind),
    /// The real `atmmcm.sys` at this path in the sys-lab, on the ATM1 model (x86_64 Linux).
    Sys(PathBuf),
}

/// A deliberately wrong flap, to see the verdict fail on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlapFault {
    /// The PHY never comes back: the signalling link stays down.
    LinkStaysDown,
    /// The client never answers ProtocolClIncomingCloseCall with NdisClCloseCall: the calls stay
    /// after T309 and the driver holds them until halt.
    ClientKeepsCalls,
    /// The driver leaks one thing while the calls are up ([`ScaleDriver::inject_leak`]).
    Leak,
}

/// What [`run_flap`] saw.
#[derive(Debug)]
pub struct FlapReport {
    pub calls: usize,
    /// "core" or "sys".
    pub driver: &'static str,
    pub nic: NicKind,
    /// Calls connected (NdisMCmDispatchCallConnected) before the loss.
    pub connected: usize,
    /// Connections open at the NIC before the loss (every call's and the signalling VC).
    pub nic_connections_before_loss: usize,
    /// Cells the NIC's PHY sent and received up to halt (None: frame-level NIC).
    pub cells: Option<(u32, u32)>,
    /// Calls closed towards the client after T309 (NdisMCmDispatchIncomingCloseCall).
    pub incoming_closes: usize,
    /// Objects the driver handed out across NDIS and did not retire, after T309 (the verifier's
    /// count: the same for either driver).
    pub live_after_t309: LiveCounts,
    /// The driver's own count after T309 (`None` for `atmmcm.sys`, whose insides the lab cannot
    /// read).
    pub driver_live_after_t309: Option<LiveCounts>,
    /// Connections open at the NIC after T309 (the signalling VC at most).
    pub nic_connections_after_t309: usize,
    /// The signalling link back after the PHY returned, as the wire shows it (the network's
    /// SSCOP in Data Transfer Ready and answered by the adapter's).
    pub signalling_back: bool,
    /// The driver's own view of it (`None` for `atmmcm.sys`).
    pub driver_signalling_back: Option<bool>,
    /// The verifier's count after MiniportHaltEx.
    pub live_after_halt: LiveCounts,
    /// What the driver still holds after halt beside that (the `.sys`: its NDIS allocations; the
    /// core: its live objects).
    pub held_after_halt: usize,
    /// CoNDIS verifier violations.
    pub violations: Vec<String>,
    /// What the lab saw outside the verifier: NIC model violations, sys-lab findings, stack depth.
    pub findings: Vec<String>,
    /// NIC connections still open after halt (the signalling VC is closed by halt).
    pub nic_connections_after_halt: usize,
    /// Wall time of MiniportInitializeEx up to the signalling link (MaxVcs = `calls`).
    pub wall_start: Duration,
    pub wall_setup: Duration,
    pub wall_teardown: Duration,
    /// MiniportHaltEx.
    pub wall_halt: Duration,
}

impl FlapReport {
    /// Every check the verdict makes that failed, as a line each; empty when the flap passed:
    /// every call connected (a NIC connection each) and cleared, the link back, nothing left
    /// after T309 nor after halt, no violation, no finding.
    pub fn failures(&self) -> Vec<String> {
        let mut f = Vec::new();
        let mut check = |ok: bool, what: String| {
            if !ok {
                f.push(what);
            }
        };
        check(self.connected == self.calls, format!("{} of {} calls connected", self.connected, self.calls));
        check(
            self.nic_connections_before_loss == self.calls + 1,
            format!(
                "{} NIC connections before the loss, not {} (calls + 0/5)",
                self.nic_connections_before_loss,
                self.calls + 1
            ),
        );
        check(
            self.incoming_closes == self.calls,
            format!("{} of {} calls closed towards the client after T309", self.incoming_closes, self.calls),
        );
        let calls_left = |l: &LiveCounts| l.vcs == 0 && l.calls == 0 && l.parties == 0;
        check(calls_left(&self.live_after_t309), format!("left after T309 (verifier): {:?}", self.live_after_t309));
        if let Some(l) = &self.driver_live_after_t309 {
            check(calls_left(l), format!("left after T309 (driver): {l:?}"));
        }
        check(
            self.nic_connections_after_t309 <= 1,
            format!("{} NIC connections after T309 (the signalling VC at most)", self.nic_connections_after_t309),
        );
        check(self.signalling_back, "the signalling link did not come back".into());
        if let Some(up) = self.driver_signalling_back {
            check(up, "the driver's signalling link did not come back".into());
        }
        check(self.live_after_halt == LiveCounts::default(), format!("left after halt: {:?}", self.live_after_halt));
        check(self.held_after_halt == 0, format!("{} driver allocations held after halt", self.held_after_halt));
        check(self.violations.is_empty(), format!("{} verifier violation(s)", self.violations.len()));
        check(self.findings.is_empty(), format!("{} finding(s) outside the verifier", self.findings.len()));
        check(
            self.nic_connections_after_halt == 0,
            format!("{} NIC connections open after halt", self.nic_connections_after_halt),
        );
        f
    }

    /// The verdict: [`FlapReport::failures`] is empty.
    pub fn passed(&self) -> bool {
        self.failures().is_empty()
    }
}

/// The link flap with `calls` calls (up to the VC table, 65 534) on the driver core over `nic`.
/// `atmlab flap` runs it.
pub fn link_flap(calls: usize, nic: NicKind) -> FlapReport {
    match run_flap(&FlapDriver::Core(nic), calls, None) {
        Ok(r) => r,
        Err(e) => panic!("scale lab: {e}"),
    }
}

/// The link flap with `calls` calls on `driver` (see the module docs), `fault` deliberately
/// broken. An error when the driver cannot be loaded or started.
pub fn run_flap(driver: &FlapDriver, calls: usize, fault: Option<FlapFault>) -> Result<FlapReport, String> {
    let max_vcs = calls.max(1);
    match driver {
        FlapDriver::Core(NicKind::Atm1) => {
            flap("core", NicKind::Atm1, calls, fault, |s| CoreDriver::<LabNic>::build(s, max_vcs))
        }
        FlapDriver::Core(NicKind::Frame) => {
            flap("core", NicKind::Frame, calls, fault, |s| CoreDriver::<FrameNic>::build(s, max_vcs))
        }
        #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
        FlapDriver::Sys(path) => flap("sys", NicKind::Atm1, calls, fault, |s| super::SysImage::build(s, path, max_vcs)),
        #[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
        FlapDriver::Sys(path) => Err(format!("{} needs the sys-lab (x86_64 Linux)", path.display())),
    }
}

/// The procedure, whichever the driver.
fn flap<D: ScaleDriver>(
    driver: &'static str,
    nic: NicKind,
    calls: usize,
    fault: Option<FlapFault>,
    build: impl FnOnce(&Setup<'_>) -> Result<D, String>,
) -> Result<FlapReport, String> {
    let t = Instant::now();
    let lab = ScaleLab::try_new(build)?;
    let wall_start = t.elapsed();
    let client = lab.ndis.client();
    if fault == Some(FlapFault::ClientKeepsCalls) {
        client.close_on_incoming_close(When::Never);
    }
    let t = Instant::now();
    lab.offer_calls(calls);
    let wall_setup = t.elapsed();
    let count = |name: &str| lab.ndis.ndis_calls().iter().filter(|n| n.starts_with(name)).count();
    let connected = count("NdisMCmDispatchCallConnected");
    let nic_connections_before_loss = lab.driver.open_connections();
    if fault == Some(FlapFault::Leak) {
        lab.driver.inject_leak();
    }
    let t = Instant::now();
    lab.set_link(false);
    // T309 (10 s): active calls survive it, then are cleared with #27.
    lab.advance(Duration::from_secs(11));
    let wall_teardown = t.elapsed();
    let incoming_closes = count("NdisMCmDispatchIncomingCloseCall(DEST_OUT_OF_ORDER)");
    let live_after_t309 = lab.ndis.live();
    let driver_live_after_t309 = lab.driver.live_objects();
    let nic_connections_after_t309 = lab.driver.open_connections();
    if fault != Some(FlapFault::LinkStaysDown) {
        lab.set_link(true);
    }
    lab.advance(Duration::from_secs(2));
    let signalling_back = lab.peer_link_up();
    let driver_signalling_back = lab.driver.signalling_up();
    // Before halt: the .sys resets the NIC at halt, which clears the counters.
    let cells = lab.driver.cells();
    let t = Instant::now();
    lab.halt();
    let wall_halt = t.elapsed();
    lab.settle();
    lab.ndis.check_outstanding();
    Ok(FlapReport {
        calls,
        driver,
        nic,
        connected,
        nic_connections_before_loss,
        cells,
        incoming_closes,
        live_after_t309,
        driver_live_after_t309,
        nic_connections_after_t309,
        signalling_back,
        driver_signalling_back,
        live_after_halt: lab.ndis.live(),
        held_after_halt: lab.driver.held(),
        violations: lab.ndis.violations().iter().map(|v| v.to_string()).collect(),
        findings: lab.driver.findings(),
        nic_connections_after_halt: lab.driver.open_connections(),
        wall_start,
        wall_setup,
        wall_teardown,
        wall_halt,
    })
}
