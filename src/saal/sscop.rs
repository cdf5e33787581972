//! The SSCOP entity (ITU-T Q.2110), sans-I/O: PDUs in and out through closures, time as a plain
//! `Duration` passed in, timers as deadlines.
//!
//! Q.2110 states and where they live here (SSCF-UNI answers every SSCOP indication at once,
//! Q.2130, so the "waiting for the user's response" states are passed through within one call):
//!
//! | Q.2110 state | here |
//! |---|---|
//! | 1 Idle | [`State::Idle`] |
//! | 2 Outgoing Connection Pending | [`State::OutgoingConnectionPending`] |
//! | 3 Incoming Connection Pending | transient: BGN → AA-ESTABLISH.ind, answered with BGAK at once |
//! | 4 Outgoing Disconnection Pending | [`State::OutgoingDisconnectionPending`] |
//! | 5 Outgoing Resync Pending | not entered: SSCF-UNI never asks for a resync |
//! | 6 Incoming Resync Pending | transient: RS → AA-RESYNC.ind, answered with RSAK at once |
//! | 7 Outgoing Recovery Pending | [`State::OutgoingRecoveryPending`] |
//! | 8 Recovery Response | transient: ERAK → AA-RECOVER.ind, answered at once |
//! | 9 Incoming Recovery Pending | transient: ER → AA-RECOVER.ind, answered with ERAK at once |
//! | 10 Data Transfer Ready | [`State::DataTransferReady`] |
//!
//! Choices where Q.2110 leaves room or where this entity is deliberately simpler:
//! - A BGN in Idle is accepted even when its N(SQ) repeats VR(SQ) (the ATM Forum robustness
//!   rule), so a peer that restarted with a fresh N(SQ) is never rejected forever.
//! - Unassured data (UD, MD) is dropped: SSCF-UNI's user, Q.2931, sends only assured data.
//! - UU fields received are ignored and none are sent.
//! - A POLL whose N(S) lies below VR(H) or beyond VR(MR) is answered with a STAT but moves
//!   nothing, and an SD already held is dropped and counted; Q.2110 starts recovery for both
//!   (MAA-ERROR Q), but on a reordering path both are harmless. A STAT or USTAT with an
//!   impossible N(PS), N(R) or list does start recovery (ER, state 7), as Q.2110 says; list
//!   ranges already acknowledged are skipped rather than treated as errors.
//! - An SD longer than [`MAX_MESSAGE`](super::MAX_MESSAGE) is kept in sequence as an empty SDU
//!   (counted in `oversize`): dropped, the peer would retransmit it forever and stall the link.
//! - STAT lists are cut to [`MAX_STAT`] elements (an even number, so whole gaps); an odd trailing
//!   element in a received STAT is ignored.
//! - Releasing (either way) drops everything queued or unacknowledged; re-initialising the
//!   connection (recovery, resync, a new BGN) drops what was sent and keeps, renumbered, what
//!   was not yet sent.

use core::time::Duration;

use alloc::vec::Vec;

use super::buffers::{RxWindow, TxQueue};
use super::{AllocError, MAX_MESSAGE, ReleaseCause, SaalConfig};
use crate::wire::sscop::{PduRepr, SEQ_MASK, list_entries};

mod receiver;
mod timers;
mod transmit;

/// Q.2110 MaxPD default: SDs sent between POLLs.
pub const MAX_PD: u32 = 25;
/// Q.2110 MaxSTAT default: list elements in one STAT (cut to an even 66 here).
pub const MAX_STAT: usize = 67;
/// Upper bound on the window (and the receive/transmit buffers).
pub const MAX_WINDOW: u32 = 128;

/// `a + n` in 24-bit sequence space.
fn seq_add(a: u32, n: u32) -> u32 {
    a.wrapping_add(n) & SEQ_MASK
}

/// How far `a` lies above `base` in 24-bit sequence space.
fn seq_off(a: u32, base: u32) -> u32 {
    a.wrapping_sub(base) & SEQ_MASK
}

fn to_usize(v: u32) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

