//! Clearing conformance cases for the user side (the IUT is the driver), after the groups proposed
//! in `signalling.md` §3: U10/U11 valid, timer and inopportune cases, unknown call references,
//! STATUS, RESTART, link loss, point-to-multipoint. Each case builds its own lab, drives the
//! network-side tester, and judges from the tester's log (decoded by the network's own codec)
//! and from the NDIS calls the verifier watched, then halts the node: no violation (nor, for
//! `atmmcm.sys`, sys-lab finding) and nothing the driver still holds. Either driver
//! ([`run_all_on`]).

use std::time::Duration;

use atmmcm::NdisStatus;

use crate::host::{Client, VcHandle, When};
use crate::lab::{Lab, LabConfig, LabDriver, call_to, multipoint_call_to};
use crate::network::codec::ie::{EndpointRef, Ie, id};
use crate::network::codec::q2931::{CallRef, Message, mt};
use crate::network::{Direction, NetEvent};

/// One case's outcome.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub id: &'static str,
    pub title: &'static str,
    pub pass: bool,
    /// What was seen (the messages and NDIS calls that decided it).
    pub detail: String,
}

const MOMENT: Duration = Duration::from_secs(1);

/// What every case's lab runs: the driver, and a tweak applied to the tester first.
pub struct Setup<'a> {
    pub driver: LabDriver,
    pub tweak: &'a dyn Fn(&Lab),
}

struct Case {
    lab: Lab,
    c: Client,
    mark: usize,
}

impl Case {
    /// A lab with one node whose client has its AF open; the setup's tweak adjusts the tester
    /// first.
    fn new(t: &Setup<'_>) -> Case {
        let lab = Lab::with(LabConfig::default().driver(t.driver.clone()));
        (t.tweak)(&lab);
        let c = lab.node(0).client();
        let _ = c.open_af();
        Case { lab, c, mark: 0 }
    }

    /// An active outgoing call (U10) to a number the network answers itself.
    fn active_call(&mut self) -> (VcHandle, u32) {
        let vc = self.c.create_vc().unwrap_or(VcHandle(0));
        let _ = self.c.make_call(vc, call_to(b"9999"));
        self.lab.advance(MOMENT);
        let cref = self.lab.network().calls(0).first().map_or(0, |k| k.call_ref);
        self.mark = self.lab.network().log().len();
        (vc, cref)
    }

    /// Messages between the node and the tester since the mark (from the tester's log).
    fn since(&self) -> Vec<NetEvent> {
        self.lab.network().log().iter().skip(self.mark).filter(|e| e.port == 0).cloned().collect()
    }

    fn sent_by_iut(&self) -> Vec<NetEvent> {
        self.since().into_iter().filter(|e| e.direction == Direction::FromUser).collect()
    }

    fn calls(&self, vc: VcHandle) -> Vec<String> {
        self.lab.node(0).ndis.ndis_calls_on(vc)
    }

    /// No verifier violation and (for `atmmcm.sys`) no sys-lab finding so far.
    fn clean(&self) -> bool {
        let n = self.lab.node(0);
        n.ndis.violations().is_empty() && n.sys_findings().is_empty()
    }

    /// Ends the case: halts the node and whether it stayed clean (verifier, outstanding
    /// requests, sys-lab findings) and the driver holds nothing afterwards (live objects, or
    /// the `.sys`'s allocations).
    fn halted_clean(&self) -> bool {
        self.lab.halt_all();
        let n = self.lab.node(0);
        n.ndis.check_outstanding();
        self.clean() && n.held_after_halt() == 0
    }

    fn send_raw(&mut self, m: &Message) {
        let now = self.lab.now();
        self.lab.network().send_raw(now, 0, &m.emit());
        self.lab.settle();
    }
}

