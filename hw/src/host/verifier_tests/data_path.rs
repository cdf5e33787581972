//! Rules DATA-* (sends completed once with the right status, indications only while the VC is
//! active and not closing, nothing outstanding at deactivate and delete).

use super::*;

// ---- data --------------------------------------------------------------------------------------------------

#[test]
fn rule_data_send_once_fires_on_completing_an_nbl_twice() {
    let l = lab();
    let vc = l.client_call();
    let nbls = l.client.send(vc, vec![b"a".to_vec(), b"b".to_vec()]);
    assert_eq!(*l.fake.sends.lock().unwrap(), nbls);
    l.ndis().co_send_net_buffer_lists_complete(vc, nbls[0], 0);
    assert_eq!(l.client.send_completions().len(), 2, "the chain of two completes");
    l.clean();
    l.ndis().co_send_net_buffer_lists_complete(vc, nbls[1], 0);
    l.only(rule::DATA_SEND_ONCE);
}

#[test]
fn rule_data_send_once_fires_on_completing_on_another_vc() {
    let l = lab();
    let vc = l.client_call();
    let other = l.client_call();
    let nbls = l.client.send(vc, vec![b"a".to_vec()]);
    l.ndis().co_send_net_buffer_lists_complete(other, nbls[0], 0);
    l.only(rule::DATA_SEND_ONCE);
}

#[test]
fn rule_data_send_once_fires_on_a_send_never_completed() {
    let l = lab();
    let vc = l.client_call();
    l.client.send(vc, vec![b"a".to_vec()]);
    l.emu.check_outstanding();
    l.only(rule::DATA_SEND_ONCE);
}

#[test]
fn rule_data_drained_at_deact_fires_on_deactivate_with_a_send_outstanding() {
    let l = lab();
    let vc = l.client_call();
    let nbls = l.client.send(vc, vec![b"a".to_vec()]);
    l.client.close_call(vc, None, None);
    l.ndis().cm_deactivate_vc(vc);
    l.only(rule::DATA_DRAINED_AT_DEACT);
    let l = lab();
    let vc = l.client_call();
    let nbls2 = l.client.send(vc, vec![b"a".to_vec()]);
    l.client.close_call(vc, None, None);
    l.ndis().co_send_net_buffer_lists_complete(vc, nbls2[0], 0);
    l.finish_close(vc);
    l.clean();
    let _ = nbls;
}

#[test]
fn rule_data_drained_at_deact_fires_on_deactivate_with_a_receive_not_returned() {
    let l = lab();
    let vc = l.client_call();
    l.client.return_receives(ReturnReceives::Hold);
    l.rx(vc, 0);
    l.client.close_call(vc, None, None);
    l.ndis().cm_deactivate_vc(vc);
    l.only(rule::DATA_DRAINED_AT_DEACT);
    // An indication with the RESOURCES flag is not owed back.
    let l = lab();
    let vc = l.client_call();
    l.client.return_receives(ReturnReceives::Hold);
    l.rx(vc, receive_flags::RESOURCES);
    l.client.close_call(vc, None, None);
    l.finish_close(vc);
    l.clean();
}

#[test]
fn rule_data_no_ind_inactive_fires_on_indicating_before_activation() {
    let l = lab();
    let vc = l.ndis().cm_create_vc(l.af, VcContext(tok(999))).unwrap();
    l.rx(vc, 0);
    l.only(rule::DATA_NO_IND_INACTIVE);
}

#[test]
fn rule_data_no_ind_closing_fires_on_indicating_after_close_call_returned() {
    let l = lab();
    let vc = l.client_call();
    l.client.close_call(vc, None, None);
    l.rx(vc, 0);
    l.only(rule::DATA_NO_IND_CLOSING);
}

#[test]
fn rule_data_no_ind_closing_fires_on_indicating_after_dispatching_the_incoming_close() {
    let l = lab();
    let vc = l.network_closed_call();
    l.rx(vc, 0);
    l.only(rule::DATA_NO_IND_CLOSING);
}

