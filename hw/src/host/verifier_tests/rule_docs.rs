//! `hw/VERIFIER.md`, the rule ids as scenario writers see them, against the verifier and the
//! sys-lab themselves.

use std::collections::BTreeSet;

use super::*;

const DOC: &str = include_str!("../../../VERIFIER.md");

/// Where the sys-lab's table begins: the verifier's tables are above it.
const SYS_HEADING: &str = "\n# The sys-lab's findings";

/// The verifier's part of the doc (all of it if the sys-lab's heading is missing).
fn verifier_doc(doc: &str) -> &str {
    doc.split_once(SYS_HEADING).map_or(doc, |(v, _)| v)
}

/// The sys-lab's part of the doc (empty if its heading is missing).
fn sys_doc(doc: &str) -> &str {
    doc.split_once(SYS_HEADING).map_or("", |(_, s)| s)
}

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

    let rows = documented_rows(verifier_doc(DOC));
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

// ---- the sys-lab's SYS-* findings ----------------------------------------------------------------

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod sys_ids {
    use std::collections::BTreeSet;

    use super::{DOC, documented_rows, rule_literals, sys_doc};

    /// The sys-lab's tests: the firing tests its table names.
    const SYS_TEST_SRC: [(&str, &str); 2] = [
        ("hw/src/sys/tests.rs", include_str!("../../sys/tests.rs")),
        ("hw/src/sys/rule_tests.rs", include_str!("../../sys/rule_tests.rs")),
    ];

    /// Every `.rs` file under `dir`, as (path, text), read now (a new file is seen without a rebuild
    /// of this list).
    fn rust_sources(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
        let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for e in entries {
            let p = e.expect("directory entry").path();
            if p.is_dir() {
                rust_sources(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
                out.push((p.display().to_string(), text));
            }
        }
    }

    /// The body of the top-level `fn name()` in `src` (up to its closing brace in column 0).
    fn fn_body<'a>(src: &'a str, name: &str) -> Option<&'a str> {
        let start = src.find(&format!("\nfn {name}() {{\n"))?;
        let rest = &src[start..];
        Some(&rest[..rest[1..].find("\n}\n").map_or(rest.len(), |e| e + 3)])
    }

    /// `rule::X` (not `rule::X_Y`) occurs in `src`.
    fn names_constant(src: &str, name: &str) -> bool {
        let pat = format!("rule::{name}");
        src.match_indices(&pat)
            .any(|(i, _)| !src[i + pat.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_'))
    }

    /// Checks the sys-lab's id list, the ids written anywhere in `sources` (path, text), the raise
    /// sites, the doc's table and the tests it names against each other: the reasons they disagree.
    fn sys_id_drift(all: &[&str], sources: &[(String, String)], doc: &str, tests: &[(&str, &str)]) -> Vec<String> {
        let mut why = Vec::new();
        let listed: BTreeSet<&str> = all.iter().copied().collect();
        if listed.len() != all.len() {
            why.push("sys::rule::ALL names an id twice".to_string());
        }
        let constant = |id: &str| id.trim_start_matches("SYS-").replace('-', "_");
        // Every SYS-* literal anywhere (source, tests, benches' helpers) is a listed id.
        for (path, text) in sources {
            for id in rule_literals(text).into_iter().filter(|id| id.starts_with("SYS-")) {
                if !listed.contains(id) {
                    why.push(format!("{path}: {id} is not in sys::rule::ALL"));
                }
            }
        }
        // The raise sites (hw/src/sys outside its tests and rule.rs) use the constants, and every
        // listed id is raised by one.
        let raisers: Vec<&(String, String)> = sources
            .iter()
            .filter(|(p, _)| p.contains("/src/sys/"))
            .filter(|(p, _)| !["tests.rs", "rule_tests.rs", "rule.rs"].iter().any(|t| p.ends_with(&format!("/{t}"))))
            .collect();
        for (path, text) in &raisers {
            if text.contains("finding(\"") {
                why.push(format!("{path}: a finding raised with a string literal, not a sys::rule constant"));
            }
        }
        for id in all {
            if !raisers.iter().any(|(_, t)| names_constant(t, &constant(id))) {
                why.push(format!("{id} is listed but no raise site uses rule::{}", constant(id)));
            }
        }
        // The table: exactly the listed ids, once each, a kind, at least one test that exists and
        // asserts the id; every sys_*_fires_on_* test named.
        let rows = documented_rows(doc);
        let documented: BTreeSet<&str> = rows.iter().map(|(id, _)| id.as_str()).collect();
        if documented.len() != rows.len() {
            why.push("hw/VERIFIER.md's sys-lab table documents an id twice".to_string());
        }
        for id in listed.difference(&documented) {
            why.push(format!("hw/VERIFIER.md does not document {id}"));
        }
        for id in documented.difference(&listed) {
            why.push(format!("hw/VERIFIER.md documents {id}, which is not in sys::rule::ALL"));
        }
        for l in doc.lines() {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            if cells.get(1).is_some_and(|c| c.starts_with("SYS-"))
                && !cells.get(3).is_some_and(|k| ["N", "P", "L", "N/P", "N/L", "P/L"].contains(k))
            {
                why.push(format!("hw/VERIFIER.md: {} has no kind (N, P, L or two of them)", cells[1]));
            }
        }
        let mut named = BTreeSet::new();
        for (id, names) in &rows {
            if names.is_empty() {
                why.push(format!("hw/VERIFIER.md: {id} names no test that shows it firing"));
            }
            for n in names {
                named.insert(n.as_str());
                match tests.iter().find_map(|(_, src)| fn_body(src, n)) {
                    None => why.push(format!("hw/VERIFIER.md: {id} names {n}, which does not exist")),
                    // The id as a literal, or as a finding prints it (`SYS-X: message`).
                    Some(body) if !body.contains(&format!("\"{id}\"")) && !body.contains(&format!(" {id}: ")) => {
                        why.push(format!("hw/VERIFIER.md: {id} names {n}, which does not assert \"{id}\""))
                    }
                    Some(_) => {}
                }
            }
        }
        for (path, src) in tests {
            for l in src.lines() {
                if let Some(n) = l.strip_prefix("fn ").and_then(|r| r.strip_suffix("() {"))
                    && n.starts_with("sys_")
                    && n.contains("_fires_on_")
                    && !named.contains(n)
                {
                    why.push(format!("hw/VERIFIER.md does not name the firing test {n} ({path})"));
                }
            }
        }
        why
    }

    fn workspace_sources() -> Vec<(String, String)> {
        let hw = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut sources = Vec::new();
        rust_sources(&hw.join("src"), &mut sources);
        rust_sources(&hw.join("../tests"), &mut sources);
        sources
    }

    #[test]
    fn every_sys_lab_id_is_raised_listed_and_documented_with_a_test_that_shows_it_firing() {
        let sources = workspace_sources();
        assert!(sources.iter().any(|(p, _)| p.ends_with("/src/sys/ndis.rs")), "the source walk missed hw/src/sys");
        let why = sys_id_drift(&crate::sys::rule::ALL, &sources, sys_doc(DOC), &SYS_TEST_SRC);
        assert!(
            why.is_empty(),
            "sys-lab ids, their raise sites, hw/VERIFIER.md and the tests disagree:\n{}",
            why.join("\n")
        );
    }

    /// The check above on deliberately wrong inputs: each drift is caught, with its reason.
    #[test]
    fn sys_id_drift_catches_a_missing_row_an_unlisted_literal_an_unraised_id_and_a_wrong_test() {
        let sources = workspace_sources();
        let all = crate::sys::rule::ALL;
        let doc = sys_doc(DOC);
        let drift = |all: &[&str], sources: &[(String, String)], doc: &str, tests: &[(&str, &str)]| {
            sys_id_drift(all, sources, doc, tests).join("\n")
        };
        assert_eq!(drift(&all, &sources, doc, &SYS_TEST_SRC), "", "the real inputs agree");
        // A row removed.
        let no_timer: String =
            doc.lines().filter(|l| !l.starts_with("| SYS-TIMER |")).map(|l| format!("{l}\n")).collect();
        let w = drift(&all, &sources, &no_timer, &SYS_TEST_SRC);
        assert!(w.contains("does not document SYS-TIMER"), "{w}");
        assert!(w.contains("does not name the firing test sys_timer_fires_on_freeing_a_set_timer"), "{w}");
        // An id raised under a literal of its own, outside the list.
        let mut extra = sources.clone();
        extra.push(("hw/src/sys/new.rs".into(), "h.finding(\"SYS-NEW-RULE\", m);\n".into()));
        let w = drift(&all, &extra, doc, &SYS_TEST_SRC);
        assert!(w.contains("SYS-NEW-RULE is not in sys::rule::ALL"), "{w}");
        assert!(w.contains("hw/src/sys/new.rs: a finding raised with a string literal"), "{w}");
        // An id added to the list that nothing raises and the doc does not document.
        let mut more = all.to_vec();
        more.push(concat!("SYS-", "UNRAISED")); // not a literal of its own: the real check would see it
        let w = drift(&more, &sources, doc, &SYS_TEST_SRC);
        assert!(w.contains("SYS-UNRAISED is listed but no raise site uses rule::UNRAISED"), "{w}");
        assert!(w.contains("does not document SYS-UNRAISED"), "{w}");
        // A row naming a test that does not exist, one that asserts another id, and no kind.
        let wrong = doc
            .replace("`sys_timer_fires_on_freeing_a_set_timer`", "`sys_timer_fires_on_nothing`")
            .replace(
                "| SYS-MDL | NdisFreeMdl only of an MDL NdisAllocateMdl returned and not yet freed; recorded. | N |",
                "| SYS-MDL | x | Q |",
            )
            .replace(
                "| `irql_dpc_mdl_and_shared_memory_misuse_are_findings` |\n| SYS-NBL",
                "| `sys_pool_type_fires_on_paged_pool` |\n| SYS-NBL",
            );
        let w = drift(&all, &sources, &wrong, &SYS_TEST_SRC);
        assert!(w.contains("SYS-TIMER names sys_timer_fires_on_nothing, which does not exist"), "{w}");
        assert!(w.contains("SYS-MDL has no kind"), "{w}");
        assert!(
            w.contains("SYS-MDL names sys_pool_type_fires_on_paged_pool, which does not assert \"SYS-MDL\""),
            "{w}"
        );
    }
}
