use atmmcm::NdisStatus;
use atmmcm_hw::lab::{Lab, call_to};

#[test]
fn outgoing_call_connects_and_local_close_completes_after_release_complete() {
    let lab = Lab::new();
    let n = lab.node(0);
    assert!(n.adapter.signalling_up(), "SSCOP link up after start");
    let c = n.client();
    c.open_af().unwrap();
    let vc = c.create_vc().unwrap();
    let (st, _) = c.make_call(vc, call_to(b"9999"));
    assert_eq!(st, NdisStatus::PENDING);
    lab.advance(std::time::Duration::from_secs(1));
    println!("{:#?}", n.ndis.ndis_calls_on(vc));
    let st = c.close_call(vc, None, None);
    lab.advance(std::time::Duration::from_secs(1));
    println!("close -> {st:?}\n{:#?}", n.ndis.ndis_calls_on(vc));
    for e in lab.network().log() {
        println!("{:?} {:?} {} {:?}", e.time, e.direction, e.name, e.causes);
    }
    n.ndis.assert_clean();
}
