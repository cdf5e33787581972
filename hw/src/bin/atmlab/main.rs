//! atmlab — the vendor signalling lab runner: scenario files against the atmmcm driver in the lab
//! (emulated NDIS with its CoNDIS verifier, NIC model, ATM network with a network-side UNI
//! tester). See `atmlab --help` and README "Scenario files".

mod builtin;
mod soak;

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use atmmcm_hw::scenario::{self, DriverUnderTest, Outcome, RunOptions, Scenario, Verdict};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

const AFTER_HELP: &str = "\
Examples:
  atmlab                                   run the default campaign (every built-in case),
                                           writing atmlab-out/<case>.pcap and .trace
  atmlab run tests/scenarios/restart       run one group's files
  atmlab run my_case.toml --trace          one file, with the NDIS calls and the wire interleaved
  atmlab run tests/scenarios --pcap caps   captures per case (one per port) in caps/
  atmlab run tests/scenarios --json        verdicts as JSON
  atmlab list                              the built-in cases by group
  atmlab soak --calls 200 --minutes 1      random churn, verifier on, rates printed
  atmlab tour | storm | clearing           the guided runs of the first atmlab
  atmlab flap --calls 65534                65 534 calls, link lost, T309 clears them all, halt
  atmlab --driver sys flap --calls 65534   the same flap against atmmcm.sys (about 20 s, 0.8 GB)
  atmlab flap --calls 500 --fault leak     a deliberately broken flap: the verdict must be FAIL
  atmlab --driver sys                      the campaign against the built atmmcm.sys (scripts/build-sys)
  atmlab --driver sys tour                 the tour against atmmcm.sys; --sys-image PATH for another image

Drivers:
  core  the driver core (atmmcm::Adapter) linked into the lab (default)
  sys   the real atmmcm.sys, loaded by the sys-lab (PE loader + NDIS/kernel emulation on the C ABI,
        x86_64 Linux): the image from --sys-image, else $ATMMCM_SYS, else
        target/x86_64-pc-windows-msvc/release/atmmcm.sys. A case whose only unmade check is a
        control-path counter read after the .sys was halted is N/A, not PASS. flap: the same
        procedure and verdict for both; the .sys's own counts are not readable, so its verdict
        takes the verifier's count of what crossed NDIS, the wire's view of the signalling link
        and the sys-lab's count of the image's NDIS allocations (HALT-NO-LEAK).

Exit status:
  0  every case passed (XFAIL, a known defect failing as filed, counts as passed; N/A cases
     failed nothing and are counted apart)
  1  a case failed, or a known-defect case passed (XPASS)
  2  bad arguments, an unreadable path, a malformed scenario file (one line: file:line: problem),
     a capture that cannot be written, or a driver that cannot be loaded (--driver sys: no image)";

#[derive(Parser, Debug)]
#[command(name = "atmlab", version, about = "Signalling lab for the atmmcm CoNDIS call manager: scenario files, verdicts, captures", after_help = AFTER_HELP)]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
    /// Verdicts as JSON on stdout (no table, no progress bar).
    #[arg(long, global = true)]
    json: bool,
    /// Print each case's NDIS calls interleaved with the wire.
    #[arg(long, global = true)]
    trace: bool,
    /// Write SunATM captures (one per port) into this directory.
    #[arg(long, global = true, value_name = "DIR")]
    pcap: Option<PathBuf>,
    /// Seed for randomised runs (soak).
    #[arg(long, global = true, default_value_t = 1)]
    seed: u64,
    /// The driver under test.
    #[arg(long, global = true, value_enum, default_value_t = DriverArg::Core)]
    driver: DriverArg,
    /// The atmmcm.sys image for --driver sys (default: $ATMMCM_SYS, else
    /// target/x86_64-pc-windows-msvc/release/atmmcm.sys).
    #[arg(long, global = true, value_name = "PATH")]
    sys_image: Option<PathBuf>,
}

/// `atmlab flap --nic`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum FlapNic {
    /// The driver's RegNic over the ATM1 model: registers, DMA rings, SAR, cells.
    Atm1,
    /// A frame-level stand-in: frames straight to the network.
    Frame,
}

