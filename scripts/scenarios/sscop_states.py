#!/usr/bin/env python3
"""Writes the SSCOP link-state cases tests/scenarios/sscop/S<state>-{VAL,INV,INOP,TMR}-* (af-test-0067 layout,
Q.2110 states the user side reaches). The files are the suite; re-running this overwrites them."""
import os, sys
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "scenarios", "sscop")

def val(v):
    if isinstance(v, bool): return "true" if v else "false"
    if isinstance(v, int): return str(v)
    if isinstance(v, list): return "[" + ", ".join(val(x) for x in v) + "]"
    if isinstance(v, dict): return "{ " + ", ".join(f"{k} = {val(x)}" for k, x in v.items()) + " }"
    return '"' + str(v).replace('"', '\\"') + '"'

MALFORMED = {"UNKNOWN", "SHORT", "MISALIGNED"}
def write(name, summary, steps, malformed=None, known=None, timers=None):
    lines = [f"summary = {val(summary)}"]
    if known:
        lines.append(f"known_defect = {val(known)}")
    if malformed:
        lines.append(f"malformed_by_tester = {val(malformed)}")
    if timers:
        lines += ["", "[timers]"] + [f"{k} = {val(v)}" for k, v in timers.items()]
    lines.append("")
    for s in steps:
        lines.append("[[step]]")
        for k, v in s.items():
            lines.append(f"{k} = {val(v)}")
        lines.append("")
    open(os.path.join(OUT, name + ".toml"), "w").write("\n".join(lines).rstrip() + "\n")

def h24(n): return f"{(n>>16)&255:02x} {(n>>8)&255:02x} {n&255:02x}"
def BGN(sq, mr=128): return f"00 00 00 {sq:02x} 01 {h24(mr)}"
def BGAK(mr=128): return f"00 00 00 00 02 {h24(mr)}"
def END(s=False): return "00 00 00 00 " + ("13" if s else "03") + " 00 00 00"
ENDAK = "00 00 00 00 04 00 00 00"
def RS(sq, mr=128): return f"00 00 00 {sq:02x} 05 {h24(mr)}"
def RSAK(mr=128): return f"00 00 00 00 06 {h24(mr)}"
BGREJ = "00 00 00 00 07 00 00 00"
# A STATUS ENQUIRY on call reference 1 (flag 0: a call the IUT does not know), 9 octets + 3 of pad.
SENQ = "09 03 00 00 01 75 80 00 00 00 00 00"
def SD(ns, data=SENQ): return f"{data} c8 {h24(ns)}"
def ER(sq, mr=128): return f"00 00 00 {sq:02x} 09 {h24(mr)}"
def POLL(ps, ns): return f"00 {h24(ps)} 0a {h24(ns)}"
def STAT(ps, mr, nr, lst=()): return "".join(f"00 {h24(x)} " for x in lst) + f"00 {h24(ps)} 00 {h24(mr)} 0b {h24(nr)}"
def USTAT(mr, nr, a, b): return f"00 {h24(a)} 00 {h24(b)} 00 {h24(mr)} 0c {h24(nr)}"
def ERAK(mr=128): return f"00 00 00 00 0f {h24(mr)}"
MD = "aa bb cc dd 0e 00 00 00"
UNKNOWN = "00 00 00 00 00 00 00 00"   # PDU type 0: no such type
SHORT = "0a 00"                        # two octets: shorter than any trailer
MISALIGNED = "00 00 00 00 02 00 00 80 00"  # a BGAK with one octet too many (not a multiple of 4)

def pdu(raw): return {"do": "net_pdu", "raw": raw}
def exp(t, **kw):
    d = {"do": "expect_pdu", "pdu": t}
    d.update(kw)
    return d
def nopdu(types, span): return {"do": "expect_no_pdu", "pdu": types, "for": span}
def wait(span): return {"do": "wait", "for": span}

CALL = [{"do": "open_af"}, {"do": "active_call", "vc": "a"}]
HOLD = [{"do": "sscop", "hold": True}]
FLAP = [{"do": "link", "up": False}, {"do": "link", "up": True}]
KEPT = {"do": "expect_not", "vc": "a", "seq": ["NdisMCmDispatchIncomingCloseCall"]}

