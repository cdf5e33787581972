//! [`WinNdis`]: the core's [`Ndis`] seam over the real NDIS.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU32, Ordering};
use core::time::Duration;

use super::cparams::{self, CallParamsBlock};
use super::ctx;
use super::ffi::*;
use super::freelist::{FreeList, try_box, try_boxed_slice};
use super::lock::{NdisSpinLock, SpinMutex};
use super::rt::POOL_TAG;
use crate::ndis::{
    AfContext, CallParameters, CoAddressFamily, Ndis, NdisStatus, PartyContext, SapContext, StatusIndication, VcContext,
};

/// An NDIS handle (`NDIS_HANDLE`) as a plain word: copyable, comparable, never dereferenced here.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub struct Handle(pub usize);

impl crate::ndis::Handle for Handle {
    fn to_word(self) -> usize {
        self.0
    }
    fn from_word(word: usize) -> Self {
        Handle(word)
    }
}

impl Handle {
    pub fn ptr(self) -> NDIS_HANDLE {
        self.0 as NDIS_HANDLE
    }
    pub fn from_ptr(p: NDIS_HANDLE) -> Option<Handle> {
        if p.is_null() { None } else { Some(Handle(p as usize)) }
    }
}

/// A client's `PCO_CALL_PARAMETERS` of a pended request.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub struct ClientParams(pub usize);

impl ClientParams {
    pub fn ptr(self) -> PCO_CALL_PARAMETERS {
        self.0 as PCO_CALL_PARAMETERS
    }
}

/// One `NET_BUFFER_LIST` (never NULL: [`Nbl::from_ptr`] refuses NULL, and the core only hands
/// back words it got from `to_word`). Values come only from NDIS (sends, our own pool).
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub struct Nbl(usize);

impl Nbl {
    pub fn from_ptr(p: PNET_BUFFER_LIST) -> Option<Nbl> {
        if p.is_null() { None } else { Some(Nbl(p as usize)) }
    }
    pub fn ptr(self) -> PNET_BUFFER_LIST {
        self.0 as PNET_BUFFER_LIST
    }
}

impl crate::ndis::Handle for Nbl {
    fn to_word(self) -> usize {
        self.0
    }
    fn from_word(word: usize) -> Self {
        Nbl(word)
    }
}

fn opt_nbl_ptr(n: Option<Nbl>) -> PNET_BUFFER_LIST {
    n.map_or(core::ptr::null_mut(), Nbl::ptr)
}

/// Receive buffer size: one AAL5 CPCS-SDU of the default 9188-octet MTU plus headroom.
pub const RX_BUFFER_SIZE: usize = 9216;

/// The largest AAL5 CPCS-SDU (a VC's max SDU can be negotiated up to it).
pub const RX_MAX_FRAME: usize = 65_535;

/// Buffers one frame of [`RX_MAX_FRAME`] octets spans.
const RX_MAX_CHAIN: usize = RX_MAX_FRAME.div_ceil(RX_BUFFER_SIZE);

/// The preallocated receive NBLs (each with one NET_BUFFER over one MDL over one buffer). A frame
/// longer than one buffer is indicated whole on the first entry's NBL with the MDLs of the
/// following entries chained behind its own (their NBLs idle until the chain comes back).
struct RxPool {
    pool: usize,
    /// `(nbl, mdl, buffer)` per entry.
    entries: Box<[(usize, usize, usize)]>,
    /// Per entry: the next entry of the frame it carries + 1 (0: the frame's last buffer).
    /// Written only by the owner of the chain (between popping and pushing its entries).
    chain: Box<[AtomicU32]>,
    /// Indices of free entries: bounded, never allocates; a double return is refused.
    free: SpinMutex<FreeList>,
}

/// MiniportReserved[0] of an RX NBL = the core's tag; [1] = entry index + 1.
const RX_TAG: usize = 0;
const RX_INDEX: usize = 1;

pub struct WinNdis {
    slot: usize,
    /// The context given to the timer and DPC routines (the adapter's slot).
    routine_ctx: usize,
    adapter: usize,
    timer: usize,
    dpc: Box<UnsafeCell<KDPC>>,
    rx: RxPool,
    /// Incoming-call parameter blocks (they live until ProtocolCmIncomingCallComplete).
    call_blocks: Box<[UnsafeCell<CallParamsBlock>]>,
    call_free: SpinMutex<FreeList>,
}

// SAFETY: every field is either a plain handle word, a lock-protected free list, or storage
// (KDPC, parameter blocks) that is only touched through the kernel routines that own it or by the
// one owner a free list handed it to.
unsafe impl Send for WinNdis {}
// SAFETY: as above.
unsafe impl Sync for WinNdis {}

