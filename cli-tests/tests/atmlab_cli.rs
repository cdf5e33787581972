//! Run with `cargo build --release --bin atmlab && cargo test -p atmlab-cli-tests` (see
//! cli-tests/Cargo.toml for why the binary is built apart); `$ATMLAB` names another binary.
//! atmlab as a person runs it: exit codes, one-line file errors, captures, JSON, the default
//! campaign.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace's target directory.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

/// The binary under test: `$ATMLAB`, else the release build. Missing is a failure, never a skip.
fn atmlab_bin() -> PathBuf {
    let p = std::env::var_os("ATMLAB").map(PathBuf::from).unwrap_or_else(|| target_dir().join("release/atmlab"));
    assert!(p.is_file(), "{} missing: run `cargo build --release --bin atmlab` first (or set ATMLAB)", p.display());
    p
}

fn atmlab(args: &[&str], cwd: &Path) -> Output {
    Command::new(atmlab_bin()).args(args).current_dir(cwd).output().expect("atmlab runs")
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("atmlab-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

const PASSING: &str = r#"summary = "close: RELEASE #16"
[[step]]
do = "open_af"
[[step]]
do = "active_call"
vc = "a"
[[step]]
do = "close_call"
vc = "a"
[[step]]
do = "expect_wire"
msg = "RELEASE"
vc = "a"
causes = [16]
[[step]]
do = "expect"
vc = "a"
seq = ["ProtocolCmCloseCall", "NdisMCmCloseCallComplete(SUCCESS)"]
"#;

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn help_has_examples_and_exit_codes() {
    let o = atmlab(&["--help"], &tmp("help"));
    assert_eq!(o.status.code(), Some(0));
    let s = stdout(&o);
    assert!(s.contains("Examples:") && s.contains("Exit status:") && s.contains("atmlab run"), "{s}");
}

#[test]
fn malformed_files_are_one_line_naming_file_and_line_with_exit_2() {
    let d = tmp("bad");
    for (name, text, line, word) in [
        ("unknown_step.toml", "[[step]]\ndo = \"open_af\"\n\n[[step]]\ndo = \"jump\"\n", 5, "jump"),
        ("unknown_field.toml", "[[step]]\ndo = \"wait\"\nfor = \"1s\"\ncolour = 3\n", 4, "colour"),
        ("wrong_type.toml", "[[step]]\ndo = \"create_vc\"\nvc = 7\n", 3, "invalid type"),
        ("broken.toml", "summary = \"x\"\n[[step\n", 2, ""),
    ] {
        let f = d.join(name);
        std::fs::write(&f, text).unwrap();
        let o = atmlab(&["run", f.to_str().unwrap()], &d);
        assert_eq!(o.status.code(), Some(2), "{name}: {}", stderr(&o));
        let e = stderr(&o);
        assert_eq!(e.lines().count(), 1, "{name}: {e}");
        assert!(e.starts_with(&format!("{}:{line}: ", f.display())), "{name}: {e}");
        assert!(e.contains(word), "{name}: {e}");
        assert!(!e.contains("panicked"), "{e}");
    }
}

#[test]
fn an_unreadable_path_is_exit_2() {
    let d = tmp("missing");
    let o = atmlab(&["run", "no/such/dir"], &d);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).starts_with("no/such/dir: cannot read"), "{}", stderr(&o));
}

#[test]
fn an_unwritable_pcap_directory_fails_loudly() {
    let d = tmp("pcap");
    let f = d.join("case.toml");
    std::fs::write(&f, PASSING).unwrap();
    // A regular file where the directory should be.
    let blocker = d.join("not_a_dir");
    std::fs::write(&blocker, b"x").unwrap();
    let o = atmlab(&["run", f.to_str().unwrap(), "--pcap", blocker.join("sub").to_str().unwrap()], &d);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(stderr(&o).contains("cannot create directory"), "{}", stderr(&o));
    assert!(!stdout(&o).contains("RESULT: PASS"));
}

