//! Network-side call and party records, tester knobs, and the views handed to tests.

use std::collections::BTreeMap;
use std::time::Duration;

use super::PortId;
use super::codec::ie::Ie;
use super::codec::q2931::Message;

/// Network-side call states (Q.2931 §2.2; the numeric value is the Call State IE coding).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallState {
    /// Null.
    N0,
    /// Call initiated: SETUP received from the user.
    N1,
    /// Outgoing call proceeding: CALL PROCEEDING sent to the user.
    N3,
    /// Call delivered: ALERTING sent to the user.
    N4,
    /// Call present: SETUP sent to the user.
    N6,
    /// Call received: ALERTING received from the user.
    N7,
    /// Connect request: CONNECT received, CONNECT ACK not yet sent.
    N8,
    /// Incoming call proceeding: CALL PROCEEDING received from the user.
    N9,
    /// Active.
    N10,
    /// Release request: RELEASE received from the user.
    N11,
    /// Release indication: RELEASE sent to the user, T308 running.
    N12,
}

impl CallState {
    pub fn code(self) -> u8 {
        match self {
            CallState::N0 => 0,
            CallState::N1 => 1,
            CallState::N3 => 3,
            CallState::N4 => 4,
            CallState::N6 => 6,
            CallState::N7 => 7,
            CallState::N8 => 8,
            CallState::N9 => 9,
            CallState::N10 => 10,
            CallState::N11 => 11,
            CallState::N12 => 12,
        }
    }
}

/// Party (endpoint) states, Call State-style numeric coding of the Endpoint State IE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PartyState {
    /// P0 null.
    Null,
    /// P1 ADD PARTY sent towards the user (network-originated).
    AddPartyInitiated,
    /// P6 ADD PARTY received from the user, not yet answered.
    AddPartyReceived,
    /// P4 PARTY ALERTING sent to the user.
    PartyAlertDelivered,
    /// P7 PARTY ALERTING received from the user.
    PartyAlertReceived,
    /// P10 active.
    Active,
    /// P11 DROP PARTY sent to the user, T398 running.
    DropPartyInitiated,
    /// P12 DROP PARTY received from the user.
    DropPartyReceived,
}

impl PartyState {
    pub fn code(self) -> u8 {
        match self {
            PartyState::Null => 0,
            PartyState::AddPartyInitiated => 1,
            PartyState::PartyAlertDelivered => 4,
            PartyState::AddPartyReceived => 6,
            PartyState::PartyAlertReceived => 7,
            PartyState::Active => 10,
            PartyState::DropPartyInitiated => 11,
            PartyState::DropPartyReceived => 12,
        }
    }
}

/// How the network answers a request it terminates itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// CONNECT (or ADD PARTY ACK) at once.
    Connect,
    /// RELEASE COMPLETE (or ADD PARTY REJECT) with this cause.
    Reject(u8),
    /// Say nothing.
    Ignore,
    /// CALL PROCEEDING (PARTY ALERTING), then CONNECT (ADD PARTY ACK) after `connect_delay`.
    ProceedThenConnect,
    /// CALL PROCEEDING (PARTY ALERTING) only.
    ProceedOnly,
}

/// Tester knobs of one port. The defaults are a well-behaved network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Behaviour {
    /// SETUPs to a called number that is no port's address.
    pub answer: Answer,
    /// false: RELEASE from the user is ignored (no RELEASE COMPLETE), to exercise the user's T308.
    pub release_complete: bool,
    /// ADD PARTY for a called number that is no port's address.
    pub add_party: Answer,
    /// false: DROP PARTY from the user is ignored.
    pub drop_party_ack: bool,
    /// Delay between CALL PROCEEDING and CONNECT for `Answer::ProceedThenConnect`.
    pub connect_delay: Duration,
    /// false: the user's CONNECT is not acknowledged (to exercise the user's T313).
    pub connect_ack: bool,
    /// false: the user's RESTART is not acknowledged (T316 at the user).
    pub restart_ack: bool,
    /// false: the user's STATUS ENQUIRY is not answered (T322 at the user).
    pub status_reply: bool,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            answer: Answer::Connect,
            release_complete: true,
            add_party: Answer::Connect,
            drop_party_ack: true,
            connect_delay: Duration::from_millis(100),
            connect_ack: true,
            restart_ack: true,
            status_reply: true,
        }
    }
}

/// Parameters of a SETUP the network offers to a user (`Network::offer_call`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferParams {
    pub vpi: u16,
    /// None: the network allocates a VCI ≥ 32.
    pub vci: Option<u16>,
    pub forward_max_sdu: u16,
    pub backward_max_sdu: u16,
    /// Peak cell rate (CLP 0+1) both ways; with `best_effort` this is UBR.
    pub pcr: u32,
    pub best_effort: bool,
    /// Broadband bearer class (0x10 BCOB-X, 0x03 BCOB-C, 0x01 BCOB-A).
    pub bearer_class: u8,
    /// Point-to-multipoint (UPCC 1 and an Endpoint Reference IE with value 0).
    pub p2mp: bool,
    pub qos: (u8, u8),
    pub user_user: Option<Vec<u8>>,
    /// Added at the end of the SETUP as given (e.g. unknown IEs).
    pub extra_ies: Vec<Ie>,
}

