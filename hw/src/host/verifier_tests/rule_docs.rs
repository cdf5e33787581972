//! `hw/VERIFIER.md`, the rule ids as scenario writers see them, against the verifier itself.

use std::collections::BTreeSet;

use super::*;

const DOC: &str = include_str!("../../../VERIFIER.md");

/// The verifier's source files: every rule id it can raise is a literal somewhere in them.
const VERIFIER_SRC: [&str; 5] = [
    include_str!("../verifier.rs"),
    include_str!("../verifier/events.rs"),
    include_str!("../verifier/calls.rs"),
    include_str!("../verifier/handlers.rs"),
    include_str!("../verifier/end_checks.rs"),
];

/// The verifier's tests: the firing tests the doc names.
const TEST_SRC: [&str; 6] = [
    include_str!("../verifier_tests.rs"),
    include_str!("irql_and_returns.rs"),
    include_str!("completions.rs"),
    include_str!("vc_life.rs"),
    include_str!("data_path.rs"),
    include_str!("handles_and_halt.rs"),
];

/// `IRQL-PASSIVE`, `DATA-NO-CMP-AFTER-DELETE`: upper-case words joined by hyphens.
fn is_rule_id(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_uppercase())
        && s.contains('-')
        && !s.ends_with('-')
        && !s.contains("--")
        && s.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')
}

/// The doc's table rows whose first cell is a rule id: (id, the `test` names in the last cell).
fn documented_rows(doc: &str) -> Vec<(String, Vec<String>)> {
    doc.lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.strip_prefix('|')?.split('|').map(str::trim).collect();
            let id = *cells.first()?;
            if !is_rule_id(id) {
                return None;
            }
            let last = cells.iter().rev().find(|c| !c.is_empty()).copied().unwrap_or("");
            let tests = last.split('`').skip(1).step_by(2).map(String::from).collect();
            Some((id.to_string(), tests))
        })
        .collect()
}

/// Every string literal in `src` that is a rule id (a segment with a `"` on both sides).
fn rule_literals(src: &str) -> BTreeSet<&str> {
    src.lines()
        .flat_map(|l| {
            let segs: Vec<&str> = l.split('"').collect();
            let inner = if segs.len() > 2 { segs[1..segs.len() - 1].to_vec() } else { Vec::new() };
            inner.into_iter().filter(|s| is_rule_id(s))
        })
        .collect()
}

#[test]
fn every_verifier_rule_id_is_documented_and_every_documented_id_exists() {
    let all: BTreeSet<&str> = rule::ALL.into_iter().collect();
    assert_eq!(all.len(), rule::ALL.len(), "rule::ALL names an id twice");
    // rule::ALL is every id the verifier can raise: no rule fires under a literal of its own.
    let raised: BTreeSet<&str> = VERIFIER_SRC.iter().flat_map(|s| rule_literals(s)).collect();
    assert_eq!(raised, all, "rule ids written in the verifier's source vs rule::ALL");

    let rows = documented_rows(DOC);
    let doc: BTreeSet<&str> = rows.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(doc.len(), rows.len(), "hw/VERIFIER.md documents an id twice");
    let undocumented: Vec<&&str> = all.difference(&doc).collect();
    let unknown: Vec<&&str> = doc.difference(&all).collect();
    assert!(
        undocumented.is_empty() && unknown.is_empty(),
        "hw/VERIFIER.md vs the verifier: not documented {undocumented:?}, documented but never raised {unknown:?}"
    );

    // Each row names the tests that show its rule firing; they exist and test that rule, and
    // no firing test is left out.
    let tests = TEST_SRC.concat();
    let mut named = BTreeSet::new();
    for (id, names) in &rows {
        let prefix = format!("rule_{}_", id.to_lowercase().replace('-', "_"));
        assert!(!names.is_empty(), "hw/VERIFIER.md: {id} names no test that shows it firing");
        for n in names {
            assert!(n.starts_with(&prefix), "hw/VERIFIER.md: {id} names {n}, not a test of {id}");
            assert!(tests.contains(&format!("fn {n}()")), "hw/VERIFIER.md: {id} names {n}, which does not exist");
            named.insert(n.as_str());
        }
    }
    for l in tests.lines() {
        if let Some(n) = l.strip_prefix("fn ").and_then(|r| r.strip_suffix("() {"))
            && n.starts_with("rule_")
            && n.contains("_fires_on_")
        {
            assert!(named.contains(n), "hw/VERIFIER.md does not name the firing test {n}");
        }
    }
}