fn names(ev: &[NetEvent]) -> Vec<String> {
    ev.iter()
        .map(|e| {
            let d = if e.direction == Direction::FromUser { "->" } else { "<-" };
            if e.causes.is_empty() { format!("{d}{}", e.name) } else { format!("{d}{}{:?}", e.name, e.causes) }
        })
        .collect()
}

fn verdict(id: &'static str, title: &'static str, pass: bool, detail: String) -> Verdict {
    Verdict { id, title, pass, detail }
}

fn u10_val_1(t: &Setup<'_>) -> Verdict {
    let mut k = Case::new(t);
    let (vc, _) = k.active_call();
    let st = k.c.close_call(vc, None, None);
    k.lab.advance(MOMENT);
    let ev = k.since();
    let ok = st == NdisStatus::PENDING
        && names(&ev) == ["->RELEASE[16]", "<-RELEASE COMPLETE"]
        && k.calls(vc).contains(&"NdisMCmCloseCallComplete(SUCCESS)".to_string())
        && k.lab.network().calls(0).is_empty()
        && k.clean()
        && k.halted_clean();
    verdict("U10-VAL-1", "IUT clears: RELEASE #16, RELEASE COMPLETE ends the call", ok, format!("{:?}", names(&ev)))
}

fn u10_val_2(t: &Setup<'_>) -> Verdict {
    let mut k = Case::new(t);
    let (vc, cref) = k.active_call();
    let now = k.lab.now();
    k.lab.network().release(now, 0, cref, 16, None);
    k.lab.advance(MOMENT);
    let ev = k.since();
    let calls = k.calls(vc);
    let ok = names(&ev) == ["<-RELEASE[16]", "->RELEASE COMPLETE"]
        && calls.contains(&"NdisMCmDispatchIncomingCloseCall(SUCCESS)".to_string())
        && calls.contains(&"NdisMCmDeactivateVc".to_string())
        && k.clean()
        && k.halted_clean();
    verdict("U10-VAL-2", "Tester clears: VC torn down, then RELEASE COMPLETE", ok, format!("{:?}", names(&ev)))
}

fn u11_tmr_1_and_2(t: &Setup<'_>) -> [Verdict; 2] {
    let mut k = Case::new(t);
    let (vc, _) = k.active_call();
    k.lab.network().behaviour(0).release_complete = false;
    let _ = k.c.close_call(vc, None, None);
    k.lab.advance(Duration::from_secs(31));
    let ev = k.sent_by_iut();
    let releases: Vec<&NetEvent> = ev.iter().filter(|e| e.msg_type == Some(mt::RELEASE)).collect();
    let one = releases.len() == 2 && releases.get(1).is_some_and(|e| e.causes.contains(&102));
    let first = verdict(
        "U11-TMR-1",
        "No RELEASE COMPLETE: one retransmission after T308 with #102",
        one,
        format!("{:?}", names(&ev)),
    );
    k.lab.advance(Duration::from_secs(60));
    let ev = k.sent_by_iut();
    let ok = one
        && ev.iter().filter(|e| e.msg_type == Some(mt::RELEASE)).count() == 2
        && k.calls(vc).contains(&"NdisMCmCloseCallComplete(SUCCESS)".to_string())
        && k.clean()
        && k.halted_clean();
    [
        first,
        verdict(
            "U11-TMR-2",
            "After 2 x T308 the IUT clears locally and sends nothing more",
            ok,
            format!("{:?}", names(&ev)),
        ),
    ]
}

fn u11_ino_1(t: &Setup<'_>) -> Verdict {
    let mut k = Case::new(t);
    let (vc, cref) = k.active_call();
    k.lab.network().behaviour(0).release_complete = false;
    let _ = k.c.close_call(vc, None, None);
    k.lab.settle();
    let now = k.lab.now();
    k.lab.network().release(now, 0, cref, 16, None);
    k.lab.advance(MOMENT);
    let ev = k.since();
    let ok = !names(&ev).contains(&"->RELEASE COMPLETE".to_string())
        && k.calls(vc).contains(&"NdisMCmCloseCallComplete(SUCCESS)".to_string())
        && !k.calls(vc).iter().any(|s| s.starts_with("NdisMCmDispatchIncomingCloseCall"))
        && k.clean()
        && k.halted_clean();
    verdict(
        "U11-INO-1",
        "Clear collision: RELEASE in U11 ends the call, no RELEASE COMPLETE",
        ok,
        format!("{:?}", names(&ev)),
    )
}

