//! The built-in runs kept from the first atmlab: `tour` (a guided walk through the driver),
//! `storm` (500 calls up and down at once, rates) and `clearing` (the 13 Rust clearing cases).

use std::time::{Duration, Instant};

use atmmcm::NdisStatus;
use atmmcm_hw::host::{VcHandle, When};
use atmmcm_hw::lab::{Lab, LabConfig, call_to, e164};
use atmmcm_hw::network::{Direction, OfferParams};
use atmmcm_hw::scenario::DriverUnderTest;

pub struct Run {
    pub failures: Vec<String>,
}

impl Run {
    fn check(&mut self, what: &str, ok: bool) {
        println!("  [{}] {what}", if ok { "PASS" } else { "FAIL" });
        if !ok {
            self.failures.push(what.to_string());
        }
    }
}

fn wire_since(lab: &Lab, from: usize) -> Vec<String> {
    let net = lab.network();
    net.log()
        .iter()
        .skip(from)
        .map(|e| {
            let dir = if e.direction == Direction::FromUser { "->" } else { "<-" };
            let causes = if e.causes.is_empty() { String::new() } else { format!(" cause {:?}", e.causes) };
            format!("port{} {dir} {}{causes}", e.port, e.name)
        })
        .collect()
}

fn log_len(lab: &Lab) -> usize {
    lab.network().log().len()
}

fn show_calls(lab: &Lab, node: usize, vc: VcHandle) {
    println!("  NDIS on {} {vc:?}:", lab.node(node).name);
    for c in lab.node(node).ndis.ndis_calls_on(vc) {
        println!("    {c}");
    }
}

fn verdict(lab: &Lab, run: &mut Run) {
    for n in &lab.nodes {
        n.ndis.check_outstanding();
        let v = n.ndis.violations();
        for x in &v {
            println!("  violation on {}: {x:?}", n.name);
        }
        run.check(&format!("verifier on {}: {} violations", n.name, v.len()), v.is_empty());
        if n.is_sys() {
            let f = n.sys_findings();
            for (r, m) in &f {
                println!("  sys-lab finding on {}: {r}: {m}", n.name);
            }
            run.check(&format!("sys-lab NDIS/kernel rules on {}: {} findings", n.name, f.len()), f.is_empty());
            let depth = n.sys_stack_depth().unwrap_or(0);
            run.check(
                &format!("{}: deepest driver stack {depth} bytes fits the 24 KiB kernel stack", n.name),
                depth < 24 * 1024,
            );
        }
    }
}

/// The node's signalling link: the driver's own view where the lab can read it (in-process),
/// checked against the network-side SSCOP peer's; the peer's alone for `atmmcm.sys`.
fn link_up(lab: &Lab, i: usize) -> (bool, &'static str) {
    let peer = lab.peer_link_up(i);
    match lab.node(i).signalling_up() {
        Some(own) => (own && peer, "driver and network SSCOP peer agree"),
        None => (peer, "as the network's SSCOP peer sees it"),
    }
}

/// The lab for a built-in run.
fn lab(driver: &DriverUnderTest, pcap: Option<std::path::PathBuf>) -> Result<Lab, String> {
    println!("   driver: {}", driver.name());
    driver.lab(LabConfig { pcap, ..LabConfig::default() }.nodes(&[b"1001", b"1002"]))
}

