//! Issue 8: sender threads flood a VC while it is closed through every close route — the client's
//! close (pended, and synchronous after a remote release already drained the data path), a
//! network RELEASE, link loss with T309 expiring, a RESTART, and a halt. On each route, for a
//! client-created VC (outgoing call) and a driver-created one (incoming call): every NBL sent is
//! completed exactly once, and the verifier holds (DATA-DRAINED-AT-DEACT: no send that began
//! before the client's NdisClCloseCall is inside the driver or outstanding at
//! NdisMCmDeactivateVc; DATA-NO-CMP-AFTER-DELETE and HDL-DEAD: no completion after the VC's
//! delete; DATA-CLOSING-STATUS).
//!
//! The emulated NDIS holds each sender for a while after the driver's first look at the VC
//! (`set_send_preemption`), as a busy machine would, so a close that does not wait for a sender
//! still holding a rejected NBL is caught. The senders are real threads; this thread pumps the
//! lab (NIC, network, DPC, timers) and makes the closes, concurrently with them.

mod common;

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use atmmcm::NdisStatus;
use atmmcm_hw::host::{Client, Nbl, Policy, VcHandle, VcState, When};
use atmmcm_hw::lab::{Lab, LabConfig, call_to};
use atmmcm_hw::network::OfferParams;
use common::*;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Route {
    /// NdisClCloseCall on a connected call: the close pends until the data path drains.
    ClientClose,
    /// The network releases; the client closes only later, once the driver has drained the data
    /// path and cleared the call at the network: ProtocolCmCloseCall may complete synchronously.
    ClientCloseAfterDrain,
    /// The network releases; the client closes inside ProtocolClIncomingCloseCall.
    NetworkRelease,
    /// The PHY goes down and T309 expires: every call is cleared (#27 towards the client).
    LinkLossT309,
    /// The network restarts every VC (RESTART class "all").
    Restart,
    /// MiniportHaltEx with both calls open and the senders running.
    Halt,
}

const SENDERS_PER_VC: usize = 4;
/// Each sender stops after this many sends, or when its client refuses (VC deleted).
const SENDS_PER_SENDER: u32 = 3000;

/// Node 1001's client: AF open, wildcard SAP; the senders are held 2.5 ms after the driver's first
/// look at the VC.
fn setup() -> (Lab, Client) {
    let lab = lab_with(LabConfig::default().with_config(|c| c.timers.t309 = Duration::from_secs(2)));
    lab.node(0).ndis.set_send_preemption(Duration::from_millis(20));
    let c = client(&lab);
    c.register_sap(None).expect("wildcard SAP");
    (lab, c)
}

/// One outgoing (client-created) and one incoming (driver-created) call, both connected.
fn two_calls(lab: &Lab, c: &Client) -> [VcHandle; 2] {
    let out = c.create_vc().expect("create VC");
    assert_eq!(c.make_call(out, call_to(REMOTE)).0, NdisStatus::PENDING);
    let before = c.incoming_calls().len();
    let now = lab.now();
    lab.network().offer_call(now, lab.node(0).port, b"5555", OfferParams::default());
    lab.advance(A_MOMENT);
    let inc = c.incoming_calls().get(before).expect("the incoming call").vc;
    assert_eq!(c.state(out), Some(VcState::Connected), "outgoing call up");
    assert_eq!(c.state(inc), Some(VcState::Connected), "incoming call up");
    [out, inc]
}

fn gone(c: &Client, vcs: &[VcHandle]) -> bool {
    vcs.iter().all(|v| matches!(c.state(*v), Some(VcState::Deleted) | None))
}

/// Pumps the lab (advancing virtual time in small steps) until `done`, for at most 30 s of real
/// time.
fn pump_until(lab: &Lab, what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(30), "{what}: not reached after 30 s");
        lab.advance(Duration::from_millis(50));
    }
}

fn release_all(lab: &Lab) {
    let port = lab.node(0).port;
    let now = lab.now();
    let crefs: Vec<u32> = lab.network().calls(port).iter().map(|k| k.call_ref).collect();
    for cref in crefs {
        lab.network().release(now, port, cref, 16, None);
    }
}