#[test]
fn rule_data_no_ind_closing_fires_on_indicating_from_inside_the_close_handler() {
    let l = lab();
    let vc = l.client_call();
    l.script(|s| {
        s.on_close = Some(Arc::new(move |n: &EmuNdis| {
            let nbl = n.rx_nbl_alloc(1, b"x").unwrap();
            n.co_indicate_receive_net_buffer_lists(vc, nbl, 1, 0);
        }))
    });
    l.client.close_call(vc, None, None);
    l.only(rule::DATA_NO_IND_CLOSING);
}

#[test]
fn indication_racing_with_the_close_handler_on_another_thread_is_benign() {
    let l = lab();
    let vc = l.client_call();
    l.script(|s| {
        s.on_close = Some(Arc::new(move |n: &EmuNdis| {
            let n2 = n.clone();
            std::thread::spawn(move || {
                let nbl = n2.rx_nbl_alloc(1, b"x").unwrap();
                n2.co_indicate_receive_net_buffer_lists(vc, nbl, 1, 0);
            })
            .join()
            .unwrap();
        }))
    });
    l.client.close_call(vc, None, None);
    l.finish_close(vc);
    l.clean();
}

#[test]
fn rule_data_closing_status_fires_on_success_for_a_send_after_close_started() {
    let l = lab();
    let vc = l.closing_client_call();
    let nbls = l.client.send(vc, vec![b"late".to_vec()]);
    l.ndis().co_send_net_buffer_lists_complete(vc, nbls[0], 0);
    l.only(rule::DATA_CLOSING_STATUS);
    let l = lab();
    let vc = l.client_call();
    l.client.close_call(vc, None, None);
    let nbls = l.client.send(vc, vec![b"late".to_vec()]);
    l.ndis().nbl_set_status(nbls[0], NdisStatus::CLOSING);
    l.ndis().co_send_net_buffer_lists_complete(vc, nbls[0], 0);
    assert_eq!(l.client.send_completions()[0].status, NdisStatus::CLOSING);
    l.finish_close(vc);
    l.clean();
}

#[test]
fn rule_data_closing_status_fires_on_send_aborted_for_a_send_after_close_started() {
    // Strict: a send after the close started completes with CLOSING, not just any failure.
    let complete_late = |l: &Lab, vc, status| {
        let nbls = l.client.send(vc, vec![b"late".to_vec()]);
        l.ndis().nbl_set_status(nbls[0], status);
        l.ndis().co_send_net_buffer_lists_complete(vc, nbls[0], 0);
    };
    let l = lab();
    let vc = l.closing_client_call();
    complete_late(&l, vc, NdisStatus::SEND_ABORTED);
    l.only(rule::DATA_CLOSING_STATUS);
    // After an incoming close was dispatched the close has started too.
    let l = lab();
    let vc = l.network_closed_call();
    complete_late(&l, vc, NdisStatus::FAILURE);
    l.only(rule::DATA_CLOSING_STATUS);
    // The right answer: CLOSING.
    let l = lab();
    let vc = l.network_closed_call();
    complete_late(&l, vc, NdisStatus::CLOSING);
    l.clean();
}

#[test]
fn rule_data_drained_at_deact_fires_on_deactivate_while_a_sender_inside_still_holds_a_rejected_nbl() {
    // Issue 8 item 1: the driver rejects the NBL but deactivates before completing it, from
    // inside MiniportCoSendNetBufferLists (another CPU's teardown, in real life).
    let l = lab();
    let vc = l.client_call();
    l.script(|s| {
        s.on_send = Some(Arc::new(move |n: &EmuNdis| {
            let head = n.newest_send_nbl().unwrap();
            n.nbl_set_status(head, NdisStatus::CLOSING);
            n.cm_deactivate_vc(vc);
            n.co_send_net_buffer_lists_complete(vc, head, 0);
        }))
    });
    l.client.send(vc, vec![b"a".to_vec()]);
    l.only(rule::DATA_DRAINED_AT_DEACT);
    // The right order: the rejected NBL completes inside the send, the VC is deactivated after.
    let l = lab();
    let vc = l.client_call();
    l.script(|s| {
        s.on_send = Some(Arc::new(move |n: &EmuNdis| {
            let head = n.newest_send_nbl().unwrap();
            n.co_send_net_buffer_lists_complete(vc, head, 0);
        }))
    });
    l.client.send(vc, vec![b"a".to_vec()]);
    l.client.close_call(vc, None, None);
    l.finish_close(vc);
    l.clean();
}

