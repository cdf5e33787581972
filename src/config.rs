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
    /// RESTART received, awaiting the internal clearing of the restarted VCs (Q.2931 §5.5.2).
    pub t317: Duration,
    /// STATUS ENQUIRY sent, awaiting STATUS. Retransmitted once.
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
        t317: Duration::from_secs(90),
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
    /// Calls at once (set up, active or clearing). Two pools of this many are allocated at
    /// initialize: call state (`cm::objects::CallObj`: parameters, user-user data), taken when a
    /// call starts and given back when it ends; and send rings with in-flight queues, taken when
    /// a call's NIC connection opens and given back when it closes. The signalling backlog is
    /// sized by it too.
    pub max_active_vcs: usize,
    /// Link speed reported with NDIS_STATUS_LINK_STATE (OC-3 payload rate by default).
    pub link_speed_bps: u64,
    /// The End System Identifier (OID_ATM_HW_CURRENT_ADDRESS). ATM1 has no ESI register: on
    /// Windows it comes from the adapter's standard `NetworkAddress` keyword (12 hex digits);
    /// the default is a locally administered address.
    pub esi: [u8; 6],
    /// Send a RESTART (class "all") of our own whenever the signalling link is established with
    /// no call to keep: at start-up and on link return after the calls were cleared (Q.2931
    /// §5.5.1, T316 guarding it). Off by default (`RestartOnLinkUp` = 1 turns it on): UNI 4.0
    /// user sides differ here, a RESTART at every link establishment is one more exchange a
    /// switch must accept before the first call, and the suite's 116 cases that count the
    /// messages after a link establishment were written for a user side that sends none.
    pub restart_on_link_up: bool,
}

impl Config {
    pub const DEFAULT: Config = Config {
        variant: SignallingVariant::Uni40,
        timers: Timers::DEFAULT,
        max_vcs: 1024,
        max_parties: 1024,
        ring_size: 256,
        max_active_vcs: 1024,
        link_speed_bps: 149_760_000,
        esi: Config::DEFAULT_ESI,
        restart_on_link_up: false,
    };

    /// Locally administered (bit 1 of the first octet), unicast.
    pub const DEFAULT_ESI: [u8; 6] = [0x02, 0x00, 0x41, 0x54, 0x4D, 0x31];
}

impl Default for Config {
    fn default() -> Self {
        Config::DEFAULT
    }
}

/// How a registry value is checked.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// A `dword` in `min..=max` (INF `Type = "dword"`, `Min`, `Max`).
    Int { min: u32, max: u32 },
    /// One of the listed values (INF `Type = "enum"`, one `\enum` entry per value).
    Enum(&'static [(u32, &'static str)]),
}

/// One adapter setting as the INF's `Ndi\params\<name>` declares it. [`REGISTRY_KEYS`] is the one
/// source of truth: the Windows configuration reader walks it, and `tests/inf.rs` checks
/// `inf/atmmcm.inx` against it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct RegistryKey {
    pub name: &'static str,
    /// The INF's `ParamDesc` (what the adapter's Advanced tab shows).
    pub description: &'static str,
    /// Equals the matching field of [`Config::DEFAULT`] (checked by a test).
    pub default: u32,
    pub kind: KeyKind,
}

/// `SignallingVariant` values.
pub const VARIANT_UNI31: u32 = 31;
pub const VARIANT_UNI40: u32 = 40;

const fn ms(d: Duration) -> u32 {
    d.as_millis() as u32
}

const fn timer_key(name: &'static str, description: &'static str, default: Duration, max: u32) -> RegistryKey {
    RegistryKey { name, description, default: ms(default), kind: KeyKind::Int { min: 100, max } }
}

/// Every registry key the adapter reads (timers in milliseconds).
pub const REGISTRY_KEYS: &[RegistryKey] = &[
    RegistryKey {
        name: "SignallingVariant",
        description: "UNI signalling version",
        default: VARIANT_UNI40,
        kind: KeyKind::Enum(&[(VARIANT_UNI31, "UNI 3.1"), (VARIANT_UNI40, "UNI 4.0")]),
    },
    timer_key("T303", "T303 SETUP timer (ms)", Timers::DEFAULT.t303, 60_000),
    timer_key("T308", "T308 RELEASE timer (ms)", Timers::DEFAULT.t308, 120_000),
    timer_key("T309", "T309 SAAL recovery timer (ms)", Timers::DEFAULT.t309, 120_000),
    timer_key("T310", "T310 CALL PROCEEDING timer (ms)", Timers::DEFAULT.t310, 180_000),
    timer_key("T313", "T313 CONNECT timer (ms)", Timers::DEFAULT.t313, 60_000),
    timer_key("T316", "T316 RESTART timer (ms)", Timers::DEFAULT.t316, 600_000),
    timer_key("T317", "T317 RESTART clearing timer (ms)", Timers::DEFAULT.t317, 600_000),
    timer_key("T322", "T322 STATUS ENQUIRY timer (ms)", Timers::DEFAULT.t322, 60_000),
    RegistryKey {
        name: "RestartOnLinkUp",
        description: "RESTART all VCs when the signalling link comes up",
        default: Config::DEFAULT.restart_on_link_up as u32,
        kind: KeyKind::Enum(&[(0, "Off"), (1, "On")]),
    },
    RegistryKey {
        name: "MaxVcs",
        description: "Maximum client VCs",
        default: Config::DEFAULT.max_vcs as u32,
        kind: KeyKind::Int { min: 1, max: 65_534 },
    },
    RegistryKey {
        name: "RingSize",
        description: "Per-VC send ring size (power of two)",
        default: Config::DEFAULT.ring_size as u32,
        kind: KeyKind::Int { min: 16, max: 4096 },
    },
    RegistryKey {
        name: "MaxActiveVcs",
        description: "Calls at once (call state and send ring pools)",
        default: Config::DEFAULT.max_active_vcs as u32,
        kind: KeyKind::Int { min: 1, max: 65_534 },
    },
];

