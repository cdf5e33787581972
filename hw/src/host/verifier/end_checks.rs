//! The checks judged at the end: MiniportHaltEx returned (HALT-NOTIFY-AF, HALT-NO-LEAK),
//! requests and sends never completed, and the PHY's link state indicated (STS-LINK).

use super::super::handles::{Nbl, VcHandle};
use super::{Cx, Req, Verifier, rule};

impl Verifier {
    /// MiniportHaltEx returned: HALT-NOTIFY-AF, HALT-NO-LEAK (with the lab's allocation counters
    /// `allocs`: (name, count)), outstanding requests; from now on every NDIS call is HALT-QUIET.
    pub fn halt_returned(&mut self, allocs: &[(String, usize)], cx: &Cx) {
        self.now = cx.time;
        self.in_halt = false;
        let af_still_open = self.afs.values().any(|a| a.open && !a.dead);
        let notify_failed = self.af_open_at_halt && (!self.notified_in_halt || af_still_open);
        if notify_failed {
            let why = if self.notified_in_halt {
                "MiniportHaltEx returned before the address family was closed"
            } else {
                "MiniportHaltEx with an AF open did not call NdisMCmNotifyCloseAddressFamily"
            };
            self.fire(rule::HALT_NOTIFY_AF, why, None, None);
        }
        // An AF the driver never asked the client to close keeps its objects alive: that is
        // HALT-NOTIFY-AF's finding, so HALT-NO-LEAK is only judged once the AF rule held.
        let live = self.live();
        let leaked: Vec<String> =
            allocs.iter().filter(|(_, n)| *n != 0).map(|(name, n)| format!("{name}={n}")).collect();
        if !notify_failed && (live.total() != 0 || !leaked.is_empty()) {
            self.fire(
                rule::HALT_NO_LEAK,
                format!("at halt: live {live:?}, allocation counters {leaked:?}"),
                None,
                None,
            );
        }
        self.check_outstanding();
        self.halted = true;
    }

    /// Pended requests never completed, sends never completed, accepted calls never connected:
    /// each is reported once.
    pub fn check_outstanding(&mut self) {
        let mut out: Vec<(Req, String)> = Vec::new();
        for (r, p) in self.pending.iter_mut() {
            if p.outstanding() && !p.reported {
                p.reported = true;
                out.push((*r, format!("{r:?} returned PENDING and was never completed")));
            }
        }
        out.sort_by_key(|(r, _)| format!("{r:?}"));
        for (r, why) in out {
            let vc = match r {
                Req::MakeCall(v) | Req::CloseCall(v) | Req::ModifyQos(v) => Some(v),
                _ => None,
            };
            self.fire(r.rule(), why, vc, None);
        }
        let mut sends: Vec<(Nbl, VcHandle)> = self.sends.drain().map(|(n, s)| (n, s.vc)).collect();
        sends.sort();
        for (n, vc) in sends {
            self.fire(rule::DATA_SEND_ONCE, format!("{n} was never completed"), Some(vc), None);
        }
    }

    /// The lab's PHY changed (STS-LINK expects an indication of it).
    pub fn phy_link(&mut self, up: bool) {
        self.link_expected = Some(up);
    }

    /// STS-LINK: the last link state the driver indicated matches the PHY.
    pub fn check_link_indicated(&mut self) {
        if let Some(up) = self.link_expected
            && self.link_indicated != Some(up)
        {
            self.fire(
                rule::STS_LINK,
                format!("the link went {} and the driver did not indicate it", if up { "up" } else { "down" }),
                None,
                None,
            );
            self.link_indicated = Some(up);
        }
    }

    /// Whether MiniportHaltEx has returned.
    pub fn halted(&self) -> bool {
        self.halted
    }
}