/// What a route's rounds saw.
#[derive(Default, Debug)]
struct Seen {
    /// ProtocolCmCloseCall return statuses on the client-created VC, by name.
    close_returns: HashMap<String, usize>,
    /// Completions by status.
    completions: HashMap<String, usize>,
}

/// One round of `route`: two calls, four senders each, the close, then the checks.
fn round(lab: &Lab, c: &Client, route: Route, seen: &mut Seen) {
    let vcs = two_calls(lab, c);
    c.set_policy(Policy {
        close_on_incoming_close: if route == Route::ClientCloseAfterDrain { When::Never } else { When::Immediate },
        ..Policy::default()
    });
    let sent: Mutex<Vec<Nbl>> = Mutex::new(Vec::new());
    let running = AtomicBool::new(true);
    // Holds the senders between two sends (none inside the driver).
    let paused = AtomicBool::new(false);
    // Senders inside NdisCoSendNetBufferLists right now.
    let inside = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for &vc in &vcs {
            for t in 0..SENDERS_PER_VC {
                let (c, sent, running, paused, inside) = (c.clone(), &sent, &running, &paused, &inside);
                s.spawn(move || {
                    let mut mine = Vec::new();
                    for seq in 0..SENDS_PER_SENDER {
                        if !running.load(Ordering::Relaxed) {
                            break;
                        }
                        while paused.load(Ordering::Acquire) {
                            std::thread::yield_now();
                        }
                        inside.fetch_add(1, Ordering::AcqRel);
                        let nbls = c.send(vc, vec![vec![t as u8; 64 + (seq as usize % 64)]]);
                        inside.fetch_sub(1, Ordering::AcqRel);
                        if nbls.is_empty() {
                            break;
                        }
                        mine.extend(nbls);
                    }
                    sent.lock().unwrap().extend(mine);
                });
            }
        }
        // Let the flood run for a while: frames on the wire, completions flowing.
        let start = Instant::now();
        while start.elapsed() < Duration::from_millis(40) {
            lab.advance(Duration::from_millis(1));
        }
        match route {
            Route::ClientClose => {
                for vc in vcs {
                    let st = c.close_call(vc, None, None);
                    assert!(st == NdisStatus::PENDING || st == NdisStatus::SUCCESS, "close: {st:?}");
                    if vc == vcs[0] {
                        *seen.close_returns.entry(format!("{st:?}")).or_default() += 1;
                    }
                }
            }
            Route::ClientCloseAfterDrain => {
                let rc = || wire(lab).iter().filter(|m| *m == "->RELEASE COMPLETE").count();
                let before = rc();
                release_all(lab);
                pump_until(lab, "incoming closes", || vcs.iter().all(|v| c.state(*v) == Some(VcState::RemoteClosing)));
                // The client's sends (legal until its NdisClCloseCall) would keep the data path
                // from draining: hold them until it has drained and both calls are cleared at the
                // network (RELEASE COMPLETE goes only then).
                paused.store(true, Ordering::Release);
                pump_until(lab, "RELEASE COMPLETEs", || rc() == before + 2);
                // The senders come back (and are held) on the drained VCs as the client closes.
                paused.store(false, Ordering::Release);
                std::thread::sleep(Duration::from_millis(1));
                for vc in vcs {
                    let st = c.close_call(vc, None, None);
                    assert!(st == NdisStatus::PENDING || st == NdisStatus::SUCCESS, "close: {st:?}");
                    if vc == vcs[0] {
                        *seen.close_returns.entry(format!("{st:?}")).or_default() += 1;
                    }
                }
            }
            Route::NetworkRelease => release_all(lab),
            Route::LinkLossT309 => lab.set_link(0, false),
            Route::Restart => {
                let now = lab.now();
                lab.network().restart(now, lab.node(0).port, true, None);
            }
            Route::Halt => halt_with_senders(lab, &inside),
        }
        if route != Route::Halt {
            pump_until(lab, "both VCs deleted", || gone(c, &vcs));
        }
        running.store(false, Ordering::Relaxed);
    });
    if route != Route::Halt {
        lab.advance(Duration::from_secs(1));
    }
    // Every NBL sent completed exactly once.
    let sent = sent.into_inner().unwrap();
    let mut done: HashMap<Nbl, Vec<NdisStatus>> = HashMap::new();
    for d in c.send_completions() {
        done.entry(d.nbl).or_default().push(d.status);
    }
    for n in &sent {
        let st = done.remove(n).unwrap_or_default();
        assert_eq!(st.len(), 1, "{route:?}: {n:?} completed {} times", st.len());
        *seen.completions.entry(format!("{:?}", st[0])).or_default() += 1;
    }
    let v = lab.node(0).ndis.violations();
    assert!(v.is_empty(), "{route:?}: {}", v.iter().map(|v| format!("{v}\n")).collect::<String>());
    if route == Route::LinkLossT309 {
        lab.set_link(0, true);
        pump_until(lab, "the link back", || lab.peer_link_up(0));
    }
}

