//! Q.2931 / UNI 3.1/4.0 information elements.
//!
//! Every IE is `id(1) | ext+coding+flag+action(1) | length(2) | content`. The content of the IEs
//! the network side needs is decoded into typed values; every other identifier, and any content
//! this decoder cannot represent exactly, is kept as raw octets so re-encoding is byte-exact.

use super::{Error, Reader, put_u24};

/// IE identifiers (Q.2931 table 4-3, UNI 4.0 additions).
pub mod id {
    pub const CAUSE: u8 = 0x08;
    pub const CALL_STATE: u8 = 0x14;
    pub const NOTIFY: u8 = 0x27;
    pub const ENDPOINT_REF: u8 = 0x54;
    pub const ENDPOINT_STATE: u8 = 0x55;
    pub const AAL: u8 = 0x58;
    pub const TRAFFIC: u8 = 0x59;
    pub const CONNECTION_ID: u8 = 0x5a;
    pub const QOS: u8 = 0x5c;
    pub const BHLI: u8 = 0x5d;
    pub const BEARER: u8 = 0x5e;
    pub const BLLI: u8 = 0x5f;
    pub const CALLING: u8 = 0x6c;
    pub const CALLING_SUB: u8 = 0x6d;
    pub const CALLED: u8 = 0x70;
    pub const CALLED_SUB: u8 = 0x71;
    pub const RESTART: u8 = 0x79;
    pub const USER_USER: u8 = 0x7e;

    /// Identifiers a UNI 4.0 network recognises; anything else is "unrecognized" (Q.2931 5.6.8).
    pub const KNOWN: &[u8] = &[
        0x08, 0x14, 0x1c, 0x27, 0x42, 0x4c, 0x4d, 0x54, 0x55, 0x58, 0x59, 0x5a, 0x5c, 0x5d, 0x5e, 0x5f, 0x60, 0x61,
        0x62, 0x63, 0x6c, 0x6d, 0x70, 0x71, 0x78, 0x79, 0x7e, 0x7f, 0x80, 0x81, 0x82, 0x84, 0x89, 0xe4, 0xe8, 0xe9,
        0xea, 0xeb, 0xec, 0xf0,
    ];
}

/// The IE instruction octet: coding standard, and the explicit action indicator if flagged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instruction(pub u8);

impl Instruction {
    /// ITU-T coding, no explicit instruction.
    pub const ITU: Instruction = Instruction(0x80);
    /// ATM Forum / network-specific coding (QoS, UNI 4.0 extensions).
    pub const NET: Instruction = Instruction(0xe0);
    pub fn coding(self) -> u8 {
        (self.0 >> 5) & 0x3
    }
    /// The action indicator (3 bits) if the "follow explicit instructions" flag is set.
    pub fn action(self) -> Option<u8> {
        (self.0 & 0x10 != 0).then_some(self.0 & 0x07)
    }
}

/// IE action indicator values (Q.2931 4.5.1).
pub mod action {
    pub const CLEAR_CALL: u8 = 0;
    pub const DISCARD_IE: u8 = 1;
    pub const DISCARD_IE_REPORT: u8 = 2;
    pub const DISCARD_MSG: u8 = 5;
    pub const DISCARD_MSG_REPORT: u8 = 6;
}

/// Cause IE: location, value, diagnostics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    pub location: u8,
    pub value: u8,
    pub diagnostics: Vec<u8>,
}

/// Connection Identifier IE: VPCI/VCI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionId {
    /// Octet 5 flags: VP-associated signalling (bits 5-4) and preferred/exclusive (bits 3-1).
    pub flags: u8,
    pub vpci: u16,
    pub vci: u16,
}

impl ConnectionId {
    /// Explicit VPCI, exclusive VPCI and VCI: what the network assigns.
    pub fn exclusive(vpci: u16, vci: u16) -> Self {
        ConnectionId { flags: 0x08, vpci, vci }
    }
}

/// Endpoint Reference IE (point-to-multipoint party).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndpointRef {
    /// Octet 6 bit 8: false = sent by the side that allocated the reference.
    pub flag: bool,
    pub value: u16,
}

/// AAL Parameters IE, AAL5 form (other AAL types are kept raw).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Aal5 {
    pub forward_max_sdu: Option<u16>,
    pub backward_max_sdu: Option<u16>,
    /// UNI 3.1 mode subfield (1 message, 2 streaming).
    pub mode: Option<u8>,
    pub sscs_type: Option<u8>,
}