/// The DPC routine's context: the adapter slot.
pub type DpcRoutine = unsafe extern "system" fn(PKDPC, PVOID, PVOID, PVOID);

impl WinNdis {
    /// Allocates the adapter's NDIS resources: the timer object, the DPC, the RX NBL pool and the
    /// incoming-call parameter blocks. Called from MiniportInitializeEx (PASSIVE) after the
    /// registration attributes are set. On failure everything allocated so far is released.
    ///
    /// # Safety
    /// `adapter` is the MiniportAdapterHandle; `routine_ctx` stays valid as the timer and DPC
    /// routines' context for the life of the result.
    #[inline(never)]
    pub unsafe fn new(
        slot: usize,
        routine_ctx: PVOID,
        adapter: NDIS_HANDLE,
        rx_count: usize,
        call_blocks: usize,
        timer_fn: NDIS_TIMER_FUNCTION,
        dpc_fn: DpcRoutine,
    ) -> Result<WinNdis, NdisStatus> {
        let mut tc = NDIS_TIMER_CHARACTERISTICS {
            Header: NDIS_OBJECT_HEADER::new(
                NDIS_OBJECT_TYPE_TIMER_CHARACTERISTICS,
                NDIS_TIMER_CHARACTERISTICS_REVISION_1,
                NDIS_SIZEOF_TIMER_CHARACTERISTICS_REVISION_1,
            ),
            AllocationTag: POOL_TAG,
            TimerFunction: Some(timer_fn),
            FunctionContext: routine_ctx,
        };
        let mut timer: NDIS_HANDLE = core::ptr::null_mut();
        // SAFETY: valid characteristics and out-pointer; PASSIVE.
        let st = unsafe { NdisAllocateTimerObject(adapter, &mut tc, &mut timer) };
        if st != NDIS_STATUS_SUCCESS {
            return Err(NdisStatus(st));
        }
        // Everything below allocates fallibly; on failure the timer goes back.
        let rest = (|| -> Result<_, NdisStatus> {
            let dpc = try_box(UnsafeCell::new(zeroed_kdpc())).map_err(|_| NdisStatus::RESOURCES)?;
            let n = call_blocks.min(usize::from(u16::MAX));
            let blocks = try_boxed_slice(n, |_| UnsafeCell::new(CallParamsBlock::zeroed()))
                .map_err(|_| NdisStatus::RESOURCES)?;
            let free = FreeList::try_new_full(n).map_err(|_| NdisStatus::RESOURCES)?;
            let rx = RxPool::new(adapter, rx_count)?;
            Ok((dpc, blocks, free, rx))
        })();
        let (dpc, blocks, free, rx) = match rest {
            Ok(r) => r,
            Err(e) => {
                // SAFETY: the timer was allocated above and never set.
                unsafe { NdisFreeTimerObject(timer) };
                return Err(e);
            }
        };
        // SAFETY: the KDPC is heap storage that lives as long as this WinNdis (freed after
        // KeRemoveQueueDpc + KeFlushQueuedDpcs in `Drop`).
        unsafe { KeInitializeDpc(dpc.get(), Some(dpc_fn), routine_ctx) };
        Ok(WinNdis {
            slot,
            routine_ctx: routine_ctx as usize,
            adapter: adapter as usize,
            timer: timer as usize,
            dpc,
            rx,
            call_blocks: blocks,
            call_free: SpinMutex::new(free),
        })
    }

    /// Cancels the timer and the DPC and waits for running timer/DPC routines to return.
    /// PASSIVE (MiniportHaltEx).
    pub fn quiesce(&self) {
        // SAFETY: the timer object is ours.
        unsafe { NdisCancelTimerObject(self.timer as NDIS_HANDLE) };
        // SAFETY: the DPC was initialised in `new`.
        unsafe { KeRemoveQueueDpc(self.dpc.get()) };
        // SAFETY: PASSIVE; waits for running timer/DPC routines to finish.
        unsafe { KeFlushQueuedDpcs() };
    }

    pub fn slot(&self) -> usize {
        self.slot
    }

    pub fn adapter_handle(&self) -> NDIS_HANDLE {
        self.adapter as NDIS_HANDLE
    }

    fn word(&self, token: usize) -> NDIS_HANDLE {
        ctx::encode(self.slot, token).unwrap_or(0) as NDIS_HANDLE
    }

    /// Gives an incoming-call block back when NDIS hands its pointer back
    /// (ProtocolCmIncomingCallComplete); returns whether `p` was one of ours and out (a second
    /// return of the same block is refused and counted, never listed twice).
    pub fn return_call_block(&self, p: PCO_CALL_PARAMETERS) -> bool {
        for (i, b) in self.call_blocks.iter().enumerate() {
            // SAFETY: only the address of the block's first field is taken, nothing is read.
            if unsafe { &*b.get() }.is(p) {
                return self.call_free.lock().push(i as u32);
            }
        }
        false
    }

