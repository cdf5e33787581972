//! Adapter configuration: the registry keys (`inf/atmmcm.inx` Ndi\params) and their defaults.

use core::time::Duration;

/// Which UNI signalling the adapter speaks on 0/5.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum SignallingVariant {
    /// ATM Forum UNI 3.1: RELEASE carries no user-user IE, so CloseData is refused
    /// (NDIS_STATUS_INVALID_DATA).
    Uni31,
    /// ATM Forum UNI 4.0: CloseData travels in the RELEASE's user-user IE (Q.2957).
    Uni40,
}

/// Signalling timers (Q.2931 / UNI defaults; `signalling.md` §1).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Timers {
    /// SETUP sent, awaiting CALL PROCEEDING / CONNECT. Retransmitted once.
    pub t303: Duration,
    /// RELEASE sent, awaiting RELEASE COMPLETE. Retransmitted once.
    pub t308: Duration,
    /// SAAL link lost: active calls survive this long for the link to come back.
    pub t309: Duration,
    /// CALL PROCEEDING received, awaiting CONNECT.
    pub t310: Duration,
    /// CONNECT sent, awaiting CONNECT ACKNOWLEDGE.
    pub t313: Duration,
    /// RESTART sent, awaiting RESTART ACKNOWLEDGE.
    pub t316: Duration,
    /// STATUS ENQUIRY sent, awaiting STATUS.
    pub t322: Duration,
    /// ADD PARTY sent, awaiting the answer (T399 in UNI 4.0 terms: T303 + T310).
    pub t399: Duration,
    /// DROP PARTY sent, awaiting DROP PARTY ACKNOWLEDGE.
    pub t398: Duration,
    /// How long a closing VC's transmit side may take to drain before the NIC connection is
    /// forced closed.
    pub tx_drain: Duration,
}

impl Timers {
    pub const DEFAULT: Timers = Timers {
        t303: Duration::from_secs(4),
        t308: Duration::from_secs(30),
        t309: Duration::from_secs(10),
        t310: Duration::from_secs(30),
        t313: Duration::from_secs(4),
        t316: Duration::from_secs(120),
        t322: Duration::from_secs(4),
        t399: Duration::from_secs(34),
        t398: Duration::from_secs(4),
        tx_drain: Duration::from_millis(500),
    };
}

/// Everything the adapter reads from the registry at MiniportInitializeEx.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub variant: SignallingVariant,
    pub timers: Timers,
    /// Client VCs the adapter supports at once (the signalling VC is extra).
    pub max_vcs: usize,
    /// Parties across all point-to-multipoint calls.
    pub max_parties: usize,
    /// Per-VC send ring size (NBLs); a power of two.
    pub ring_size: usize,
    /// Link speed reported with NDIS_STATUS_LINK_STATE (OC-3 payload rate by default).
    pub link_speed_bps: u64,
}

impl Config {
    pub const DEFAULT: Config = Config {
        variant: SignallingVariant::Uni40,
        timers: Timers::DEFAULT,
        max_vcs: 1024,
        max_parties: 1024,
        ring_size: 256,
        link_speed_bps: 149_760_000,
    };
}

impl Default for Config {
    fn default() -> Self {
        Config::DEFAULT
    }
}
