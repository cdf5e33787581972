//! A double return of a receive NBL (issue 8 item 8): the VC's count of NBLs out with the client
//! must not wrap, or the VC's teardown waits for it forever and the close never completes.

mod common;

use atmmcm::NdisStatus;
use atmmcm::ndis::Ndis;
use common::*;

#[test]
fn a_returned_nbl_that_was_not_outstanding_does_not_wrap_the_vc_count_and_close_still_completes() {
    let lab = lab();
    let c = client(&lab);
    let vc = outgoing_call(&lab, &c);
    let node = lab.node(0);
    let ctx = node.ndis.vc_context(vc).expect("the VC's context");
    // An RX NBL carrying the VC's tag that the driver never indicated — what a second return of
    // an already returned NBL looks like to the core (the Windows pool clears the tag on the first
    // return; a pool that did not would hand the core exactly this).
    let stray = node.ndis.rx_nbl_alloc(ctx.as_usize(), b"dup").expect("an RX NBL");
    node.adapter.miniport_return_net_buffer_lists(stray, 0);
    // The close must still complete: teardown waits for the VC's outstanding receives to be zero.
    assert_eq!(c.close_call(vc, None, None), NdisStatus::PENDING);
    lab.advance(A_MOMENT * 5);
    let calls = node.ndis.ndis_calls_on(vc);
    assert!(calls.iter().any(|s| s == "NdisMCmCloseCallComplete(SUCCESS)"), "close never completed: {calls:?}");
    halt_clean(&lab);
}