    /// Double or foreign returns refused: (call blocks, RX NBLs).
    pub fn refused_returns(&self) -> (u64, u64) {
        (self.call_free.lock().refused(), self.rx.free.lock().refused())
    }
}

/// Releases what `new` allocated (MiniportHaltEx or a failed MiniportInitializeEx, PASSIVE):
/// no timer, DPC or receive indication may start after this.
impl Drop for WinNdis {
    fn drop(&mut self) {
        self.quiesce();
        // SAFETY: the timer is cancelled and its routine no longer runs.
        unsafe { NdisFreeTimerObject(self.timer as NDIS_HANDLE) };
        self.rx.release(self.adapter as NDIS_HANDLE);
    }
}

const fn zeroed_kdpc() -> KDPC {
    // SAFETY: KDPC is plain storage; all-zero is a valid pre-KeInitializeDpc state.
    unsafe { core::mem::zeroed() }
}

impl RxPool {
    fn new(adapter: NDIS_HANDLE, count: usize) -> Result<RxPool, NdisStatus> {
        let mut params = NET_BUFFER_LIST_POOL_PARAMETERS {
            Header: NDIS_OBJECT_HEADER::new(
                NDIS_OBJECT_TYPE_DEFAULT,
                NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
                NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
            ),
            ProtocolId: 0,
            fAllocateNetBuffer: 1,
            ContextSize: 0,
            PoolTag: POOL_TAG,
            DataSize: 0,
        };
        // SAFETY: valid parameters; PASSIVE.
        let pool = unsafe { NdisAllocateNetBufferListPool(adapter, &mut params) };
        if pool.is_null() {
            return Err(NdisStatus::RESOURCES);
        }
        let mut rx = RxPool {
            pool: pool as usize,
            entries: Box::new([]),
            chain: Box::new([]),
            free: SpinMutex::new(FreeList::try_new_full(0).map_err(|_| NdisStatus::RESOURCES)?),
        };
        let count = count.min(u32::MAX as usize);
        let Ok(chain) = try_boxed_slice(count, |_| AtomicU32::new(0)) else {
            rx.release(adapter);
            return Err(NdisStatus::RESOURCES);
        };
        rx.chain = chain;
        let mut entries = Vec::new();
        if entries.try_reserve_exact(count).is_err() {
            rx.release(adapter);
            return Err(NdisStatus::RESOURCES);
        }
        let Ok(free) = FreeList::try_new_full(count) else {
            rx.release(adapter);
            return Err(NdisStatus::RESOURCES);
        };
        for _ in 0..count {
            match Self::entry(adapter, pool) {
                Some(e) => entries.push(e),
                None => {
                    rx.entries = entries.into_boxed_slice();
                    rx.release(adapter);
                    return Err(NdisStatus::RESOURCES);
                }
            }
        }
        for (i, &(nbl, _, _)) in entries.iter().enumerate() {
            let nbl = nbl as PNET_BUFFER_LIST;
            // SAFETY: the NBL was just allocated from our pool and is not shared yet.
            unsafe { (*nbl).MiniportReserved.0[RX_INDEX] = (i + 1) as PVOID };
        }
        rx.entries = entries.into_boxed_slice();
        rx.free = SpinMutex::new(free);
        Ok(rx)
    }

    fn entry(adapter: NDIS_HANDLE, pool: NDIS_HANDLE) -> Option<(usize, usize, usize)> {
        // SAFETY: plain allocation; PASSIVE.
        let buf =
            unsafe { NdisAllocateMemoryWithTagPriority(adapter, RX_BUFFER_SIZE as u32, POOL_TAG, NormalPoolPriority) };
        if buf.is_null() {
            return None;
        }
        // SAFETY: buf is RX_BUFFER_SIZE octets of non-paged memory.
        let mdl = unsafe { NdisAllocateMdl(adapter, buf, RX_BUFFER_SIZE as u32) };
        if mdl.is_null() {
            // SAFETY: buf came from NdisAllocateMemoryWithTagPriority with this tag.
            unsafe { NdisFreeMemoryWithTagPriority(adapter, buf, POOL_TAG) };
            return None;
        }
        // SAFETY: pool and MDL are valid; DataLength fits the MDL.
        let nbl = unsafe { NdisAllocateNetBufferAndNetBufferList(pool, 0, 0, mdl, 0, RX_BUFFER_SIZE) };
        if nbl.is_null() {
            // SAFETY: the MDL came from NdisAllocateMdl.
            unsafe { NdisFreeMdl(mdl) };
            // SAFETY: as above.
            unsafe { NdisFreeMemoryWithTagPriority(adapter, buf, POOL_TAG) };
            return None;
        }
        Some((nbl as usize, mdl as usize, buf as usize))
    }

