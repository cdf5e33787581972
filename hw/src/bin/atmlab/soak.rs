//! `atmlab soak`: random call churn between two lab nodes with the verifier on, for a wall-clock
//! time; prints rates, then halts and counts violations and leaks.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use atmmcm_hw::host::{VcHandle, VcState};
use atmmcm_hw::lab::{LabConfig, call_to};
use atmmcm_hw::scenario::DriverUnderTest;

/// SplitMix64: a seedable stream for choosing actions (five lines; a crate would add a
/// dependency for nothing the soak needs beyond this).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

pub fn soak(driver: &DriverUnderTest, max_calls: usize, minutes: f64, seed: u64) -> ExitCode {
    let lab = match driver.lab(LabConfig::default().nodes(&[b"1001", b"1002"])) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("atmlab: soak: {e}");
            return ExitCode::from(2);
        }
    };
    let a = lab.node(0).client();
    let b = lab.node(1).client();
    let _ = a.open_af();
    let _ = b.open_af();
    let _ = b.register_sap(None);
    let mut rng = Rng(seed);
    let wall = Instant::now();
    let limit = Duration::from_secs_f64(minutes.max(0.0) * 60.0);
    let mut live: Vec<VcHandle> = Vec::new();
    let (mut placed, mut connected, mut closed, mut remote, mut frames) = (0u64, 0u64, 0u64, 0u64, 0u64);
    let mut last_print = Instant::now();
    println!("soak: up to {max_calls} calls 1001 -> 1002, {minutes} min, seed {seed}, driver {}", driver.name());
    while wall.elapsed() < limit {
        match rng.below(10) {
            0..=3 if live.len() < max_calls => {
                if let Ok(vc) = a.create_vc() {
                    a.make_call(vc, call_to(b"1002"));
                    live.push(vc);
                    placed += 1;
                }
            }
            4 | 5 if !live.is_empty() => {
                let vc = live.swap_remove(rng.below(live.len()));
                a.close_call(vc, None, None);
                closed += 1;
            }
            6 => {
                // The far end hangs up one of its calls.
                let theirs: Vec<VcHandle> =
                    b.vcs().iter().filter(|v| v.state == VcState::Connected).map(|v| v.vc).collect();
                if !theirs.is_empty() {
                    b.close_call(theirs[rng.below(theirs.len())], None, None);
                    remote += 1;
                }
            }
            7 if !live.is_empty() => {
                let vc = live[rng.below(live.len())];
                if a.state(vc) == Some(VcState::Connected) {
                    let n = 1 + rng.below(4);
                    a.send(vc, (0..n).map(|_| vec![0x5a; 1 + rng.below(2000)]).collect());
                    frames += n as u64;
                }
            }
            _ => {}
        }
        lab.advance(Duration::from_millis(1 + rng.below(20) as u64));
        live.retain(|vc| matches!(a.state(*vc), Some(VcState::MakePending | VcState::Connected)));
        connected = a.incoming_calls().len() as u64 + b.incoming_calls().len() as u64;
        if last_print.elapsed() >= Duration::from_secs(10) {
            last_print = Instant::now();
            println!(
                "  {:>5.0}s wall: {placed} placed, {closed} closed, {remote} remote closes, {frames} frames, {} live",
                wall.elapsed().as_secs_f64(),
                live.len()
            );
        }
    }
    let secs = wall.elapsed().as_secs_f64().max(1e-9);
    let virt = lab.now().as_secs_f64().max(1e-9);
    println!(
        "soak: {placed} calls placed ({:.0}/s wall, {:.0}/s virtual), {closed} closed, {remote} closed by the far end, {frames} frames, {connected} offered at 1002",
        placed as f64 / secs,
        placed as f64 / virt
    );
    lab.halt_all();
    let mut bad = 0;
    for n in &lab.nodes {
        n.ndis.check_outstanding();
        let v = n.ndis.violations();
        for x in v.iter().take(5) {
            println!("  violation on {}: {} {}", n.name, x.rule, x.message);
        }
        let findings = n.sys_findings();
        for (r, m) in findings.iter().take(5) {
            println!("  sys-lab finding on {}: {r}: {m}", n.name);
        }
        let leaks = n.held_after_halt();
        println!(
            "  {}: {} violations, {} sys-lab findings, {leaks} driver objects held after halt",
            n.name,
            v.len(),
            findings.len()
        );
        bad += v.len() + findings.len() + leaks;
    }
    if bad == 0 {
        println!("RESULT: PASS (soak)");
        ExitCode::SUCCESS
    } else {
        println!("RESULT: FAIL (soak)");
        ExitCode::from(1)
    }
}