/// `Lab::halt`, but virtual time stands still while a sender thread is inside the driver: the lab
/// moves time on when nothing moves, and a sender held (preempted) inside would otherwise let the
/// halt's own give-up expire in a few microseconds of real time — no machine is that slow.
fn halt_with_senders(lab: &Lab, inside: &AtomicUsize) {
    let n = lab.node(0);
    n.ndis.halt_with(&mut || {
        if lab.pump_once() {
            return;
        }
        if inside.load(Ordering::Acquire) > 0 {
            std::thread::yield_now();
            return;
        }
        let now = lab.now();
        match lab.next_deadline() {
            Some(t) if t > now => lab.advance(t - now),
            _ => lab.advance(Duration::from_secs(1)),
        }
    });
    n.halted.store(true, Ordering::Release);
    lab.settle();
}

fn flood_while_closing(route: Route, rounds: usize) -> Seen {
    let mut seen = Seen::default();
    if route == Route::Halt {
        for _ in 0..rounds {
            let (lab, c) = setup();
            round(&lab, &c, route, &mut seen);
            clean(&lab);
            if let Some(l) = lab.node(0).live_objects() {
                assert_eq!((l.afs, l.saps, l.vcs, l.calls, l.parties), (0, 0, 0, 0, 0), "live objects after halt");
            }
        }
    } else {
        let (lab, c) = setup();
        for _ in 0..rounds {
            round(&lab, &c, route, &mut seen);
        }
        halt_clean(&lab);
    }
    println!("{route:?}, {rounds} rounds: {seen:?}");
    seen
}

#[test]
fn senders_flooding_while_the_client_closes_never_outlive_deactivate_or_delete() {
    flood_while_closing(Route::ClientClose, 4);
}

#[test]
fn senders_flooding_while_the_client_closes_a_drained_call_never_outlive_deactivate_or_delete() {
    let seen = flood_while_closing(Route::ClientCloseAfterDrain, 4);
    assert_eq!(seen.close_returns.values().sum::<usize>(), 4);
}

#[test]
fn senders_flooding_while_the_network_releases_never_outlive_deactivate_or_delete() {
    flood_while_closing(Route::NetworkRelease, 4);
}

#[test]
fn senders_flooding_while_t309_clears_after_link_loss_never_outlive_deactivate_or_delete() {
    flood_while_closing(Route::LinkLossT309, 3);
}

#[test]
fn senders_flooding_while_the_network_restarts_never_outlive_deactivate_or_delete() {
    flood_while_closing(Route::Restart, 4);
}

#[test]
fn senders_flooding_while_the_adapter_halts_never_outlive_deactivate_or_delete() {
    flood_while_closing(Route::Halt, 3);
}

/// The synchronous close, without senders: a client-created VC whose data path already drained
/// (the network released, the client closes later) completes ProtocolCmCloseCall with SUCCESS —
/// so the flood test above does reach the synchronous path when no sender is inside.
#[test]
fn a_drained_client_call_closes_synchronously_when_no_sender_is_inside() {
    let (lab, c) = setup();
    let vcs = two_calls(&lab, &c);
    c.set_policy(Policy { close_on_incoming_close: When::Never, ..Policy::default() });
    release_all(&lab);
    lab.advance(A_MOMENT);
    assert!(lab.network().calls(lab.node(0).port).is_empty());
    assert_eq!(c.close_call(vcs[0], None, None), NdisStatus::SUCCESS);
    assert_eq!(c.close_call(vcs[1], None, None), NdisStatus::PENDING, "a driver-created VC always pends");
    lab.advance(A_MOMENT);
    assert!(gone(&c, &vcs));
    halt_clean(&lab);
}