def resume(release=True):
    """The tester's SSCOP back (BGN, new N(SQ)): BGAK with a fresh N(MR); the IUT verifies the call
    (it saw the link released: Q.2931 5.6.10) and the call stays."""
    s = [{"do": "sscop", "hold": False}, exp("BGAK", n_mr=128)]
    s += [{"do": "expect_wire", "msg": "STATUS ENQUIRY", "vc": "a", "within": "2s"},
          {"do": "expect", "vc": "a", "seq": ["<-STATUS[30]"]}]
    s += [KEPT, {"do": "expect_counters", "counters": {"link_up": 1, "live_calls": 1}}]
    return s

# ---- entering states --------------------------------------------------------------------------
S2 = CALL + HOLD + FLAP + [exp("BGN", n_sq=2, n_mr=128, next=True)]
# A STAT acknowledging beyond VT(S) (Q.2110 7.7 / MAA-ERROR S): recovery, ER, state 7.
BAD_STAT = STAT(0, 200, 500)

ER_MR = 129  # VR(R) = 1 after the preamble's CONNECT, window 128
S7 = CALL + HOLD + [pdu(BAD_STAT), exp("ER", n_sq=2, n_mr=ER_MR, next=True)]
NOCALL = [{"do": "open_af"}]
S10N = NOCALL + HOLD + [pdu(RS(5)), exp("RSAK", n_mr=128, next=True)]
def resume_nocall():
    return [{"do": "sscop", "hold": False}, exp("BGAK", n_mr=128),
            {"do": "expect_counters", "counters": {"link_up": 1, "live_calls": 0}},
            {"do": "expect", "seq": ["ProtocolCmOpenAf"]}]
S10R = CALL + HOLD + [pdu(RS(5)), exp("RSAK", n_mr=128, next=True)]
ANSWERS = ["BGAK", "END", "ENDAK", "RSAK", "ERAK", "STAT", "USTAT", "SD"]

def s2_still(extra=""):
    """Still in state 2: no answer, and Timer_CC repeats the same BGN."""
    return [nopdu(ANSWERS, "300ms"), exp("BGN", n_sq=2, n_mr=128, within="1s")]

def s7_still():
    return [nopdu(["BGN", "BGAK", "END", "ENDAK", "RSAK", "ERAK", "STAT", "USTAT", "SD"], "300ms"),
            exp("ER", n_sq=2, n_mr=ER_MR, within="1s")]

C = []
def case(name, summary, steps, known=None, timers=None):
    raws = [x.get("raw") for x in steps if x.get("do") == "net_pdu"]
    bad = any(r in (UNKNOWN, SHORT, MISALIGNED) for r in raws)
    C.append((name, summary, steps, "a PDU the tester's SSCOP would never send" if bad else None, known, timers))

# ---- state 1 Idle (transient: SSCF-UNI / Q.2931 ask for the link again at once) -----------------
case("S1-VAL-1_phy_up_aa_establish_sends_bgn_next_n_sq_n_mr_128",
     "Q.2110 state 1 Idle, AA-ESTABLISH.request (the PHY back with an active call, Q.2931 5.6.10): a BGN with N(SQ) = VT(SQ)+1 = 2 and N(MR) = the window 128, the first PDU the IUT sends; answered, the call is verified and kept",
     S2 + resume())
case("S1-VAL-2_end_in_ready_idle_then_bgn_at_once",
     "Q.2110 state 10, END (S=0): ENDAK, AA-RELEASE.indication, state 1; the user side asks for the link again at once (Q.2931 5.6.10), so the next PDU is a BGN with N(SQ) 2; answered, the active call is verified and kept",
     CALL + HOLD + [pdu(END(False)), exp("ENDAK", next=True), exp("BGN", n_sq=2, n_mr=128, next=True, within="100ms")] + resume())

