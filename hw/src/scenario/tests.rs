//! The format's error reporting and the engine's verdicts on small inline scenarios, each shown
//! failing on a deliberately wrong input.

use super::engine::{RunOptions, Verdict, run};
use super::format::parse;

const GOOD: &str = r#"
[[step]]
do = "open_af"

[[step]]
do = "active_call"
vc = "a"

[[step]]
do = "close_call"
vc = "a"

[[step]]
do = "expect_wire"
msg = "RELEASE"
vc = "a"
causes = [16]

[[step]]
do = "expect"
vc = "a"
seq = ["ProtocolCmCloseCall", "NdisMCmDeactivateVc", "NdisMCmCloseCallComplete(SUCCESS)"]
"#;

fn verdict(text: &str) -> (Verdict, Vec<String>) {
    let sc = match parse("inline/case.toml", text) {
        Ok(s) => s,
        Err(e) => panic!("inline scenario does not parse: {e}"),
    };
    match run(&sc, "inline/case.toml", text, &RunOptions::default()) {
        Ok(o) => (o.verdict, o.failures),
        Err(e) => panic!("inline scenario did not run: {e}"),
    }
}

#[test]
fn an_unknown_step_is_reported_with_file_and_line() {
    let e = parse("x/bad.toml", "summary = \"s\"\n\n[[step]]\ndo = \"teleport\"\n").unwrap_err();
    assert_eq!(e.file, "x/bad.toml");
    assert_eq!(e.line, 4, "{e}");
    assert!(e.problem.contains("teleport"), "{e}");
}

#[test]
fn an_unknown_field_a_wrong_type_and_broken_toml_name_their_line() {
    let e = parse("f.toml", "[[step]]\ndo = \"open_af\"\nnodee = 1\n").unwrap_err();
    assert_eq!(e.line, 3, "{e}");
    assert!(e.problem.contains("nodee"), "{e}");
    let e = parse("f.toml", "\n[[step]]\ndo = \"wait\"\nfor = [1]\n").unwrap_err();
    assert!(e.line == 4 || e.line == 2, "{e}");
    let e = parse("f.toml", "uni = \"5.0\"\n").unwrap_err();
    assert_eq!(e.line, 1, "{e}");
    let e = parse("f.toml", "summary = \"ok\"\n[[step]\n").unwrap_err();
    assert_eq!(e.line, 2, "{e}");
    let e = parse("f.toml", "[[step]]\ndo = \"wait\"\nfor = \"3 fortnights\"\n").unwrap_err();
    assert_eq!(e.line, 3, "{e}");
    assert!(e.to_string().starts_with("f.toml:3: "), "{e}");
}

#[test]
fn name_and_group_default_from_the_path() {
    let s = parse("tests/scenarios/restart/RST-9_x.toml", "").unwrap();
    assert_eq!((s.name.as_str(), s.group.as_str()), ("RST-9_x", "restart"));
}

#[test]
fn a_good_case_passes_and_the_same_case_with_a_wrong_cause_fails_at_its_line() {
    assert_eq!(verdict(GOOD), (Verdict::Pass, vec![]));
    let (v, f) = verdict(&GOOD.replace("causes = [16]", "causes = [17]"));
    assert_eq!(v, Verdict::Fail);
    assert!(f[0].starts_with("line 13:") && f[0].contains("expected causes [17]"), "{f:?}");
}

#[test]
fn a_wrong_ndis_order_fails() {
    let bad = GOOD.replace(
        r#""NdisMCmDeactivateVc", "NdisMCmCloseCallComplete(SUCCESS)""#,
        r#""NdisMCmCloseCallComplete(SUCCESS)", "NdisMCmDeactivateVc""#,
    );
    let (v, f) = verdict(&bad);
    assert_eq!(v, Verdict::Fail, "{f:?}");
    assert!(f[0].contains("NdisMCmDeactivateVc"), "{f:?}");
}

#[test]
fn wrong_wire_octets_fail_and_right_ones_pass() {
    let ok = GOOD.replace("causes = [16]", "bytes = \"09 03 {cref} 4d 80 00 06 08 80 00 02 80 90\"");
    assert_eq!(verdict(&ok).0, Verdict::Pass);
    let bad = GOOD.replace("causes = [16]", "bytes = \"09 03 {cref} 4d 80 00 06 08 80 00 02 80 91\"");
    assert_eq!(verdict(&bad).0, Verdict::Fail);
}

#[test]
fn a_known_defect_that_fails_is_xfail_and_one_that_passes_is_xpass() {
    let x = format!("known_defect = \"d\"\n{}", GOOD.replace("causes = [16]", "causes = [17]"));
    assert_eq!(verdict(&x).0, Verdict::XFail);
    let x = format!("known_defect = \"d\"\n{GOOD}");
    assert_eq!(verdict(&x).0, Verdict::XPass);
    assert!(!Verdict::XPass.ok() && Verdict::XFail.ok());
}

#[test]
fn silence_expected_but_a_message_sent_fails() {
    let t = r#"
[[step]]
do = "open_af"
[[step]]
do = "active_call"
vc = "a"
[[step]]
do = "close_call"
vc = "a"
[[step]]
do = "expect_silence"
"#;
    let (v, f) = verdict(t);
    assert_eq!(v, Verdict::Fail);
    assert!(f[0].contains("RELEASE"), "{f:?}");
}

