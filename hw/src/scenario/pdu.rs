//! SSCOP expectations: the PDUs the IUT sends on 0/5 (type and Q.2110 fields), for cases that
//! play the network-side SSCOP by hand (`sscop` hold, `net_pdu`).

use std::time::Duration;

use super::engine::{Ctx, MOMENT, R};
use super::format::PduExpect;
use crate::network::PduEvent;
use crate::network::codec::q2931::{Message, mt};
use crate::network::codec::sscop::Pdu;

/// A PDU's type name, or `?` for octets that do not parse.
fn type_name(raw: &[u8]) -> &'static str {
    Pdu::parse(raw).map_or("?", |p| p.name())
}

/// One line for a failure message: `END(S=1) [00 00 00 00 13 00 00 00]`.
fn describe(raw: &[u8]) -> String {
    let hex = raw.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ");
    format!("{} [{hex}]", type_name(raw))
}

impl Ctx {
    /// PDUs from the IUT on node `node`'s port not yet matched.
    fn pdus_after(&self, node: usize) -> Vec<PduEvent> {
        let Ok(port) = self.port(node) else { return Vec::new() };
        let net = self.lab.network();
        net.user_pdus(port).iter().skip(self.pdu_cursor[node]).cloned().collect()
    }

    /// Index (after the cursor) of the first PDU of the expected type whose fields match; with
    /// `next`, only the first PDU is looked at.
    fn find_pdu(&self, w: &PduExpect) -> Option<usize> {
        let after = self.pdus_after(w.node);
        let limit = if w.next { 1 } else { after.len() };
        after.iter().take(limit).position(|e| mismatch(w, &e.raw).is_none())
    }

    pub(super) fn expect_pdu(&mut self, w: &PduExpect) -> R {
        self.port(w.node)?;
        let want = w.pdu.trim().to_ascii_uppercase();
        let start = self.lab.now();
        let within = w.within.map_or(MOMENT, |s| s.0);
        self.wait_for(within, |k| k.find_pdu(w).is_some());
        let after = self.pdus_after(w.node);
        let Some(i) = self.find_pdu(w) else {
            // The nearest miss: the first PDU of the type (or, with `next`, the next PDU).
            let near = if w.next { after.first() } else { after.iter().find(|e| type_name(&e.raw) == want) };
            return Err(match near.and_then(|e| mismatch(w, &e.raw).map(|why| (why, describe(&e.raw)))) {
                Some((why, got)) => format!("{why}; the IUT sent {got}"),
                None => {
                    let seen: Vec<String> = after.iter().take(12).map(|e| describe(&e.raw)).collect();
                    format!("expected SSCOP {want} from the IUT within {within:?}; it sent {seen:?}")
                }
            });
        };
        let e = &after[i];
        self.pdu_cursor[w.node] += i + 1;
        self.checked += 1;
        if let Some(a) = w.after
            && e.time < start + a.0
        {
            return Err(format!(
                "expected {want} no sooner than {:?}, it came after {:?}; the IUT sent {}",
                a.0,
                e.time - start,
                describe(&e.raw)
            ));
        }
        Ok(())
    }

    pub(super) fn expect_no_pdu(&mut self, node: usize, types: &[String], span: Option<Duration>) -> R {
        self.port(node)?;
        let from = self.pdu_cursor[node];
        self.lab.advance(span.unwrap_or(MOMENT));
        let types: Vec<String> = types.iter().map(|t| t.trim().to_ascii_uppercase()).collect();
        let port = self.port(node)?;
        let net = self.lab.network();
        let bad: Vec<String> = net
            .user_pdus(port)
            .iter()
            .skip(from)
            .filter(|e| types.is_empty() || types.iter().any(|t| t == type_name(&e.raw)))
            .map(|e| describe(&e.raw))
            .collect();
        self.checked += 1;
        if bad.is_empty() { Ok(()) } else { Err(format!("the IUT was to send no {types:?} but sent {bad:?}")) }
    }
}

/// Why a PDU is not the expected one (type or a field), or None when it is.
fn mismatch(w: &PduExpect, raw: &[u8]) -> Option<String> {
    let want = w.pdu.trim().to_ascii_uppercase();
    let Ok(p) = Pdu::parse(raw) else { return Some(format!("expected {want}: the PDU does not parse")) };
    if p.name() != want {
        return Some(format!("expected {want}"));
    }
    let (n_sq, n_mr, n_s, n_r, n_ps, source, list, data) = fields(&p);
    let checks = [
        ("N(SQ)", w.n_sq.map(u32::from), n_sq.map(u32::from)),
        ("N(MR)", w.n_mr, n_mr),
        ("N(S)", w.n_s, n_s),
        ("N(R)", w.n_r, n_r),
        ("N(PS)", w.n_ps, n_ps),
    ];
    for (name, want_v, got) in checks {
        match (want_v, got) {
            (Some(a), Some(b)) if a != b => return Some(format!("expected {name} = {a}, got {b}")),
            (Some(_), None) => return Some(format!("a {} has no {name}", p.name())),
            _ => {}
        }
    }
    if let Some(s) = w.source
        && source != Some(s)
    {
        return Some(format!("expected S = {}", u8::from(s)));
    }
    if let Some(l) = &w.list
        && list.as_ref() != Some(l)
    {
        return Some(format!("expected list {l:?}, got {list:?}"));
    }
    if let Some(m) = &w.msg {
        let name = data.and_then(|d| Message::parse(&d).ok()).map_or("UNDECODABLE", |m| mt::name(m.msg_type));
        if name != m.trim().to_ascii_uppercase().replace('_', " ") {
            return Some(format!("expected an SD carrying {m}, it carries {name}"));
        }
    }
    None
}

type Fields =
    (Option<u8>, Option<u32>, Option<u32>, Option<u32>, Option<u32>, Option<bool>, Option<Vec<u32>>, Option<Vec<u8>>);

/// N(SQ), N(MR), N(S), N(R), N(PS), S, list, SD data of a PDU (None where it has no such field).
fn fields(p: &Pdu) -> Fields {
    match p {
        Pdu::Bgn { nsq, nmr, .. } | Pdu::Rs { nsq, nmr, .. } | Pdu::Er { nsq, nmr } => {
            (Some(*nsq), Some(*nmr), None, None, None, None, None, None)
        }
        Pdu::Bgak { nmr, .. } | Pdu::Rsak { nmr } | Pdu::Erak { nmr } => {
            (None, Some(*nmr), None, None, None, None, None, None)
        }
        Pdu::End { source, .. } => (None, None, None, None, None, Some(*source), None, None),
        Pdu::Sd { ns, data } => (None, None, Some(*ns), None, None, None, None, Some(data.clone())),
        Pdu::Poll { nps, ns } => (None, None, Some(*ns), None, Some(*nps), None, None, None),
        Pdu::Stat { nps, nmr, nr, list } => {
            (None, Some(*nmr), None, Some(*nr), Some(*nps), None, Some(list.clone()), None)
        }
        Pdu::Ustat { nmr, nr, list } => (None, Some(*nmr), None, Some(*nr), None, None, Some(list.to_vec()), None),
        Pdu::Bgrej { .. } | Pdu::Endak | Pdu::Ud { .. } | Pdu::Md { .. } => {
            (None, None, None, None, None, None, None, None)
        }
    }
}
