//! The conformance suite: every scenario file under `tests/scenarios/` (the files atmlab's
//! default campaign embeds) runs here; each must PASS, or fail as its `known_defect` says
//! (XFAIL). A known-defect case that passes (XPASS) fails this test: the defect is gone and the
//! mark must go. Captures of every case are decoded by tshark (when installed) and must hold no
//! malformed packet.

use std::collections::BTreeMap;
use std::path::PathBuf;

use atmmcm_hw::scenario::{self, Outcome, RunOptions, Verdict};

fn run_all(pcap_dir: Option<PathBuf>) -> Vec<Outcome> {
    let opts = RunOptions { pcap_dir, ..RunOptions::default() };
    scenario::BUILTIN
        .iter()
        .map(|(file, text)| {
            let sc = scenario::parse(file, text).unwrap_or_else(|e| panic!("{e}"));
            scenario::run(&sc, file, text, &opts).unwrap_or_else(|e| panic!("{file}: {e}"))
        })
        .collect()
}

/// Every case asserts what the tester decoded on the wire and an NDIS sequence.
#[test]
fn every_case_checks_the_wire_and_the_ndis_sequence() {
    let mut bad = Vec::new();
    for (file, text) in scenario::BUILTIN {
        let sc = scenario::parse(file, text).unwrap_or_else(|e| panic!("{e}"));
        use scenario::format::Step;
        let wire = sc.steps.iter().any(|(_, s)| match s {
            Step::ExpectWire(_) | Step::ExpectSilence { .. } => true,
            Step::Expect { seq, .. } => seq.iter().any(|x| x.starts_with("->")),
            _ => false,
        });
        let ndis = sc.steps.iter().any(|(_, s)| match s {
            Step::Expect { seq, .. } | Step::ExpectNot { seq, .. } => {
                seq.iter().any(|x| !x.starts_with("->") && !x.starts_with("<-"))
            }
            _ => false,
        });
        if !wire || !ndis {
            bad.push(format!("{file}: wire checked {wire}, NDIS sequence checked {ndis}"));
        }
    }
    assert!(bad.is_empty(), "cases that do not check both:\n{}", bad.join("\n"));
}

#[test]
fn every_scenario_file_passes_or_fails_as_its_known_defect_says_and_its_capture_decodes() {
    assert!(scenario::BUILTIN.len() >= 200, "the suite has {} cases", scenario::BUILTIN.len());
    let dir = std::env::temp_dir().join(format!("atmmcm-scenarios-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let outcomes = run_all(Some(dir.clone()));
    let mut groups: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    let mut bad = Vec::new();
    for o in &outcomes {
        let g = groups.entry(o.group.as_str()).or_default();
        g.0 += 1;
        g.1 += usize::from(o.verdict == Verdict::Pass);
        g.2 += usize::from(o.verdict == Verdict::XFail);
        if !o.verdict.ok() {
            bad.push(format!("{} {} ({}):\n    {}", o.verdict.name(), o.name, o.file, o.failures.join("\n    ")));
        }
    }
    for (g, (n, p, x)) in &groups {
        println!("{g:<16} {n:>4} cases {p:>4} pass {x:>3} xfail");
    }
    assert!(bad.is_empty(), "{} cases not as filed:\n{}", bad.len(), bad.join("\n"));
    tshark_check(&dir, &outcomes);
    let _ = std::fs::remove_dir_all(&dir);
}

/// All captures, concatenated into one SunATM file (same link type), decoded by tshark once.
fn tshark_check(dir: &std::path::Path, outcomes: &[Outcome]) {
    if std::process::Command::new("tshark").arg("--version").output().is_err() {
        println!("tshark not installed: capture decode check skipped");
        return;
    }
    let mut all = Vec::new();
    for o in outcomes {
        for p in &o.pcaps {
            let b = std::fs::read(p).unwrap();
            assert!(b.len() >= 24, "{}: no pcap header", p.display());
            if all.is_empty() {
                all.extend_from_slice(&b);
            } else {
                all.extend_from_slice(&b[24..]);
            }
        }
    }
    let merged = dir.join("all.pcap");
    std::fs::write(&merged, &all).unwrap();
    let out = std::process::Command::new("tshark")
        .args(["-n", "-r"])
        .arg(&merged)
        .args(["-Y", "_ws.malformed", "-T", "fields", "-e", "frame.number"])
        .output()
        .unwrap();
    assert!(out.status.success(), "tshark failed: {}", String::from_utf8_lossy(&out.stderr));
    let malformed = String::from_utf8_lossy(&out.stdout);
    assert!(malformed.trim().is_empty(), "malformed frames in the campaign's captures: {malformed}");
    let count = std::process::Command::new("tshark").args(["-n", "-r"]).arg(&merged).output().unwrap();
    let frames = String::from_utf8_lossy(&count.stdout).lines().count();
    println!("tshark decoded {frames} frames from {} captures, none malformed", outcomes.len());
    assert!(frames > outcomes.len(), "tshark saw only {frames} frames");
}