# ---- state 2 Outgoing Connection Pending ------------------------------------------------------
case("S2-VAL-1_bgak_establishes_link_timer_cc_stopped_call_verified",
     "Q.2110 state 2, BGAK: Timer_CC stopped, AA-ESTABLISH.confirm, state 10: no BGN is repeated, and the first SD (N(S) 0) carries the STATUS ENQUIRY that verifies the call kept over T309 (Q.2931 5.6.10)",
     S2 + [pdu(BGAK(128)), exp("SD", n_s=0, msg="STATUS ENQUIRY", next=True), nopdu(["BGN", "END"], "1500ms")] + resume())
case("S2-VAL-2_bgrej_releases_then_new_bgn",
     "Q.2110 state 2, BGREJ: Timer_CC stopped, AA-RELEASE.indication, state 1; the user side asks again at once: a BGN with the next N(SQ) 3; the call survives (T309 runs)",
     S2 + [pdu(BGREJ), exp("BGN", n_sq=3, n_mr=128, next=True, within="100ms")] + resume())
case("S2-VAL-3_bgn_crossing_answered_with_bgak",
     "Q.2110 state 2, BGN from the peer (crossing BGNs): BGAK with N(MR) 128, AA-ESTABLISH.confirm, state 10; the first SD carries the STATUS ENQUIRY for the call",
     S2 + [pdu(BGN(7)), exp("BGAK", n_mr=128, next=True), exp("SD", n_s=0, msg="STATUS ENQUIRY", next=True), nopdu(["BGN", "END"], "1500ms")] + resume())
case("S2-INV-1_unknown_pdu_type_ignored_bgn_repeated",
     "Q.2110 state 2, a PDU of type 0 (no such type; MAA-ERROR U): ignored, Timer_CC repeats the BGN with the same N(SQ)",
     S2 + [pdu(UNKNOWN)] + s2_still() + resume())
case("S2-INV-2_pdu_shorter_than_a_trailer_ignored",
     "Q.2110 state 2, a two-octet PDU (shorter than any trailer; MAA-ERROR U): ignored, the BGN is repeated",
     S2 + [pdu(SHORT)] + s2_still() + resume())
case("S2-INV-3_misaligned_bgak_ignored",
     "Q.2110 state 2, a BGAK of 9 octets (not a multiple of 4; MAA-ERROR U): not a BGAK, ignored; the BGN is repeated",
     S2 + [pdu(MISALIGNED)] + s2_still() + resume())
for i, (t, raw, err) in enumerate([
        ("end", END(False), "no MAA-ERROR; the END is ignored"),
        ("endak", ENDAK, "ignored"),
        ("er", ER(5), "ignored"),
        ("erak", ERAK(), "ignored"),
        ("rs", RS(5), "ignored"),
        ("rsak", RSAK(), "ignored"),
        ("sd", SD(0), "ignored, nothing delivered"),
        ("poll", POLL(1, 0), "ignored, no STAT"),
        ("stat", STAT(1, 128, 0), "ignored"),
        ("ustat", USTAT(128, 0, 0, 1), "ignored"),
        ("md", MD, "unassured management data, dropped"),
    ], 1):
    case(f"S2-INOP-{i}_{t}_in_outgoing_connection_pending_ignored",
         f"Q.2110 state 2 (Outgoing Connection Pending), {t.upper()}: {err}; no answer, Timer_CC repeats the BGN with the same N(SQ); answered later, the call is kept",
         S2 + [pdu(raw)] + s2_still() + resume())
case("S2-TMR-1_timer_cc_repeats_bgn_max_cc_then_end_s1_and_new_bgn",
     "Q.2110 state 2, Timer_CC (1 s): the BGN is repeated with the same N(SQ) until VT(CC) = MaxCC (4), then END with S=1 (MAA-ERROR O), AA-RELEASE.indication, state 1; the user side asks again at once: BGN with N(SQ) 3; the call, inside T309, is kept",
     S2 + [exp("BGN", n_sq=2, next=True, after="900ms", within="1100ms"),
           exp("BGN", n_sq=2, next=True, after="900ms", within="1100ms"),
           exp("BGN", n_sq=2, next=True, after="900ms", within="1100ms"),
           exp("END", source=True, next=True, after="900ms", within="1100ms"),
           exp("BGN", n_sq=3, n_mr=128, next=True, within="10ms")] + resume())