fn to_u32(v: usize) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// The stored states (see the module table).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum State {
    /// Q.2110 state 1.
    Idle,
    /// Q.2110 state 2: BGN sent, Timer_CC running.
    OutgoingConnectionPending,
    /// Q.2110 state 4: END sent, Timer_CC running.
    OutgoingDisconnectionPending,
    /// Q.2110 state 7: ER sent, Timer_CC running.
    OutgoingRecoveryPending,
    /// Q.2110 state 10.
    DataTransferReady,
}

/// SSCOP → SSCF signals (AA-* primitives).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Indication<'a> {
    /// AA-ESTABLISH.indication (already answered with BGAK).
    EstablishIndication,
    /// AA-ESTABLISH.confirm.
    EstablishConfirm,
    /// AA-RELEASE.indication.
    ReleaseIndication(ReleaseCause),
    /// AA-RELEASE.confirm.
    ReleaseConfirm,
    /// AA-DATA.indication, in sequence.
    Data(&'a [u8]),
    /// AA-RECOVER.indication (already answered).
    RecoverIndication,
    /// AA-RESYNC.indication (already answered with RSAK).
    ResyncIndication,
}

/// The one of Timer_POLL / Timer_KEEP-ALIVE / Timer_IDLE running in data transfer.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum PollTimer {
    Poll,
    KeepAlive,
    Idle,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Timer {
    Cc,
    Poll(PollTimer),
    NoResponse,
}

/// Counters for layer management (MAA-ERROR.indication is not reported otherwise).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// PDUs that failed to parse (MAA-ERROR U), dropped.
    pub malformed: u32,
    /// SDs outside the receive window, dropped.
    pub out_of_window: u32,
    /// SDs received twice, dropped.
    pub duplicates: u32,
    /// SDs longer than any SSCF-UNI message, kept in sequence as empty SDUs.
    pub oversize: u32,
    /// SD PDUs retransmitted.
    pub retransmissions: u32,
    /// Recoveries started by this side (bad STAT/USTAT).
    pub recoveries: u32,
}

/// One SSCOP connection.
pub struct Sscop {
    state: State,
    cfg: SaalConfig,
    window: u32,
    // Transmitter state variables (Q.2110 §7.3.1).
    vt_s: u32,
    vt_ps: u32,
    vt_a: u32,
    vt_pa: u32,
    vt_ms: u32,
    vt_pd: u32,
    vt_cc: u32,
    vt_sq: u8,
    // Receiver state variables.
    vr_r: u32,
    vr_h: u32,
    vr_mr: u32,
    vr_sq: u8,
    /// S bit of the END being repeated under Timer_CC.
    end_source: bool,
    cc_at: Option<Duration>,
    nr_at: Option<Duration>,
    poll_at: Option<(PollTimer, Duration)>,
    txq: TxQueue,
    rxw: RxWindow,
    scratch: Vec<u8>,
    list: Vec<u8>,
    counters: Counters,
}

