//! The network side's SSCOP (Q.2110) peer on one port's signalling VC.
//!
//! Enough of Q.2110 for a lossless loopback and for failure tests: establishment both ways
//! (BGN/BGAK/BGREJ), release both ways (END/ENDAK), resynchronisation and error recovery
//! answered (RS/RSAK, ER/ERAK, both resetting the sequences as Q.2110 says), SD with N(S) and in-order delivery (out-of-order SDs are buffered
//! and reported with USTAT), POLL answered with STAT (gap list), own POLLs while data is
//! unacknowledged (Timer_POLL) with Timer_NO_RESPONSE, STAT/USTAT freeing the window and
//! retransmitting what the peer lists as missing. Time is virtual: `now` is passed in.
//!
//! Sequence numbers are kept as 64-bit absolute counters and mapped to 24 bits on the wire.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use super::codec::sscop::{Pdu, SEQ_MASK};

/// Q.2110 MaxPD: SDs between POLLs.
const MAX_PD: u32 = 25;

/// Q.2110 default timer values and the receive window this peer offers.
#[derive(Debug, Clone, Copy)]
pub struct SscopConfig {
    pub timer_cc: Duration,
    pub max_cc: u32,
    pub timer_poll: Duration,
    pub timer_no_response: Duration,
    pub window: u32,
}

impl Default for SscopConfig {
    fn default() -> Self {
        SscopConfig {
            timer_cc: Duration::from_millis(1000),
            max_cc: 4,
            timer_poll: Duration::from_millis(750),
            timer_no_response: Duration::from_secs(7),
            window: 128,
        }
    }
}

/// Link states (Q.2110 numbering in comments).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    /// State 1.
    Idle,
    /// State 2: BGN sent, waiting for BGAK.
    OutgoingConnectionPending,
    /// State 4: END sent, waiting for ENDAK.
    OutgoingDisconnectionPending,
    /// State 10.
    DataTransferReady,
}

/// What the peer reports upwards (SSCF/Q.2931 side).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkEvent {
    /// The link is (re-)established.
    Established,
    /// The link is released; `by_peer` false if this side gave up or released it.
    Released { by_peer: bool },
    /// An in-sequence SD payload.
    Data(Vec<u8>),
    /// An UD payload.
    Unitdata(Vec<u8>),
}

/// Counters for tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SscopStats {
    pub sd_sent: u64,
    pub sd_retransmitted: u64,
    pub polls_sent: u64,
    pub stats_sent: u64,
    pub ustats_sent: u64,
    /// ER PDUs received (error recoveries the peer started).
    pub ers_received: u64,
}

/// One SSCOP endpoint (network side).
#[derive(Debug)]
pub struct Sscop {
    cfg: SscopConfig,
    state: LinkState,
    /// VT(S): next N(S) to send.
    vt_s: u64,
    /// VT(A): oldest unacknowledged N(S).
    vt_a: u64,
    /// VT(MS): the peer's window edge.
    vt_ms: u64,
    /// VT(PS): poll sequence.
    vt_ps: u32,
    /// VT(PD): SDs sent since the last POLL (a POLL goes every MaxPD of them).
    vt_pd: u32,
    /// VT(SQ): connection sequence for BGN/RS/ER.
    vt_sq: u8,
    /// VR(R): next in-sequence N(S) expected.
    vr_r: u64,
    /// VR(H): highest N(S) expected + 1.
    vr_h: u64,
    /// SDs sent and not acknowledged: N(S) VT(A), VT(A)+1, … VT(S)-1, in that order.
    unacked: VecDeque<Vec<u8>>,
    out_of_order: BTreeMap<u64, Vec<u8>>,
    /// SDUs waiting for the link or the window.
    pending: VecDeque<Vec<u8>>,
    cc_deadline: Option<Duration>,
    cc_count: u32,
    poll_deadline: Option<Duration>,
    no_response_deadline: Option<Duration>,
    tx: VecDeque<Pdu>,
    events: VecDeque<LinkEvent>,
    /// N(PS) of the last solicited STAT the peer sent (in Data Transfer Ready).
    last_stat_nps: Option<u32>,
    pub stats: SscopStats,
}