/// Why [`Config::set`] refused a value.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    UnknownKey,
    OutOfRange,
    /// `RingSize` must be a power of two.
    NotPowerOfTwo,
}

impl Config {
    /// Sets the setting named `key` (a [`REGISTRY_KEYS`] name) from its registry value, after
    /// checking it against the key's range.
    pub fn set(&mut self, key: &str, value: u32) -> Result<(), ConfigError> {
        let k = REGISTRY_KEYS.iter().find(|k| k.name == key).ok_or(ConfigError::UnknownKey)?;
        match k.kind {
            KeyKind::Int { min, max } if !(min..=max).contains(&value) => return Err(ConfigError::OutOfRange),
            KeyKind::Enum(values) if !values.iter().any(|&(v, _)| v == value) => return Err(ConfigError::OutOfRange),
            _ => {}
        }
        let ms = Duration::from_millis(u64::from(value));
        let t = &mut self.timers;
        match key {
            "SignallingVariant" => {
                self.variant = if value == VARIANT_UNI31 { SignallingVariant::Uni31 } else { SignallingVariant::Uni40 }
            }
            "T303" => t.t303 = ms,
            "T308" => t.t308 = ms,
            "T309" => t.t309 = ms,
            "T310" => t.t310 = ms,
            "T313" => t.t313 = ms,
            "T316" => t.t316 = ms,
            "T317" => t.t317 = ms,
            "T322" => t.t322 = ms,
            "RestartOnLinkUp" => self.restart_on_link_up = value != 0,
            "MaxVcs" => self.max_vcs = value as usize,
            "RingSize" if !value.is_power_of_two() => return Err(ConfigError::NotPowerOfTwo),
            "RingSize" => self.ring_size = value as usize,
            "MaxActiveVcs" => self.max_active_vcs = value as usize,
            _ => return Err(ConfigError::UnknownKey),
        }
        Ok(())
    }

    /// The current value of `key` in registry units (the inverse of [`Config::set`]).
    pub fn get(&self, key: &str) -> Option<u32> {
        let t = &self.timers;
        Some(match key {
            "SignallingVariant" => match self.variant {
                SignallingVariant::Uni31 => VARIANT_UNI31,
                SignallingVariant::Uni40 => VARIANT_UNI40,
            },
            "T303" => ms(t.t303),
            "T308" => ms(t.t308),
            "T309" => ms(t.t309),
            "T310" => ms(t.t310),
            "T313" => ms(t.t313),
            "T316" => ms(t.t316),
            "T317" => ms(t.t317),
            "T322" => ms(t.t322),
            "RestartOnLinkUp" => u32::from(self.restart_on_link_up),
            "MaxVcs" => u32::try_from(self.max_vcs).ok()?,
            "RingSize" => u32::try_from(self.ring_size).ok()?,
            "MaxActiveVcs" => u32::try_from(self.max_active_vcs).ok()?,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_defaults_equal_config_default() {
        for k in REGISTRY_KEYS {
            assert_eq!(Config::DEFAULT.get(k.name), Some(k.default), "{}", k.name);
            let mut c = Config::DEFAULT;
            assert_eq!(c.set(k.name, k.default), Ok(()), "{}", k.name);
            assert_eq!(c, Config::DEFAULT, "{}", k.name);
        }
    }

    #[test]
    fn set_round_trips_through_get_for_every_key() {
        for k in REGISTRY_KEYS {
            let v = match k.kind {
                KeyKind::Int { max, .. } if k.name == "RingSize" => max,
                KeyKind::Int { min, .. } => min,
                KeyKind::Enum(values) => values.first().map(|&(v, _)| v).unwrap(),
            };
            let mut c = Config::DEFAULT;
            c.set(k.name, v).unwrap();
            assert_eq!(c.get(k.name), Some(v), "{}", k.name);
        }
    }

    #[test]
    fn set_refuses_out_of_range_unknown_and_non_power_of_two() {
        let mut c = Config::DEFAULT;
        assert_eq!(c.set("T303", 99), Err(ConfigError::OutOfRange));
        assert_eq!(c.set("T303", 60_001), Err(ConfigError::OutOfRange));
        assert_eq!(c.set("SignallingVariant", 35), Err(ConfigError::OutOfRange));
        assert_eq!(c.set("RingSize", 100), Err(ConfigError::NotPowerOfTwo));
        assert_eq!(c.set("MaxVcs", 0), Err(ConfigError::OutOfRange));
        assert_eq!(c.set("Nope", 1), Err(ConfigError::UnknownKey));
        assert_eq!(c, Config::DEFAULT);
        c.set("SignallingVariant", VARIANT_UNI31).unwrap();
        assert_eq!(c.variant, SignallingVariant::Uni31);
    }
}