pub fn tour(driver: &DriverUnderTest, pcap: Option<std::path::PathBuf>) -> Result<Run, String> {
    let mut run = Run { failures: Vec::new() };
    println!("== tour: two adapters (1001, 1002) on one ATM network, UNI 4.0");
    let lab = lab(driver, pcap)?;
    for (i, n) in lab.nodes.iter().enumerate() {
        let (up, how) = link_up(&lab, i);
        run.check(&format!("{}: AF registered, SSCOP link up on 0/5 ({how})", n.name), up);
    }
    let a = lab.node(0).client();
    let b = lab.node(1).client();
    a.open_af().ok();
    b.open_af().ok();
    b.register_sap(e164(b"1002")).ok();
    b.close_on_incoming_close(When::Never);

    println!("\n-- 1. 1001 calls 1002 (routed by the network), frames both ways");
    let mark = log_len(&lab);
    let vc = a.create_vc().unwrap_or(VcHandle(0));
    let (st, _) = a.make_call(vc, call_to(b"1002"));
    lab.advance(Duration::from_secs(1));
    for l in wire_since(&lab, mark) {
        println!("  {l}");
    }
    show_calls(&lab, 0, vc);
    run.check(
        "MakeCall pended, then completed with SUCCESS",
        st == NdisStatus::PENDING
            && lab.node(0).ndis.ndis_calls_on(vc).last().map(String::as_str)
                == Some("NdisMCmMakeCallComplete(SUCCESS)"),
    );
    let bvc = b.incoming_calls().last().map(|c| c.vc).unwrap_or(VcHandle(0));
    let sizes = [1usize, 48, 1500, 9188];
    a.send(vc, sizes.iter().map(|&n| (0..n).map(|i| i as u8).collect()).collect());
    b.send(bvc, vec![b"pong".to_vec()]);
    lab.advance(Duration::from_millis(10));
    let got = b.received_frames(bvc);
    run.check(
        &format!("1002 received {} frames of {sizes:?} octets, byte-exact", got.len()),
        got.len() == sizes.len()
            && got.iter().zip(sizes).all(|(f, n)| f.len() == n && f.iter().enumerate().all(|(i, &x)| x == i as u8)),
    );
    run.check("1001 received \"pong\"", a.received_frames(vc) == [b"pong".to_vec()]);

    println!("\n-- 2. 1001 closes with CloseData \"goodbye\" (UNI 4.0 user-user IE)");
    let mark = log_len(&lab);
    let st = a.close_call(vc, None, Some(b"goodbye"));
    lab.advance(Duration::from_secs(1));
    for l in wire_since(&lab, mark) {
        println!("  {l}");
    }
    show_calls(&lab, 0, vc);
    let closes = b.incoming_closes();
    run.check("ProtocolCmCloseCall returned PENDING", st == NdisStatus::PENDING);
    run.check(
        "1002's client got ProtocolClIncomingCloseCall(SUCCESS) carrying \"goodbye\"",
        closes.last().is_some_and(|c| c.1 == NdisStatus::SUCCESS && c.2 == b"goodbye"),
    );
    let st = b.close_call(bvc, None, None);
    lab.advance(Duration::from_secs(1));
    show_calls(&lab, 1, bvc);
    // The VC was already drained, so the completion comes inline, before the handler returns
    // PENDING (as COISDN does): deactivate, complete, delete in that order.
    let tail: Vec<String> = lab
        .node(1)
        .ndis
        .ndis_calls_on(bvc)
        .into_iter()
        .skip_while(|s| !s.starts_with("NdisMCmDispatchIncomingCloseCall"))
        .skip(1)
        .collect();
    run.check(
        "1002 closes its side: deactivate, complete, delete (driver-created VC), PENDING",
        st == NdisStatus::PENDING
            && tail
                == [
                    "NdisMCmDeactivateVc",
                    "NdisMCmCloseCallComplete(SUCCESS)",
                    "NdisMCmDeleteVc",
                    "ProtocolCmCloseCall->PENDING",
                ],
    );

    println!("\n-- 3. the network offers 1001 a call, then the caller hangs up");
    a.register_sap(None).ok();
    let mark = log_len(&lab);
    let now = lab.now();
    let port = lab.node(0).port;
    let cref = lab.network().offer_call(now, port, b"7777", OfferParams::default());
    lab.advance(Duration::from_secs(1));
    let ivc = a.incoming_calls().last().map(|c| c.vc).unwrap_or(VcHandle(0));
    let now = lab.now();
    lab.network().release(now, port, cref, 16, None);
    lab.advance(Duration::from_secs(1));
    for l in wire_since(&lab, mark) {
        println!("  {l}");
    }
    show_calls(&lab, 0, ivc);
    run.check(
        "incoming close dispatched with SUCCESS; the client's close completed",
        lab.node(0).ndis.ndis_calls_on(ivc).iter().any(|s| s == "NdisMCmDispatchIncomingCloseCall(SUCCESS)")
            && lab.node(0).ndis.ndis_calls_on(ivc).last().map(String::as_str) == Some("NdisMCmDeleteVc"),
    );

    println!("\n-- 4. link loss with a call up: T309 (10 s), then DEST_OUT_OF_ORDER");
    let vc = a.create_vc().unwrap_or(VcHandle(0));
    a.make_call(vc, call_to(b"9999"));
    lab.advance(Duration::from_secs(1));
    lab.set_link(0, false);
    lab.advance(Duration::from_secs(11));
    show_calls(&lab, 0, vc);
    run.check(
        "incoming close with DEST_OUT_OF_ORDER after T309",
        lab.node(0).ndis.ndis_calls_on(vc).iter().any(|s| s == "NdisMCmDispatchIncomingCloseCall(DEST_OUT_OF_ORDER)"),
    );
    lab.set_link(0, true);
    lab.advance(Duration::from_secs(2));
    let (up, how) = link_up(&lab, 0);
    run.check(&format!("link back: SSCOP re-established ({how})"), up);

    // Before the halt: MiniportHaltEx may reset the NIC (CTRL.RESET clears its counters).
    let hw = lab.node(0).model.counters();
    println!("\n-- 5. halt both adapters (NdisMCmNotifyCloseAddressFamily, client teardown)");
    lab.halt_all();
    for n in &lab.nodes {
        let held = n.held_after_halt();
        let what = if n.is_sys() { "allocations (pool, shared memory, NBLs, MDLs, timers...)" } else { "live objects" };
        match n.live_objects() {
            Some(l) => run.check(&format!("{}: zero {what} after halt ({l:?})", n.name), held == 0),
            None => run.check(&format!("{}: zero {what} after halt ({held})", n.name), held == 0),
        }
        let seen = n.ndis.live();
        run.check(
            &format!("{}: nothing the driver handed out across NDIS is left after halt ({seen:?})", n.name),
            seen.total() == 0,
        );
    }
    verdict(&lab, &mut run);
    if !lab.node(0).is_sys() {
        let s = &lab.node(0).adapter.stats;
        println!("\n  node0 data path: {s:?}");
        println!("  node0 NIC (driver side): {:?}", lab.node(0).nic().stats);
    }
    println!("  node0 NIC (hardware counters before the halt): {hw:?}");
    println!("  virtual time elapsed: {:?}", lab.now());
    Ok(run)
}