    /// Takes the entries a frame of `data.len()` octets needs (all or none, under one lock
    /// hold), copies `data` into their buffers and chains their MDLs behind the first entry's.
    /// Returns the first entry's NBL; `None` when the pool is short or the frame too long.
    fn take_chain(&self, data: &[u8]) -> Option<usize> {
        let k = data.len().div_ceil(RX_BUFFER_SIZE).max(1);
        if k > RX_MAX_CHAIN {
            return None;
        }
        let mut idx = [0u32; RX_MAX_CHAIN];
        {
            let mut free = self.free.lock();
            for j in 0..k {
                match (free.pop(), idx.get_mut(j)) {
                    (Some(i), Some(slot)) => *slot = i,
                    (popped, _) => {
                        for &i in idx.iter().take(j).chain(popped.as_ref()) {
                            free.push(i);
                        }
                        return None;
                    }
                }
            }
        }
        let taken = idx.get(..k)?;
        let mut chunks = data.chunks(RX_BUFFER_SIZE);
        for (j, &i) in taken.iter().enumerate() {
            let &(_, mdl, buf) = self.entries.get(i as usize)?;
            if let Some(chunk) = chunks.next() {
                // SAFETY: the entry came off the free list, so its buffer is ours; it is
                // RX_BUFFER_SIZE octets and a chunk is at most that.
                unsafe { core::ptr::copy_nonoverlapping(chunk.as_ptr(), buf as *mut u8, chunk.len()) };
            }
            let next = taken.get(j + 1).and_then(|&n| self.entries.get(n as usize).map(|e| (n, e.1)));
            // SAFETY: our entry's MDL, not in NDIS's hands while its entry is off the free list
            // and not yet indicated.
            unsafe { (*(mdl as PMDL)).Next = next.map_or(core::ptr::null_mut(), |(_, m)| m as PMDL) };
            if let Some(c) = self.chain.get(i as usize) {
                c.store(next.map_or(0, |(n, _)| n + 1), Ordering::Relaxed);
            }
        }
        Some(self.entries.get(*taken.first()? as usize)?.0)
    }

    /// Puts back the chain whose first entry is `head` (each MDL unlinked first). A second return
    /// of a free head is refused (and counted) by the list, its chain already undone.
    fn give_back_chain(&self, head: usize) {
        let mut free = self.free.lock();
        if free.is_free(head as u32) {
            free.push(head as u32);
            return;
        }
        if let Some(&(nbl, _, _)) = self.entries.get(head) {
            // SAFETY: our pool NBL, handed back and not yet listed (nobody can take it). Its tag
            // is cleared, so the core's rx_nbl_tag finds no VC to count a double return against.
            unsafe { (*(nbl as PNET_BUFFER_LIST)).MiniportReserved.0[RX_TAG] = core::ptr::null_mut() };
        }
        let mut i = head;
        for _ in 0..RX_MAX_CHAIN {
            let next = self.chain.get(i).map_or(0, |c| c.swap(0, Ordering::Relaxed));
            if let Some(&(_, mdl, _)) = self.entries.get(i) {
                // SAFETY: as above: the chain's MDLs are ours again.
                unsafe { (*(mdl as PMDL)).Next = core::ptr::null_mut() };
            }
            free.push(i as u32);
            match next.checked_sub(1) {
                Some(n) => i = n as usize,
                None => return,
            }
        }
    }

    fn release(&self, adapter: NDIS_HANDLE) {
        for &(nbl, mdl, buf) in self.entries.iter() {
            // SAFETY: every entry was allocated by `entry` and NDIS has returned them all (halt).
            unsafe { NdisFreeNetBufferList(nbl as PNET_BUFFER_LIST) };
            // SAFETY: as above.
            unsafe { NdisFreeMdl(mdl as PMDL) };
            // SAFETY: as above.
            unsafe { NdisFreeMemoryWithTagPriority(adapter, buf as PVOID, POOL_TAG) };
        }
        // SAFETY: every NBL of the pool is freed above.
        unsafe { NdisFreeNetBufferListPool(self.pool as NDIS_HANDLE) };
    }
}

/// The `NET_BUFFER` at position `i` of an NBL.
///
/// # Safety
/// `nbl` is a live NET_BUFFER_LIST owned by the caller for the duration.
unsafe fn nth_nb(nbl: Nbl, i: usize) -> Option<PNET_BUFFER> {
    // SAFETY: caller's contract.
    let mut nb = unsafe { (*nbl.ptr()).FirstNetBuffer };
    for _ in 0..i {
        if nb.is_null() {
            return None;
        }
        // SAFETY: nb is a NET_BUFFER of a live NBL.
        nb = unsafe { (*nb).NetBufferData.Next };
    }
    if nb.is_null() { None } else { Some(nb) }
}