case("S2-TMR-2_link_never_answered_call_cleared_after_t309",
     "Q.2110 state 2 with the peer silent: BGN cycles (4 × Timer_CC, END S=1, a new BGN); the active call is kept until T309 (10 s) and then cleared with DEST_OUT_OF_ORDER; the link comes up when the peer answers",
     S2 + [wait("8s"), KEPT,
           {"do": "expect", "vc": "a", "seq": ["NdisMCmDispatchIncomingCloseCall(DEST_OUT_OF_ORDER)", "NdisMCmDeactivateVc"], "within": "3s"},
           exp("BGN"),
           {"do": "sscop", "hold": False}, exp("BGAK", n_mr=128),
           {"do": "expect_counters", "counters": {"link_up": 1}}])

# ---- state 3 Incoming Connection Pending (transient: SSCF-UNI answers AA-ESTABLISH.ind at once) ----
case("S3-VAL-1_new_bgn_in_ready_released_then_bgak_call_verified",
     "Q.2110 state 10, BGN with a new N(SQ) (the peer restarted): AA-RELEASE.indication, state 3, AA-ESTABLISH.indication; SSCF-UNI responds at once: BGAK with N(MR) 128, state 10; Q.2931 verifies the active call with STATUS ENQUIRY (first SD, N(S) 0)",
     CALL + HOLD + [pdu(BGN(9)), exp("BGAK", n_mr=128, next=True), exp("SD", n_s=0, msg="STATUS ENQUIRY", next=True)] + resume())
case("S3-INOP-1_repeated_bgn_in_ready_answered_with_bgak_again_no_release",
     "Q.2110 state 10, BGN whose N(SQ) equals VR(SQ) (a repeat: our BGAK was lost; MAA-ERROR B path): BGAK again and nothing else, no release: no second STATUS ENQUIRY",
     CALL + HOLD + [pdu(BGN(9)), exp("BGAK", n_mr=128, next=True), exp("SD", n_s=0, msg="STATUS ENQUIRY", next=True),
                    pdu(BGN(9)), exp("BGAK", n_mr=128, next=True), nopdu(["SD", "END", "BGN"], "500ms")] + resume())

# ---- state 6 Incoming Resynchronization Pending (transient) -------------------------------------
case("S6-VAL-1_rs_in_ready_answered_with_rsak_fresh_numbering",
     "Q.2110 state 10, RS with a new N(SQ): state 6, AA-RESYNC.indication; SSCF-UNI responds at once: RSAK with N(MR) 128 (VR(R) reset to 0), state 10; the first POLL after it carries N(PS) 1 (VT(PS) reset)",
     S10R + [exp("POLL", n_ps=1, within="1s")] + resume())
case("S6-INOP-1_repeated_rs_answered_with_rsak_again",
     "Q.2110 state 10, RS whose N(SQ) equals VR(SQ) (our RSAK was lost; MAA-ERROR J path): RSAK again, the numbering kept",
     S10R + [pdu(RS(5)), exp("RSAK", n_mr=128), nopdu(["END", "BGN", "ER"], "300ms")] + resume())

# ---- state 7 Outgoing Recovery Pending ---------------------------------------------------------
case("S7-VAL-1_erak_ends_recovery_er_not_repeated_fresh_numbering",
     "Q.2110 state 7, ERAK: Timer_CC stopped, state 8, AA-RECOVER.indication; SSCF-UNI responds at once, state 10 with fresh numbering: no ER repeated, the first POLL carries N(PS) 1 (VT(PS) reset)",
     S7 + [pdu(ERAK(128)), exp("POLL", n_ps=1, within="1s"), nopdu(["ER", "END", "BGN"], "1500ms")] + resume())
case("S7-INV-1_unknown_pdu_type_ignored_er_repeated",
     "Q.2110 state 7, a PDU of type 0 (MAA-ERROR U): ignored, Timer_CC repeats the ER with the same N(SQ)",
     S7 + [pdu(UNKNOWN)] + s7_still() + resume())
case("S7-INV-2_pdu_shorter_than_a_trailer_ignored",
     "Q.2110 state 7, a two-octet PDU (MAA-ERROR U): ignored, the ER is repeated",
     S7 + [pdu(SHORT)] + s7_still() + resume())