impl Default for Sscop {
    fn default() -> Self {
        Sscop::new(SscopConfig::default())
    }
}

impl Sscop {
    pub fn new(cfg: SscopConfig) -> Self {
        Sscop {
            cfg,
            state: LinkState::Idle,
            vt_s: 0,
            vt_a: 0,
            vt_ms: 0,
            vt_ps: 0,
            vt_pd: 0,
            vt_sq: 0,
            vr_r: 0,
            vr_h: 0,
            unacked: VecDeque::new(),
            out_of_order: BTreeMap::new(),
            pending: VecDeque::new(),
            cc_deadline: None,
            cc_count: 0,
            poll_deadline: None,
            no_response_deadline: None,
            tx: VecDeque::new(),
            events: VecDeque::new(),
            last_stat_nps: None,
            stats: SscopStats::default(),
        }
    }

    pub fn state(&self) -> LinkState {
        self.state
    }
    pub fn is_ready(&self) -> bool {
        self.state == LinkState::DataTransferReady
    }
    /// Number of SDs sent and not yet acknowledged.
    pub fn unacked(&self) -> usize {
        self.unacked.len()
    }
    /// PDUs to put on the wire, oldest first.
    pub fn take_tx(&mut self) -> Vec<Pdu> {
        self.tx.drain(..).collect()
    }
    /// Upward events, oldest first.
    pub fn take_events(&mut self) -> Vec<LinkEvent> {
        self.events.drain(..).collect()
    }
    /// The oldest PDU to put on the wire.
    pub fn pop_tx(&mut self) -> Option<Pdu> {
        self.tx.pop_front()
    }
    /// The oldest upward event.
    pub fn pop_event(&mut self) -> Option<LinkEvent> {
        self.events.pop_front()
    }

    fn vr_mr(&self) -> u64 {
        self.vr_r + u64::from(self.cfg.window)
    }
    fn wire(v: u64) -> u32 {
        (v & u64::from(SEQ_MASK)) as u32
    }
    /// Maps a 24-bit number onto the absolute counter at or after `base` (within 2^23).
    fn forward_of(base: u64, v: u32) -> Option<u64> {
        let off = v.wrapping_sub(Self::wire(base)) & SEQ_MASK;
        (off < 0x80_0000).then_some(base + u64::from(off))
    }

    fn reset_sequences(&mut self, peer_window: u32) {
        self.vt_s = 0;
        self.vt_a = 0;
        self.vt_ms = u64::from(peer_window);
        self.vt_ps = 0;
        self.vt_pd = 0;
        self.vr_r = 0;
        self.vr_h = 0;
        self.unacked.clear();
        self.out_of_order.clear();
        self.poll_deadline = None;
        self.no_response_deadline = None;
    }

    fn enter_ready(&mut self, now: Duration, peer_window: u32) {
        self.state = LinkState::DataTransferReady;
        self.cc_deadline = None;
        self.reset_sequences(peer_window);
        self.events.push_back(LinkEvent::Established);
        self.flush_pending(now);
    }

    fn enter_idle(&mut self, by_peer: bool) {
        let was = self.state;
        self.state = LinkState::Idle;
        self.cc_deadline = None;
        self.reset_sequences(0);
        self.pending.clear();
        if was != LinkState::Idle {
            self.events.push_back(LinkEvent::Released { by_peer });
        }
    }

    /// AA-ESTABLISH.request: send BGN.
    pub fn establish(&mut self, now: Duration) {
        self.vt_sq = self.vt_sq.wrapping_add(1);
        self.state = LinkState::OutgoingConnectionPending;
        self.cc_count = 1;
        self.cc_deadline = Some(now + self.cfg.timer_cc);
        self.reset_sequences(0);
        self.tx.push_back(Pdu::Bgn { nsq: self.vt_sq, nmr: Self::wire(self.vr_mr()), uu: Vec::new() });
    }