/// Interrupt time (100 ns units) from KUSER_SHARED_DATA, as the WDK's KeQueryInterruptTime inline
/// does on x64 (mingw's libntoskrnl.a has no export for it).
fn interrupt_time_100ns() -> u64 {
    const KUSER_SHARED_DATA_INTERRUPT_TIME: usize = 0xFFFF_F780_0000_0008;
    let p = KUSER_SHARED_DATA_INTERRUPT_TIME as *const u32;
    loop {
        // SAFETY: KUSER_SHARED_DATA is mapped read-only into every address space at this fixed
        // address; the KSYSTEM_TIME protocol is High1Time, LowPart, High2Time.
        let high1 = unsafe { p.wrapping_add(1).read_volatile() };
        // SAFETY: as above.
        let low = unsafe { p.read_volatile() };
        // SAFETY: as above.
        let high2 = unsafe { p.wrapping_add(2).read_volatile() };
        if high1 == high2 {
            return (u64::from(high1) << 32) | u64::from(low);
        }
    }
}

fn data_ptr(data: &[u8]) -> (PVOID, UINT) {
    match u32::try_from(data.len()) {
        Ok(n) if n > 0 => (data.as_ptr() as PVOID, n),
        _ => (core::ptr::null_mut(), 0),
    }
}

impl Ndis for WinNdis {
    type AfHandle = Handle;
    type SapHandle = Handle;
    type VcHandle = Handle;
    type PartyHandle = Handle;
    type ClientParams = ClientParams;
    type Nbl = Nbl;
    type RawLock = NdisSpinLock;

    fn cm_register_address_family_ex(&self, af: &CoAddressFamily) -> NdisStatus {
        let mut c = cparams::to_c_af(af);
        // SAFETY: PASSIVE (the core calls it from MiniportInitializeEx); `c` outlives the call.
        NdisStatus(unsafe { NdisMCmRegisterAddressFamilyEx(self.adapter_handle(), &mut c) })
    }

    fn cm_open_address_family_complete(&self, status: NdisStatus, af: Handle, ctx: AfContext) {
        // SAFETY: af is the NdisAfHandle NDIS gave ProtocolCmOpenAf.
        unsafe { NdisCmOpenAddressFamilyComplete(status.0, af.ptr(), self.word(ctx.as_usize())) }
    }

    fn cm_close_address_family_complete(&self, status: NdisStatus, af: Handle) {
        // SAFETY: as above.
        unsafe { NdisCmCloseAddressFamilyComplete(status.0, af.ptr()) }
    }

    fn cm_notify_close_address_family(&self, af: Handle) -> NdisStatus {
        // SAFETY: PASSIVE (MiniportHaltEx); af is an open NdisAfHandle.
        NdisStatus(unsafe { NdisCmNotifyCloseAddressFamily(af.ptr()) })
    }

    fn cm_register_sap_complete(&self, status: NdisStatus, sap: Handle, ctx: SapContext) {
        // SAFETY: sap is the NdisSapHandle NDIS gave ProtocolCmRegisterSap.
        unsafe { NdisCmRegisterSapComplete(status.0, sap.ptr(), self.word(ctx.as_usize())) }
    }

    fn cm_deregister_sap_complete(&self, status: NdisStatus, sap: Handle) {
        // SAFETY: as above.
        unsafe { NdisCmDeregisterSapComplete(status.0, sap.ptr()) }
    }

    fn cm_create_vc(&self, af: Handle, ctx: VcContext) -> Result<Handle, NdisStatus> {
        let word = self.word(ctx.as_usize());
        if word.is_null() {
            return Err(NdisStatus::RESOURCES);
        }
        let mut vc: NDIS_HANDLE = core::ptr::null_mut();
        // SAFETY: `vc` is NULL on entry as NdisMCmCreateVc requires; af is an open AF.
        let st = NdisStatus(unsafe { NdisMCmCreateVc(self.adapter_handle(), af.ptr(), word, &mut vc) });
        match (st, Handle::from_ptr(vc)) {
            (NdisStatus::SUCCESS, Some(h)) => Ok(h),
            (NdisStatus::SUCCESS, None) => Err(NdisStatus::FAILURE),
            (e, _) => Err(e),
        }
    }

    fn cm_delete_vc(&self, vc: Handle) -> NdisStatus {
        // SAFETY: vc is a VC this driver created with NdisMCmCreateVc.
        NdisStatus(unsafe { NdisMCmDeleteVc(vc.ptr()) })
    }

