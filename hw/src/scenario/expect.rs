//! Expectations: the next IUT message as the tester decodes it, ordered subsequences of the
//! shared NDIS + wire sequence, counters.

use atmmcm::NdisStatus;

use super::engine::{Ctx, MOMENT, R};
use super::format::{Step, WireExpect};
use super::trace;
use super::values::{cref_octets, ie_id, octets};
use crate::host::VcHandle;
use crate::network::codec::ie::{Body, id};
use crate::network::{Direction, NetEvent};

impl Ctx {
    /// An expectation step.
    pub(super) fn expect_step(&mut self, step: &Step) -> R {
        match step {
            Step::ExpectWire(w) => self.expect_wire(w),
            Step::ExpectSilence { node, span } => {
                let port = self.port(*node)?;
                let from = self.wire_cursor[*node];
                self.lab.advance(span.map_or(MOMENT, |s| s.0));
                let net = self.lab.network();
                let extra: Vec<String> = net.log()[from..]
                    .iter()
                    .filter(|e| e.port == port && e.direction == Direction::FromUser)
                    .map(trace::wire_name)
                    .collect();
                if extra.is_empty() { Ok(()) } else { Err(format!("the IUT was to stay silent but sent {extra:?}")) }
            }
            Step::Expect { node, seq, vc, within, exact } => {
                self.expect_seq(*node, seq, vc.as_deref(), *within, *exact)
            }
            Step::ExpectNot { node, seq, vc } => {
                let label = vc.clone();
                let vc = match vc {
                    Some(l) => Some((self.vc(*node, l)?, self.cref(*node, l).ok().map(|c| c.value))),
                    None => None,
                };
                let after = self.cursor(*node, label.as_deref());
                let ev = trace::events(&self.lab, *node);
                for e in ev.iter().filter(|e| e.stamp > after && on_call(e, vc)) {
                    if let Some(p) = seq.iter().find(|p| trace::matches(p, &e.name)) {
                        return Err(format!("{p:?} occurred ({}) and must not have", e.line.trim()));
                    }
                }
                self.checked += seq.len();
                Ok(())
            }
            Step::ExpectCounters { node, vc, counters } => self.expect_counters(*node, vc.as_deref(), counters),
            Step::ExpectPdu(w) => self.expect_pdu(w),
            Step::ExpectNoPdu { node, pdu, span } => self.expect_no_pdu(*node, pdu, span.map(|s| s.0)),
            // Not this kind of step (`step` dispatches by kind).
            _ => Ok(()),
        }
    }

    pub(super) fn next_iut_message(&self, node: usize) -> Option<(usize, NetEvent)> {
        let port = self.port(node).ok()?;
        let net = self.lab.network();
        net.log()
            .iter()
            .enumerate()
            .skip(self.wire_cursor[node])
            .find(|(_, e)| e.port == port && e.direction == Direction::FromUser)
            .map(|(i, e)| (i, e.clone()))
    }

