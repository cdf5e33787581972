//! Sending: one emitter per PDU kind, and the data-transfer transmitter (Q.2110 state 10:
//! SDs out as the window allows, POLLs by count).

use super::*;

impl Sscop {
    // ----- sending -----

    pub(super) fn emit<T: FnMut(&[u8])>(scratch: &mut [u8], pdu: PduRepr<'_>, tx: &mut T) {
        if let Ok(n) = pdu.emit(scratch)
            && let Some(bytes) = scratch.get(..n)
        {
            tx(bytes);
        }
    }

    pub(super) fn send<T: FnMut(&[u8])>(&mut self, pdu: PduRepr<'_>, tx: &mut T) {
        Self::emit(&mut self.scratch, pdu, tx);
    }

    pub(super) fn send_bgn<T: FnMut(&[u8])>(&mut self, tx: &mut T) {
        let pdu = PduRepr::Bgn { n_sq: self.vt_sq, n_mr: self.vr_mr, uu: &[] };
        self.send(pdu, tx);
    }

    pub(super) fn send_bgak<T: FnMut(&[u8])>(&mut self, tx: &mut T) {
        self.send(PduRepr::Bgak { n_mr: self.vr_mr, uu: &[] }, tx);
    }

    pub(super) fn send_end<T: FnMut(&[u8])>(&mut self, source: bool, tx: &mut T) {
        self.end_source = source;
        self.send(PduRepr::End { source, uu: &[] }, tx);
    }

    pub(super) fn send_er<T: FnMut(&[u8])>(&mut self, tx: &mut T) {
        self.send(PduRepr::Er { n_sq: self.vt_sq, n_mr: self.vr_mr }, tx);
    }

    pub(super) fn send_poll<T: FnMut(&[u8])>(&mut self, tx: &mut T) {
        self.vt_ps = seq_add(self.vt_ps, 1);
        self.send(PduRepr::Poll { n_ps: self.vt_ps, n_s: self.vt_s }, tx);
        self.vt_pd = 0;
    }

    pub(super) fn send_ustat<T: FnMut(&[u8])>(&mut self, from: u32, to: u32, tx: &mut T) {
        let pdu = PduRepr::Ustat { n_mr: self.vr_mr, n_r: self.vr_r, list2: [from, to] };
        self.send(pdu, tx);
    }

    /// Sends SD number `k` of the transmit queue (N(S) = VT(A) + k).
    pub(super) fn send_sd<T: FnMut(&[u8])>(&mut self, k: usize, tx: &mut T) {
        let n_s = seq_add(self.vt_a, to_u32(k));
        if let Some(data) = self.txq.payload(k) {
            Self::emit(&mut self.scratch, PduRepr::Sd { n_s, data }, tx);
        }
        let vt_ps = self.vt_ps;
        if let Some(m) = self.txq.meta_mut(k) {
            m.poll_seq = vt_ps;
        }
        self.txq.set_rexmit(k, false);
    }

    // ----- transmitter (data transfer) -----

    /// Sends what the retransmission queue and the window allow (Q.2110 state 10 "PDU queued").
    pub(super) fn pump<T: FnMut(&[u8])>(&mut self, now: Duration, tx: &mut T) {
        for _ in 0..self.txq.capacity().saturating_mul(2).saturating_add(1) {
            let sent = to_usize(seq_off(self.vt_s, self.vt_a));
            if let Some(k) = self.txq.first_rexmit(sent) {
                self.counters.retransmissions = self.counters.retransmissions.saturating_add(1);
                self.send_sd(k, tx);
            } else if sent < self.txq.len() && sent < to_usize(seq_off(self.vt_ms, self.vt_a)) {
                self.send_sd(sent, tx);
                self.vt_s = seq_add(self.vt_s, 1);
            } else {
                if sent < self.txq.len() && self.poll_kind() == Some(PollTimer::Idle) {
                    // Data waits on a closed window of a quiet link: ask for the window now.
                    self.start_nr(now);
                    self.send_poll(tx);
                    self.start_poll(now, PollTimer::Poll);
                }
                break;
            }
            self.after_sd(now, tx);
        }
    }

    /// Timer and poll book-keeping after each SD sent.
    pub(super) fn after_sd<T: FnMut(&[u8])>(&mut self, now: Duration, tx: &mut T) {
        self.vt_pd = self.vt_pd.saturating_add(1);
        match self.poll_kind() {
            // Data after a quiet spell: back to active polling under NO-RESPONSE.
            Some(PollTimer::Idle) | None => {
                self.start_nr(now);
                self.start_poll(now, PollTimer::Poll);
            }
            Some(PollTimer::KeepAlive) => self.start_poll(now, PollTimer::Poll),
            Some(PollTimer::Poll) => {}
        }
        if self.vt_pd >= MAX_PD {
            self.send_poll(tx);
            self.set_poll_timer(now);
        }
    }
}