    fn cm_activate_vc(&self, vc: Handle, params: &CallParameters) -> NdisStatus {
        // NDIS reads the parameters during the call (an MCM's activation never pends: NDIS does
        // not call ProtocolCmActivateVcComplete for an MCM), so a stack block is enough.
        let mut block = CallParamsBlock::zeroed();
        let p = block.fill(params);
        // SAFETY: `block` outlives the call and is not moved while NDIS reads it.
        NdisStatus(unsafe { NdisMCmActivateVc(vc.ptr(), p) })
    }

    fn cm_deactivate_vc(&self, vc: Handle) -> NdisStatus {
        // SAFETY: vc is a live NdisVcHandle.
        NdisStatus(unsafe { NdisMCmDeactivateVc(vc.ptr()) })
    }

    fn cm_make_call_complete(
        &self,
        status: NdisStatus,
        vc: Handle,
        party: Option<Handle>,
        party_ctx: Option<PartyContext>,
        client: ClientParams,
        params: &CallParameters,
    ) {
        if status == NdisStatus::SUCCESS {
            // SAFETY: `client` is the PCO_CALL_PARAMETERS the client passed to ProtocolCmMakeCall;
            // it stays valid until this completion.
            unsafe { cparams::write_call_params(client.ptr(), params) };
        }
        let party = party.map_or(core::ptr::null_mut(), Handle::ptr);
        let pctx = party_ctx.map_or(core::ptr::null_mut(), |c| self.word(c.as_usize()));
        // SAFETY: handles from NDIS, the client's own parameter block.
        unsafe { NdisCmMakeCallComplete(status.0, vc.ptr(), party, pctx, client.ptr()) }
    }

    fn cm_dispatch_incoming_call(&self, sap: Handle, vc: Handle, params: &CallParameters) -> NdisStatus {
        let Some(i) = self.call_free.lock().pop() else {
            return NdisStatus::RESOURCES;
        };
        let Some(cell) = self.call_blocks.get(i as usize) else {
            return NdisStatus::RESOURCES;
        };
        // SAFETY: index `i` came off the free list, so nobody else holds this block.
        let p = unsafe { &mut *cell.get() }.fill(params);
        // SAFETY: the block stays put (boxed slice) until the call completes.
        let st = NdisStatus(unsafe { NdisCmDispatchIncomingCall(sap.ptr(), vc.ptr(), p) });
        if st != NdisStatus::PENDING {
            self.call_free.lock().push(i);
        }
        st
    }

    fn cm_dispatch_call_connected(&self, vc: Handle) {
        // SAFETY: vc is a live NdisVcHandle.
        unsafe { NdisCmDispatchCallConnected(vc.ptr()) }
    }

    fn cm_close_call_complete(&self, status: NdisStatus, vc: Handle, party: Option<Handle>) {
        let party = party.map_or(core::ptr::null_mut(), Handle::ptr);
        // SAFETY: NdisMCmCloseCallComplete is a macro over NdisCmCloseCallComplete.
        unsafe { NdisCmCloseCallComplete(status.0, vc.ptr(), party) }
    }

    fn cm_dispatch_incoming_close_call(&self, status: NdisStatus, vc: Handle, data: &[u8]) {
        let (buf, len) = data_ptr(data);
        // SAFETY: NDIS only reads `len` octets of `buf` during the call.
        unsafe { NdisCmDispatchIncomingCloseCall(status.0, vc.ptr(), buf, len) }
    }

    fn cm_add_party_complete(
        &self,
        status: NdisStatus,
        party: Handle,
        party_ctx: Option<PartyContext>,
        client: ClientParams,
        params: &CallParameters,
    ) {
        if status == NdisStatus::SUCCESS {
            // SAFETY: the client's block from ProtocolCmAddParty, valid until this completion.
            unsafe { cparams::write_call_params(client.ptr(), params) };
        }
        let pctx = party_ctx.map_or(core::ptr::null_mut(), |c| self.word(c.as_usize()));
        // SAFETY: handles from NDIS.
        unsafe { NdisCmAddPartyComplete(status.0, party.ptr(), pctx, client.ptr()) }
    }

    fn cm_drop_party_complete(&self, status: NdisStatus, party: Handle) {
        // SAFETY: party is a live NdisPartyHandle.
        unsafe { NdisCmDropPartyComplete(status.0, party.ptr()) }
    }

    fn cm_dispatch_incoming_drop_party(&self, status: NdisStatus, party: Handle, data: &[u8]) {
        let (buf, len) = data_ptr(data);
        // SAFETY: NDIS only reads `len` octets of `buf` during the call.
        unsafe { NdisCmDispatchIncomingDropParty(status.0, party.ptr(), buf, len) }
    }

