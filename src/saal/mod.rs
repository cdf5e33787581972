//! The signalling AAL on VPI 0 / VCI 5: SSCOP (Q.2110) under SSCF-UNI (Q.2130), user side.
//!
//! Sans-I/O: the caller hands in received SSCOP PDUs (one AAL5 CPCS-SDU each) and the time, and
//! gets PDUs to send through a `tx` closure and AAL primitives for Q.2931 through an `up`
//! closure. Every buffer is allocated in [`Saal::new`]; nothing allocates afterwards.
//!
//! SSCF-UNI is a thin mapping (Q.2130 §6): AAL-ESTABLISH / AAL-RELEASE / AAL-DATA requests go to
//! SSCOP as AA-ESTABLISH / AA-RELEASE / AA-DATA requests; SSCOP's AA-ESTABLISH.indication,
//! AA-RESYNC.indication and AA-RECOVER.indication are answered at once and reported to Q.2931 as
//! AAL-ESTABLISH.indication ([`SaalEvent::Established`]), AA-ESTABLISH.confirm as
//! AAL-ESTABLISH.confirm (also `Established`), AA-RELEASE.indication / .confirm as
//! AAL-RELEASE.indication / .confirm ([`SaalEvent::Released`], the confirm with
//! [`ReleaseCause::Requested`]), AA-DATA.indication as AAL-DATA.indication ([`SaalEvent::Data`]).

mod buffers;
pub mod sscop;

#[cfg(test)]
mod tests;

use core::time::Duration;

use sscop::{Indication, Sscop};

pub use sscop::{Counters, State};

/// Longest signalling message (SSCOP MaxK / MaxJ default, Q.2110 §7.7).
pub const MAX_MESSAGE: usize = 4096;

/// Allocation failed while building the entity.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct AllocError;

impl From<alloc::collections::TryReserveError> for AllocError {
    fn from(_: alloc::collections::TryReserveError) -> Self {
        AllocError
    }
}

/// Why an AAL-DATA.request was refused.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum SendError {
    /// Longer than [`MAX_MESSAGE`].
    TooLong,
    /// The transmit queue (window-sized) is full: retry after acknowledgements arrive.
    QueueFull,
    /// A release is in progress (AAL-RELEASE.request issued, not yet confirmed).
    Releasing,
}

/// Why the link went down (carried by [`SaalEvent::Released`]).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ReleaseCause {
    /// The peer's user released (END with S = 0).
    PeerUser,
    /// The peer's SSCOP released (END with S = 1: a timeout or protocol error on its side).
    PeerSscop,
    /// The peer refused our BGN (BGREJ).
    Rejected,
    /// BGN or ER went unanswered MaxCC times (Timer_CC).
    ConnectionTimeout,
    /// The peer stopped answering POLLs (Timer_NO-RESPONSE).
    NoResponse,
    /// The peer began a new connection over the running one; `Established` follows at once.
    PeerRestart,
    /// The peer sent a PDU that ends the connection (ENDAK or BGREJ in data transfer).
    ProtocolError,
    /// The physical layer was lost ([`Saal::link_lost`]).
    LinkLost,
    /// The release this side asked for is complete (AAL-RELEASE.confirm).
    Requested,
}

/// SSCOP / SSCF-UNI parameters (defaults: Q.2110 §7.7 and Q.2130).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct SaalConfig {
    /// Timer_CC: BGN / END / ER repetition.
    pub timer_cc: Duration,
    /// Timer_POLL: POLL interval while data is outstanding.
    pub timer_poll: Duration,
    /// Timer_NO-RESPONSE: longest wait for a STAT.
    pub timer_noresponse: Duration,
    /// Timer_KEEP-ALIVE: POLL interval just after the data was acknowledged.
    pub timer_keepalive: Duration,
    /// Timer_IDLE: POLL interval on a quiet link.
    pub timer_idle: Duration,
    /// MaxCC: BGN / END / ER transmissions before giving up.
    pub max_cc: u32,
    /// Send queue and receive window in messages (clamped to 1..=128).
    pub window: u32,
}

impl Default for SaalConfig {
    fn default() -> Self {
        SaalConfig {
            timer_cc: Duration::from_millis(1000),
            timer_poll: Duration::from_millis(750),
            timer_noresponse: Duration::from_millis(7000),
            timer_keepalive: Duration::from_millis(2000),
            timer_idle: Duration::from_millis(15000),
            max_cc: 4,
            window: 64,
        }
    }
}