/// `atmlab flap --fault`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum FaultArg {
    /// The PHY never comes back.
    LinkStaysDown,
    /// The client never closes the calls T309 cleared.
    ClientKeepsCalls,
    /// The driver leaks (core: a NIC connection; sys: a pool block through NDIS).
    Leak,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum DriverArg {
    /// The driver core linked into the lab.
    Core,
    /// The real atmmcm.sys (scripts/build-sys), loaded by the sys-lab.
    Sys,
}

/// The driver `cli` asks for; an error line when the `.sys` cannot be used.
fn driver(cli: &Cli) -> Result<DriverUnderTest, String> {
    match cli.driver {
        DriverArg::Core => Ok(DriverUnderTest::Core),
        DriverArg::Sys => sys_driver(cli),
    }
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn sys_driver(cli: &Cli) -> Result<DriverUnderTest, String> {
    let p = cli.sys_image.clone().unwrap_or_else(atmmcm_hw::sys::default_image_path);
    match std::fs::metadata(&p) {
        Ok(m) if m.is_file() => Ok(DriverUnderTest::Sys(p)),
        Ok(_) => Err(format!("{}: not a file (--driver sys needs the atmmcm.sys image)", p.display())),
        Err(e) => Err(format!(
            "{}: cannot read the atmmcm.sys image: {e} (build it with scripts/build-sys, or give --sys-image PATH or $ATMMCM_SYS)",
            p.display()
        )),
    }
}

#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
fn sys_driver(_: &Cli) -> Result<DriverUnderTest, String> {
    Err("--driver sys needs the sys-lab, which runs on x86_64 Linux only".into())
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Run scenario files or directories of them (recursively).
    Run {
        #[arg(required = true, value_name = "FILE|DIR")]
        paths: Vec<PathBuf>,
    },
    /// List the built-in cases.
    List,
    /// Random call churn with the verifier on; rates printed.
    Soak {
        /// Calls kept up at most at once.
        #[arg(long, default_value_t = 100)]
        calls: usize,
        /// Wall-clock minutes to run (fractions allowed).
        #[arg(long, default_value_t = 1.0)]
        minutes: f64,
    },
    /// The guided tour: routed call, CloseData, incoming call, link loss, halt.
    Tour,
    /// 500 calls set up and released at once; rates.
    Storm,
    /// The 13 clearing conformance cases written in Rust.
    Clearing,
    /// Link flap at scale: N calls connected, the PHY lost, T309 clears every call, the link
    /// comes back, halt; verdict from the verifier, the NIC and the driver's allocations. Either
    /// driver over the ATM1 register-level NIC (65 536 connections; --driver sys: atmmcm.sys with
    /// MaxVcs = MaxActiveVcs = N in its registry), or the core with --nic frame over a
    /// frame-level stand-in.
    Flap {
        /// Calls connected before the link goes (at most MaxVcs, 65 534).
        #[arg(long, default_value_t = 65_534, value_parser = clap::value_parser!(u32).range(1..=65_534))]
        calls: u32,
        /// The NIC under the driver (frame: --driver core only).
        #[arg(long, value_enum, default_value_t = FlapNic::Atm1)]
        nic: FlapNic,
        /// Break the flap on purpose, to see the verdict FAIL (exit 1).
        #[arg(long, value_enum)]
        fault: Option<FaultArg>,
    },
}

/// A scenario ready to run: where it came from, its text, the parse.
struct Loaded {
    file: String,
    text: String,
    sc: Scenario,
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    if meta.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| format!("{}: cannot read: {e}", path.display()))?
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() || p.extension().is_some_and(|x| x == "toml") {
                collect(&p, out)?;
            }
        }
    } else {
        out.push(path.to_path_buf());
    }
    Ok(())
}

