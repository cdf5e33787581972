//! Trust model (README, issue 8 Deliver 6): one VC never affects another's state or data. Node
//! 1001 holds two calls to node 1002, A and B. Whatever happens to B — garbage frames and broken
//! cells on its VPI/VCI, frames over its SDU size, its release by the network, a RESTART naming
//! it, the client closing it while A carries traffic — A stays connected at both ends, gets no
//! incoming close, and carries every frame, byte-exact and in order, each completed SUCCESS.

mod common;

use std::time::Duration;

use atmmcm::NdisStatus;
use atmmcm_hw::host::{Client, VcHandle, VcState};
use atmmcm_hw::lab::{Lab, LabConfig, call_to};
use common::*;

fn pattern(seed: usize, len: usize) -> Vec<u8> {
    (0..len).map(|i| (i as u8) ^ (seed as u8).wrapping_mul(31)).collect()
}

struct Call {
    /// Node 1001's VC (client-created) and node 1002's (driver-created).
    near: VcHandle,
    far: VcHandle,
    /// At node 1001's port: the network's call reference and the VCI.
    cref: u32,
    vci: u16,
}

fn call(lab: &Lab, a: &Client, b: &Client) -> Call {
    let pa = lab.node(0).port;
    let known: Vec<u32> = lab.network().calls(pa).iter().map(|c| c.call_ref).collect();
    let near = a.create_vc().unwrap();
    assert_eq!(a.make_call(near, call_to(b"1002")).0, NdisStatus::PENDING);
    lab.advance(A_MOMENT);
    assert_eq!(a.state(near), Some(VcState::Connected));
    let far = b.incoming_calls().last().unwrap().vc;
    let info = lab.network().calls(pa).into_iter().find(|c| !known.contains(&c.call_ref)).expect("the new call");
    Call { near, far, cref: info.call_ref, vci: info.vci }
}

/// A carries `n` frames each way, every one delivered byte-exact in order and completed SUCCESS;
/// both ends still connected and never told of a close.
fn a_is_untouched(lab: &Lab, a: &Client, b: &Client, x: &Call, round: usize) {
    let (rx_b, rx_a) = (b.received_frames(x.far).len(), a.received_frames(x.near).len());
    let frames: Vec<Vec<u8>> = (0..8).map(|i| pattern(round * 8 + i, 40 + 97 * i)).collect();
    let sent_a: Vec<_> = frames.iter().flat_map(|f| a.send(x.near, vec![f.clone()])).collect();
    let sent_b: Vec<_> = frames.iter().flat_map(|f| b.send(x.far, vec![f.clone()])).collect();
    lab.advance(A_MOMENT);
    assert_eq!(b.received_frames(x.far)[rx_b..], frames[..], "round {round}: A's frames at 1002");
    assert_eq!(a.received_frames(x.near)[rx_a..], frames[..], "round {round}: A's frames at 1001");
    for (c, sent) in [(a, &sent_a), (b, &sent_b)] {
        let done = c.send_completions();
        for n in sent {
            let st: Vec<_> = done.iter().filter(|d| d.nbl == *n).map(|d| d.status).collect();
            assert_eq!(st, [NdisStatus::SUCCESS], "round {round}: {n:?}");
        }
    }
    assert_eq!(a.state(x.near), Some(VcState::Connected), "round {round}");
    assert_eq!(b.state(x.far), Some(VcState::Connected), "round {round}");
    assert!(a.incoming_closes().iter().all(|(v, _, _)| *v != x.near), "round {round}: no close on A at 1001");
    assert!(b.incoming_closes().iter().all(|(v, _, _)| *v != x.far), "round {round}: no close on A at 1002");
    for n in &lab.nodes {
        n.ndis.assert_clean();
    }
}

fn setup() -> (Lab, Client, Client, Call, Call) {
    let (lab, a, b) = two_nodes(LabConfig::default());
    let x = call(&lab, &a, &b);
    let y = call(&lab, &a, &b);
    assert_ne!(x.vci, y.vci);
    a_is_untouched(&lab, &a, &b, &x, 0);
    (lab, a, b, x, y)
}