/// AAL primitives for Q.2931.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum SaalEvent<'a> {
    /// AAL-ESTABLISH.indication or .confirm: the link is up (again; after a resync or
    /// recovery, messages in flight may have been lost).
    Established,
    /// AAL-RELEASE.indication or .confirm: the link is down.
    Released {
        /// Why.
        cause: ReleaseCause,
    },
    /// AAL-DATA.indication: one Q.2931 message, in sequence.
    Data(&'a [u8]),
}

/// SSCF-UNI over SSCOP: the user side of the signalling link.
pub struct Saal {
    sscop: Sscop,
}

/// SSCF-UNI's answer to an SSCOP indication: the AAL primitive for Q.2931.
fn to_event(ind: Indication<'_>) -> SaalEvent<'_> {
    match ind {
        // AA-ESTABLISH.ind/.conf, AA-RESYNC.ind, AA-RECOVER.ind (already answered by SSCOP on
        // SSCF-UNI's behalf): AAL-ESTABLISH.ind/.conf.
        Indication::EstablishIndication
        | Indication::EstablishConfirm
        | Indication::ResyncIndication
        | Indication::RecoverIndication => SaalEvent::Established,
        // AA-RELEASE.ind: AAL-RELEASE.ind.
        Indication::ReleaseIndication(cause) => SaalEvent::Released { cause },
        // AA-RELEASE.conf: AAL-RELEASE.conf.
        Indication::ReleaseConfirm => SaalEvent::Released { cause: ReleaseCause::Requested },
        // AA-DATA.ind: AAL-DATA.ind.
        Indication::Data(d) => SaalEvent::Data(d),
    }
}

impl Saal {
    /// Builds the entity, allocating its buffers (about `2 × window × 4 KiB`).
    pub fn new(cfg: SaalConfig) -> Result<Self, AllocError> {
        Ok(Saal { sscop: Sscop::new(cfg)? })
    }

    /// AAL-ESTABLISH.request: sends BGN (no-op when already up or connecting).
    pub fn establish(&mut self, now: Duration, tx: &mut impl FnMut(&[u8])) {
        self.sscop.establish(now, tx);
    }

    /// AAL-RELEASE.request: sends END; `Released { cause: Requested }` follows on ENDAK.
    pub fn release(&mut self, now: Duration, tx: &mut impl FnMut(&[u8])) {
        self.sscop.release(now, tx);
    }

    /// AAL-DATA.request: queues one message, sent as an SD when established and the window is
    /// open. Queued messages are dropped if the link is released first.
    pub fn send(&mut self, now: Duration, msg: &[u8], tx: &mut impl FnMut(&[u8])) -> Result<(), SendError> {
        if msg.len() > MAX_MESSAGE {
            return Err(SendError::TooLong);
        }
        if self.sscop.state() == State::OutgoingDisconnectionPending {
            return Err(SendError::Releasing);
        }
        if self.sscop.send_data(now, msg, tx) { Ok(()) } else { Err(SendError::QueueFull) }
    }

    /// A received SSCOP PDU (one AAL5 SDU from VC 0/5). Never panics on any input.
    pub fn receive(
        &mut self,
        now: Duration,
        pdu: &[u8],
        tx: &mut impl FnMut(&[u8]),
        up: &mut impl FnMut(SaalEvent<'_>),
    ) {
        self.sscop.receive(now, pdu, tx, &mut |ind| up(to_event(ind)));
    }

    /// Runs the timers due by `now`.
    pub fn on_timer(&mut self, now: Duration, tx: &mut impl FnMut(&[u8]), up: &mut impl FnMut(SaalEvent<'_>)) {
        self.sscop.on_timer(now, tx, &mut |ind| up(to_event(ind)));
    }

    /// When [`on_timer`](Self::on_timer) next has work, if ever.
    pub fn next_deadline(&self) -> Option<Duration> {
        self.sscop.next_deadline()
    }

    /// Whether the link is in data transfer (Q.2110 state 10).
    pub fn is_established(&self) -> bool {
        self.sscop.state() == State::DataTransferReady
    }

    /// The SSCOP state.
    pub fn state(&self) -> State {
        self.sscop.state()
    }

    /// Messages queued or awaiting acknowledgement.
    pub fn queued(&self) -> usize {
        self.sscop.queued()
    }

    /// Layer-management counters (malformed PDUs, retransmissions, ...).
    pub fn counters(&self) -> Counters {
        self.sscop.counters()
    }

    /// The physical layer is gone: release at once (AAL-RELEASE.indication, `LinkLost`) without
    /// sending anything.
    pub fn link_lost(&mut self, up: &mut impl FnMut(SaalEvent<'_>)) {
        self.sscop.link_lost(&mut |ind| up(to_event(ind)));
    }
}

/// The signalling link the call manager drives.
pub type Link = Saal;