case("S7-INV-3_er_repeating_vr_sq_ignored",
     "Q.2110 state 7, ER whose N(SQ) equals VR(SQ) (0: the peer's last BGN/RS/ER numbering; a retransmission, MAA-ERROR L): ignored, no ERAK, our ER is repeated",
     S7 + [pdu(ER(0))] + s7_still() + resume())
case("S7-INOP-1_er_crossing_answered_with_erak",
     "Q.2110 state 7, ER with a new N(SQ) (recoveries crossing): Timer_CC stopped, ERAK with N(MR) 128, AA-RECOVER.indication, answered at once: state 10, no ER repeated",
     S7 + [pdu(ER(5)), exp("ERAK", n_mr=128, next=True), nopdu(["ER", "END", "BGN"], "1500ms")] + resume())
case("S7-INOP-2_rs_answered_with_rsak",
     "Q.2110 state 7, RS with a new N(SQ): Timer_CC stopped, AA-RESYNC.indication, state 6; SSCF-UNI responds: RSAK with N(MR) 128, state 10; no ER repeated",
     S7 + [pdu(RS(5)), exp("RSAK", n_mr=128, next=True), nopdu(["ER", "END", "BGN"], "1500ms")] + resume())
case("S7-INOP-3_end_answered_with_endak_then_new_bgn",
     "Q.2110 state 7, END: ENDAK, AA-RELEASE.indication, state 1; the user side asks for the link again at once: BGN with N(SQ) 3; the call is kept over T309",
     S7 + [pdu(END(True)), exp("ENDAK", next=True), exp("BGN", n_sq=3, n_mr=128, next=True, within="10ms")] + resume())
case("S7-INOP-4_endak_releases_then_new_bgn",
     "Q.2110 state 7, ENDAK (MAA-ERROR F): AA-RELEASE.indication, state 1, nothing answered; the next PDU is our BGN with N(SQ) 3",
     S7 + [pdu(ENDAK), exp("BGN", n_sq=3, n_mr=128, next=True, within="10ms")] + resume())
case("S7-INOP-5_bgrej_releases_then_new_bgn",
     "Q.2110 state 7, BGREJ (MAA-ERROR D): AA-RELEASE.indication, state 1; the next PDU is our BGN with N(SQ) 3",
     S7 + [pdu(BGREJ), exp("BGN", n_sq=3, n_mr=128, next=True, within="10ms")] + resume())
case("S7-INOP-6_new_bgn_answered_with_bgak",
     "Q.2110 state 7, BGN with a new N(SQ): AA-RELEASE.indication, state 3, AA-ESTABLISH.indication; SSCF-UNI responds: BGAK with N(MR) 128, state 10, no ER repeated; the call is verified",
     S7 + [pdu(BGN(9)), exp("BGAK", n_mr=128, next=True), exp("SD", n_s=0, msg="STATUS ENQUIRY", next=True), nopdu(["ER", "END"], "1500ms")] + resume())
for i, (t, raw, err) in enumerate([
        ("bgak", BGAK(), "MAA-ERROR C, ignored"),
        ("rsak", RSAK(), "MAA-ERROR K, ignored"),
        ("sd", SD(1), "ignored, nothing delivered"),
        ("poll", POLL(1, 1), "ignored, no STAT"),
        ("stat", STAT(1, 128, 0), "ignored"),
        ("ustat", USTAT(128, 0, 0, 1), "ignored"),
    ], 7):
    case(f"S7-INOP-{i}_{t}_in_outgoing_recovery_pending_ignored",
         f"Q.2110 state 7 (Outgoing Recovery Pending), {t.upper()}: {err}; no answer, Timer_CC repeats the ER with the same N(SQ); the call is kept",
         S7 + [pdu(raw)] + s7_still() + resume())
