//! User-side call states (Q.2931 §2.1.1, UNI 3.1 §5.2.1.1) and timers.

use core::time::Duration;

/// Q.2931 user-side call state; [`UniState::code`] is the Call State IE value.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum UniState {
    /// U0 Null.
    Null,
    /// U1 Call Initiated: SETUP sent.
    CallInitiated,
    /// U3 Outgoing Call Proceeding: CALL PROCEEDING received.
    OutgoingCallProceeding,
    /// U4 Call Delivered: ALERTING received.
    CallDelivered,
    /// U6 Call Present: SETUP received, not yet answered.
    CallPresent,
    /// U8 Connect Request: CONNECT sent, awaiting CONNECT ACKNOWLEDGE.
    ConnectRequest,
    /// U10 Active.
    Active,
    /// U11 Release Request: RELEASE sent.
    ReleaseRequest,
    /// U12 Release Indication: RELEASE received, RELEASE COMPLETE owed.
    ReleaseIndication,
}

impl UniState {
    pub const fn code(self) -> u8 {
        match self {
            UniState::Null => 0,
            UniState::CallInitiated => 1,
            UniState::OutgoingCallProceeding => 3,
            UniState::CallDelivered => 4,
            UniState::CallPresent => 6,
            UniState::ConnectRequest => 8,
            UniState::Active => 10,
            UniState::ReleaseRequest => 11,
            UniState::ReleaseIndication => 12,
        }
    }
}

/// A call reference as this side keeps it: the 23-bit value and whether this side allocated it
/// (outgoing calls) or the network did (incoming calls).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct CallRef {
    pub value: u32,
    pub ours: bool,
}

impl CallRef {
    /// The call reference flag to put in messages this side sends: 0 from the allocating side,
    /// 1 towards it.
    pub const fn flag_to_send(self) -> bool {
        !self.ours
    }
}

/// The call timers this side runs.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum TimerKind {
    T303,
    T308,
    T309,
    T310,
    T313,
    T322,
}

/// One running call timer.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct CallTimer {
    pub kind: TimerKind,
    pub due: Duration,
    /// Expiries so far (T303 and T308 retransmit once).
    pub expiries: u8,
}