    /// AA-RELEASE.request: send END.
    pub fn release(&mut self, now: Duration) {
        if self.state == LinkState::Idle {
            return;
        }
        self.state = LinkState::OutgoingDisconnectionPending;
        self.cc_count = 1;
        self.cc_deadline = Some(now + self.cfg.timer_cc);
        self.poll_deadline = None;
        self.no_response_deadline = None;
        self.tx.push_back(Pdu::End { source: false, uu: Vec::new() });
    }

    /// Physical link lost: all state is gone, nothing is sent.
    pub fn link_lost(&mut self) {
        self.enter_idle(false);
        self.tx.clear();
    }

    /// AA-DATA.request: queue an SDU; sent now if the link is up and the window open.
    pub fn send(&mut self, now: Duration, sdu: Vec<u8>) {
        self.pending.push_back(sdu);
        self.flush_pending(now);
    }

    fn flush_pending(&mut self, now: Duration) {
        if self.state != LinkState::DataTransferReady {
            return;
        }
        while self.vt_s < self.vt_ms {
            let Some(sdu) = self.pending.pop_front() else {
                break;
            };
            self.tx.push_back(Pdu::Sd { ns: Self::wire(self.vt_s), data: sdu.clone() });
            self.unacked.push_back(sdu);
            self.vt_s += 1;
            self.stats.sd_sent += 1;
            if self.poll_deadline.is_none() {
                self.poll_deadline = Some(now + self.cfg.timer_poll);
            }
            // Q.2110: a POLL after every MaxPD SDs, so credit comes back while data flows.
            self.vt_pd += 1;
            if self.vt_pd >= MAX_PD {
                self.send_poll(now);
            }
        }
    }

    /// Asks the peer for its status now (a POLL, as Timer_KEEP_ALIVE would): in Data Transfer
    /// Ready the peer must answer with a STAT echoing this N(PS) (Q.2110), whatever else it
    /// does. The N(PS) sent; `None` when this side is not in Data Transfer Ready.
    pub fn probe(&mut self, now: Duration) -> Option<u32> {
        if self.state != LinkState::DataTransferReady {
            return None;
        }
        self.send_poll(now);
        Some(self.vt_ps)
    }

    /// N(PS) of the last solicited STAT received in Data Transfer Ready.
    pub fn last_stat_nps(&self) -> Option<u32> {
        self.last_stat_nps
    }

    fn send_poll(&mut self, now: Duration) {
        self.vt_pd = 0;
        self.vt_ps = self.vt_ps.wrapping_add(1) & SEQ_MASK;
        self.tx.push_back(Pdu::Poll { nps: self.vt_ps, ns: Self::wire(self.vt_s) });
        self.stats.polls_sent += 1;
        self.poll_deadline = Some(now + self.cfg.timer_poll);
        if self.no_response_deadline.is_none() {
            self.no_response_deadline = Some(now + self.cfg.timer_no_response);
        }
    }

    /// One PDU from the user side. Undecodable PDUs are dropped (Q.2110: MAA-ERROR, ignore).
    pub fn receive(&mut self, now: Duration, bytes: &[u8]) {
        let Ok(pdu) = Pdu::parse(bytes) else { return };
        self.on_pdu(now, pdu);
    }

