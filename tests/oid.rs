//! MiniportCoOidRequest through the lab (the path NDIS uses: the client's NdisCoOidRequest with and
//! without its AF handle): every OID the driver advertises is answered with the NDIS layout, a
//! short buffer gets BUFFER_TOO_SHORT with BytesNeeded and nothing written, and nothing outside
//! the list is answered (issue 7 item 3, issue 8 item 7).

mod common;

use atmmcm::NdisStatus;
use atmmcm::adapter::oid;
use atmmcm_hw::host::Client;
use common::*;

/// Queries `o` on node 0 both ways NDIS routes it (MiniportCoOidRequest, ProtocolCoOidRequest)
/// and checks both answer alike. Returns (status, bytes written, bytes needed, buffer).
fn query(c: &Client, o: u32, len: usize) -> (NdisStatus, usize, usize, Vec<u8>) {
    let mut a = vec![0xEEu8; len];
    let (st, done, needed) = c.oid_request(None, o, true, &mut a);
    let mut b = vec![0xEEu8; len];
    let r = c.af_oid_request(None, o, true, &mut b);
    assert_eq!((st, done, needed), r, "OID 0x{o:08X}: MiniportCoOidRequest and ProtocolCoOidRequest differ");
    assert_eq!(a, b);
    (st, done, needed, a)
}

fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes(b[i..i + 4].try_into().unwrap())
}

/// What each advertised OID answers on a default lab adapter (ndis6-facts.tsv values; the
/// structures from the WDK's ntddndis.h / atm.h).
fn expected(o: u32) -> Vec<u8> {
    let cfg = atmmcm::Config::DEFAULT;
    let le = |v: u32| v.to_le_bytes().to_vec();
    let speed = (cfg.link_speed_bps / 100) as u32;
    match o {
        oid::GEN_SUPPORTED_LIST => oid::SUPPORTED.iter().flat_map(|o| o.to_le_bytes()).collect(),
        oid::GEN_HARDWARE_STATUS => le(0), // NdisHardwareStatusReady
        oid::GEN_MEDIA_SUPPORTED | oid::GEN_MEDIA_IN_USE => le(8), // NdisMediumAtm
        oid::GEN_CO_LINK_SPEED => [le(speed), le(speed)].concat(), // NDIS_CO_LINK_SPEED
        oid::GEN_VENDOR_DESCRIPTION => b"atmmcm ATM adapter (CoNDIS call manager)\0".to_vec(),
        oid::GEN_DRIVER_VERSION => vec![0x00, 0x06], // NDIS 6.0, USHORT
        oid::GEN_CO_MEDIA_CONNECT_STATUS => le(0),   // NdisMediaStateConnected (the lab link is up)
        oid::ATM_SUPPORTED_VC_RATES => [le(0), le((cfg.link_speed_bps / 424) as u32)].concat(),
        oid::ATM_SUPPORTED_SERVICE_CATEGORY => le(0x1 | 0x4), // CBR | UBR
        oid::ATM_SUPPORTED_AAL_TYPES => le(0x8),              // AAL_TYPE_AAL5
        oid::ATM_HW_CURRENT_ADDRESS => cfg.esi.to_vec(),
        oid::ATM_MAX_ACTIVE_VCS => le(cfg.max_vcs.min(cfg.max_active_vcs) as u32),
        oid::ATM_MAX_AAL5_PACKET_SIZE => le(65_535),
        // A fresh adapter: every control counter 0, the VCs in service.
        oid::ATMMCM_CONTROL_COUNTERS => vec![0; 8 * oid::value::CONTROL_COUNTERS.len()],
        _ => panic!("no expectation for 0x{o:08X}"),
    }
}

#[test]
fn every_supported_oid_is_answered_with_its_ndis_layout() {
    let lab = lab();
    let c = client(&lab);
    lab.settle();
    for o in oid::SUPPORTED {
        let want = expected(o);
        let (st, done, needed, buf) = query(&c, o, 256);
        assert_eq!(st, NdisStatus::SUCCESS, "OID 0x{o:08X}");
        assert_eq!(done, want.len(), "OID 0x{o:08X}: BytesWritten");
        assert_eq!(needed, 0, "OID 0x{o:08X}");
        assert_eq!(&buf[..done], &want[..], "OID 0x{o:08X}");
        assert!(buf[done..].iter().all(|&b| b == 0xEE), "OID 0x{o:08X} wrote past BytesWritten");
    }
}

#[test]
fn every_supported_oid_refuses_a_short_buffer_with_bytes_needed_and_writes_nothing() {
    let lab = lab();
    let c = client(&lab);
    lab.settle();
    for o in oid::SUPPORTED {
        let need = expected(o).len();
        for len in [0, need - 1] {
            let (st, done, needed, buf) = query(&c, o, len);
            assert_eq!(st, NdisStatus::BUFFER_TOO_SHORT, "OID 0x{o:08X}, {len} octets");
            assert_eq!((done, needed), (0, need), "OID 0x{o:08X}, {len} octets");
            assert!(buf.iter().all(|&b| b == 0xEE), "OID 0x{o:08X} wrote into a short buffer");
        }
    }
}

