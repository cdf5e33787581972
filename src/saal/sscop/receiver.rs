//! The data-transfer receiver (Q.2110 state 10): SD, POLL, STAT and USTAT.

use super::*;

impl Sscop {
    // ----- receiver (data transfer) -----

    pub(super) fn ready_sd<T, U>(&mut self, n_s: u32, data: &[u8], tx: &mut T, up: &mut U)
    where
        T: FnMut(&[u8]),
        U: FnMut(Indication<'_>),
    {
        let win = seq_off(self.vr_mr, self.vr_r);
        let off = seq_off(n_s, self.vr_r);
        let high = seq_off(self.vr_h, self.vr_r);
        if off >= win {
            // N(S) ≥ VR(MR): discard; report the window edge once with a USTAT.
            self.counters.out_of_window = self.counters.out_of_window.saturating_add(1);
            if high < win {
                self.send_ustat(self.vr_h, self.vr_mr, tx);
                self.vr_h = self.vr_mr;
            }
            return;
        }
        // An SD longer than any SSCF-UNI message takes its place in sequence as an empty SDU
        // (Q.2931 ignores an empty message): dropping it would have the peer retransmit it forever
        // and stall everything behind it.
        let data = if data.len() > MAX_MESSAGE {
            self.counters.oversize = self.counters.oversize.saturating_add(1);
            &[][..]
        } else {
            data
        };
        if off == 0 {
            // N(S) = VR(R): deliver it and whatever follows in sequence.
            up(Indication::Data(data));
            self.rxw.advance();
            let mut delivered = 1u32;
            while let Some(next) = self.rxw.front() {
                up(Indication::Data(next));
                self.rxw.advance();
                delivered = delivered.saturating_add(1);
            }
            self.vr_r = seq_add(self.vr_r, delivered);
            if delivered > high {
                // VR(H) must never lag VR(R).
                self.vr_h = self.vr_r;
            }
            self.init_vr_mr();
        } else if off == high {
            // N(S) = VR(H): the next new SD after a gap.
            if self.rxw.store(to_usize(off), data) {
                self.vr_h = seq_add(n_s, 1);
            }
        } else if off > high {
            // N(S) > VR(H): new gap [VR(H), N(S)) reported by USTAT.
            if self.rxw.store(to_usize(off), data) {
                self.send_ustat(self.vr_h, n_s, tx);
                self.vr_h = seq_add(n_s, 1);
            }
        } else if !self.rxw.store(to_usize(off), data) {
            // VR(R) < N(S) < VR(H), already held: a duplicate (MAA-ERROR Q).
            self.counters.duplicates = self.counters.duplicates.saturating_add(1);
        }
    }

    /// POLL: take N(S) as VR(H) if it advances it, answer with STAT listing the gaps.
    pub(super) fn ready_poll<T: FnMut(&[u8])>(&mut self, n_ps: u32, n_s: u32, tx: &mut T) {
        let win = seq_off(self.vr_mr, self.vr_r);
        let s = seq_off(n_s, self.vr_r);
        if s <= win && s > seq_off(self.vr_h, self.vr_r) {
            self.vr_h = n_s;
        }
        let high = to_usize(seq_off(self.vr_h, self.vr_r));
        // Alternating list: first missing, first received after it, next missing, ...
        let mut count = 0usize;
        let mut k = 0usize;
        let max = MAX_STAT - MAX_STAT % 2;
        while k < high && count + 2 <= max {
            if self.rxw.is_present(k) {
                k += 1;
                continue;
            }
            let gap_start = k;
            while k < high && !self.rxw.is_present(k) {
                k += 1;
            }
            for v in [gap_start, k] {
                let seq = seq_add(self.vr_r, to_u32(v));
                if let Some(slot) = self.list.get_mut(count * 4..count * 4 + 4) {
                    slot.copy_from_slice(&seq.to_be_bytes());
                }
                count += 1;
            }
        }
        let list = self.list.get(..count * 4).unwrap_or(&[]);
        let pdu = PduRepr::Stat { n_ps, n_mr: self.vr_mr, n_r: self.vr_r, list };
        Self::emit(&mut self.scratch, pdu, tx);
    }

    /// Acknowledges everything below `n_r` (already validated: VT(A) ≤ N(R) ≤ VT(S)).
    pub(super) fn ack_up_to(&mut self, n_r: u32) {
        let n = to_usize(seq_off(n_r, self.vt_a));
        self.txq.drop_front(n);
        self.vt_a = n_r;
    }

    /// STAT: validate, acknowledge, queue the listed gaps for retransmission.
    pub(super) fn ready_stat<T: FnMut(&[u8])>(
        &mut self,
        now: Duration,
        n_ps: u32,
        n_mr: u32,
        n_r: u32,
        list: &[u8],
        tx: &mut T,
    ) {
        let sent = seq_off(self.vt_s, self.vt_a);
        let r = seq_off(n_r, self.vt_a);
        let mut ok = seq_off(n_ps, self.vt_pa) <= seq_off(self.vt_ps, self.vt_pa) && r <= sent;
        let mut prev: Option<u32> = None;
        for e in list_entries(list) {
            let o = seq_off(e, self.vt_a);
            let bad = match prev {
                None => o < r || o > sent,
                Some(p) => o <= p || o > sent,
            };
            if bad {
                ok = false;
                break;
            }
            prev = Some(o);
        }
        if !ok {
            self.start_recovery(now, tx);
            return;
        }
        self.vt_pa = n_ps;
        self.ack_up_to(n_r);
        // Pairs [missing from, received from); between pairs lies a received run.
        let mut entries = list_entries(list).map(|e| to_usize(seq_off(e, self.vt_a)));
        let mut prev_received: Option<usize> = None;
        while let (Some(a), Some(b)) = (entries.next(), entries.next()) {
            if let Some(rcv) = prev_received {
                for k in rcv..a {
                    if let Some(m) = self.txq.meta_mut(k) {
                        m.acked = true;
                    }
                    self.txq.set_rexmit(k, false);
                }
            }
            for k in a..b {
                let due = self.txq.meta(k).is_some_and(|m| {
                    let before_poll = seq_off(n_ps, m.poll_seq).wrapping_sub(1) < (1 << 23);
                    !m.acked && before_poll
                });
                if due {
                    self.txq.set_rexmit(k, true);
                }
            }
            prev_received = Some(b);
        }
        self.vt_ms = n_mr;
        match self.poll_kind() {
            Some(PollTimer::Poll) => self.start_nr(now),
            Some(PollTimer::KeepAlive) => {
                self.nr_at = None;
                self.start_poll(now, PollTimer::Idle);
            }
            Some(PollTimer::Idle) | None => {}
        }
    }

    /// USTAT: validate (VT(A) ≤ N(R) ≤ L1 < L2 < VT(S)), acknowledge, queue [L1, L2) for
    /// retransmission.
    pub(super) fn ready_ustat<T: FnMut(&[u8])>(
        &mut self,
        now: Duration,
        n_mr: u32,
        n_r: u32,
        list2: [u32; 2],
        tx: &mut T,
    ) {
        let sent = seq_off(self.vt_s, self.vt_a);
        let r = seq_off(n_r, self.vt_a);
        let l1 = seq_off(list2[0], self.vt_a);
        let l2 = seq_off(list2[1], self.vt_a);
        if !(r <= l1 && l1 < l2 && l2 < sent) {
            self.start_recovery(now, tx);
            return;
        }
        self.ack_up_to(n_r);
        let (a, b) = (to_usize(l1.saturating_sub(r)), to_usize(l2.saturating_sub(r)));
        for k in a..b {
            if self.txq.meta(k).is_some_and(|m| !m.acked) {
                self.txq.set_rexmit(k, true);
            }
        }
        self.vt_ms = n_mr;
    }
}