/// ATM Traffic Descriptor: subfields in the order received (identifier, value).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Traffic {
    /// Cell-rate / burst-size subfields with 24-bit values (identifier, value).
    pub rates: Vec<(u8, u32)>,
    pub best_effort: bool,
    /// Traffic management options (0xbf) octet.
    pub options: Option<u8>,
}

/// Traffic descriptor subfield identifiers.
pub mod traffic {
    pub const FWD_PCR_0: u8 = 0x82;
    pub const BWD_PCR_0: u8 = 0x83;
    pub const FWD_PCR_01: u8 = 0x84;
    pub const BWD_PCR_01: u8 = 0x85;
    pub const FWD_SCR_0: u8 = 0x88;
    pub const BWD_SCR_0: u8 = 0x89;
    pub const FWD_SCR_01: u8 = 0x90;
    pub const BWD_SCR_01: u8 = 0x91;
    pub const FWD_MBS_0: u8 = 0xa0;
    pub const BWD_MBS_0: u8 = 0xa1;
    pub const FWD_MBS_01: u8 = 0xb0;
    pub const BWD_MBS_01: u8 = 0xb1;
    pub const BEST_EFFORT: u8 = 0xbe;
    pub const OPTIONS: u8 = 0xbf;
}

/// Broadband Bearer Capability IE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bearer {
    /// Bearer class: 0x01 BCOB-A, 0x03 BCOB-C, 0x10 BCOB-X, 0x18 transparent VP.
    pub class: u8,
    /// Octet 5a (ATM transfer capability / traffic type), when present.
    pub transfer_cap: Option<u8>,
    /// Susceptibility to clipping (0 not susceptible, 1 susceptible).
    pub clipping: u8,
    /// User plane connection configuration (0 point-to-point, 1 point-to-multipoint).
    pub upcc: u8,
}

/// Called / Calling Party Number IE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartyNumber {
    /// Type of number (3 bits).
    pub ton: u8,
    /// Numbering plan: 1 = E.164 (IA5 digits), 2 = ATM endsystem address (NSAP, 20 octets).
    pub plan: u8,
    /// Calling only: presentation (bits 7-6) and screening (bits 2-1) of octet 5a.
    pub presentation: Option<u8>,
    pub digits: Vec<u8>,
}

impl PartyNumber {
    pub const E164: u8 = 1;
    pub const NSAP: u8 = 2;
    /// An E.164 number in IA5 digits, type "unknown".
    pub fn e164(digits: &[u8]) -> Self {
        PartyNumber { ton: 0, plan: Self::E164, presentation: None, digits: digits.to_vec() }
    }
}

/// The typed content of an IE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    Cause(Cause),
    /// Call state value (6 bits).
    CallState(u8),
    ConnectionId(ConnectionId),
    EndpointRef(EndpointRef),
    /// Endpoint (party) state value (6 bits).
    EndpointState(u8),
    Aal5(Aal5),
    Traffic(Traffic),
    Bearer(Bearer),
    Called(PartyNumber),
    Calling(PartyNumber),
    /// QoS class forward, backward.
    Qos(u8, u8),
    /// Restart class (3 bits): 0 indicated VC, 1 indicated VP, 2 all.
    Restart(u8),
    /// Protocol discriminator, information (≤ 128 octets here).
    UserUser(u8, Vec<u8>),
    /// Unknown identifier or content kept as received.
    Raw(Vec<u8>),
}

/// One information element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ie {
    pub id: u8,
    pub instruction: Instruction,
    pub body: Body,
    /// True if the identifier is known but its content failed the checks (kept raw).
    pub invalid: bool,
}

/// The user-user IE carries at most this many information octets here.
pub const USER_USER_MAX: usize = 128;
/// Cause IE content limits (ngatm `uni_ie.c`).
pub const CAUSE_MIN: usize = 2;
pub const CAUSE_MAX: usize = 30;

impl Ie {
    pub fn new(id: u8, body: Body) -> Self {
        let instruction = if id == id::QOS { Instruction::NET } else { Instruction::ITU };
        Ie { id, instruction, body, invalid: false }
    }
    pub fn cause(location: u8, value: u8, diagnostics: &[u8]) -> Self {
        Ie::new(id::CAUSE, Body::Cause(Cause { location, value, diagnostics: diagnostics.to_vec() }))
    }
    pub fn is_known(&self) -> bool {
        id::KNOWN.contains(&self.id)
    }