impl Sscop {
    /// Allocates every buffer the connection will ever use.
    pub fn new(cfg: SaalConfig) -> Result<Self, AllocError> {
        let window = cfg.window.clamp(1, MAX_WINDOW);
        let cap = to_usize(window);
        let scratch_len = MAX_MESSAGE + 8;
        let mut scratch = Vec::new();
        scratch.try_reserve_exact(scratch_len).map_err(|_| AllocError)?;
        scratch.resize(scratch_len, 0);
        let list_len = MAX_STAT * 4 + 12;
        let mut list = Vec::new();
        list.try_reserve_exact(list_len).map_err(|_| AllocError)?;
        list.resize(list_len, 0);
        Ok(Sscop {
            state: State::Idle,
            cfg,
            window,
            vt_s: 0,
            vt_ps: 0,
            vt_a: 0,
            vt_pa: 1,
            vt_ms: 0,
            vt_pd: 0,
            vt_cc: 0,
            vt_sq: 0,
            vr_r: 0,
            vr_h: 0,
            vr_mr: 0,
            vr_sq: 0,
            end_source: false,
            cc_at: None,
            nr_at: None,
            poll_at: None,
            txq: TxQueue::new(cap)?,
            rxw: RxWindow::new(cap)?,
            scratch,
            list,
            counters: Counters::default(),
        })
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// Layer-management counters.
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// Messages queued or unacknowledged.
    pub fn queued(&self) -> usize {
        self.txq.len()
    }

    /// The earliest running timer's deadline.
    pub fn next_deadline(&self) -> Option<Duration> {
        [self.cc_at, self.nr_at, self.poll_at.map(|(_, at)| at)].into_iter().flatten().min()
    }

    // ----- state variable macros -----

    fn init_vr_mr(&mut self) {
        self.vr_mr = seq_add(self.vr_r, self.window);
    }

    /// Initialize_State_Variables: a fresh numbering; SDs already sent are lost with the old one.
    fn init_state(&mut self) {
        let sent = to_usize(seq_off(self.vt_s, self.vt_a));
        self.txq.drop_front(sent);
        self.txq.reset_marks();
        self.rxw.clear();
        self.vt_s = 0;
        self.vt_ps = 0;
        self.vt_a = 0;
        self.vt_pa = 1;
        self.vt_pd = 0;
        self.vr_r = 0;
        self.vr_h = 0;
        self.init_vr_mr();
    }

    fn release_buffers(&mut self) {
        self.txq.clear();
        self.rxw.clear();
        self.vt_s = 0;
        self.vt_a = 0;
    }

    /// Enters Idle after a release, telling the SSCF.
    fn enter_idle<U: FnMut(Indication<'_>)>(&mut self, ind: Indication<'_>, up: &mut U) {
        self.stop_all_timers();
        self.release_buffers();
        self.state = State::Idle;
        up(ind);
    }

    /// States 3 → 10: answer a BGN with BGAK (SSCF-UNI's immediate AA-ESTABLISH.response).
    fn accept_begin<T: FnMut(&[u8])>(&mut self, now: Duration, n_sq: u8, n_mr: u32, tx: &mut T) {
        self.cc_at = None;
        self.vr_sq = n_sq;
        self.vt_ms = n_mr;
        self.init_state();
        self.send_bgak(tx);
        self.set_data_transfer_timers(now);
        self.state = State::DataTransferReady;
    }

    /// Q.2110 recovery start (protocol error in data transfer): ER, state 7.
    fn start_recovery<T: FnMut(&[u8])>(&mut self, now: Duration, tx: &mut T) {
        self.counters.recoveries = self.counters.recoveries.saturating_add(1);
        self.reset_data_transfer_timers();
        self.vt_cc = 1;
        self.vt_sq = self.vt_sq.wrapping_add(1);
        self.init_vr_mr();
        self.send_er(tx);
        self.txq.reset_marks();
        self.start_cc(now);
        self.state = State::OutgoingRecoveryPending;
    }

    // ----- user requests -----

    /// AA-ESTABLISH.request.
    pub fn establish<T: FnMut(&[u8])>(&mut self, now: Duration, tx: &mut T) {
        match self.state {
            // 1 Idle / 4 Outgoing Disconnection Pending, AA-ESTABLISH.request: BGN, Timer_CC → 2.
            State::Idle | State::OutgoingDisconnectionPending => {
                self.stop_all_timers();
                self.rxw.clear();
                self.vt_cc = 1;
                self.vt_sq = self.vt_sq.wrapping_add(1);
                self.vr_r = 0;
                self.init_vr_mr();
                self.send_bgn(tx);
                self.start_cc(now);
                self.state = State::OutgoingConnectionPending;
            }
            // 2, 7, 10: already connecting or connected; nothing to do.
            State::OutgoingConnectionPending | State::OutgoingRecoveryPending | State::DataTransferReady => {}
        }
    }

    /// AA-RELEASE.request.
    pub fn release<T: FnMut(&[u8])>(&mut self, now: Duration, tx: &mut T) {
        match self.state {
            // 2, 7, 10, AA-RELEASE.request: END (S=0), Timer_CC → 4.
            State::OutgoingConnectionPending | State::OutgoingRecoveryPending | State::DataTransferReady => {
                self.stop_all_timers();
                self.release_buffers();
                self.vt_cc = 1;
                self.send_end(false, tx);
                self.start_cc(now);
                self.state = State::OutgoingDisconnectionPending;
            }
            // 1, 4: nothing to release.
            State::Idle | State::OutgoingDisconnectionPending => {}
        }
    }

    /// AA-DATA.request: queues the message; it goes out when the window allows. False when the
    /// queue is full or the message longer than [`MAX_MESSAGE`](super::MAX_MESSAGE).
    pub fn send_data<T: FnMut(&[u8])>(&mut self, now: Duration, msg: &[u8], tx: &mut T) -> bool {
        if !self.txq.push(msg) {
            return false;
        }
        if self.state == State::DataTransferReady {
            self.pump(now, tx);
        }
        true
    }

    /// Physical layer gone: every state ends in Idle at once.
    pub fn link_lost<U: FnMut(Indication<'_>)>(&mut self, up: &mut U) {
        match self.state {
            State::Idle => {}
            _ => self.enter_idle(Indication::ReleaseIndication(ReleaseCause::LinkLost), up),
        }
    }

    // ----- the state machine -----

    /// A received PDU (one AAL5 SDU). Malformed PDUs are counted and dropped (MAA-ERROR U).
    pub fn receive<T, U>(&mut self, now: Duration, bytes: &[u8], tx: &mut T, up: &mut U)
    where
        T: FnMut(&[u8]),
        U: FnMut(Indication<'_>),
    {
        let pdu = match PduRepr::parse(bytes) {
            Ok(p) => p,
            Err(_) => {
                self.counters.malformed = self.counters.malformed.saturating_add(1);
                return;
            }
        };
        self.on_pdu(now, pdu, tx, up);
        if self.state == State::DataTransferReady {
            self.pump(now, tx);
        }
    }

    fn on_pdu<T, U>(&mut self, now: Duration, pdu: PduRepr<'_>, tx: &mut T, up: &mut U)
    where
        T: FnMut(&[u8]),
        U: FnMut(Indication<'_>),
    {
        use Indication as I;
        use PduRepr as P;
        use State as S;
        match (self.state, pdu) {
            // 1 Idle, BGN: → 3 (AA-ESTABLISH.ind); SSCF-UNI responds at once: BGAK → 10.
            (S::Idle, P::Bgn { n_sq, n_mr, .. }) => {
                self.accept_begin(now, n_sq, n_mr, tx);
                up(I::EstablishIndication);
            }
            // 1 Idle, END: ENDAK, stay.
            (S::Idle, P::End { .. }) => self.send(P::Endak, tx),
            // 1 Idle, ENDAK / BGREJ (MAA-ERROR D) / UD / MD: ignored.
            (S::Idle, P::Endak | P::Bgrej { .. } | P::Ud { .. } | P::Md { .. }) => {}
            // 1 Idle, any other connection-mode PDU (SD, POLL, STAT, USTAT, BGAK, RS, RSAK, ER,
            // ERAK; MAA-ERROR A..M): the peer believes in a connection we do not have: END (S=1).
            (S::Idle, _) => self.send_end(true, tx),

            // 2 Outgoing Connection Pending, BGAK: → 10, AA-ESTABLISH.confirm.
            (S::OutgoingConnectionPending, P::Bgak { n_mr, .. }) => {
                self.cc_at = None;
                self.vt_ms = n_mr;
                self.init_state();
                self.set_data_transfer_timers(now);
                self.state = S::DataTransferReady;
                up(I::EstablishConfirm);
            }
            // 2, BGREJ: → 1, AA-RELEASE.indication.
            (S::OutgoingConnectionPending, P::Bgrej { .. }) => {
                self.enter_idle(I::ReleaseIndication(ReleaseCause::Rejected), up);
            }
            // 2, BGN (collision): a repeat of the last one is ignored; else BGAK, → 10 confirmed.
            (S::OutgoingConnectionPending, P::Bgn { n_sq, n_mr, .. }) => {
                if n_sq != self.vr_sq {
                    self.accept_begin(now, n_sq, n_mr, tx);
                    up(I::EstablishConfirm);
                }
            }
            // 2, anything else (END, ENDAK, SD, POLL, STAT, USTAT, RS, RSAK, ER, ERAK, UD, MD):
            // ignored; Timer_CC keeps repeating the BGN.
            (S::OutgoingConnectionPending, _) => {}

            // 4 Outgoing Disconnection Pending, END (collision): ENDAK, → 1, AA-RELEASE.confirm.
            (S::OutgoingDisconnectionPending, P::End { .. }) => {
                self.send(P::Endak, tx);
                self.enter_idle(I::ReleaseConfirm, up);
            }
            // 4, ENDAK / BGREJ: → 1, AA-RELEASE.confirm.
            (S::OutgoingDisconnectionPending, P::Endak | P::Bgrej { .. }) => {
                self.enter_idle(I::ReleaseConfirm, up);
            }
            // 4, BGN (new, not a repeat): release confirmed, then → 3 → 10 with BGAK.
            (S::OutgoingDisconnectionPending, P::Bgn { n_sq, n_mr, .. }) => {
                if n_sq != self.vr_sq {
                    self.enter_idle(I::ReleaseConfirm, up);
                    self.accept_begin(now, n_sq, n_mr, tx);
                    up(I::EstablishIndication);
                }
            }
            // 4, anything else: ignored while the END is repeated.
            (S::OutgoingDisconnectionPending, _) => {}

            // 7 Outgoing Recovery Pending, ERAK: → 8; SSCF-UNI answers AA-RECOVER.response → 10.
            (S::OutgoingRecoveryPending, P::Erak { n_mr }) => {
                self.cc_at = None;
                self.vt_ms = n_mr;
                self.init_state();
                self.set_data_transfer_timers(now);
                self.state = S::DataTransferReady;
                up(I::RecoverIndication);
            }
            // 7, ER (recovery collision, not a repeat): ERAK, → 9 → 10 (AA-RECOVER.ind answered).
            (S::OutgoingRecoveryPending, P::Er { n_sq, n_mr }) => {
                if n_sq != self.vr_sq {
                    self.cc_at = None;
                    self.accept_recovery(now, n_sq, n_mr, tx);
                    up(I::RecoverIndication);
                }
            }
            // 7, RS (not a repeat): RSAK, → 6 → 10 (AA-RESYNC.ind answered).
            (S::OutgoingRecoveryPending, P::Rs { n_sq, n_mr, .. }) => {
                if n_sq != self.vr_sq {
                    self.cc_at = None;
                    self.accept_resync(now, n_sq, n_mr, tx);
                    up(I::ResyncIndication);
                }
            }
            // 7, END: ENDAK, → 1, AA-RELEASE.indication with the peer's source.
            (S::OutgoingRecoveryPending, P::End { source, .. }) => {
                self.send(P::Endak, tx);
                self.enter_idle(I::ReleaseIndication(end_cause(source)), up);
            }
            // 7, ENDAK (MAA-ERROR F): → 1, AA-RELEASE.indication.
            (S::OutgoingRecoveryPending, P::Endak) => {
                self.enter_idle(I::ReleaseIndication(ReleaseCause::ProtocolError), up);
            }
            // 7, BGREJ (MAA-ERROR D): → 1, AA-RELEASE.indication.
            (S::OutgoingRecoveryPending, P::Bgrej { .. }) => {
                self.enter_idle(I::ReleaseIndication(ReleaseCause::ProtocolError), up);
            }
            // 7, BGN (not a repeat): the peer restarted: release, then → 3 → 10 with BGAK.
            (S::OutgoingRecoveryPending, P::Bgn { n_sq, n_mr, .. }) => {
                if n_sq != self.vr_sq {
                    self.enter_idle(I::ReleaseIndication(ReleaseCause::PeerRestart), up);
                    self.accept_begin(now, n_sq, n_mr, tx);
                    up(I::EstablishIndication);
                }
            }
            // 7, SD, POLL, STAT, USTAT, BGAK, RSAK, UD, MD: ignored while the ER is repeated.
            (S::OutgoingRecoveryPending, _) => {}

            // 10 Data Transfer Ready, SD / POLL / STAT / USTAT: data transfer proper.
            (S::DataTransferReady, P::Sd { n_s, data }) => self.ready_sd(n_s, data, tx, up),
            (S::DataTransferReady, P::Poll { n_ps, n_s }) => self.ready_poll(n_ps, n_s, tx),
            (S::DataTransferReady, P::Stat { n_ps, n_mr, n_r, list }) => {
                self.ready_stat(now, n_ps, n_mr, n_r, list, tx);
            }
            (S::DataTransferReady, P::Ustat { n_mr, n_r, list2 }) => {
                self.ready_ustat(now, n_mr, n_r, list2, tx);
            }
            // 10, END: ENDAK, → 1, AA-RELEASE.indication (S bit tells who released).
            (S::DataTransferReady, P::End { source, .. }) => {
                self.send(P::Endak, tx);
                self.enter_idle(I::ReleaseIndication(end_cause(source)), up);
            }
            // 10, ENDAK (MAA-ERROR F): → 1, AA-RELEASE.indication.
            (S::DataTransferReady, P::Endak) => {
                self.enter_idle(I::ReleaseIndication(ReleaseCause::ProtocolError), up);
            }
            // 10, BGREJ (MAA-ERROR D): → 1, AA-RELEASE.indication.
            (S::DataTransferReady, P::Bgrej { .. }) => {
                self.enter_idle(I::ReleaseIndication(ReleaseCause::ProtocolError), up);
            }
            // 10, BGN: a repeat means our BGAK was lost: BGAK again (NO-RESPONSE restarted). A new one: the peer
            // restarted the link: AA-RELEASE.ind, then → 3 → 10 with BGAK, AA-ESTABLISH.ind.
            (S::DataTransferReady, P::Bgn { n_sq, n_mr, .. }) => {
                if n_sq == self.vr_sq {
                    self.start_nr(now);
                    self.send_bgak(tx);
                } else {
                    self.enter_idle(I::ReleaseIndication(ReleaseCause::PeerRestart), up);
                    self.accept_begin(now, n_sq, n_mr, tx);
                    up(I::EstablishIndication);
                }
            }
            // 10, RS: a repeat → RSAK again; a new one → 6 → 10 (AA-RESYNC.ind answered).
            (S::DataTransferReady, P::Rs { n_sq, n_mr, .. }) => {
                if n_sq == self.vr_sq {
                    self.start_nr(now);
                    self.send(P::Rsak { n_mr: self.vr_mr }, tx);
                } else {
                    self.accept_resync(now, n_sq, n_mr, tx);
                    up(I::ResyncIndication);
                }
            }
            // 10, ER: a repeat → ERAK again; a new one → 9 → 10 (AA-RECOVER.ind answered).
            (S::DataTransferReady, P::Er { n_sq, n_mr }) => {
                if n_sq == self.vr_sq {
                    self.start_nr(now);
                    self.send(P::Erak { n_mr: self.vr_mr }, tx);
                } else {
                    self.accept_recovery(now, n_sq, n_mr, tx);
                    up(I::RecoverIndication);
                }
            }
            // 10, BGAK / RSAK / ERAK (MAA-ERROR C, K, M): late answers, ignored.
            (S::DataTransferReady, P::Bgak { .. } | P::Rsak { .. } | P::Erak { .. }) => {}
            // 10, UD / MD: unassured data is not used by SSCF-UNI's user: dropped.
            (S::DataTransferReady, P::Ud { .. } | P::Md { .. }) => {}
        }
    }

    /// States 6 → 10: RSAK with a fresh numbering (SSCF-UNI's immediate AA-RESYNC.response).
    fn accept_resync<T: FnMut(&[u8])>(&mut self, now: Duration, n_sq: u8, n_mr: u32, tx: &mut T) {
        self.vr_sq = n_sq;
        self.vt_ms = n_mr;
        self.reset_data_transfer_timers();
        self.init_state();
        self.send(PduRepr::Rsak { n_mr: self.vr_mr }, tx);
        self.set_data_transfer_timers(now);
        self.state = State::DataTransferReady;
    }

    /// States 9 → 10: ERAK with a fresh numbering (SSCF-UNI's immediate AA-RECOVER.response).
    fn accept_recovery<T: FnMut(&[u8])>(&mut self, now: Duration, n_sq: u8, n_mr: u32, tx: &mut T) {
        self.vr_sq = n_sq;
        self.vt_ms = n_mr;
        self.reset_data_transfer_timers();
        self.init_state();
        self.send(PduRepr::Erak { n_mr: self.vr_mr }, tx);
        self.set_data_transfer_timers(now);
        self.state = State::DataTransferReady;
    }
}

/// The release cause an END's S bit stands for.
fn end_cause(source: bool) -> ReleaseCause {
    if source { ReleaseCause::PeerSscop } else { ReleaseCause::PeerUser }
}