#[test]
fn a_passing_file_exits_0_writes_a_capture_and_a_failing_one_exits_1() {
    let d = tmp("verdicts");
    let f = d.join("case.toml");
    std::fs::write(&f, PASSING).unwrap();
    let o = atmlab(&["run", f.to_str().unwrap(), "--pcap", "caps", "--trace"], &d);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("NdisMCmCloseCallComplete(status=SUCCESS, vc="), "{}", stdout(&o));
    let cap = std::fs::read(d.join("caps").join("case.pcap")).unwrap();
    assert!(cap.len() > 24 && cap[20] == 123, "SunATM link type");
    let bad = d.join("bad.toml");
    std::fs::write(&bad, PASSING.replace("causes = [16]", "causes = [31]")).unwrap();
    let o = atmlab(&["run", bad.to_str().unwrap(), "--json"], &d);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("--json prints JSON");
    assert_eq!(v["cases"][0]["verdict"], "FAIL");
    assert_eq!(v["ok"], 0);
}

#[test]
fn list_shows_the_built_in_suite() {
    let o = atmlab(&["list"], &tmp("list"));
    assert_eq!(o.status.code(), Some(0));
    let n = stdout(&o).lines().filter(|l| l.contains("UNI ")).count();
    assert!(n >= 200, "{n} cases listed");
}

/// `atmlab` with no arguments: the whole built-in campaign, captures and traces in atmlab-out/,
/// a passing summary.
#[test]
fn the_default_campaign_passes_and_writes_a_capture_and_trace_per_case() {
    let d = tmp("campaign");
    let o = atmlab(&[], &d);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{}", out.lines().rev().take(40).collect::<Vec<_>>().join("\n"));
    assert!(out.contains("RESULT: PASS"));
    let dir = d.join("atmlab-out");
    let pcaps =
        std::fs::read_dir(&dir).unwrap().flatten().filter(|e| e.path().extension().is_some_and(|x| x == "pcap"));
    assert!(pcaps.count() >= 200);
    let t = std::fs::read_to_string(dir.join("U10-VAL-1_user_clears_release_16.trace")).unwrap();
    assert!(t.contains("NdisMCmCloseCallComplete(status=SUCCESS"), "{t}");
    let _ = std::fs::remove_dir_all(&d);
}

/// The image `scripts/build-sys` writes (as `atmmcm_hw::sys::default_image_path`, which this
/// crate does not link: see cli-tests/Cargo.toml), or `None` after printing why the test is
/// skipped.
fn sys_image(what: &str) -> Option<PathBuf> {
    let p = std::env::var_os("ATMMCM_SYS")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("x86_64-pc-windows-msvc/release/atmmcm.sys"));
    if p.exists() {
        Some(p)
    } else {
        eprintln!("SKIPPED: atmlab --driver sys {what}: {} not built (scripts/build-sys)", p.display());
        None
    }
}

/// `--driver sys tour` and `--driver sys clearing` run against the real atmmcm.sys and PASS:
/// zero verifier violations, zero sys-lab findings, nothing held after the halt.
#[test]
fn driver_sys_tour_and_clearing_pass_against_the_image() {
    let Some(image) = sys_image("tour / clearing") else { return };
    let d = tmp("sys-builtin");
    for run in ["tour", "clearing"] {
        let o = atmlab(&["--driver", "sys", "--sys-image", image.to_str().unwrap(), run], &d);
        let out = stdout(&o);
        assert_eq!(o.status.code(), Some(0), "{run}:\n{out}\n{}", stderr(&o));
        assert!(out.contains("driver: sys") && out.contains(&format!("RESULT: PASS ({run})")), "{run}:\n{out}");
        assert!(!out.contains("[FAIL]"), "{run}:\n{out}");
    }
    let tour = stdout(&atmlab(&["--driver", "sys", "tour"], &d));
    assert!(
        tour.contains("node0: zero allocations") && tour.contains("sys-lab NDIS/kernel rules on node1: 0 findings"),
        "{tour}"
    );
    let _ = std::fs::remove_dir_all(&d);
}

