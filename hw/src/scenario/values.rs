//! Values written in scenario files: octets, message types, IE names, NDIS statuses.

use atmmcm::NdisStatus;
use atmmcm::ndis::{AtmAddress, AtmAddressType};

use super::engine::R;
use super::format::Octets;
use crate::host::When;
use crate::host::verifier::status_name;
use crate::network::codec::ie::{Body, Ie, id};
use crate::network::codec::q2931::mt;

/// Parses octets: hex (spaces allowed) with `{cref}` for `cref`, or `'text'`.
pub fn octets(o: &Octets, cref: Option<[u8; 3]>) -> Result<Vec<u8>, String> {
    let s = o.0.trim();
    if s.len() >= 2 && s.starts_with('\'') && s.ends_with('\'') {
        return Ok(s.as_bytes()[1..s.len() - 1].to_vec());
    }
    let mut out = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("{cref}") {
            out.extend_from_slice(&cref.ok_or("{cref} used where the step names no call")?);
            rest = r;
            continue;
        }
        let c = rest.chars().next().unwrap_or(' ');
        if c.is_whitespace() || c == ':' || c == '-' {
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let pair = rest.get(..2).ok_or_else(|| format!("odd number of hex digits in {s:?}"))?;
        out.push(u8::from_str_radix(pair, 16).map_err(|_| format!("bad hex {pair:?} in {s:?}"))?);
        rest = &rest[2..];
    }
    Ok(out)
}

pub(super) fn cref_octets(value: u32, flag: bool) -> [u8; 3] {
    let v = (value & 0x7f_ffff) | if flag { 0x80_0000 } else { 0 };
    [(v >> 16) as u8, (v >> 8) as u8, v as u8]
}

/// Message type by name (`RELEASE COMPLETE`, `release_complete`) or number.
pub(super) fn msg_type(v: &toml::Value) -> Result<u8, String> {
    match v {
        toml::Value::Integer(n) => u8::try_from(*n).map_err(|_| format!("message type {n} out of range")),
        toml::Value::String(s) => {
            let want = s.trim().to_ascii_uppercase().replace('_', " ");
            (0..=255u8)
                .find(|&t| mt::is_known(t) && mt::name(t) == want)
                .ok_or_else(|| format!("unknown message type {s:?}"))
        }
        other => Err(format!("message type must be a name or a number, not {other}")),
    }
}

/// IE identifier by name (`CAUSE`, `USER_USER`) or number (`0x7e`, `126`).
pub(super) fn ie_id(s: &str) -> Result<u8, String> {
    let t = s.trim().to_ascii_uppercase();
    let named = match t.as_str() {
        "CAUSE" => Some(id::CAUSE),
        "CALL_STATE" => Some(id::CALL_STATE),
        "NOTIFY" => Some(id::NOTIFY),
        "ENDPOINT_REF" => Some(id::ENDPOINT_REF),
        "ENDPOINT_STATE" => Some(id::ENDPOINT_STATE),
        "AAL" => Some(id::AAL),
        "TRAFFIC" => Some(id::TRAFFIC),
        "CONNECTION_ID" => Some(id::CONNECTION_ID),
        "QOS" => Some(id::QOS),
        "BHLI" => Some(id::BHLI),
        "BEARER" => Some(id::BEARER),
        "BLLI" => Some(id::BLLI),
        "CALLING" => Some(id::CALLING),
        "CALLED" => Some(id::CALLED),
        "RESTART" => Some(id::RESTART),
        "USER_USER" => Some(id::USER_USER),
        _ => None,
    };
    if let Some(n) = named {
        return Ok(n);
    }
    let n = match t.strip_prefix("0X") {
        Some(h) => u8::from_str_radix(h, 16).ok(),
        None => t.parse().ok(),
    };
    n.ok_or_else(|| format!("unknown IE {s:?}"))
}

const STATUSES: &[NdisStatus] = &[
    NdisStatus::SUCCESS,
    NdisStatus::PENDING,
    NdisStatus::NOT_ACCEPTED,
    NdisStatus::FAILURE,
    NdisStatus::INVALID_PARAMETER,
    NdisStatus::RESOURCES,
    NdisStatus::NOT_SUPPORTED,
    NdisStatus::INVALID_STATE,
    NdisStatus::CLOSING,
    NdisStatus::INVALID_DATA,
    NdisStatus::INVALID_SAP,
    NdisStatus::SAP_IN_USE,
    NdisStatus::INVALID_ADDRESS,
    NdisStatus::DEST_OUT_OF_ORDER,
    NdisStatus::VC_NOT_AVAILABLE,
    NdisStatus::CELLRATE_NOT_AVAILABLE,
    NdisStatus::INCOMPATABLE_QOS,
    NdisStatus::AAL_PARAMS_UNSUPPORTED,
    NdisStatus::NO_ROUTE_TO_DESTINATION,
    NdisStatus::CALL_ACTIVE,
];

pub(super) fn status_by_name(s: &str) -> Result<NdisStatus, String> {
    let t = s.trim().trim_start_matches("NDIS_STATUS_");
    STATUSES.iter().copied().find(|x| x.name() == Some(t)).ok_or_else(|| format!("unknown NDIS status {s:?}"))
}

/// Checks `got` against the expected status name, or against any of `default` when none.
pub(super) fn check_status(what: &str, got: NdisStatus, want: &Option<String>, default: &[NdisStatus]) -> R {
    let ok = match want {
        Some(w) => status_name(got) == w.trim().trim_start_matches("NDIS_STATUS_"),
        None => default.contains(&got),
    };
    if ok {
        Ok(())
    } else {
        let w = want.clone().unwrap_or_else(|| default.iter().map(|s| status_name(*s)).collect::<Vec<_>>().join("|"));
        Err(format!("{what} returned {}, expected {w}", status_name(got)))
    }
}

pub(super) fn when(s: &str) -> Result<When, String> {
    match s {
        "immediate" => Ok(When::Immediate),
        "deferred" => Ok(When::Deferred),
        "never" => Ok(When::Never),
        other => Err(format!("unknown policy {other:?} (immediate, deferred, never)")),
    }
}

pub(super) fn e164(s: &str) -> Option<AtmAddress> {
    AtmAddress::new(AtmAddressType::E164, s.as_bytes())
}

/// Splits octets into IEs for a SETUP the tester offers.
pub(super) fn parse_ies(b: &[u8]) -> Result<Vec<Ie>, String> {
    let mut out = Vec::new();
    let mut rest = b;
    while !rest.is_empty() {
        let [ident, ins, l0, l1, tail @ ..] = rest else {
            return Err(format!("IE octets too short: {rest:02x?}"));
        };
        let len = usize::from(u16::from_be_bytes([*l0, *l1]));
        let content = tail.get(..len).ok_or("IE length runs past the octets")?;
        out.push(Ie {
            id: *ident,
            instruction: crate::network::codec::ie::Instruction(*ins),
            body: Body::Raw(content.to_vec()),
            invalid: false,
        });
        rest = &tail[len..];
    }
    Ok(out)
}