#[test]
fn the_supported_list_is_exactly_what_the_driver_answers() {
    let lab = lab();
    let c = client(&lab);
    let (st, done, _, buf) = query(&c, oid::GEN_SUPPORTED_LIST, 256);
    assert_eq!(st, NdisStatus::SUCCESS);
    let listed: Vec<u32> = (0..done / 4).map(|i| u32_at(&buf, 4 * i)).collect();
    assert_eq!(listed, oid::SUPPORTED);
    // Every OID in the GEN (0x0001_01xx / 0x0001_02xx), ATM (0x0801_01xx / 0x0801_02xx) and the
    // driver's vendor (0xFFA7_00xx) blocks that is not listed is refused, and answered nowhere.
    let blocks = [0x0001_0100u32, 0x0001_0200, 0x0002_0100, 0x0801_0100, 0x0801_0200, 0x0802_0100, 0xFFA7_0000];
    let mut answered = Vec::new();
    for base in blocks {
        for o in base..base + 0x40 {
            let (st, done, _, _) = query(&c, o, 256);
            if st == NdisStatus::SUCCESS {
                answered.push(o);
            } else {
                assert!(!listed.contains(&o), "listed OID 0x{o:08X} not answered: {st:?}");
                assert_eq!(done, 0);
                assert_eq!(st, NdisStatus::INVALID_OID, "OID 0x{o:08X}");
            }
        }
    }
    assert_eq!(answered, listed, "answered set differs from OID_GEN_SUPPORTED_LIST");
}

#[test]
fn the_old_wrong_atm_oid_values_are_not_answered() {
    // 0x08080107 / 0x0808010B were the driver's old OID_ATM_MAX_ACTIVE_VCS / MAX_AAL5_PACKET_SIZE.
    let lab = lab();
    let c = client(&lab);
    for o in [0x0808_0107, 0x0808_010B] {
        assert_eq!(query(&c, o, 8).0, NdisStatus::INVALID_OID);
    }
    assert_eq!(oid::ATM_MAX_ACTIVE_VCS, 0x0801_0105);
    assert_eq!(oid::ATM_MAX_AAL5_PACKET_SIZE, 0x0801_010B);
}

#[test]
fn co_link_speed_is_an_ndis_co_link_speed_of_eight_octets() {
    let lab = lab();
    let c = client(&lab);
    let (st, done, needed, buf) = query(&c, oid::GEN_CO_LINK_SPEED, 4);
    assert_eq!((st, done, needed), (NdisStatus::BUFFER_TOO_SHORT, 0, 8));
    assert_eq!(buf, [0xEE; 4]);
    let (st, done, _, buf) = query(&c, oid::GEN_CO_LINK_SPEED, 8);
    assert_eq!((st, done), (NdisStatus::SUCCESS, 8));
    assert_eq!(u32_at(&buf, 0), 1_497_600, "Outbound, 100 bit/s units");
    assert_eq!(u32_at(&buf, 4), 1_497_600, "Inbound");
}

#[test]
fn media_connect_status_follows_the_link() {
    let lab = lab();
    let c = client(&lab);
    lab.settle();
    assert_eq!(query(&c, oid::GEN_CO_MEDIA_CONNECT_STATUS, 4).3, 0u32.to_le_bytes());
    lab.set_link(0, false);
    lab.settle();
    assert_eq!(query(&c, oid::GEN_CO_MEDIA_CONNECT_STATUS, 4).3, 1u32.to_le_bytes());
}

#[test]
fn a_set_of_a_query_only_oid_is_not_supported_and_reads_nothing() {
    let lab = lab();
    let c = client(&lab);
    for o in oid::SUPPORTED {
        let mut b = [0u8; 16];
        let (st, read, needed) = c.oid_request(None, o, false, &mut b);
        assert_eq!((st, read, needed), (NdisStatus::NOT_SUPPORTED, 0, 0), "OID 0x{o:08X}");
    }
}

#[test]
fn hw_current_address_is_the_configured_esi() {
    let esi = [0x00, 0x20, 0x48, 0x11, 0x22, 0x33];
    let lab = lab_with(atmmcm_hw::lab::LabConfig::default().with_config(|c| c.esi = esi));
    let c = client(&lab);
    let (st, done, _, buf) = query(&c, oid::ATM_HW_CURRENT_ADDRESS, 6);
    assert_eq!((st, done), (NdisStatus::SUCCESS, 6));
    assert_eq!(buf, esi);
}

#[test]
fn max_active_vcs_is_bounded_by_the_ring_pool_not_only_the_vc_table() {
    let lab = lab_with(atmmcm_hw::lab::LabConfig::default().with_config(|c| {
        c.max_vcs = 1024;
        c.max_active_vcs = 16;
    }));
    let c = client(&lab);
    let (st, done, _, buf) = query(&c, oid::ATM_MAX_ACTIVE_VCS, 4);
    assert_eq!((st, done), (NdisStatus::SUCCESS, 4));
    assert_eq!(u32_at(&buf, 0), 16, "a VC beyond the ring pool cannot be active");
}