#[test]
fn a_missing_vc_label_fails_the_case_not_the_runner() {
    let (v, f) = verdict("[[step]]\ndo = \"close_call\"\nvc = \"nope\"\n");
    assert_eq!(v, Verdict::Fail);
    assert!(f[0].starts_with("line 1:") && f[0].contains("nope"), "{f:?}");
}

/// Every TOML example in README's "Scenario files" section is a valid scenario (so the manual
/// cannot drift from the format).
#[test]
fn the_readme_examples_parse() {
    let readme = include_str!("../../../README.md");
    let section = readme.split("## Scenario files").nth(1).expect("README has a Scenario files section");
    let mut n = 0;
    for (i, block) in section.split("```toml").skip(1).enumerate() {
        let text = block.split("```").next().unwrap_or("");
        if let Err(e) = parse(&format!("README-example-{i}.toml"), text) {
            panic!("README example {i} does not parse: {e}");
        }
        n += 1;
    }
    assert!(n >= 4, "{n} examples");
}

/// `link_up` for a driver whose state the lab cannot read comes from [`Lab::peer_link_up`]: a
/// POLL from the network side that only an SSCOP in Data Transfer Ready answers with its STAT.
/// It says up on a fresh link, and down after an ENDAK injected behind the network peer's back
/// (Q.2110: a protocol error in state 10 that releases the IUT's link) although the peer
/// itself still believes the link is up; the in-process driver's own view agrees both times.
#[test]
fn the_link_probe_sees_a_released_link_the_network_peer_still_believes_up() {
    use crate::lab::Lab;
    use crate::network::sscop::LinkState;
    let lab = Lab::new();
    assert!(lab.peer_link_up(0));
    assert_eq!(lab.node(0).signalling_up(), Some(true));
    let port = lab.node(0).port;
    // The driver asks for its link again at once (BGN, Q.2931 5.6.10 with the PHY up): lose what
    // it sends so the released state stays to be seen.
    let lose = crate::network::PduFaults { drop: 1000, ..Default::default() };
    lab.network().set_pdu_faults(port, false, lose);
    lab.network().inject_data(port, crate::network::SIG_VPI, crate::network::SIG_VCI, &[0, 0, 0, 0, 4, 0, 0, 0]);
    lab.settle();
    assert_eq!(lab.node(0).signalling_up(), Some(false), "the driver released its link on the ENDAK");
    assert_eq!(lab.network().link_state(port), Some(LinkState::DataTransferReady), "the peer's view is stale");
    assert!(!lab.peer_link_up(0), "the probe must see the released link");
}

/// Held off the line, the tester's SSCOP leaves the driver's BGN unanswered: `expect_pdu` sees
/// it with its fields and fails on a wrong N(SQ), a wrong type or a wrong S bit; `expect_no_pdu`
/// fails when the driver does send a PDU of a listed type (here Timer_CC's repeated BGN).
#[test]
fn expect_pdu_checks_the_drivers_sscop_pdus_and_fails_on_wrong_fields() {
    let pre = r#"
[[step]]
do = "open_af"

[[step]]
do = "active_call"
vc = "a"

[[step]]
do = "sscop"
hold = true

[[step]]
do = "link"
up = false

[[step]]
do = "link"
up = true

[[step]]
do = "expect_not"
seq = ["NdisMCmDispatchIncomingCloseCall"]
"#;
    let good = format!("{pre}\n[[step]]\ndo = \"expect_pdu\"\npdu = \"BGN\"\nn_sq = 2\nn_mr = 128\nnext = true\n");
    let (v, why) = verdict(&good);
    assert_eq!(v, Verdict::Pass, "{why:?}");
    for (bad, what) in
        [("pdu = \"BGN\"\nn_sq = 3", "N(SQ)"), ("pdu = \"BGAK\"", "BGAK"), ("pdu = \"BGN\"\nn_mr = 127", "N(MR)")]
    {
        let text = format!("{pre}\n[[step]]\ndo = \"expect_pdu\"\n{bad}\n");
        let (v, why) = verdict(&text);
        assert_eq!(v, Verdict::Fail, "{bad}");
        assert!(why.iter().any(|w| w.contains(what)), "{bad}: {why:?}");
    }
    let pre = format!("{pre}\n[[step]]\ndo = \"expect_pdu\"\npdu = \"BGN\"\n");
    let quiet = format!("{pre}\n[[step]]\ndo = \"expect_no_pdu\"\npdu = [\"BGN\"]\nfor = \"500ms\"\n");
    assert_eq!(verdict(&quiet).0, Verdict::Pass, "no BGN repeat within 500 ms of the first");
    let repeat = format!("{pre}\n[[step]]\ndo = \"expect_no_pdu\"\npdu = [\"BGN\"]\nfor = \"1500ms\"\n");
    let (v, why) = verdict(&repeat);
    assert_eq!(v, Verdict::Fail, "Timer_CC repeats the BGN after 1 s");
    assert!(why.iter().any(|w| w.contains("BGN")), "{why:?}");
    let end = format!(
        "{pre}\n[[step]]\ndo = \"wait\"\nfor = \"3500ms\"\n\n[[step]]\ndo = \"expect_pdu\"\npdu = \"END\"\nsource = false\nwithin = \"1s\"\n"
    );
    let (v, why) = verdict(&end);
    assert_eq!(v, Verdict::Fail, "the END after MaxCC has S = 1");
    assert!(why.iter().any(|w| w.contains("S = 0")), "{why:?}");
}