case("S7-TMR-1_timer_cc_repeats_er_max_cc_then_end_s1_and_new_bgn",
     "Q.2110 state 7, Timer_CC (1 s): the ER is repeated with the same N(SQ) up to MaxCC (4), then END with S=1 (MAA-ERROR O), AA-RELEASE.indication; the user side asks again at once: BGN with N(SQ) 3",
     S7 + [exp("ER", n_sq=2, next=True, after="900ms", within="1100ms"),
           exp("ER", n_sq=2, next=True, after="900ms", within="1100ms"),
           exp("ER", n_sq=2, next=True, after="900ms", within="1100ms"),
           exp("END", source=True, next=True, after="900ms", within="1100ms"),
           exp("BGN", n_sq=3, n_mr=128, next=True, within="10ms")] + resume())

# ---- state 9 Incoming Recovery Pending (transient) ---------------------------------------------
case("S9-VAL-1_er_in_ready_answered_with_erak_fresh_numbering",
     "Q.2110 state 10, ER with a new N(SQ): state 9, AA-RECOVER.indication; SSCF-UNI responds at once: ERAK with N(MR) 128, state 10; the next POLL carries N(PS) 1 (VT(PS) reset)",
     CALL + HOLD + [pdu(ER(5)), exp("ERAK", n_mr=128, next=True), exp("POLL", n_ps=1, within="1s")] + resume())
case("S9-INOP-1_repeated_er_answered_with_erak_again",
     "Q.2110 state 10, ER whose N(SQ) equals VR(SQ) (our ERAK was lost; MAA-ERROR L path): ERAK again, nothing else",
     CALL + HOLD + [pdu(ER(5)), exp("ERAK", n_mr=128, next=True), pdu(ER(5)), exp("ERAK", n_mr=128),
                    nopdu(["END", "BGN", "ER"], "300ms")] + resume())

# ---- state 10 Data Transfer Ready ----------------------------------------------------------------
case("S10-VAL-2_poll_answered_with_stat_echoing_n_ps",
     "Q.2110 state 10, POLL (N(PS) 77, N(S) 0) after a resync: STAT with N(PS) 77, N(R) = VR(R) 0, N(MR) 128 and no list",
     S10R + [pdu(POLL(77, 0)), exp("STAT", n_ps=77, n_r=0, n_mr=128, list=[])] + resume())
case("S10-VAL-3_sd_in_sequence_delivered_and_acknowledged_in_next_stat",
     "Q.2110 state 10 without calls, SD with N(S) = VR(R) 0 after a resync: delivered (Q.2931 answers the STATUS ENQUIRY it carries with a STATUS in our SD N(S) 0), VR(R) 1; the STAT for the next POLL has N(R) 1 and N(MR) 129",
     S10N + [pdu(SD(0)), exp("SD", n_s=0, msg="STATUS", next=True), pdu(POLL(78, 1)), exp("STAT", n_ps=78, n_r=1, n_mr=129, list=[])] + resume_nocall())
case("S10-INV-5_sd_beyond_vr_h_gap_reported_with_ustat",
     "Q.2110 state 10, SD with N(S) 2 > VR(H) 0 after a resync (MAA-ERROR-free gap): kept, USTAT listing the gap [0, 2) with N(R) 0, N(MR) 128",
     S10R + [pdu(SD(2)), exp("USTAT", n_r=0, n_mr=128, list=[0, 2])] + resume())
case("S10-INV-6_sd_beyond_window_discarded_ustat_to_window_edge",
     "Q.2110 state 10, SD with N(S) 200 >= VR(MR) 128: discarded; VR(H) < VR(MR), so a USTAT reports [VR(H), VR(MR)) = [0, 128)",
     S10R + [pdu(SD(200)), exp("USTAT", n_r=0, n_mr=128, list=[0, 128])] + resume())
case("S10-INV-7_ustat_beyond_vt_s_starts_recovery_with_er",
     "Q.2110 state 10, USTAT whose list lies beyond VT(S) (MAA-ERROR T): error recovery: ER with N(SQ) 2 and N(MR) 129, state 7",
     CALL + HOLD + [pdu(USTAT(200, 0, 300, 400)), exp("ER", n_sq=2, n_mr=ER_MR, next=True)] + resume())