#[test]
fn rule_data_no_cmp_after_delete_fires_on_delete_with_a_send_outstanding() {
    let l = lab();
    let vc = l.held_incoming_call();
    let nbls = l.client.send(vc, vec![b"a".to_vec()]);
    l.ndis().cm_dispatch_incoming_close_call(NdisStatus::SUCCESS, vc, &[]);
    l.client.close_call(vc, None, None);
    // Wrong: the send outlives deactivation and the delete (the deactivate rule fires too).
    l.ndis().cm_deactivate_vc(vc);
    l.ndis().cm_close_call_complete(NdisStatus::SUCCESS, vc, None);
    l.ndis().cm_delete_vc(vc);
    assert_eq!(l.emu.fired(), vec![rule::DATA_DRAINED_AT_DEACT, rule::DATA_NO_CMP_AFTER_DELETE]);
    let _ = nbls;
}

#[test]
fn rule_data_drained_at_deact_judges_a_send_made_between_an_incoming_close_and_the_clients_close() {
    // Legal: the client sends after ProtocolClIncomingCloseCall, before its NdisClCloseCall. The
    // driver must still wait for that send before deactivating (and deleting) the VC.
    let l = lab();
    let vc = l.network_closed_call();
    let nbls = l.client.send(vc, vec![b"a".to_vec()]);
    l.client.close_call(vc, None, None);
    l.ndis().cm_deactivate_vc(vc);
    l.ndis().cm_close_call_complete(NdisStatus::SUCCESS, vc, None);
    l.ndis().cm_delete_vc(vc);
    assert_eq!(l.emu.fired(), vec![rule::DATA_DRAINED_AT_DEACT, rule::DATA_NO_CMP_AFTER_DELETE]);
    let _ = nbls;
    // The right order: the send completes (CLOSING) before the VC goes.
    let l = lab();
    let vc = l.network_closed_call();
    let nbls = l.client.send(vc, vec![b"a".to_vec()]);
    l.ndis().nbl_set_status(nbls[0], NdisStatus::CLOSING);
    l.ndis().co_send_net_buffer_lists_complete(vc, nbls[0], 0);
    l.client.close_call(vc, None, None);
    l.finish_close(vc);
    l.clean();
}

#[test]
fn rule_data_no_cmp_after_delete_fires_on_completing_a_send_while_ndis_m_cm_delete_vc_runs() {
    // A sender the driver did not wait for completes on another thread while the delete runs.
    let l = lab();
    let vc = l.held_incoming_call();
    let nbls = l.client.send(vc, vec![b"a".to_vec()]);
    drop(l.emu.ndis_call(&verifier::Call::DeleteVc { vc }));
    l.ndis().co_send_net_buffer_lists_complete(vc, nbls[0], 0);
    assert!(l.emu.fired().contains(&rule::DATA_NO_CMP_AFTER_DELETE), "{:?}", l.emu.fired());
    // Right: completed before the close; deactivate, complete, delete.
    let l = lab();
    let vc = l.held_incoming_call();
    let nbls = l.client.send(vc, vec![b"a".to_vec()]);
    l.ndis().co_send_net_buffer_lists_complete(vc, nbls[0], 0);
    l.ndis().cm_dispatch_incoming_close_call(NdisStatus::SUCCESS, vc, &[]);
    l.client.close_call(vc, None, None);
    l.finish_close(vc);
    assert_eq!(l.ndis().cm_delete_vc(vc), NdisStatus::SUCCESS);
    l.clean();
}