    pub(super) fn expect_wire(&mut self, w: &WireExpect) -> R {
        self.port(w.node)?;
        let start = self.lab.now();
        let within = w.within.map_or(MOMENT, |s| s.0);
        self.wait_for(within, |k| k.next_iut_message(w.node).is_some());
        let Some((idx, e)) = self.next_iut_message(w.node) else {
            return Err(format!("expected {} from the IUT within {within:?}: nothing came", w.msg));
        };
        self.wire_cursor[w.node] = idx + 1;
        self.checked += 1;
        let got = trace::wire_name(&e);
        let hexs = e.raw.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ");
        let fail = |what: String| Err(format!("{what}; the IUT sent {got} [{hexs}]"));
        if e.name != w.msg.trim().to_ascii_uppercase().replace('_', " ") {
            return fail(format!("expected {}", w.msg));
        }
        if let Some(a) = w.after
            && e.time < start + a.0
        {
            return fail(format!(
                "expected {} no sooner than {:?} after the step, it came after {:?}",
                w.msg,
                a.0,
                e.time.saturating_sub(start)
            ));
        }
        let Some(m) = e.message.as_ref() else {
            return fail("the tester could not decode the message".into());
        };
        let mut cref_iut = None;
        if let Some(l) = &w.vc {
            let c = self.cref(w.node, l)?;
            if m.call_ref.value != c.value {
                return fail(format!("expected call reference {} (call {l:?}), got {}", c.value, m.call_ref.value));
            }
            if m.call_ref.flag == c.user {
                return fail(format!("call reference flag {} is wrong for call {l:?}", u8::from(m.call_ref.flag)));
            }
            cref_iut = Some(cref_octets(c.value, !c.user));
        }
        if w.global && m.call_ref.value != 0 {
            return fail("expected the global call reference".into());
        }
        if let Some(cs) = &w.causes
            && &m.cause_values() != cs
        {
            return fail(format!("expected causes {cs:?}"));
        }
        let first = m.causes().first().map(|c| (*c).clone());
        if let Some(d) = &w.diag {
            let want = octets(d, None)?;
            if first.as_ref().map(|c| c.diagnostics.clone()) != Some(want.clone()) {
                return fail(format!(
                    "expected cause diagnostic {want:02x?}, got {:02x?}",
                    first.map(|c| c.diagnostics)
                ));
            }
        }
        if let Some(l) = w.location
            && first.as_ref().map(|c| c.location) != Some(l)
        {
            return fail(format!("expected cause location {l}"));
        }
        if let Some(s) = w.call_state
            && m.call_state() != Some(s)
        {
            return fail(format!("expected call state {s}, got {:?}", m.call_state()));
        }
        if let Some(ep) = w.endpoint
            && m.endpoint_ref().map(|e| e.value) != Some(ep)
        {
            return fail(format!("expected endpoint reference {ep}"));
        }
        if let Some(s) = w.endpoint_state {
            let got = m.ie(id::ENDPOINT_STATE).and_then(|i| match i.body {
                Body::EndpointState(v) => Some(v),
                _ => None,
            });
            if got != Some(s) {
                return fail(format!("expected endpoint state {s}, got {got:?}"));
            }
        }
        if let Some(rc) = w.restart_class
            && m.restart_class() != Some(rc)
        {
            return fail(format!("expected restart class {rc}, got {:?}", m.restart_class()));
        }
        if let Some([p, c]) = w.vpi_vci
            && m.connection_id().map(|x| (x.vpci, x.vci)) != Some((p, c))
        {
            return fail(format!("expected connection identifier {p}/{c}"));
        }
        if let Some(u) = &w.user_user {
            let want = octets(u, None)?;
            if m.user_user().map(|(_, d)| d.to_vec()) != Some(want.clone()) {
                return fail(format!("expected user-user information {want:02x?}"));
            }
        }
        for h in &w.has {
            if m.ie(ie_id(h)?).is_none() {
                return fail(format!("expected a {h} IE"));
            }
        }
        for h in &w.lacks {
            if m.ie(ie_id(h)?).is_some() {
                return fail(format!("expected no {h} IE"));
            }
        }
        if let Some(b) = &w.bytes {
            let want = octets(b, cref_iut)?;
            if want != e.raw {
                let ws = want.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ");
                return fail(format!("expected octets [{ws}]"));
            }
        }
        Ok(())
    }

    /// Finds `seq` as an ordered subsequence after the cursor; on success, the last stamp.
    pub(super) fn find_seq(
        &self,
        node: usize,
        seq: &[String],
        vc: Option<(VcHandle, Option<u32>)>,
        after: u64,
        exact: bool,
    ) -> Result<u64, (usize, String)> {
        let ev: Vec<trace::Event> = trace::events(&self.lab, node)
            .into_iter()
            .filter(|e| e.stamp > after || (after == 0 && e.stamp == 0))
            .filter(|e| on_call(e, vc))
            .collect();
        let mut at = 0;
        let mut last = after;
        for (k, p) in seq.iter().enumerate() {
            let found = if exact && k > 0 {
                ev.get(at).filter(|e| trace::matches(p, &e.name)).map(|_| at)
            } else {
                ev.iter().skip(at).position(|e| trace::matches(p, &e.name)).map(|i| i + at)
            };
            match found {
                Some(i) => {
                    last = ev[i].stamp;
                    at = i + 1;
                }
                None => {
                    let seen: Vec<&str> = ev.iter().skip(at).map(|e| e.name.as_str()).take(24).collect();
                    return Err((k, format!("{p:?} not found after {:?}; then came {seen:?}", &seq[..k])));
                }
            }
        }
        Ok(last)
    }

    pub(super) fn expect_seq(
        &mut self,
        node: usize,
        seq: &[String],
        vc: Option<&str>,
        within: Option<super::format::Span>,
        exact: bool,
    ) -> R {
        self.port(node)?;
        let label = vc;
        let vc = match vc {
            Some(l) => Some((self.vc(node, l)?, self.cref(node, l).ok().map(|c| c.value))),
            None => None,
        };
        let after = self.cursor(node, label);
        let within = within.map_or(MOMENT, |s| s.0);
        self.wait_for(within, |k| k.find_seq(node, seq, vc, after, exact).is_ok());
        match self.find_seq(node, seq, vc, after, exact) {
            Ok(last) => {
                self.checked += seq.len();
                match label {
                    Some(l) => {
                        self.call_cursor[node].insert(l.to_string(), last);
                    }
                    None => self.seq_cursor[node] = last,
                }
                Ok(())
            }
            Err((_, why)) => Err(why),
        }
    }

