//! The data path and OID requests on the C ABI: the client's sends become real NET_BUFFER_LIST /
//! NET_BUFFER / MDL chains (tsv layouts) handed to MiniportCoSendNetBufferLists; the image's
//! completions and receive indications are read back the same way and handed to the emulated
//! NDIS as the lab's NBLs.

use std::collections::HashMap;
use std::sync::Mutex;

use atmmcm::adapter::OidRequest;
use atmmcm::ndis::VcContext;
use atmmcm::{Ndis, NdisStatus};

use crate::host::{Nbl, VcHandle};

use super::driver::{SysDriver, call};
use super::host::{enter, host};
use super::layout::{self as l, rd, wr};
use super::nbl::{build_mdl, build_nbl, free_nbl, nb_bytes};
use super::ndis::{kernel_alloc, kernel_free};
use super::rule;

/// One send NBL the harness built: the lab's NBL and every block to free.
struct SendRec {
    lab: Nbl,
    nbs: Vec<usize>,
    mdls: Vec<usize>,
    bufs: Vec<(usize, usize)>,
}

/// Sends in flight (C NBL -> record), and receive NBLs indicated (lab NBL -> C NBL).
#[derive(Default)]
struct Flight {
    sends: HashMap<usize, SendRec>,
}

static FLIGHT: Mutex<Option<Flight>> = Mutex::new(None);

fn flight<R>(f: impl FnOnce(&mut Flight) -> R) -> R {
    let mut g = FLIGHT.lock().unwrap_or_else(|e| e.into_inner());
    f(g.get_or_insert_with(Flight::default))
}

/// Sends still held by any image (a leak check for the tests).
pub fn sends_in_flight() -> usize {
    flight(|f| f.sends.len())
}

fn build_send(emu: &crate::host::EmuNdis, lab: Nbl) -> usize {
    let frames = emu.nbl_frame_count(lab);
    let mut rec = SendRec { lab, nbs: Vec::new(), mdls: Vec::new(), bufs: Vec::new() };
    let mut first_nbl = 0usize;
    let mut prev_nb = 0usize;
    for i in 0..frames {
        let len = emu.nbl_frame_len(lab, i);
        let buf = kernel_alloc(len.max(1));
        // SAFETY: `buf` holds `len` bytes.
        let dst = unsafe { std::slice::from_raw_parts_mut(buf as *mut u8, len) };
        emu.nbl_copy_frame(lab, i, dst);
        let mdl = build_mdl(buf, len as u32);
        let (nbl, nb) = build_nbl(0, mdl, 0, len as u32);
        if i == 0 {
            first_nbl = nbl;
        } else {
            // Only the first NBL is used; the extra NET_BUFFER is chained to the previous one.
            kernel_free(nbl, super::nbl::NBL_ALLOC);
            // SAFETY: `prev_nb` is a NET_BUFFER we built.
            unsafe { wr::<8>(prev_nb, l::NB_NEXT, nb as u64) };
        }
        prev_nb = nb;
        rec.nbs.push(nb);
        rec.mdls.push(mdl);
        rec.bufs.push((buf, len.max(1)));
    }
    if first_nbl == 0 {
        let (nbl, nb) = build_nbl(0, 0, 0, 0);
        first_nbl = nbl;
        rec.nbs.push(nb);
        // SAFETY: an NBL with no frames.
        unsafe { wr::<8>(nbl, l::NBL_FIRST_NB, 0) };
    }
    flight(|f| f.sends.insert(first_nbl, rec));
    first_nbl
}

fn free_send(nbl: usize, rec: SendRec) {
    for (b, n) in rec.bufs {
        kernel_free(b, n);
    }
    for m in rec.mdls {
        kernel_free(m, l::SIZEOF_MDL as usize);
    }
    let mut nbs = rec.nbs.into_iter();
    if let Some(first) = nbs.next() {
        free_nbl(nbl, first);
    }
    for nb in nbs {
        kernel_free(nb, l::SIZEOF_NB as usize);
    }
}