pub fn storm(driver: &DriverUnderTest, pcap: Option<std::path::PathBuf>) -> Result<Run, String> {
    let mut run = Run { failures: Vec::new() };
    let calls = 500;
    println!("== storm: {calls} calls 1001 -> 1002, then all released at once (RFC 3116 §3.4.2 teardown)");
    let lab = lab(driver, pcap)?;
    let a = lab.node(0).client();
    let b = lab.node(1).client();
    a.open_af().ok();
    b.open_af().ok();
    b.register_sap(None).ok();
    let wall = Instant::now();
    let mut vcs = Vec::new();
    for i in 0..calls {
        let vc = a.create_vc().unwrap_or(VcHandle(0));
        a.make_call(vc, call_to(b"1002"));
        vcs.push(vc);
        if (i + 1) % 100 == 0 {
            lab.settle();
            println!("  progress: {}/{calls} calls placed", i + 1);
        }
    }
    let t0 = lab.now();
    let connected = |lab: &Lab| {
        vcs.iter()
            .filter(|v| {
                lab.node(0).ndis.ndis_calls_on(**v).last().map(String::as_str)
                    == Some("NdisMCmMakeCallComplete(SUCCESS)")
            })
            .count()
    };
    let mut up = 0;
    for _ in 0..3000 {
        lab.advance(Duration::from_millis(10));
        up = connected(&lab);
        if up == calls {
            break;
        }
    }
    let setup_virtual = lab.now() - t0;
    run.check(&format!("{up}/{calls} calls connected"), up == calls);
    let setup_wall = wall.elapsed();
    let wall = Instant::now();
    let t1 = lab.now();
    for &vc in &vcs {
        a.close_call(vc, None, None);
    }
    let closed_n = |lab: &Lab| {
        vcs.iter()
            .filter(|v| lab.node(0).ndis.ndis_calls_on(**v).iter().any(|s| s == "NdisMCmCloseCallComplete(SUCCESS)"))
            .count()
    };
    let mut closed = 0;
    for _ in 0..3000 {
        lab.advance(Duration::from_millis(10));
        closed = closed_n(&lab);
        if closed == calls {
            break;
        }
    }
    let teardown_virtual = lab.now() - t1;
    run.check(&format!("{closed}/{calls} closes completed"), closed == calls);
    let teardown_wall = wall.elapsed();
    // The lab has no propagation delay, so virtual time only bounds the protocol's own waits (10 ms
    // resolution); the wall clock is what the driver, both emulated NDIS and the network cost.
    let per_s = |d: Duration| calls as f64 / d.as_secs_f64();
    println!(
        "  set-up:   {calls} calls within {setup_virtual:?} of virtual time; {setup_wall:?} wall = {:.0} calls/s through the whole lab",
        per_s(setup_wall)
    );
    println!(
        "  teardown: {calls} calls within {teardown_virtual:?} of virtual time; {teardown_wall:?} wall = {:.0} releases/s",
        per_s(teardown_wall)
    );
    if !lab.node(0).is_sys() {
        println!("  signalling: node0 {:?}", lab.node(0).adapter.control_stats());
    }
    lab.halt_all();
    for n in &lab.nodes {
        let held = n.held_after_halt();
        run.check(&format!("{}: nothing held after halt ({held})", n.name), held == 0);
    }
    verdict(&lab, &mut run);
    Ok(run)
}

pub fn clearing(driver: &DriverUnderTest) -> Result<Run, String> {
    let mut run = Run { failures: Vec::new() };
    println!("== clearing: user-side clearing conformance (signalling.md §3 groups), IUT = atmmcm");
    // A lab that cannot start is a set-up error (exit 2), not 13 failed cases.
    let probe = lab(driver, None)?;
    probe.halt_all();
    drop(probe);
    let setup = atmmcm_hw::conformance::Setup { driver: driver.lab_driver(), tweak: &|_| {} };
    for v in atmmcm_hw::conformance::run_all_on(&setup) {
        run.check(&format!("{:<9} {}", v.id, v.title), v.pass);
        println!("            seen: {}", v.detail);
    }
    Ok(run)
}