    pub(super) fn expect_counters(
        &mut self,
        node: usize,
        vc: Option<&str>,
        counters: &std::collections::BTreeMap<String, i64>,
    ) -> R {
        let port = self.port(node)?;
        let c = self.client(node)?;
        let vc = vc.map(|l| self.vc(node, l)).transpose()?;
        let need_vc = |name: &str| vc.ok_or(format!("counter {name} needs vc"));
        let n = self.lab.node(node);
        let mut oid_counters: Option<Option<Vec<(&'static str, u64)>>> = None;
        for (name, want) in counters {
            let got: i64 = match name.as_str() {
                "net_calls" => self.lab.network().calls(port).len() as i64,
                "rx_frames" => c.received_frames(need_vc(name)?).len() as i64,
                "send_ok" => {
                    let v = need_vc(name)?;
                    c.send_completions().iter().filter(|s| s.vc == v && s.status == NdisStatus::SUCCESS).count() as i64
                }
                "send_completed" => {
                    let v = need_vc(name)?;
                    c.send_completions().iter().filter(|s| s.vc == v).count() as i64
                }
                "incoming_calls" => c.incoming_calls().len() as i64,
                // Live objects: the verifier's count of what the driver handed out across NDIS
                // and has not retired, for either driver; the in-process driver's own count
                // must agree with it.
                "live_vcs" | "live_calls" | "live_parties" | "live_saps" | "live_afs" => {
                    let pick = |l: &atmmcm::cm::LiveCounts| match name.as_str() {
                        "live_vcs" => l.vcs,
                        "live_calls" => l.calls,
                        "live_parties" => l.parties,
                        "live_saps" => l.saps,
                        _ => l.afs,
                    } as i64;
                    let seen = pick(&n.ndis.live());
                    if let Some(own) = n.live_objects().map(|l| pick(&l))
                        && own != seen
                    {
                        return Err(format!("counter {name}: the driver counts {own}, the verifier saw {seen}"));
                    }
                    seen
                }
                // The signalling link as the network-side SSCOP peer sees it, for either
                // driver; the in-process driver's own view must agree with it.
                "link_up" => {
                    let seen = i64::from(self.lab.peer_link_up(node));
                    if let Some(own) = n.signalling_up().map(i64::from)
                        && own != seen
                    {
                        return Err(format!("counter link_up: the driver says {own}, the network's SSCOP peer {seen}"));
                    }
                    seen
                }
                // Control-path counters: as the driver reports them through its vendor OID
                // (either driver, before the halt); the in-process driver's own state must agree
                // with its answer, and stands in for it after the halt. `atmmcm.sys` answers
                // only while it runs: after its halt the check is not made (N/A).
                "malformed_in"
                | "unknown_cref"
                | "messages_lost"
                | "internal_errors"
                | "restart_unanswered"
                | "restart_clearing_overdue"
                | "restart_refused"
                | "vcs_out_of_service" => {
                    let reported = oid_counters
                        .get_or_insert_with(|| n.control_counters())
                        .as_ref()
                        .and_then(|v| v.iter().find(|(k, _)| *k == name.as_str()).map(|(_, x)| *x as i64));
                    let own = (!n.is_sys()).then(|| {
                        let st = n.adapter.control_stats();
                        (match name.as_str() {
                            "malformed_in" => st.malformed_in,
                            "unknown_cref" => st.unknown_cref,
                            "messages_lost" => st.messages_lost,
                            "restart_unanswered" => st.restart_unanswered,
                            "restart_clearing_overdue" => st.restart_clearing_overdue,
                            "restart_refused" => st.restart_refused,
                            "vcs_out_of_service" => st.vcs_out_of_service,
                            _ => st.internal_errors,
                        }) as i64
                    });
                    match (reported, own) {
                        (Some(r), Some(o)) if r != o => {
                            return Err(format!(
                                "counter {name}: OID_ATMMCM_CONTROL_COUNTERS answers {r}, the driver's own state is {o}"
                            ));
                        }
                        (Some(v), _) | (None, Some(v)) => v,
                        (None, None) => {
                            self.not_observable.push(format!(
                                "counter {name} = {want} not checked: atmmcm.sys answers OID_ATMMCM_CONTROL_COUNTERS only before its halt"
                            ));
                            continue;
                        }
                    }
                }
                "violations" => n.ndis.violations().len() as i64,
                other => return Err(format!("unknown counter {other:?}")),
            };
            self.checked += 1;
            if got != *want {
                return Err(format!("counter {name} = {got}, expected {want}"));
            }
        }
        Ok(())
    }
}

/// Whether a sequence entry belongs to the call: NDIS entries on its VC, wire messages on its
/// call reference (or the global one). No filter: everything.
pub(super) fn on_call(e: &trace::Event, vc: Option<(VcHandle, Option<u32>)>) -> bool {
    match vc {
        None => true,
        Some((_, cref)) if e.wire => match (cref, e.cref) {
            (Some(want), Some(got)) => got == want || got == 0,
            _ => true,
        },
        Some((h, _)) => e.vc == Some(h),
    }
}