/// MiniportCoSendNetBufferLists with the lab's chain rebuilt in C.
pub fn send(d: &SysDriver, vc: VcContext, nbls: Nbl, flags: u32) {
    let Some(co) = d.host.st().co.clone() else { return };
    let emu = d.host.emu();
    let mut lab = Some(nbls);
    let mut head = 0usize;
    let mut tail = 0usize;
    while let Some(n) = lab {
        let next = emu.nbl_next(n);
        let c = build_send(emu, n);
        if head == 0 {
            head = c;
        } else {
            // SAFETY: `tail` is an NBL we built.
            unsafe { wr::<8>(tail, l::NBL_NEXT, c as u64) };
        }
        tail = c;
        lab = next;
    }
    enter(&d.host, "MiniportCoSendNetBufferLists", || {
        call!(co.send, fn(usize, usize, u32) -> (), vc.as_usize(), head, flags)
    });
}

pub extern "win64" fn ndis_m_co_send_net_buffer_lists_complete(vc: usize, nbls: usize, flags: u32) {
    let h = host();
    let Some(vc) = super::cm::from_c(h, "NdisMCoSendNetBufferListsComplete", super::cm::VC, vc) else { return };
    let mut c = nbls;
    let mut labs = Vec::new();
    while c != 0 {
        // SAFETY: an NBL the harness built (checked against the flight table below).
        let (next, status) = unsafe { (rd::<8>(c, l::NBL_NEXT) as usize, rd::<4>(c, l::NBL_STATUS) as u32) };
        match flight(|f| f.sends.remove(&c)) {
            Some(rec) => {
                h.emu().nbl_set_status(rec.lab, NdisStatus(status as i32));
                labs.push(rec.lab);
                free_send(c, rec);
            }
            None => {
                h.finding(
                    rule::NBL,
                    format!("NdisMCoSendNetBufferListsComplete: {c:#x} was never sent (or completed twice)"),
                );
            }
        }
        c = next;
    }
    for w in labs.windows(2) {
        h.emu().nbl_set_next(w[0], Some(w[1]));
    }
    if let Some(last) = labs.last() {
        h.emu().nbl_set_next(*last, None);
    }
    if let Some(first) = labs.first() {
        h.emu().co_send_net_buffer_lists_complete(VcHandle(vc), *first, flags);
    }
}

pub extern "win64" fn ndis_m_send_net_buffer_lists_complete(_handle: usize, _nbls: usize, _flags: u32) {
    host().finding(rule::NBL, "NdisMSendNetBufferListsComplete: the lab never sends connectionless".into());
}

pub extern "win64" fn ndis_m_co_indicate_receive_net_buffer_lists(vc: usize, nbls: usize, count: u32, flags: u32) {
    let h = host();
    let Some(vcid) = super::cm::from_c(h, "NdisMCoIndicateReceiveNetBufferLists", super::cm::VC, vc) else {
        return;
    };
    let mut c = nbls;
    let mut labs: Vec<Nbl> = Vec::new();
    let mut n = 0u32;
    while c != 0 {
        // SAFETY: the driver's NBL: walk its NET_BUFFERs and MDLs with the tsv layout.
        let (next, bytes) = unsafe {
            let nb = rd::<8>(c, l::NBL_FIRST_NB) as usize;
            let bytes = if nb == 0 { Vec::new() } else { nb_bytes(nb) };
            (rd::<8>(c, l::NBL_NEXT) as usize, bytes)
        };
        match h.emu().rx_nbl_alloc(c, &bytes) {
            Some(lab) => labs.push(lab),
            None => h.finding(rule::LAB_LIMIT, "the lab's receive NBL pool is empty".into()),
        }
        n += 1;
        c = next;
    }
    if n != count {
        h.finding(rule::NBL, format!("NdisMCoIndicateReceiveNetBufferLists: count {count}, chain has {n}"));
    }
    for w in labs.windows(2) {
        h.emu().nbl_set_next(w[0], Some(w[1]));
    }
    let Some(&first) = labs.first() else { return };
    h.emu().co_indicate_receive_net_buffer_lists(VcHandle(vcid), first, labs.len() as u32, flags);
    if flags & 0x2 != 0 {
        // NDIS_RECEIVE_FLAGS_RESOURCES: the NBLs are the driver's again when the call returns.
        for lab in labs {
            h.emu().rx_nbl_free(lab);
        }
    }
}