fn unknown_cref(t: &Setup<'_>) -> [Verdict; 3] {
    let mut k = Case::new(t);
    // A call reference the IUT never saw, from the network's side (flag 0).
    let cref = CallRef { flag: false, value: 0x3333 };
    k.mark = k.lab.network().log().len();
    k.send_raw(&Message::new(cref, mt::RELEASE).with(Ie::cause(0, 16, &[])));
    let a = k.sent_by_iut();
    let r1 = verdict(
        "UNK-1",
        "RELEASE on an unknown call reference: RELEASE COMPLETE #81",
        names(&a) == ["->RELEASE COMPLETE[81]"],
        format!("{:?}", names(&a)),
    );
    k.mark = k.lab.network().log().len();
    k.send_raw(&Message::new(cref, mt::RELEASE_COMPLETE));
    let b = k.sent_by_iut();
    let r2 = verdict(
        "UNK-2",
        "RELEASE COMPLETE on an unknown call reference: silence",
        b.is_empty(),
        format!("{:?}", names(&b)),
    );
    k.mark = k.lab.network().log().len();
    k.send_raw(&Message::new(cref, mt::STATUS_ENQUIRY));
    let c = k.sent_by_iut();
    let ok = c.len() == 1
        && c[0].msg_type == Some(mt::STATUS)
        && c[0].causes == [30]
        && c[0].message.as_ref().and_then(Message::call_state) == Some(0)
        && k.clean()
        && k.halted_clean();
    [
        r1,
        r2,
        verdict(
            "UNK-3",
            "STATUS ENQUIRY on an unknown call reference: STATUS(U0, #30)",
            ok,
            format!("{:?}", names(&c)),
        ),
    ]
}

fn status(t: &Setup<'_>) -> [Verdict; 2] {
    let mut k = Case::new(t);
    let (_, cref) = k.active_call();
    let now = k.lab.now();
    k.lab.network().status_enquiry(now, 0, cref);
    k.lab.advance(MOMENT);
    let ev = k.sent_by_iut();
    let ok = ev.len() == 1
        && ev[0].msg_type == Some(mt::STATUS)
        && ev[0].causes == [30]
        && ev[0].message.as_ref().and_then(Message::call_state) == Some(10);
    let r1 = verdict(
        "STAT-1",
        "STATUS ENQUIRY in U10: STATUS(U10, #30)",
        ok && k.clean() && k.halted_clean(),
        format!("{:?}", names(&ev)),
    );

    let mut k = Case::new(t);
    k.c.close_on_incoming_close(When::Never);
    let (vc, cref) = k.active_call();
    // STATUS saying the network side is in N0: the call is cleared locally.
    let m = Message::new(CallRef { flag: true, value: cref }, mt::STATUS)
        .with(Ie::new(id::CALL_STATE, crate::network::codec::ie::Body::CallState(0)))
        .with(Ie::cause(0, 30, &[]));
    k.send_raw(&m);
    k.lab.advance(MOMENT);
    let ok = k.calls(vc).iter().any(|s| s.starts_with("NdisMCmDispatchIncomingCloseCall")) && k.clean();
    let _ = k.c.close_call(vc, None, None);
    k.lab.advance(MOMENT);
    [
        r1,
        verdict(
            "STAT-2",
            "STATUS(U0) in U10: local clear, client told",
            ok && k.clean() && k.halted_clean(),
            format!("{:?}", k.calls(vc)),
        ),
    ]
}