fn load_paths(paths: &[PathBuf]) -> Result<Vec<Loaded>, Vec<String>> {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        if let Err(e) = collect(p, &mut files) {
            errors.push(e);
        }
    }
    let mut out = Vec::new();
    for f in files {
        let file = f.display().to_string();
        match std::fs::read_to_string(&f) {
            Ok(text) => match scenario::parse(&file, &text) {
                Ok(sc) => out.push(Loaded { file, text, sc }),
                Err(e) => errors.push(e.to_string()),
            },
            Err(e) => errors.push(format!("{file}: cannot read: {e}")),
        }
    }
    if errors.is_empty() && out.is_empty() {
        errors.push("no scenario files (*.toml) found".into());
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

fn load_builtin() -> Result<Vec<Loaded>, Vec<String>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (file, text) in scenario::BUILTIN {
        match scenario::parse(file, text) {
            Ok(sc) => out.push(Loaded { file: file.to_string(), text: text.to_string(), sc }),
            Err(e) => errors.push(e.to_string()),
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

fn secs(d: Duration) -> String {
    format!("{:.3}s", d.as_secs_f64())
}

fn table(outcomes: &[Outcome], driver: &DriverUnderTest) {
    let w = outcomes.iter().map(|o| o.name.len()).max().unwrap_or(4).clamp(4, 72);
    println!(
        "{:<w$}  {:<7} {:>5} {:>6} {:>5} {:>4} {:>5} {:>10} {:>8}",
        "case", "verdict", "calls", "frames", "ndis", "viol", "leaks", "virtual", "real"
    );
    for o in outcomes {
        println!(
            "{:<w$}  {:<7} {:>5} {:>6} {:>5} {:>4} {:>5} {:>10} {:>8}",
            o.name,
            o.verdict.name(),
            o.calls,
            o.frames,
            o.checked,
            o.violations,
            o.leaks,
            secs(o.virtual_time),
            format!("{:.0}ms", o.real_time.as_secs_f64() * 1e3),
        );
    }
    println!();
    let mut groups: BTreeMap<&str, [usize; 4]> = BTreeMap::new();
    for o in outcomes {
        let g = groups.entry(o.group.as_str()).or_default();
        g[0] += 1;
        g[1] += usize::from(o.verdict == Verdict::Pass);
        g[2] += usize::from(o.verdict == Verdict::XFail);
        g[3] += usize::from(o.verdict == Verdict::NotObservable);
    }
    println!("driver: {}", driver_label(driver));
    println!("{:<20} {:>5} {:>5} {:>5} {:>5}", "group", "cases", "pass", "xfail", "n/a");
    for (g, [n, p, x, na]) in &groups {
        println!("{g:<20} {n:>5} {p:>5} {x:>5} {na:>5}");
    }
}

fn driver_label(d: &DriverUnderTest) -> String {
    match d {
        DriverUnderTest::Core => "core (atmmcm::Adapter in the lab)".into(),
        DriverUnderTest::Sys(p) => format!("sys ({} in the sys-lab)", p.display()),
    }
}

fn report_failures(outcomes: &[Outcome]) {
    for o in outcomes {
        match o.verdict {
            Verdict::Fail => {
                println!("FAIL  {} ({})", o.name, o.file);
                for f in &o.failures {
                    println!("      {f}");
                }
            }
            Verdict::XFail => {
                println!("XFAIL {} — known defect: {}", o.name, o.known_defect.as_deref().unwrap_or(""));
                if let Some(f) = o.failures.first() {
                    println!("      {f}");
                }
            }
            Verdict::XPass => {
                println!(
                    "XPASS {} — filed as a known defect ({}) but passed: the defect is fixed or the case is wrong",
                    o.name,
                    o.known_defect.as_deref().unwrap_or("")
                );
            }
            Verdict::NotObservable => {
                println!("N/A   {} — passed every check the driver can show; not made:", o.name);
                for f in &o.not_observable {
                    println!("      {f}");
                }
            }
            Verdict::Pass => {}
        }
    }
}

fn json(outcomes: &[Outcome], driver: &DriverUnderTest) -> String {
    let cases: Vec<serde_json::Value> = outcomes
        .iter()
        .map(|o| {
            serde_json::json!({
                "case": o.name, "group": o.group, "file": o.file, "uni": o.uni.to_string(),
                "verdict": o.verdict.name(), "known_defect": o.known_defect, "failures": o.failures,
                "not_observable": o.not_observable,
                "calls": o.calls, "frames": o.frames, "ndis_checked": o.checked,
                "violations": o.violations, "leaks": o.leaks,
                "virtual_s": o.virtual_time.as_secs_f64(), "real_s": o.real_time.as_secs_f64(),
                "pcaps": o.pcaps.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
            })
        })
        .collect();
    let passed = outcomes.iter().filter(|o| o.verdict.ok()).count();
    let na = outcomes.iter().filter(|o| o.verdict == Verdict::NotObservable).count();
    serde_json::json!({ "driver": driver.name(), "cases": cases, "total": outcomes.len(), "ok": passed, "not_observable": na })
        .to_string()
}

struct Campaign<'a> {
    cli: &'a Cli,
    /// Directory for `.pcap` and `.trace` of every case.
    out_dir: Option<PathBuf>,
}

fn run_all(c: &Campaign<'_>, loaded: &[Loaded], driver: DriverUnderTest) -> ExitCode {
    let pcap_dir = c.cli.pcap.clone().or_else(|| c.out_dir.clone());
    for d in [&pcap_dir, &c.out_dir].into_iter().flatten() {
        if let Err(e) = std::fs::create_dir_all(d) {
            eprintln!("atmlab: {}: cannot create directory: {e}", d.display());
            return ExitCode::from(2);
        }
    }
    let opts = RunOptions { driver: driver.clone(), pcap_dir, trace: c.cli.trace || c.out_dir.is_some() };
    let bar = if !c.cli.json && std::io::stderr().is_terminal() && loaded.len() > 1 {
        let b = ProgressBar::new(loaded.len() as u64);
        if let Ok(st) = ProgressStyle::with_template("{bar:40} {pos}/{len} {elapsed} {msg}") {
            b.set_style(st);
        }
        b
    } else {
        ProgressBar::hidden()
    };
    let mut outcomes = Vec::new();
    for l in loaded {
        bar.set_message(l.sc.name.clone());
        let o = match scenario::run(&l.sc, &l.file, &l.text, &opts) {
            Ok(o) => o,
            Err(e) => {
                bar.finish_and_clear();
                eprintln!("atmlab: {e}");
                return ExitCode::from(2);
            }
        };
        if let Some(dir) = &c.out_dir {
            let p = dir.join(format!("{}.trace", o.name));
            if let Err(e) = std::fs::write(&p, o.trace.join("\n") + "\n") {
                bar.finish_and_clear();
                eprintln!("atmlab: cannot write {}: {e}", p.display());
                return ExitCode::from(2);
            }
        }
        if c.cli.trace && !c.cli.json {
            bar.suspend(|| {
                println!("== {} ({}) {}", o.name, o.file, o.verdict.name());
                for line in &o.trace {
                    println!("{line}");
                }
                println!();
            });
        }
        bar.inc(1);
        outcomes.push(o);
    }
    bar.finish_and_clear();
    let ok = outcomes.iter().all(|o| o.verdict.ok());
    if c.cli.json {
        println!("{}", json(&outcomes, &driver));
    } else {
        table(&outcomes, &driver);
        println!();
        report_failures(&outcomes);
        let n = |v: Verdict| outcomes.iter().filter(|o| o.verdict == v).count();
        println!(
            "\n{} cases against {}: {} pass, {} fail, {} xfail (known defects), {} xpass, {} n/a (a check the driver cannot show)",
            outcomes.len(),
            driver.name(),
            n(Verdict::Pass),
            n(Verdict::Fail),
            n(Verdict::XFail),
            n(Verdict::XPass),
            n(Verdict::NotObservable)
        );
        let vio: usize = outcomes.iter().map(|o| o.violations).sum();
        let leaks: usize = outcomes.iter().map(|o| o.leaks).sum();
        println!("verifier violations: {vio}; driver objects held after halt: {leaks}");
        if let Some(d) = &c.out_dir {
            println!("captures and traces in {}/ (tshark -r <case>.pcap -Y q2931)", d.display());
        } else if let Some(d) = &c.cli.pcap {
            println!("captures in {}/", d.display());
        }
        println!("RESULT: {}", if ok { "PASS" } else { "FAIL" });
    }
    if ok { ExitCode::SUCCESS } else { ExitCode::from(1) }
}

fn legacy(run: Result<builtin::Run, String>, name: &str) -> ExitCode {
    let run = match run {
        Ok(r) => r,
        Err(e) => {
            eprintln!("atmlab: {name}: {e}");
            return ExitCode::from(2);
        }
    };
    if run.failures.is_empty() {
        println!("\nRESULT: PASS ({name})");
        ExitCode::SUCCESS
    } else {
        println!("\nRESULT: FAIL ({name}): {} check(s) failed", run.failures.len());
        for f in &run.failures {
            println!("  - {f}");
        }
        ExitCode::from(1)
    }
}

fn legacy_pcap(cli: &Cli, name: &str) -> Result<Option<PathBuf>, ExitCode> {
    let Some(dir) = &cli.pcap else { return Ok(None) };
    let p = dir.join(format!("{name}.pcap"));
    if let Err(e) = std::fs::create_dir_all(dir).and_then(|()| std::fs::File::create(&p).map(|_| ())) {
        eprintln!("atmlab: cannot write capture {}: {e}", p.display());
        return Err(ExitCode::from(2));
    }
    Ok(Some(p))
}

/// `atmlab flap`: the scale lab's link flap, with its verdict, against either driver.
fn flap(driver: &DriverUnderTest, calls: usize, nic: FlapNic, fault: Option<FaultArg>) -> ExitCode {
    use atmmcm_hw::scale::{FlapDriver, FlapFault, NicKind};
    let kind = match nic {
        FlapNic::Atm1 => NicKind::Atm1,
        FlapNic::Frame => NicKind::Frame,
    };
    let which = match driver {
        DriverUnderTest::Core => FlapDriver::Core(kind),
        DriverUnderTest::Sys(_) if kind == NicKind::Frame => {
            eprintln!("atmlab: flap --nic frame is the core's stand-in NIC; atmmcm.sys drives the ATM1 NIC only");
            return ExitCode::from(2);
        }
        DriverUnderTest::Sys(p) => FlapDriver::Sys(p.clone()),
    };
    eprintln!(
        "atmlab: flap: {calls} calls up on the {kind:?} NIC, {}, then the link goes (T309 = 10 s virtual) ...",
        driver_label(driver)
    );
    let fault = fault.map(|f| match f {
        FaultArg::LinkStaysDown => FlapFault::LinkStaysDown,
        FaultArg::ClientKeepsCalls => FlapFault::ClientKeepsCalls,
        FaultArg::Leak => FlapFault::Leak,
    });
    if let Some(f) = fault {
        eprintln!("atmlab: flap: deliberately broken ({f:?}): the verdict must be FAIL");
    }
    let traps_before = sys_traps().filter(|_| matches!(which, FlapDriver::Sys(_)));
    let r = match atmmcm_hw::scale::run_flap(&which, calls, fault) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("atmlab: flap: {e}");
            return ExitCode::from(2);
        }
    };
    println!("driver                 {}", driver_label(driver));
    println!("calls                  {}", r.calls);
    println!("NIC                    {:?}", r.nic);
    println!("connected              {}", r.connected);
    println!("NIC connections (peak) {}", r.nic_connections_before_loss);
    if let Some((tx, rx)) = r.cells {
        println!("NIC cells sent / rcvd  {tx} / {rx}");
    }
    println!("incoming closes (#27)  {}", r.incoming_closes);
    println!("live after T309        {:?} (verifier)", r.live_after_t309);
    if let Some(l) = r.driver_live_after_t309 {
        println!("                       {l:?} (driver)");
    }
    println!("NIC connections T309   {}", r.nic_connections_after_t309);
    println!("signalling back        {}", r.signalling_back);
    println!("live after halt        {:?}", r.live_after_halt);
    println!("held after halt        {}", r.held_after_halt);
    println!("NIC connections open   {}", r.nic_connections_after_halt);
    println!("verifier violations    {}", r.violations.len());
    for v in r.violations.iter().take(20) {
        println!("  {v}");
    }
    println!("findings               {}", r.findings.len());
    for f in r.findings.iter().take(20) {
        println!("  {f}");
    }
    println!(
        "wall: start {:.2} s, set-up {:.2} s ({:.0} calls/s), teardown {:.2} s ({:.2} us per call), halt {:.2} s",
        r.wall_start.as_secs_f64(),
        r.wall_setup.as_secs_f64(),
        calls as f64 / r.wall_setup.as_secs_f64().max(1e-9),
        r.wall_teardown.as_secs_f64(),
        r.wall_teardown.as_secs_f64() * 1e6 / calls as f64,
        r.wall_halt.as_secs_f64(),
    );
    if let (Some(a), Some(b)) = (traps_before, sys_traps()) {
        let d: Vec<u64> = a.iter().zip(b).map(|(a, b)| b - a).collect();
        println!(
            "sys-lab traps: {} BAR0 accesses, {} mov cr8, {} KUSER_SHARED_DATA reads ({:.1} per call in all)",
            d[0],
            d[1],
            d[2],
            d.iter().sum::<u64>() as f64 / calls as f64
        );
    }
    let failures = r.failures();
    if failures.is_empty() {
        println!("RESULT: PASS (flap, {calls} calls)");
        ExitCode::SUCCESS
    } else {
        println!("RESULT: FAIL (flap, {calls} calls)");
        for f in &failures {
            println!("  - {f}");
        }
        ExitCode::from(1)
    }
}