impl Default for OfferParams {
    fn default() -> Self {
        OfferParams {
            vpi: 0,
            vci: None,
            forward_max_sdu: 9188,
            backward_max_sdu: 9188,
            pcr: 353_207,
            best_effort: true,
            bearer_class: 0x10,
            p2mp: false,
            qos: (0, 0),
            user_user: None,
            extra_ies: Vec::new(),
        }
    }
}

/// A call as the network sees it at one port (`Network::calls`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallInfo {
    pub call_ref: u32,
    /// True if the network allocated the call reference (network → user call).
    pub network_allocated: bool,
    pub state: CallState,
    pub vpi: u16,
    pub vci: u16,
    pub calling: Vec<u8>,
    pub called: Vec<u8>,
    /// The other legs of a routed call: endpoint (0 for point-to-point), port, call reference.
    pub peers: Vec<(u16, PortId, u32)>,
    pub parties: Vec<(u16, PartyState)>,
}

/// Key of a call at a port: (network allocated, call reference value).
pub(crate) type Key = (bool, u32);

/// Which timer a call runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Timer {
    T303,
    T310,
    T308,
    /// Delayed CONNECT (`Answer::ProceedThenConnect`).
    Answer,
}

/// A routed leg: at `port`, the call `key`; for a leaf, the root's endpoint reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Leg {
    pub port: PortId,
    pub key: Key,
}

#[derive(Debug, Clone)]
pub(crate) struct Party {
    pub state: PartyState,
    /// Routed party: the leaf call on another port.
    pub leg: Option<Leg>,
    pub t398: Option<Duration>,
    /// Delayed ADD PARTY ACK.
    pub answer_at: Option<Duration>,
}

/// A party number's digits, inline up to 20 octets (an NSAP address; E.164 numbers are at most
/// 15 digits): a call record carries no heap object for its numbers.
pub(crate) type Digits = smallvec::SmallVec<[u8; 20]>;

#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub state: CallState,
    pub vpi: u16,
    pub vci: u16,
    pub calling: Digits,
    pub called: Digits,
    /// Other legs by root endpoint reference (0 for point-to-point).
    pub legs: BTreeMap<u16, Leg>,
    /// For a leaf call routed from a root: the root's endpoint reference of this leaf.
    pub root_endpoint: Option<u16>,
    /// Point-to-multipoint root: the parties (the first one from the SETUP).
    pub parties: BTreeMap<u16, Party>,
    pub timer: Option<(Timer, Duration, u8)>,
    pub t322: Option<(Duration, u8)>,
    /// The last SETUP / RELEASE sent, for T303 / T308 retransmission (dropped once the call is
    /// active: neither timer runs in N10).
    pub last_sent: Option<Message>,
    /// The Connection Identifier has been sent to the user.
    pub conn_id_sent: bool,
    /// N11 entered with `release_complete == false`: RELEASEs are ignored.
    pub ignoring_release: bool,
    /// The network terminates the data of this call (records / injects).
    pub terminated: bool,
    /// Traffic-related IEs of the SETUP that created the call (reused for leaf SETUPs).
    pub setup_ies: Vec<Ie>,
}

/// What is left of a call once it is removed: what freeing its VC and clearing its other legs
/// need.
#[derive(Debug)]
pub(crate) struct Gone {
    pub vpi: u16,
    pub vci: u16,
    pub legs: BTreeMap<u16, Leg>,
    pub root_endpoint: Option<u16>,
}

impl From<&mut Call> for Gone {
    /// Takes the legs; copies the rest.
    fn from(c: &mut Call) -> Gone {
        Gone { vpi: c.vpi, vci: c.vci, legs: std::mem::take(&mut c.legs), root_endpoint: c.root_endpoint }
    }
}

impl Call {
    pub fn new(state: CallState, vpi: u16, vci: u16) -> Self {
        Call {
            state,
            vpi,
            vci,
            calling: Digits::new(),
            called: Digits::new(),
            legs: BTreeMap::new(),
            root_endpoint: None,
            parties: BTreeMap::new(),
            timer: None,
            t322: None,
            last_sent: None,
            conn_id_sent: false,
            ignoring_release: false,
            terminated: false,
            setup_ies: Vec::new(),
        }
    }

    /// The earliest of the call's armed timers (T303 / T308 / T310 / delayed answer, T322, and
    /// its parties' T398 and delayed ADD PARTY ACK).
    pub fn earliest_deadline(&self) -> Option<Duration> {
        let parties = self.parties.values().flat_map(|p| [p.t398, p.answer_at]).flatten();
        [self.timer.map(|t| t.1), self.t322.map(|t| t.0)].into_iter().flatten().chain(parties).min()
    }
}