    /// Decodes one IE from `r`.
    pub(crate) fn parse(r: &mut Reader<'_>) -> Result<Ie, Error> {
        let ident = r.u8()?;
        let instruction = Instruction(r.u8()?);
        let len = usize::from(r.u16()?);
        let content = r.bytes(len)?;
        let (body, invalid) = match parse_body(ident, content) {
            Some(body) => (body, false),
            None => (Body::Raw(content.to_vec()), id::KNOWN.contains(&ident)),
        };
        // A typed body must re-encode to exactly what arrived; otherwise keep the octets raw.
        let body = match body {
            Body::Raw(_) => body,
            typed => {
                let mut check = Vec::new();
                emit_body(&typed, &mut check);
                if check == content { typed } else { Body::Raw(content.to_vec()) }
            }
        };
        Ok(Ie { id: ident, instruction, body, invalid })
    }

    pub fn emit(&self, out: &mut Vec<u8>) {
        out.push(self.id);
        out.push(self.instruction.0);
        let at = out.len();
        out.extend_from_slice(&[0, 0]);
        emit_body(&self.body, out);
        let len = u16::try_from(out.len() - at - 2).unwrap_or(u16::MAX).to_be_bytes();
        out[at] = len[0];
        out[at + 1] = len[1];
    }
}

fn parse_body(ident: u8, content: &[u8]) -> Option<Body> {
    let mut r = Reader::new(content);
    let body = match ident {
        id::CAUSE => {
            if !(CAUSE_MIN..=CAUSE_MAX).contains(&content.len()) {
                return None;
            }
            let loc = r.u8().ok()?;
            let val = r.u8().ok()?;
            if loc & 0x80 == 0 || val & 0x80 == 0 {
                return None;
            }
            Body::Cause(Cause { location: loc & 0x0f, value: val & 0x7f, diagnostics: r.rest().to_vec() })
        }
        id::CALL_STATE => one(content).map(|v| Body::CallState(v & 0x3f))?,
        id::ENDPOINT_STATE => one(content).map(|v| Body::EndpointState(v & 0x3f))?,
        id::RESTART => {
            let v = one(content)?;
            if v & 0x80 == 0 {
                return None;
            }
            Body::Restart(v & 0x07)
        }
        id::CONNECTION_ID => {
            let flags = r.u8().ok()?;
            let vpci = r.u16().ok()?;
            let vci = r.u16().ok()?;
            if !r.is_empty() || flags & 0x80 == 0 {
                return None;
            }
            Body::ConnectionId(ConnectionId { flags: flags & 0x7f, vpci, vci })
        }
        id::ENDPOINT_REF => {
            if r.u8().ok()? != 0 {
                return None;
            }
            let v = r.u16().ok()?;
            if !r.is_empty() {
                return None;
            }
            Body::EndpointRef(EndpointRef { flag: v & 0x8000 != 0, value: v & 0x7fff })
        }
        id::AAL => {
            if r.u8().ok()? != 0x05 {
                return None;
            }
            let mut a = Aal5::default();
            while !r.is_empty() {
                match r.u8().ok()? {
                    0x8c => a.forward_max_sdu = Some(r.u16().ok()?),
                    0x81 => a.backward_max_sdu = Some(r.u16().ok()?),
                    0x83 => a.mode = Some(r.u8().ok()?),
                    0x84 => a.sscs_type = Some(r.u8().ok()?),
                    _ => return None,
                }
            }
            Body::Aal5(a)
        }
        id::TRAFFIC => {
            let mut t = Traffic::default();
            while !r.is_empty() {
                match r.u8().ok()? {
                    traffic::BEST_EFFORT => t.best_effort = true,
                    traffic::OPTIONS => t.options = Some(r.u8().ok()?),
                    sub @ (0x82..=0x85 | 0x88 | 0x89 | 0x90 | 0x91 | 0xa0 | 0xa1 | 0xb0 | 0xb1) => {
                        t.rates.push((sub, r.u24().ok()?))
                    }
                    _ => return None,
                }
            }
            Body::Traffic(t)
        }
        id::BEARER => {
            let o5 = r.u8().ok()?;
            let transfer_cap = if o5 & 0x80 == 0 { Some(r.u8().ok()? & 0x7f) } else { None };
            let o6 = r.u8().ok()?;
            if !r.is_empty() || o6 & 0x80 == 0 {
                return None;
            }
            Body::Bearer(Bearer { class: o5 & 0x1f, transfer_cap, clipping: (o6 >> 5) & 0x3, upcc: o6 & 0x3 })
        }
        id::CALLED | id::CALLING => {
            let o5 = r.u8().ok()?;
            let presentation = if o5 & 0x80 == 0 {
                if ident == id::CALLED {
                    return None;
                }
                Some(r.u8().ok()? & 0x7f)
            } else {
                None
            };
            let n = PartyNumber { ton: (o5 >> 4) & 0x7, plan: o5 & 0x0f, presentation, digits: r.rest().to_vec() };
            if n.digits.is_empty() || (n.plan == PartyNumber::NSAP && n.digits.len() != 20) {
                return None;
            }
            if n.plan == PartyNumber::E164 && !n.digits.iter().all(u8::is_ascii_digit) {
                return None;
            }
            if ident == id::CALLED { Body::Called(n) } else { Body::Calling(n) }
        }
        id::QOS => {
            let f = r.u8().ok()?;
            let b = r.u8().ok()?;
            if !r.is_empty() {
                return None;
            }
            Body::Qos(f, b)
        }
        id::USER_USER => {
            let pd = r.u8().ok()?;
            if r.rest().len() > USER_USER_MAX {
                return None;
            }
            Body::UserUser(pd, r.rest().to_vec())
        }
        _ => return None,
    };
    Some(body)
}