    fn on_pdu(&mut self, now: Duration, pdu: Pdu) {
        use LinkState::*;
        match (self.state, pdu) {
            // Peer establishes (or re-establishes, or crosses our BGN): acknowledge, reset.
            (_, Pdu::Bgn { nmr, .. }) => {
                self.tx.push_back(Pdu::Bgak { nmr: Self::wire(u64::from(self.cfg.window)), uu: Vec::new() });
                self.enter_ready(now, nmr);
            }
            // Our BGN acknowledged.
            (OutgoingConnectionPending, Pdu::Bgak { nmr, .. }) => self.enter_ready(now, nmr),
            // Our BGN rejected.
            (OutgoingConnectionPending, Pdu::Bgrej { .. }) => self.enter_idle(true),
            // Peer releases (also a collision with our END): acknowledge.
            (_, Pdu::End { .. }) => {
                self.tx.push_back(Pdu::Endak);
                self.enter_idle(true);
            }
            // Our END acknowledged.
            (OutgoingDisconnectionPending, Pdu::Endak) => self.enter_idle(false),
            // ENDAK/BGREJ elsewhere: ignore.
            (_, Pdu::Endak | Pdu::Bgrej { .. }) => {}
            // Data-transfer PDUs while idle: tell the peer the link is down.
            (
                Idle,
                Pdu::Sd { .. }
                | Pdu::Poll { .. }
                | Pdu::Stat { .. }
                | Pdu::Ustat { .. }
                | Pdu::Rs { .. }
                | Pdu::Er { .. },
            ) => {
                self.tx.push_back(Pdu::End { source: true, uu: Vec::new() });
            }
            // Sequenced data.
            (DataTransferReady, Pdu::Sd { ns, data }) => self.on_sd(ns, data),
            // Peer polls: answer with our receive status.
            (DataTransferReady, Pdu::Poll { nps, ns }) => self.on_poll(nps, ns),
            // Solicited status: free acknowledged SDs, retransmit listed gaps.
            (DataTransferReady, Pdu::Stat { nps, nmr, nr, list }) => {
                self.no_response_deadline = None;
                self.last_stat_nps = Some(nps);
                self.on_status(now, nmr, nr, &list);
            }
            // Unsolicited status: same, for one gap.
            (DataTransferReady, Pdu::Ustat { nmr, nr, list }) => self.on_status(now, nmr, nr, &list),
            // Resynchronisation: acknowledge and start the sequences afresh.
            (DataTransferReady, Pdu::Rs { nmr, .. }) => {
                self.tx.push_back(Pdu::Rsak { nmr: Self::wire(u64::from(self.cfg.window)) });
                self.reset_sequences(nmr);
                self.events.push_back(LinkEvent::Established);
                self.flush_pending(now);
            }
            // Error recovery (Q.2110): acknowledge, initialise the state variables both ways (the
            // peer numbers from 0 again, so must we, and out-of-sequence SDs are dropped), and send
            // our unacknowledged SDs again, renumbered, ahead of anything pending.
            (DataTransferReady, Pdu::Er { nmr, .. }) => {
                self.stats.ers_received += 1;
                self.tx.push_back(Pdu::Erak { nmr: Self::wire(u64::from(self.cfg.window)) });
                let unacked = std::mem::take(&mut self.unacked);
                for sdu in unacked.into_iter().rev() {
                    self.pending.push_front(sdu);
                }
                self.reset_sequences(nmr);
                self.flush_pending(now);
            }
            // Unit data is delivered in any state.
            (_, Pdu::Ud { data }) => self.events.push_back(LinkEvent::Unitdata(data)),
            // Everything else (MD, stray acknowledgements, data while connecting): ignore.
            _ => {}
        }
    }

    fn on_sd(&mut self, ns: u32, data: Vec<u8>) {
        let Some(abs) = Self::forward_of(self.vr_r, ns) else {
            return;
        }; // duplicate
        if abs >= self.vr_mr() {
            return; // outside the window
        }
        if abs == self.vr_r {
            self.events.push_back(LinkEvent::Data(data));
            self.vr_r += 1;
            while let Some(d) = self.out_of_order.remove(&self.vr_r) {
                self.events.push_back(LinkEvent::Data(d));
                self.vr_r += 1;
            }
            self.vr_h = self.vr_h.max(self.vr_r);
            return;
        }
        if abs >= self.vr_h {
            // A new gap [VR(H), N(S)): report it at once.
            self.tx.push_back(Pdu::Ustat {
                nmr: Self::wire(self.vr_mr()),
                nr: Self::wire(self.vr_r),
                list: [Self::wire(self.vr_h), Self::wire(abs)],
            });
            self.stats.ustats_sent += 1;
            self.vr_h = abs + 1;
        }
        self.out_of_order.insert(abs, data);
    }

