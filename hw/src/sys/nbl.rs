//! NDIS memory and the NET_BUFFER_LIST / NET_BUFFER / MDL objects, built and walked with the
//! tsv layouts, plus the adapter's live-allocation count for HALT-NO-LEAK.

use crate::host::Irql;

use super::host::{Host, host};
use super::layout::{self as l, rd, wr};
use super::ndis::{adapter_ok, check_header, kernel_alloc, kernel_free};
use super::rule;

// ---- memory, NBL / NB / MDL ------------------------------------------------------------------

pub extern "win64" fn ndis_allocate_memory_with_tag_priority(handle: usize, len: u32, tag: u32, _prio: u32) -> usize {
    let h = host();
    h.require_irql("NdisAllocateMemoryWithTagPriority", Irql::Dispatch);
    let _ = adapter_ok(h, "NdisAllocateMemoryWithTagPriority", handle);
    super::kernel::pool_alloc("NdisAllocateMemoryWithTagPriority", len as usize, tag)
}

pub extern "win64" fn ndis_free_memory_with_tag_priority(_handle: usize, p: usize, tag: u32) {
    super::kernel::pool_free("NdisFreeMemoryWithTagPriority", p, Some(tag));
}

/// Bytes allocated for one NET_BUFFER_LIST (the header up to NetBufferListInfo plus its array).
pub const NBL_ALLOC: usize = 0x200;

pub extern "win64" fn ndis_allocate_net_buffer_list_pool(handle: usize, params: usize) -> usize {
    let h = host();
    h.require_irql("NdisAllocateNetBufferListPool", Irql::Dispatch);
    let _ = adapter_ok(h, "NdisAllocateNetBufferListPool", handle);
    let revs = [(l::NBL_POOL_PARAMS_REVISION_1, l::SIZEOF_NBL_POOL_PARAMS_REV_1)];
    if check_header(h, "NdisAllocateNetBufferListPool", params, l::OBJ_TYPE_DEFAULT, &revs).is_err() {
        return 0;
    }
    // SAFETY: the parameters (size checked).
    let ctx = unsafe { rd::<2>(params, l::NPP_CONTEXT_SIZE) } as u16;
    let pool = Box::into_raw(Box::new(4u64)) as usize;
    h.st().nbl_pools.insert(pool, ctx);
    pool
}

pub extern "win64" fn ndis_free_net_buffer_list_pool(pool: usize) {
    let h = host();
    if h.st().nbl_pools.remove(&pool).is_none() {
        h.finding(rule::HANDLE, format!("NdisFreeNetBufferListPool({pool:#x}): not a pool"));
        return;
    }
    // SAFETY: allocated by NdisAllocateNetBufferListPool.
    drop(unsafe { Box::from_raw(pool as *mut u64) });
}

/// Builds an NBL with one NB over `mdl` (NDIS's layout from the tsv).
pub fn build_nbl(pool: usize, mdl: usize, data_offset: u32, data_length: u32) -> (usize, usize) {
    let nbl = kernel_alloc(NBL_ALLOC);
    let nb = kernel_alloc(l::SIZEOF_NB as usize);
    // SAFETY: fresh zeroed NBL and NB.
    unsafe {
        wr::<8>(nbl, l::NBL_FIRST_NB, nb as u64);
        wr::<8>(nbl, l::NBL_POOL, pool as u64);
        wr::<8>(nb, l::NB_MDL_CHAIN, mdl as u64);
        wr::<8>(nb, l::NB_CURRENT_MDL, mdl as u64);
        wr::<4>(nb, l::NB_DATA_OFFSET, u64::from(data_offset));
        wr::<4>(nb, l::NB_CURRENT_MDL_OFFSET, u64::from(data_offset));
        // DataLength is a ULONG in a union with SIZE_T stDataLength: NDIS writes 32 bits; the
        // upper half is whatever was there (poisoned so a 64-bit read shows).
        wr::<4>(nb, l::NB_DATA_LENGTH + 4, 0xDEAD_BEEF);
        wr::<4>(nb, l::NB_DATA_LENGTH, u64::from(data_length));
        wr::<8>(nb, l::NB_POOL, pool as u64);
    }
    (nbl, nb)
}

pub fn free_nbl(nbl: usize, nb: usize) {
    kernel_free(nb, l::SIZEOF_NB as usize);
    kernel_free(nbl, NBL_ALLOC);
}

pub extern "win64" fn ndis_allocate_net_buffer_and_net_buffer_list(
    pool: usize,
    ctx_size: u16,
    backfill: u16,
    mdl: usize,
    data_offset: u32,
    data_length: usize,
) -> usize {
    let h = host();
    h.require_irql("NdisAllocateNetBufferAndNetBufferList", Irql::Dispatch);
    if !h.st().nbl_pools.contains_key(&pool) {
        h.finding(rule::HANDLE, format!("NdisAllocateNetBufferAndNetBufferList: {pool:#x} is not a pool"));
        return 0;
    }
    if ctx_size != 0 || backfill != 0 {
        h.finding(rule::LAB_LIMIT, "NBL context areas are not emulated".into());
        return 0;
    }
    let Ok(len) = u32::try_from(data_length) else { return 0 };
    let (nbl, nb) = build_nbl(pool, mdl, data_offset, len);
    h.st().nbls.insert(nbl, nb);
    nbl
}