    fn cm_modify_call_qos_complete(
        &self,
        status: NdisStatus,
        vc: Handle,
        client: ClientParams,
        params: &CallParameters,
    ) {
        if status == NdisStatus::SUCCESS {
            // SAFETY: the client's block from ProtocolCmModifyCallQoS.
            unsafe { cparams::write_call_params(client.ptr(), params) };
        }
        // SAFETY: handles from NDIS.
        unsafe { NdisCmModifyCallQoSComplete(status.0, vc.ptr(), client.ptr()) }
    }

    fn co_send_net_buffer_lists_complete(&self, vc: Handle, nbls: Nbl, flags: u32) {
        // SAFETY: the chain consists of NBLs NDIS handed to MiniportCoSendNetBufferLists.
        unsafe { NdisMCoSendNetBufferListsComplete(vc.ptr(), nbls.ptr(), flags) }
    }

    fn co_indicate_receive_net_buffer_lists(&self, vc: Handle, nbls: Nbl, count: u32, flags: u32) {
        let mut n = Some(nbls);
        while let Some(cur) = n {
            // SAFETY: the chain consists of our own RX NBLs, owned by the driver until indicated.
            unsafe { (*cur.ptr()).SourceHandle = vc.ptr() };
            n = self.nbl_next(cur);
        }
        // SAFETY: as above; NDIS owns them until MiniportReturnNetBufferLists.
        unsafe { NdisMCoIndicateReceiveNetBufferLists(vc.ptr(), nbls.ptr(), count, flags) }
    }

    fn co_indicate_status_ex(&self, vc: Option<Handle>, indication: StatusIndication) {
        let StatusIndication::LinkState(ls) = indication;
        let mut link = NDIS_LINK_STATE {
            Header: NDIS_OBJECT_HEADER::new(
                NDIS_OBJECT_TYPE_DEFAULT,
                NDIS_LINK_STATE_REVISION_1,
                NDIS_SIZEOF_LINK_STATE_REVISION_1,
            ),
            MediaConnectState: if ls.connected { MediaConnectStateConnected } else { MediaConnectStateDisconnected },
            MediaDuplexState: MediaDuplexStateFull,
            XmitLinkSpeed: ls.speed_bps,
            RcvLinkSpeed: ls.speed_bps,
            PauseFunctions: 0,
            AutoNegotiationFlags: 0,
        };
        let mut ind = NDIS_STATUS_INDICATION {
            Header: NDIS_OBJECT_HEADER::new(
                NDIS_OBJECT_TYPE_STATUS_INDICATION,
                NDIS_STATUS_INDICATION_REVISION_1,
                NDIS_SIZEOF_STATUS_INDICATION_REVISION_1,
            ),
            SourceHandle: self.adapter_handle(),
            PortNumber: 0,
            StatusCode: NDIS_STATUS_LINK_STATE,
            Flags: 0,
            DestinationHandle: core::ptr::null_mut(),
            RequestId: core::ptr::null_mut(),
            StatusBuffer: core::ptr::addr_of_mut!(link).cast(),
            StatusBufferSize: core::mem::size_of::<NDIS_LINK_STATE>() as u32,
            Guid: GUID::default(),
            NdisReserved: [core::ptr::null_mut(); 4],
        };
        let vc = vc.map_or(core::ptr::null_mut(), Handle::ptr);
        // SAFETY: both structures outlive the call; NDIS copies what it keeps.
        unsafe { NdisMCoIndicateStatusEx(self.adapter_handle(), vc, &mut ind) }
    }

    fn nbl_next(&self, nbl: Nbl) -> Option<Nbl> {
        // SAFETY: Nbl values are live NBLs owned by the driver (sends from NDIS, our RX pool).
        Nbl::from_ptr(unsafe { (*nbl.ptr()).Next })
    }

    fn nbl_set_next(&self, nbl: Nbl, next: Option<Nbl>) {
        // SAFETY: as above; the driver owns the NBL's Next link while it holds the NBL.
        unsafe { (*nbl.ptr()).Next = opt_nbl_ptr(next) };
    }

    fn nbl_set_status(&self, nbl: Nbl, status: NdisStatus) {
        // SAFETY: as above.
        unsafe { (*nbl.ptr()).Status = status.0 };
    }

    fn nbl_frame_count(&self, nbl: Nbl) -> usize {
        let mut n = 0;
        // SAFETY: as above.
        let mut nb = unsafe { (*nbl.ptr()).FirstNetBuffer };
        while !nb.is_null() {
            n += 1;
            // SAFETY: nb is a NET_BUFFER of a live NBL.
            nb = unsafe { (*nb).NetBufferData.Next };
        }
        n
    }