fn one(content: &[u8]) -> Option<u8> {
    match content {
        [v] => Some(*v),
        _ => None,
    }
}

fn emit_body(body: &Body, out: &mut Vec<u8>) {
    match body {
        Body::Cause(c) => {
            out.push(0x80 | (c.location & 0x0f));
            out.push(0x80 | (c.value & 0x7f));
            out.extend_from_slice(&c.diagnostics);
        }
        Body::CallState(v) | Body::EndpointState(v) => out.push(v & 0x3f),
        Body::Restart(v) => out.push(0x80 | (v & 0x07)),
        Body::ConnectionId(c) => {
            out.push(0x80 | c.flags);
            out.extend_from_slice(&c.vpci.to_be_bytes());
            out.extend_from_slice(&c.vci.to_be_bytes());
        }
        Body::EndpointRef(e) => {
            out.push(0);
            out.extend_from_slice(&((e.value & 0x7fff) | if e.flag { 0x8000 } else { 0 }).to_be_bytes());
        }
        Body::Aal5(a) => {
            out.push(0x05);
            if let Some(v) = a.forward_max_sdu {
                out.push(0x8c);
                out.extend_from_slice(&v.to_be_bytes());
            }
            if let Some(v) = a.backward_max_sdu {
                out.push(0x81);
                out.extend_from_slice(&v.to_be_bytes());
            }
            if let Some(v) = a.mode {
                out.extend_from_slice(&[0x83, v]);
            }
            if let Some(v) = a.sscs_type {
                out.extend_from_slice(&[0x84, v]);
            }
        }
        Body::Traffic(t) => {
            for (sub, v) in &t.rates {
                out.push(*sub);
                put_u24(out, *v);
            }
            if t.best_effort {
                out.push(traffic::BEST_EFFORT);
            }
            if let Some(o) = t.options {
                out.extend_from_slice(&[traffic::OPTIONS, o]);
            }
        }
        Body::Bearer(b) => {
            match b.transfer_cap {
                Some(tc) => out.extend_from_slice(&[b.class & 0x1f, 0x80 | tc]),
                None => out.push(0x80 | (b.class & 0x1f)),
            }
            out.push(0x80 | ((b.clipping & 0x3) << 5) | (b.upcc & 0x3));
        }
        Body::Called(n) | Body::Calling(n) => {
            let o5 = ((n.ton & 0x7) << 4) | (n.plan & 0x0f);
            match n.presentation {
                Some(p) => out.extend_from_slice(&[o5, 0x80 | p]),
                None => out.push(0x80 | o5),
            }
            out.extend_from_slice(&n.digits);
        }
        Body::Qos(f, b) => out.extend_from_slice(&[*f, *b]),
        Body::UserUser(pd, data) => {
            out.push(*pd);
            out.extend_from_slice(data);
        }
        Body::Raw(raw) => out.extend_from_slice(raw),
    }
}