/// The default campaign against the image: every case PASS or XFAIL as filed; the control-path
/// counters are read through the image's vendor OID, so no case is N/A (N/A is left for a
/// counter read after the image's halt, counted apart in the summary).
#[test]
fn driver_sys_default_campaign_passes_with_no_case_na() {
    let Some(image) = sys_image("campaign") else { return };
    let d = tmp("sys-campaign");
    let o = atmlab(&["--driver", "sys", "--sys-image", image.to_str().unwrap()], &d);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{}", out.lines().rev().take(40).collect::<Vec<_>>().join("\n"));
    assert!(out.contains("RESULT: PASS") && out.contains("cases against sys: "), "{out}");
    assert!(out.contains(" 0 fail,") && out.contains(" 0 xpass,"), "{out}");
    assert!(out.contains(" 0 n/a ") && !out.contains("N/A   ERR-PD-00_wrong_protocol_discriminator_ignored"), "{out}");
    let _ = std::fs::remove_dir_all(&d);
}

/// A missing image is one error line naming it, exit 2, for every run; never a panic.
#[test]
fn driver_sys_with_a_missing_image_is_one_line_and_exit_2() {
    let d = tmp("sys-missing");
    let missing = d.join("no-such.sys");
    for run in [&["tour"][..], &["clearing"], &["storm"], &["soak", "--minutes", "0"], &["run", "."], &[]] {
        let mut args = vec!["--driver", "sys", "--sys-image", missing.to_str().unwrap()];
        args.extend_from_slice(run);
        let o = atmlab(&args, &d);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{run:?}: {e}");
        assert_eq!(e.lines().count(), 1, "{run:?}: {e}");
        assert!(e.starts_with(&format!("atmlab: {}: cannot read the atmmcm.sys image", missing.display())), "{e}");
        assert!(!e.contains("panicked"), "{e}");
    }
    // ATMMCM_SYS names the image when --sys-image does not.
    let o = Command::new(atmlab_bin())
        .args(["--driver", "sys", "tour"])
        .env("ATMMCM_SYS", &missing)
        .current_dir(&d)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("no-such.sys"), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn flap_clears_every_call_and_passes_and_a_broken_flap_fails_with_exit_1() {
    let d = tmp("flap");
    let o = atmlab(&["flap", "--calls", "300"], &d);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let s = stdout(&o);
    assert!(s.contains("incoming closes (#27)  300") && s.contains("RESULT: PASS (flap, 300 calls)"), "{s}");
    assert!(s.contains("NIC                    Atm1") && s.contains("NIC connections (peak) 301"), "{s}");
    let o = atmlab(&["flap", "--calls", "300", "--nic", "frame"], &d);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("NIC                    Frame"), "{}", stdout(&o));
    let o = atmlab(&["flap", "--calls", "300", "--fault", "link-stays-down"], &d);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let s = stdout(&o);
    assert!(s.contains("RESULT: FAIL (flap, 300 calls)") && s.contains("signalling link did not come back"), "{s}");
    let o = atmlab(&["flap", "--calls", "300", "--nic", "cells"], &d);
    assert_eq!(o.status.code(), Some(2), "an unknown NIC is refused");
    let o = atmlab(&["flap", "--calls", "0"], &d);
    assert_eq!(o.status.code(), Some(2));
    let o = atmlab(&["--driver", "sys", "--sys-image", "/nonexistent/atmmcm.sys", "flap"], &d);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&d);
}

/// `--driver sys flap` runs the same flap against atmmcm.sys: PASS, and FAIL (exit 1) when the
/// image leaks; the frame-level NIC is the core's only (exit 2).
#[test]
fn driver_sys_flap_passes_and_a_leak_fails_with_exit_1() {
    let Some(image) = sys_image("flap") else { return };
    let d = tmp("sys-flap");
    let img = image.to_str().unwrap();
    let o = atmlab(&["--driver", "sys", "--sys-image", img, "flap", "--calls", "500"], &d);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let s = stdout(&o);
    assert!(s.contains("driver                 sys") && s.contains("incoming closes (#27)  500"), "{s}");
    assert!(s.contains("RESULT: PASS (flap, 500 calls)"), "{s}");
    let o = atmlab(&["--driver", "sys", "--sys-image", img, "flap", "--calls", "50", "--fault", "leak"], &d);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("1 driver allocations held after halt"), "{}", stdout(&o));
    let o = atmlab(&["--driver", "sys", "--sys-image", img, "flap", "--nic", "frame"], &d);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&d);
}