    fn on_poll(&mut self, nps: u32, ns: u32) {
        if let Some(abs) = Self::forward_of(self.vr_r, ns)
            && abs <= self.vr_mr()
        {
            self.vr_h = self.vr_h.max(abs);
        }
        let mut list = Vec::new();
        let mut missing = false;
        for s in self.vr_r..self.vr_h {
            let have = self.out_of_order.contains_key(&s);
            if have == missing {
                list.push(Self::wire(s));
                missing = !have;
            }
        }
        if missing {
            list.push(Self::wire(self.vr_h));
        }
        self.tx.push_back(Pdu::Stat { nps, nmr: Self::wire(self.vr_mr()), nr: Self::wire(self.vr_r), list });
        self.stats.stats_sent += 1;
    }

    fn on_status(&mut self, now: Duration, nmr: u32, nr: u32, list: &[u32]) {
        let Some(nr) = Self::forward_of(self.vt_a, nr).filter(|v| *v <= self.vt_s) else {
            return;
        };
        // VT(A)..N(R) acknowledged (N(R) ≤ VT(S), so within the queue).
        let acked = usize::try_from(nr - self.vt_a).unwrap_or(usize::MAX).min(self.unacked.len());
        self.unacked.drain(..acked);
        self.vt_a = nr;
        if let Some(ms) = Self::forward_of(self.vt_a, nmr) {
            self.vt_ms = ms;
        }
        for pair in list.chunks(2) {
            let Some(a) = pair.first() else { continue };
            let b = pair.get(1).copied().unwrap_or(Self::wire(self.vt_s));
            let (Some(a), Some(b)) = (Self::forward_of(self.vt_a, *a), Self::forward_of(self.vt_a, b)) else {
                continue;
            };
            self.retransmit(a, b.min(self.vt_s));
        }
        if self.unacked.is_empty() {
            self.poll_deadline = None;
            self.no_response_deadline = None;
        }
        self.flush_pending(now);
    }

    fn retransmit(&mut self, from: u64, to: u64) {
        // A hostile or corrupted list may name an empty or backwards range.
        if from >= to {
            return;
        }
        let end = self.vt_a + self.unacked.len() as u64;
        for s in from.max(self.vt_a)..to.min(end) {
            let Some(d) = self.unacked.get((s - self.vt_a) as usize) else { continue };
            self.tx.push_back(Pdu::Sd { ns: Self::wire(s), data: d.clone() });
            self.stats.sd_retransmitted += 1;
        }
    }

    pub fn next_deadline(&self) -> Option<Duration> {
        [self.cc_deadline, self.poll_deadline, self.no_response_deadline].into_iter().flatten().min()
    }