pub extern "win64" fn ndis_free_net_buffer_list(nbl: usize) {
    let h = host();
    let nb = h.st().nbls.remove(&nbl);
    match nb {
        Some(nb) => free_nbl(nbl, nb),
        None => h.finding(
            rule::NBL,
            format!("NdisFreeNetBufferList({nbl:#x}): not from NdisAllocateNetBufferAndNetBufferList"),
        ),
    }
}

/// Builds an MDL describing `len` bytes at `va`.
pub fn build_mdl(va: usize, len: u32) -> usize {
    let mdl = kernel_alloc(l::SIZEOF_MDL as usize);
    // SAFETY: a fresh zeroed MDL.
    unsafe {
        wr::<2>(mdl, l::MDL_SIZE, l::SIZEOF_MDL);
        wr::<2>(mdl, l::MDL_FLAGS, 0x1); // MDL_MAPPED_TO_SYSTEM_VA
        wr::<8>(mdl, l::MDL_MAPPED_VA, va as u64);
        wr::<8>(mdl, l::MDL_START_VA, (va & !0xFFF) as u64);
        wr::<4>(mdl, l::MDL_BYTE_COUNT, u64::from(len));
        wr::<4>(mdl, l::MDL_BYTE_OFFSET, (va & 0xFFF) as u64);
    }
    mdl
}

pub extern "win64" fn ndis_allocate_mdl(_handle: usize, va: usize, len: u32) -> usize {
    let h = host();
    let mdl = build_mdl(va, len);
    h.st().mdls.insert(mdl, ());
    mdl
}

pub extern "win64" fn ndis_free_mdl(mdl: usize) {
    let h = host();
    if h.st().mdls.remove(&mdl).is_none() {
        h.finding(rule::MDL, format!("NdisFreeMdl({mdl:#x}): not from NdisAllocateMdl"));
        return;
    }
    kernel_free(mdl, l::SIZEOF_MDL as usize);
}

/// The bytes of one NET_BUFFER: DataLength (ULONG) from CurrentMdl + CurrentMdlOffset on.
///
/// # Safety
/// `nb` must be a valid NET_BUFFER with a valid MDL chain.
pub unsafe fn nb_bytes(nb: usize) -> Vec<u8> {
    // SAFETY: as the caller guarantees.
    unsafe {
        let mut left = rd::<4>(nb, l::NB_DATA_LENGTH) as usize;
        let mut mdl = rd::<8>(nb, l::NB_CURRENT_MDL) as usize;
        let mut off = rd::<4>(nb, l::NB_CURRENT_MDL_OFFSET) as usize;
        let mut out = Vec::with_capacity(left);
        while left > 0 && mdl != 0 {
            let va = rd::<8>(mdl, l::MDL_MAPPED_VA) as usize;
            let n = rd::<4>(mdl, l::MDL_BYTE_COUNT) as usize;
            let take = n.saturating_sub(off).min(left);
            out.extend_from_slice(std::slice::from_raw_parts((va + off) as *const u8, take));
            left -= take;
            off = 0;
            mdl = rd::<8>(mdl, l::MDL_NEXT) as usize;
        }
        out
    }
}

pub extern "win64" fn ndis_get_data_buffer(
    nb: usize,
    needed: u32,
    storage: usize,
    align: u32,
    align_off: u32,
) -> usize {
    if nb == 0 {
        return 0;
    }
    // SAFETY: the driver's NET_BUFFER.
    unsafe {
        let len = rd::<4>(nb, l::NB_DATA_LENGTH) as usize;
        if (needed as usize) > len {
            return 0;
        }
        let mdl = rd::<8>(nb, l::NB_CURRENT_MDL) as usize;
        let off = rd::<4>(nb, l::NB_CURRENT_MDL_OFFSET) as usize;
        if mdl != 0 {
            let va = rd::<8>(mdl, l::MDL_MAPPED_VA) as usize;
            let n = rd::<4>(mdl, l::MDL_BYTE_COUNT) as usize;
            let p = va + off;
            let aligned = align <= 1 || p.wrapping_sub(align_off as usize).is_multiple_of(align as usize);
            if n.saturating_sub(off) >= needed as usize && aligned {
                return p;
            }
        }
        if storage == 0 {
            return 0;
        }
        let bytes = nb_bytes(nb);
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), storage as *mut u8, needed as usize);
        storage
    }
}

/// Allocations the driver made since MiniportInitializeEx began (HALT-NO-LEAK).
pub fn live_allocations(h: &Host) -> usize {
    let st = h.st();
    st.pool.values().filter(|p| p.2).count()
        + st.shared.len()
        + st.io.len()
        + st.timers.len()
        + st.nbl_pools.len()
        + st.nbls.len()
        + st.mdls.len()
        + usize::from(st.interrupt.is_some())
        + usize::from(st.sg_dma.is_some())
        + st.configs.len()
}