#[test]
fn garbage_frames_and_broken_cells_on_one_vc_leave_another_vcs_state_and_data_untouched() {
    let (lab, a, b, x, y) = setup();
    let pa = lab.node(0).port;
    let mut rng = Rng(0x1501_a7e5);
    for round in 1..=4 {
        // Frames of any length and content on B's VPI/VCI towards node 1001: empty, tiny, at and
        // over B's SDU size (9 188) and over what AAL5 carries in one frame's length field.
        for _ in 0..16 {
            let len = match rng.next() % 5 {
                0 => 0,
                1 => (rng.next() % 48) as usize,
                2 => 9180 + (rng.next() % 16) as usize,
                3 => 9189 + (rng.next() % 60_000) as usize,
                _ => (rng.next() % 1500) as usize,
            };
            let f: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            lab.network().inject_data(pa, 0, y.vci, &f);
        }
        // Cells with a broken AAL5 CRC, a broken header checksum, and a lone last-cell marker.
        let model = &lab.node(0).model;
        let mut cells = atmmcm_hw::switch::segment(0, y.vci, &pattern(round, 300)).unwrap();
        cells[2][5 + 7] ^= 0x10;
        let mut hec = atmmcm_hw::switch::segment(0, y.vci, &pattern(round, 100)).unwrap();
        hec[0][4] ^= 0x01;
        let lone = atmmcm_hw::switch::segment(0, y.vci, &pattern(round, 30)).unwrap();
        for c in cells.iter().chain(&hec).chain(lone.last()) {
            model.put_cell(c);
        }
        a_is_untouched(&lab, &a, &b, &x, round);
    }
    let hw = lab.node(0).model.counters();
    assert!(hw.crc_errors >= 4 && hw.hec_errors >= 4, "the broken cells reached the NIC: {hw:?}");
    assert_eq!(a.close_call(x.near, None, None), NdisStatus::PENDING);
    assert_eq!(a.close_call(y.near, None, None), NdisStatus::PENDING);
    lab.advance(A_MOMENT);
    halt_clean(&lab);
}

#[test]
fn another_calls_release_restart_and_close_leave_a_vcs_state_and_data_untouched() {
    let (lab, a, b, x, y) = setup();
    let pa = lab.node(0).port;
    // B released by the network while A carries traffic.
    let _ = b.send(y.far, vec![pattern(1, 500)]);
    let now = lab.now();
    lab.network().release(now, pa, y.cref, 41, None);
    a_is_untouched(&lab, &a, &b, &x, 1);
    assert!(a.incoming_closes().iter().any(|(v, _, _)| *v == y.near), "B was released");
    // B again, then a RESTART naming only B's VPI/VCI.
    let y = call(&lab, &a, &b);
    let now = lab.now();
    lab.network().restart(now, pa, false, Some((0, y.vci)));
    a_is_untouched(&lab, &a, &b, &x, 2);
    assert!(a.incoming_closes().iter().any(|(v, _, _)| *v == y.near), "B was restarted");
    // B again, closed by the client with sends in flight on both.
    let y = call(&lab, &a, &b);
    let _ = a.send(y.near, vec![pattern(3, 900); 4]);
    assert_eq!(a.close_call(y.near, None, None), NdisStatus::PENDING);
    a_is_untouched(&lab, &a, &b, &x, 3);
    lab.advance(Duration::from_secs(2));
    assert!(matches!(a.state(y.near), Some(VcState::Deleted) | Some(VcState::Idle) | Some(VcState::Closed)));
    a_is_untouched(&lab, &a, &b, &x, 4);
    assert_eq!(a.close_call(x.near, None, None), NdisStatus::PENDING);
    lab.advance(A_MOMENT);
    halt_clean(&lab);
}

/// The oracle can fail: when A itself is released, `a_is_untouched` says so.
#[test]
#[should_panic(expected = "A's frames at 1002")]
fn the_isolation_oracle_fires_when_the_watched_call_itself_is_released() {
    let (lab, a, b, x, _y) = setup();
    let now = lab.now();
    lab.network().release(now, lab.node(0).port, x.cref, 41, None);
    a_is_untouched(&lab, &a, &b, &x, 1);
}