    /// Runs the timers due at `now`.
    pub fn advance(&mut self, now: Duration) {
        if self.no_response_deadline.is_some_and(|d| d <= now) {
            // Timer_NO_RESPONSE: the peer stopped answering polls; release the link.
            self.tx.push_back(Pdu::End { source: true, uu: Vec::new() });
            self.enter_idle(false);
            return;
        }
        if self.cc_deadline.is_some_and(|d| d <= now) {
            if self.cc_count >= self.cfg.max_cc {
                // Timer_CC exhausted: give up.
                if self.state == LinkState::OutgoingConnectionPending {
                    self.tx.push_back(Pdu::End { source: true, uu: Vec::new() });
                }
                self.enter_idle(false);
                return;
            }
            self.cc_count += 1;
            self.cc_deadline = Some(now + self.cfg.timer_cc);
            match self.state {
                LinkState::OutgoingConnectionPending => {
                    self.tx.push_back(Pdu::Bgn { nsq: self.vt_sq, nmr: Self::wire(self.vr_mr()), uu: Vec::new() })
                }
                LinkState::OutgoingDisconnectionPending => {
                    self.tx.push_back(Pdu::End { source: false, uu: Vec::new() })
                }
                _ => self.cc_deadline = None,
            }
        }
        if self.poll_deadline.is_some_and(|d| d <= now) {
            if self.unacked.is_empty() {
                self.poll_deadline = None;
            } else {
                // Timer_POLL: ask for status while data is outstanding.
                self.send_poll(now);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Duration = Duration::ZERO;
    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    fn up() -> Sscop {
        let mut s = Sscop::default();
        s.receive(T0, &Pdu::Bgn { nsq: 1, nmr: 16, uu: vec![] }.emit());
        assert_eq!(s.take_tx(), vec![Pdu::Bgak { nmr: 128, uu: vec![] }]);
        assert_eq!(s.take_events(), vec![LinkEvent::Established]);
        s
    }

    /// The link probe: a POLL only in Data Transfer Ready; only the STAT echoing its N(PS)
    /// answers it (a stale STAT, or none, does not).
    #[test]
    fn a_probe_is_answered_only_by_the_stat_echoing_its_poll_sequence() {
        assert_eq!(Sscop::default().probe(T0), None, "no POLL while idle");
        let mut s = up();
        let n = s.probe(T0).expect("a POLL in state 10");
        assert!(matches!(s.take_tx().as_slice(), [Pdu::Poll { nps, .. }] if *nps == n));
        s.receive(T0, &Pdu::Stat { nps: n, nmr: 16, nr: 0, list: vec![] }.emit());
        assert_eq!(s.last_stat_nps(), Some(n));
        let m = s.probe(T0).expect("a second POLL");
        assert_ne!(m, n);
        assert_ne!(s.last_stat_nps(), Some(m), "unanswered: the last STAT answered the first POLL");
    }

    #[test]
    fn bgn_from_user_is_answered_with_bgak_and_link_is_ready() {
        let s = up();
        assert!(s.is_ready());
    }

    #[test]
    fn own_bgn_is_retried_on_timer_cc_then_given_up() {
        let mut s = Sscop::default();
        s.establish(T0);
        assert!(matches!(s.take_tx()[..], [Pdu::Bgn { .. }]));
        let mut t = T0;
        for _ in 0..3 {
            t = s.next_deadline().unwrap();
            s.advance(t);
            assert!(matches!(s.take_tx()[..], [Pdu::Bgn { .. }]));
        }
        s.advance(s.next_deadline().unwrap());
        assert_eq!(s.state(), LinkState::Idle);
        assert!(t < ms(4000));
        assert_eq!(s.take_events(), vec![LinkEvent::Released { by_peer: false }]);
        // Answered in time instead, it is established.
        let mut s = Sscop::default();
        s.establish(T0);
        s.receive(ms(10), &Pdu::Bgak { nmr: 8, uu: vec![] }.emit());
        assert!(s.is_ready());
    }

    #[test]
    fn end_both_ways() {
        let mut s = up();
        s.receive(T0, &Pdu::End { source: false, uu: vec![] }.emit());
        assert_eq!(s.take_tx(), vec![Pdu::Endak]);
        assert_eq!(s.take_events(), vec![LinkEvent::Released { by_peer: true }]);
        let mut s = up();
        s.release(T0);
        assert_eq!(s.take_tx(), vec![Pdu::End { source: false, uu: vec![] }]);
        s.receive(ms(1), &Pdu::Endak.emit());
        assert_eq!(s.state(), LinkState::Idle);
        assert_eq!(s.take_events(), vec![LinkEvent::Released { by_peer: false }]);
    }

    #[test]
    fn sd_delivered_in_order_even_when_received_out_of_order() {
        let mut s = up();
        s.receive(T0, &Pdu::Sd { ns: 0, data: b"a".to_vec() }.emit());
        s.receive(T0, &Pdu::Sd { ns: 2, data: b"c".to_vec() }.emit());
        // Gap [1,2) reported at once.
        assert_eq!(s.take_tx(), vec![Pdu::Ustat { nmr: 129, nr: 1, list: [1, 2] }]);
        s.receive(T0, &Pdu::Poll { nps: 1, ns: 3 }.emit());
        assert_eq!(s.take_tx(), vec![Pdu::Stat { nps: 1, nmr: 129, nr: 1, list: vec![1, 2] }]);
        s.receive(T0, &Pdu::Sd { ns: 1, data: b"b".to_vec() }.emit());
        s.receive(T0, &Pdu::Sd { ns: 1, data: b"dup".to_vec() }.emit());
        let got: Vec<_> = s.take_events();
        assert_eq!(
            got,
            vec![LinkEvent::Data(b"a".to_vec()), LinkEvent::Data(b"b".to_vec()), LinkEvent::Data(b"c".to_vec())]
        );
        s.receive(T0, &Pdu::Poll { nps: 2, ns: 3 }.emit());
        assert_eq!(s.take_tx(), vec![Pdu::Stat { nps: 2, nmr: 131, nr: 3, list: vec![] }]);
    }

    #[test]
    fn own_polls_while_unacknowledged_and_stat_frees_window() {
        let mut s = up();
        s.send(T0, b"one".to_vec());
        s.send(T0, b"two".to_vec());
        assert_eq!(s.take_tx().len(), 2);
        assert_eq!(s.next_deadline(), Some(ms(750)));
        s.advance(ms(750));
        assert_eq!(s.take_tx(), vec![Pdu::Poll { nps: 1, ns: 2 }]);
        s.receive(ms(760), &Pdu::Stat { nps: 1, nmr: 20, nr: 2, list: vec![] }.emit());
        assert_eq!(s.unacked(), 0);
        assert_eq!(s.next_deadline(), None);
    }

    #[test]
    fn window_limits_sending_until_stat_opens_it() {
        let mut s = Sscop::default();
        s.receive(T0, &Pdu::Bgn { nsq: 1, nmr: 1, uu: vec![] }.emit());
        s.take_tx();
        s.send(T0, b"1".to_vec());
        s.send(T0, b"2".to_vec());
        assert_eq!(s.take_tx().len(), 1);
        s.receive(T0, &Pdu::Stat { nps: 0, nmr: 2, nr: 1, list: vec![] }.emit());
        assert_eq!(s.take_tx(), vec![Pdu::Sd { ns: 1, data: b"2".to_vec() }]);
    }

    #[test]
    fn sds_reported_missing_are_retransmitted() {
        let mut s = up();
        for d in [b"x", b"y", b"z"] {
            s.send(T0, d.to_vec());
        }
        s.take_tx();
        s.receive(T0, &Pdu::Stat { nps: 0, nmr: 100, nr: 0, list: vec![1, 2] }.emit());
        assert_eq!(s.take_tx(), vec![Pdu::Sd { ns: 1, data: b"y".to_vec() }]);
        s.receive(T0, &Pdu::Ustat { nmr: 100, nr: 1, list: [2, 3] }.emit());
        assert_eq!(s.take_tx(), vec![Pdu::Sd { ns: 2, data: b"z".to_vec() }]);
        assert_eq!(s.unacked(), 2);
        assert_eq!(s.stats.sd_retransmitted, 2);
    }

    #[test]
    fn no_response_to_polls_releases_the_link() {
        let mut s = up();
        s.send(T0, b"x".to_vec());
        let mut t = T0;
        while s.is_ready() {
            t = s.next_deadline().unwrap();
            s.advance(t);
        }
        assert_eq!(t, ms(750 + 7000));
        assert!(s.take_tx().contains(&Pdu::End { source: true, uu: vec![] }));
    }

    #[test]
    fn data_while_idle_is_answered_with_end() {
        let mut s = Sscop::default();
        s.receive(T0, &Pdu::Sd { ns: 0, data: vec![1] }.emit());
        assert_eq!(s.take_tx(), vec![Pdu::End { source: true, uu: vec![] }]);
        assert!(s.take_events().is_empty());
    }
}