/// The sys-lab's trap counters (BAR0, cr8, KUSER_SHARED_DATA): each trapped instruction is a
/// SIGSEGV round trip, what the `.sys` flap spends most of its time on.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn sys_traps() -> Option<[u64; 3]> {
    use atmmcm_hw::sys::trap::{CR8_TRAPS, KUSER_TRAPS, MMIO_TRAPS};
    use std::sync::atomic::Ordering::Relaxed;
    Some([MMIO_TRAPS.load(Relaxed), CR8_TRAPS.load(Relaxed), KUSER_TRAPS.load(Relaxed)])
}

#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
fn sys_traps() -> Option<[u64; 3]> {
    None
}

fn errors(errs: Vec<String>) -> ExitCode {
    for e in errs {
        eprintln!("{e}");
    }
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if matches!(cli.cmd, Some(Cmd::List)) {
        return match load_builtin() {
            Ok(l) => {
                for x in &l {
                    let tag = if x.sc.known_defect.is_some() { " [known defect]" } else { "" };
                    println!("{:<14} {:<64} UNI {}  {}{tag}", x.sc.group, x.sc.name, x.sc.uni, x.sc.summary);
                }
                println!("{} built-in cases; also: tour, storm, clearing, soak, flap", l.len());
                ExitCode::SUCCESS
            }
            Err(errs) => errors(errs),
        };
    }
    let driver = match driver(&cli) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("atmlab: {e}");
            return ExitCode::from(2);
        }
    };
    match &cli.cmd {
        None => match load_builtin() {
            Ok(l) => run_all(&Campaign { cli: &cli, out_dir: Some(PathBuf::from("atmlab-out")) }, &l, driver),
            Err(errs) => errors(errs),
        },
        Some(Cmd::Run { paths }) => match load_paths(paths) {
            Ok(l) => run_all(&Campaign { cli: &cli, out_dir: None }, &l, driver),
            Err(errs) => errors(errs),
        },
        // Answered above, before a driver is chosen.
        Some(Cmd::List) => ExitCode::SUCCESS,
        Some(Cmd::Soak { calls, minutes }) => soak::soak(&driver, *calls, *minutes, cli.seed),
        Some(Cmd::Tour) => match legacy_pcap(&cli, "tour") {
            Ok(p) => legacy(builtin::tour(&driver, p), "tour"),
            Err(c) => c,
        },
        Some(Cmd::Storm) => match legacy_pcap(&cli, "storm") {
            Ok(p) => legacy(builtin::storm(&driver, p), "storm"),
            Err(c) => c,
        },
        Some(Cmd::Clearing) => legacy(builtin::clearing(&driver), "clearing"),
        Some(Cmd::Flap { calls, nic, fault }) => flap(&driver, *calls as usize, *nic, *fault),
    }
}