    fn nbl_frame_len(&self, nbl: Nbl, i: usize) -> usize {
        // SAFETY: as above.
        match unsafe { nth_nb(nbl, i) } {
            // SAFETY: nb is a live NET_BUFFER.
            Some(nb) => unsafe { (*nb).NetBufferData.DataLength }.get(),
            None => 0,
        }
    }

    fn nbl_copy_frame(&self, nbl: Nbl, i: usize, dst: &mut [u8]) -> usize {
        // SAFETY: as above.
        let Some(nb) = (unsafe { nth_nb(nbl, i) }) else {
            return 0;
        };
        // SAFETY: nb is a live NET_BUFFER.
        let len = unsafe { (*nb).NetBufferData.DataLength }.get().min(dst.len());
        let Ok(len32) = u32::try_from(len) else { return 0 };
        if len == 0 {
            return 0;
        }
        // SAFETY: NdisGetDataBuffer either returns a pointer to `len` contiguous mapped octets of
        // the NET_BUFFER, or copies them into `dst` (the storage, at least `len` octets) and
        // returns `dst`, or returns NULL.
        let src = unsafe { NdisGetDataBuffer(nb, len32, dst.as_mut_ptr().cast(), 1, 0) }.cast::<u8>();
        if src.is_null() {
            return 0;
        }
        if !core::ptr::eq(src, dst.as_ptr()) {
            // SAFETY: src is `len` readable octets not overlapping `dst` (it is inside the NBL's
            // MDL chain, and dst is the caller's buffer).
            unsafe { core::ptr::copy_nonoverlapping(src, dst.as_mut_ptr(), len) };
        }
        len
    }

    fn rx_nbl_alloc(&self, tag: usize, data: &[u8]) -> Option<Nbl> {
        let nbl = self.rx.take_chain(data)?;
        let p = nbl as PNET_BUFFER_LIST;
        // SAFETY: our pool NBL, off the free list (not in NDIS's hands).
        let nb = unsafe { (*p).FirstNetBuffer };
        // SAFETY: every pool NBL was allocated with one NET_BUFFER over its entry's MDL, now the
        // head of a chain of ceil(len / RX_BUFFER_SIZE) buffers holding `data`.
        unsafe { (*nb).NetBufferData.DataLength = NET_BUFFER_DATA_LENGTH::new(data.len() as u32) };
        // SAFETY: as above.
        unsafe { (*p).MiniportReserved.0[RX_TAG] = tag as PVOID };
        // SAFETY: as above.
        unsafe { (*p).Next = core::ptr::null_mut() };
        // SAFETY: as above.
        unsafe { (*p).Status = NDIS_STATUS_SUCCESS };
        Nbl::from_ptr(p)
    }

    fn rx_nbl_tag(&self, nbl: Nbl) -> usize {
        // SAFETY: Nbl values are live NBLs owned by the driver.
        unsafe { (*nbl.ptr()).MiniportReserved.0[RX_TAG] as usize }
    }

    fn rx_nbl_free(&self, nbl: Nbl) {
        // SAFETY: as above.
        let index = unsafe { (*nbl.ptr()).MiniportReserved.0[RX_INDEX] as usize };
        let Some(i) = index.checked_sub(1) else { return };
        match self.rx.entries.get(i) {
            Some(&(p, _, _)) if p == nbl.ptr() as usize => self.rx.give_back_chain(i),
            _ => {} // not one of ours: never put a foreign NBL in the pool
        }
    }

    fn now(&self) -> Duration {
        let t = interrupt_time_100ns();
        Duration::new(t / 10_000_000, ((t % 10_000_000) * 100) as u32)
    }

    fn set_timer(&self, due: Duration) {
        let now = self.now();
        let delta = due.saturating_sub(now);
        // Relative due time: negative, in 100 ns units; at least one unit.
        let ticks = (delta.as_nanos() / 100).clamp(1, i64::MAX as u128) as i64;
        // SAFETY: our timer object; the routine finds the adapter through the slot context.
        unsafe {
            NdisSetTimerObject(
                self.timer as NDIS_HANDLE,
                LARGE_INTEGER { QuadPart: -ticks },
                0,
                self.routine_ctx as PVOID,
            )
        };
    }

    fn request_dpc(&self) {
        // SAFETY: the DPC was initialised in `new`; queuing an already queued DPC is a no-op.
        unsafe { KeInsertQueueDpc(self.dpc.get(), core::ptr::null_mut(), core::ptr::null_mut()) };
    }

    fn current_cpu(&self) -> u32 {
        // SAFETY: NULL asks only for the system-wide processor index.
        unsafe { KeGetCurrentProcessorNumberEx(core::ptr::null_mut()) }
    }
}