case("S10-INV-8_stat_beyond_vt_s_starts_recovery_with_er",
     "Q.2110 state 10, STAT whose N(R) lies beyond VT(S) (MAA-ERROR S): error recovery: ER with N(SQ) 2 and N(MR) 129, state 7, repeated under Timer_CC",
     S7 + [exp("ER", n_sq=2, n_mr=ER_MR, next=True, after="900ms", within="1100ms")] + resume())
case("S10-TMR-1_timer_poll_then_keep_alive_polls",
     "Q.2110 state 10 after a resync, no calls and nothing to send: Timer_POLL (750 ms) sends POLL N(PS) 1, then Timer_KEEP-ALIVE (2 s) paces the next POLL, N(PS) 2",
     S10N + [exp("POLL", n_ps=1, n_s=0, next=True, after="700ms", within="800ms"),
             exp("POLL", n_ps=2, n_s=0, next=True, after="1900ms", within="2100ms")] + resume_nocall())
case("S10-TMR-2_timer_no_response_ends_link_with_end_s1_then_new_bgn",
     "Q.2110 state 10, POLLs unanswered until Timer_NO-RESPONSE (7 s; MAA-ERROR P): END with S=1, AA-RELEASE.indication, state 1; the user side asks again at once (BGN N(SQ) 2); the call, inside T309, is kept",
     CALL + HOLD + [exp("END", source=True, after="4s", within="8s"), exp("BGN", n_sq=2, n_mr=128, next=True, within="10ms")] + resume())

case("S10-INOP-9_bgrej_in_ready_releases_link_then_new_bgn",
     "Q.2110 state 10, BGREJ (MAA-ERROR D): AA-RELEASE.indication, state 1, no END sent; the user side asks again at once: the next PDU is a BGN with N(SQ) 2; the call is kept over T309",
     CALL + HOLD + [pdu(BGREJ), exp("BGN", n_sq=2, n_mr=128, next=True, within="10ms")] + resume())

# ---- signalling AAL reset (resync / recovery without a release): what Q.2931 does ---------------
case("S6-VAL-2_resync_in_ready_active_call_verified_with_status_enquiry",
     "Q.2110 state 10, RS (new N(SQ)): RSAK, AA-RESYNC.indication; SSCF-UNI gives Q.2931 AAL-ESTABLISH.indication on a link that stayed up (a signalling AAL reset): the active call is verified with STATUS ENQUIRY (Q.2971 Call-Control-U 19/39), the first SD after the resync",
     S10R + [exp("SD", n_s=0, msg="STATUS ENQUIRY", within="1s"), KEPT] + resume())
case("S9-VAL-2_recovery_in_ready_active_call_verified_with_status_enquiry",
     "Q.2110 state 10, ER (new N(SQ)): ERAK, AA-RECOVER.indication; SSCF-UNI gives Q.2931 AAL-ESTABLISH.indication on a link that stayed up (a signalling AAL reset): the active call is verified with STATUS ENQUIRY (Q.2971 Call-Control-U 19/39), the first SD after the recovery",
     CALL + HOLD + [pdu(ER(5)), exp("ERAK", n_mr=128, next=True), exp("SD", n_s=0, msg="STATUS ENQUIRY", within="1s"), KEPT] + resume(),
     )
case("S7-VAL-2_recovery_ended_by_erak_restarts_nothing_with_restart_on_link_up",
     "RestartOnLinkUp = 1; Q.2110 state 7, ERAK ends our recovery (AA-RECOVER.indication, AAL-ESTABLISH.indication to Q.2931 on a link that stayed up): no RESTART (Q.2931 5.5 restarts at link start-up, not on a signalling AAL reset), the active call is kept and verified with STATUS ENQUIRY",
     CALL + HOLD + [pdu(BAD_STAT), exp("ER", n_sq=2, n_mr=130, next=True),  # VR(R) 2: RESTART ACK and CONNECT
                    pdu(ERAK(128)), exp("SD", n_s=0, msg="STATUS ENQUIRY", within="1s"), nopdu(["SD"], "2s"), KEPT] + resume(),
     timers={"RestartOnLinkUp": 1})

if __name__ == "__main__":
    for name, summary, steps, bad, known, timers in C:
        write(name, summary, steps, bad, known, timers)
    print(len(C), "cases")
