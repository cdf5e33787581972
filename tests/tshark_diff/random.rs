//! Random valid Q.2931 messages, encoded by `src/wire`: the generator and the IE identifiers and
//! traffic-descriptor subfields it draws from.

use super::*;

pub(super) struct Rng(pub(super) u64);
impl Rng {
    pub(super) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub(super) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// True with probability 1/n.
    pub(super) fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }
    pub(super) fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[self.below(from.len() as u64) as usize]
    }
}

pub(super) const TYPES: [MessageType; 10] = [
    MessageType::Setup,
    MessageType::CallProceeding,
    MessageType::Connect,
    MessageType::ConnectAck,
    MessageType::Release,
    MessageType::ReleaseComplete,
    MessageType::Status,
    MessageType::StatusEnquiry,
    MessageType::Restart,
    MessageType::RestartAck,
];

/// IE identifiers compared here beyond the header.
pub(super) const IE_CONN_ID: u8 = 0x5a;
pub(super) const IE_CALLED: u8 = 0x70;
pub(super) const IE_AAL: u8 = 0x58;
pub(super) const IE_TRAFFIC: u8 = 0x59;
pub(super) const IE_BEARER: u8 = 0x5e;
pub(super) const IE_QOS: u8 = 0x5c;

/// ABR minimum cell rate subfield identifiers (UNI 4.0), unknown to tshark 4.0.
pub(super) const TD_ABR: [u8; 2] = [0x92, 0x93];
/// The traffic descriptor's 24-bit subfields tshark knows, by identifier, with our view's key.
pub(super) const TD_RATES: [(u8, &str); 12] = [
    (0x82, "td.fwd_pcr_0"),
    (0x83, "td.bwd_pcr_0"),
    (0x84, "td.fwd_pcr_01"),
    (0x85, "td.bwd_pcr_01"),
    (0x88, "td.fwd_scr_0"),
    (0x89, "td.bwd_scr_0"),
    (0x90, "td.fwd_scr_01"),
    (0x91, "td.bwd_scr_01"),
    (0xa0, "td.fwd_mbs_0"),
    (0xa1, "td.bwd_mbs_0"),
    (0xb0, "td.fwd_mbs_01"),
    (0xb1, "td.bwd_mbs_01"),
];
pub(super) const TD_BEST_EFFORT: u8 = 0xbe;
pub(super) const TD_OPTIONS: u8 = 0xbf;

pub(super) fn rate(r: &mut Rng) -> Option<u32> {
    r.one_in(3).then(|| if r.one_in(2) { r.below(1 << 24) as u32 } else { r.below(400_000) as u32 })
}

pub(super) fn random_traffic(r: &mut Rng) -> TrafficDescriptor {
    let mut t = TrafficDescriptor {
        fwd_pcr_0: rate(r),
        bwd_pcr_0: rate(r),
        fwd_pcr_01: rate(r),
        bwd_pcr_01: rate(r),
        fwd_scr_0: rate(r),
        bwd_scr_0: rate(r),
        fwd_scr_01: rate(r),
        bwd_scr_01: rate(r),
        fwd_mbs_0: rate(r),
        bwd_mbs_0: rate(r),
        fwd_mbs_01: rate(r),
        bwd_mbs_01: rate(r),
        best_effort: r.one_in(3),
        options: r.one_in(3).then(|| r.next() as u8),
        ..TrafficDescriptor::default()
    };
    // Rarer, so most descriptors are compared whole (tshark gives up at these).
    if r.one_in(8) {
        t.fwd_abr_mcr = Some(r.below(1 << 24) as u32);
    }
    if r.one_in(8) {
        t.bwd_abr_mcr = Some(r.below(1 << 24) as u32);
    }
    if t == TrafficDescriptor::default() {
        t.best_effort = true; // an empty traffic descriptor is invalid
    }
    t
}

pub(super) fn random_aal(r: &mut Rng) -> AalParams {
    let aal_type = if r.one_in(5) { r.pick(&[1u8, 2, 3]) } else { 5 };
    let sscs = if r.one_in(4) { r.next() as u8 } else { r.pick(&[0u8, 1, 2, 4]) };
    AalParams {
        aal_type,
        fwd_max_sdu: r.one_in(2).then(|| r.next() as u16),
        bwd_max_sdu: r.one_in(2).then(|| r.next() as u16),
        mode: r.one_in(3).then(|| r.pick(&[1u8, 2])),
        sscs: r.one_in(2).then_some(sscs),
    }
}

pub(super) fn random_bearer(r: &mut Rng) -> BearerCapability {
    // Defined ATM transfer capabilities (UNI 4.0 / UNI 3.1 traffic type + timing), then any 7 bits.
    pub(super) const ATC: [u8; 13] = [0x00, 0x01, 0x02, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x13];
    let class = if r.one_in(5) { r.below(32) as u8 } else { r.pick(&[0x01u8, 0x03, 0x10, 0x18]) };
    let atc = match r.below(4) {
        0 => None,
        1 => Some(r.below(128) as u8),
        _ => Some(r.pick(&ATC)),
    };
    BearerCapability { class, atc, clipping: r.one_in(2), point_to_multipoint: r.one_in(2) }
}

pub(super) fn random_qos(r: &mut Rng) -> QosParams {
    let mut class = || if r.one_in(4) { r.next() as u8 } else { r.below(5) as u8 };
    QosParams { forward: class(), backward: class() }
}

pub(super) fn random_message(r: &mut Rng) -> Vec<u8> {
    let ty = r.pick(&TYPES);
    let mut m = Message::new(ty, CallRef { value: (r.next() & 0x7F_FFFF) as u32, flag: r.below(2) == 1 });
    if r.one_in(2) {
        let locs = [Location::USER, Location::PRIVATE_LOCAL, Location::PUBLIC_LOCAL, Location::TRANSIT];
        let values = [1u8, 3, 16, 17, 18, 21, 27, 31, 35, 41, 47, 49, 63, 81, 88, 96, 100, 102, 111];
        m.cause[0] = Some(Cause::new(r.pick(&locs), CauseValue(r.pick(&values))));
    }
    if r.one_in(2) {
        m.connection_id = Some(ConnectionId::exclusive(r.below(256) as u16, 32 + r.below(65_000) as u16));
    }
    if r.one_in(2) {
        let n = 1 + r.below(15) as usize;
        let digits: Vec<u8> = (0..n).map(|_| b'0' + r.below(10) as u8).collect();
        m.called = PartyNumber::e164(&digits).ok();
    }
    if r.one_in(2) {
        m.aal = Some(random_aal(r));
    }
    if r.one_in(2) {
        m.traffic = Some(random_traffic(r));
    }
    if r.one_in(2) {
        m.bearer = Some(random_bearer(r));
    }
    if r.one_in(2) {
        m.qos = Some(random_qos(r));
    }
    let mut buf = vec![0u8; m.buffer_len()];
    let n = m.emit(&mut buf).expect("encodes");
    buf.truncate(n);
    buf
}

/// A reading of one message: field key → value in a common text format.
pub(super) type View = BTreeMap<&'static str, String>;