/// MiniportReturnNetBufferLists for the lab's receive NBLs (their tags are the driver's NBLs).
pub fn return_nbls(d: &SysDriver, nbls: Nbl, flags: u32) {
    let Some(c) = d.characteristics() else { return };
    let emu = d.host.emu();
    let mut lab = Some(nbls);
    let mut head = 0usize;
    let mut tail = 0usize;
    while let Some(n) = lab {
        let next = emu.nbl_next(n);
        let cn = emu.rx_nbl_tag(n);
        emu.rx_nbl_free(n);
        // SAFETY: the driver's own NBL, indicated earlier; NDIS relinks the chain on return.
        unsafe { wr::<8>(cn, l::NBL_NEXT, 0) };
        if head == 0 {
            head = cn;
        } else {
            // SAFETY: as above.
            unsafe { wr::<8>(tail, l::NBL_NEXT, cn as u64) };
        }
        tail = cn;
        lab = next;
    }
    if head == 0 {
        return;
    }
    let ctx = d.host.st().adapter_context;
    enter(&d.host, "MiniportReturnNetBufferLists", || call!(c.ret, fn(usize, usize, u32) -> (), ctx, head, flags));
}

/// Builds an NDIS_OID_REQUEST for `req`, runs `f` with it, copies the answer back.
pub fn with_oid_request(req: &mut OidRequest<'_>, f: impl FnOnce(usize) -> NdisStatus) -> NdisStatus {
    let r = kernel_alloc(l::SIZEOF_OID_REQUEST as usize);
    let len = req.buffer.len();
    let buf = kernel_alloc(len.max(1));
    // SAFETY: fresh blocks of the right sizes.
    unsafe {
        std::ptr::copy_nonoverlapping(req.buffer.as_ptr(), buf as *mut u8, len);
        let hd = super::layout::Header {
            ty: l::OBJ_TYPE_OID_REQUEST as u8,
            revision: 1,
            size: l::SIZEOF_OID_REQUEST_REV_1 as u16,
        };
        wr::<4>(r, 0, hd.word());
        wr::<4>(r, l::OR_TYPE, if req.is_query { l::REQ_QUERY } else { l::REQ_SET });
        wr::<4>(r, l::OR_DATA, u64::from(req.oid));
        wr::<8>(r, l::OR_DATA + l::Q_BUFFER, buf as u64);
        wr::<4>(r, l::OR_DATA + l::Q_LENGTH, len as u64);
    }
    let s = f(r);
    // SAFETY: the request and buffer, as the driver left them.
    unsafe {
        std::ptr::copy_nonoverlapping(buf as *const u8, req.buffer.as_mut_ptr(), len);
        let done =
            if req.is_query { rd::<4>(r, l::OR_DATA + l::Q_WRITTEN) } else { rd::<4>(r, l::OR_DATA + l::S_READ) };
        req.bytes_done = done as usize;
        req.bytes_needed = rd::<4>(r, l::OR_DATA + l::Q_NEEDED) as usize;
    }
    kernel_free(buf, len.max(1));
    kernel_free(r, l::SIZEOF_OID_REQUEST as usize);
    s
}

/// MiniportCoOidRequest (with a VC) or MiniportOidRequest (adapter).
pub fn oid(d: &SysDriver, vc: Option<VcContext>, req: &mut OidRequest<'_>) -> NdisStatus {
    let (Some(c), Some(co)) = (d.characteristics(), d.co_characteristics()) else { return NdisStatus::FAILURE };
    let ctx = d.host.st().adapter_context;
    with_oid_request(req, |r| {
        let s = match vc {
            Some(v) => enter(&d.host, "MiniportCoOidRequest", || {
                call!(co.oid, fn(usize, usize, usize) -> u32, ctx, v.as_usize(), r)
            }),
            None => enter(&d.host, "MiniportOidRequest", || call!(c.oid, fn(usize, usize) -> u32, ctx, r)),
        };
        NdisStatus(s as i32)
    })
}