fn restart(t: &Setup<'_>) -> Verdict {
    let mut k = Case::new(t);
    let (vc1, _) = k.active_call();
    let (vc2, _) = k.active_call();
    k.mark = k.lab.network().log().len();
    let now = k.lab.now();
    k.lab.network().restart(now, 0, true, None);
    k.lab.advance(MOMENT);
    let ev = k.sent_by_iut();
    let cleared = |vc| k.calls(vc).iter().any(|s| s.starts_with("NdisMCmDispatchIncomingCloseCall"));
    let ok = ev.iter().any(|e| e.msg_type == Some(mt::RESTART_ACK))
        && cleared(vc1)
        && cleared(vc2)
        && k.clean()
        && k.halted_clean();
    verdict("RST-1", "RESTART (all VCs): every call cleared, RESTART ACKNOWLEDGE", ok, format!("{:?}", names(&ev)))
}

fn link_loss(t: &Setup<'_>) -> Verdict {
    let mut k = Case::new(t);
    let (vc, _) = k.active_call();
    k.lab.set_link(0, false);
    k.lab.advance(Duration::from_secs(9));
    let survived = !k.calls(vc).iter().any(|s| s.starts_with("NdisMCmDispatchIncomingCloseCall"));
    k.lab.advance(Duration::from_secs(2));
    let ok = survived
        && k.calls(vc).contains(&"NdisMCmDispatchIncomingCloseCall(DEST_OUT_OF_ORDER)".to_string())
        && k.clean()
        && k.halted_clean();
    verdict(
        "LINK-1",
        "Link loss in U10: the call survives T309, then is cleared with #27",
        ok,
        format!("{:?}", k.calls(vc)),
    )
}

fn p2mp_unknown_endpoint(t: &Setup<'_>) -> Verdict {
    let mut k = Case::new(t);
    let vc = k.c.create_vc().unwrap_or(VcHandle(0));
    let _ = k.c.make_call(vc, multipoint_call_to(b"9999"));
    k.lab.advance(MOMENT);
    let cref = k.lab.network().calls(0).first().map_or(0, |c| c.call_ref);
    k.mark = k.lab.network().log().len();
    let m =
        Message::new(CallRef { flag: true, value: cref }, mt::DROP_PARTY).with(Ie::cause(0, 16, &[])).with(Ie::new(
            id::ENDPOINT_REF,
            crate::network::codec::ie::Body::EndpointRef(EndpointRef { flag: true, value: 0x1234 }),
        ));
    k.send_raw(&m);
    let ev = k.sent_by_iut();
    let ok = names(&ev) == ["->DROP PARTY ACK[89]"] && k.clean() && k.halted_clean();
    verdict("P2MP-1", "DROP PARTY for an unknown endpoint: DROP PARTY ACK #89", ok, format!("{:?}", names(&ev)))
}

/// Runs every case, in order, against the in-process driver.
pub fn run_all() -> Vec<Verdict> {
    run_all_with(&|_| {})
}

/// Runs every case with `tweak` applied to each case's lab first (to show the verdicts can fail:
/// a tester that misbehaves must make the cases that depend on it fail).
pub fn run_all_with(t: &dyn Fn(&Lab)) -> Vec<Verdict> {
    run_all_on(&Setup { driver: LabDriver::InProcess, tweak: t })
}

/// Runs every case against `setup.driver`, each ending with a halt that must leave no
/// violation and nothing held.
pub fn run_all_on(t: &Setup<'_>) -> Vec<Verdict> {
    let mut v = vec![u10_val_1(t), u10_val_2(t)];
    v.extend(u11_tmr_1_and_2(t));
    v.push(u11_ino_1(t));
    v.extend(unknown_cref(t));
    v.extend(status(t));
    v.push(restart(t));
    v.push(link_loss(t));
    v.push(p2mp_unknown_endpoint(t));
    v
}
