//! [`WinDevice`]: the NIC behind the [`Device`] seam on Windows.
//!
//! TODO(register map): the NIC's register map and descriptor formats are specified in their own
//! issue ("NIC register map"). Until they exist this device only maps BAR 0 and:
//! - fails every [`Device::open_connection`] with `NDIS_STATUS_NOT_SUPPORTED` (so no call can
//!   reach the active state and no data moves),
//! - reports the link as down and never claims an interrupt ([`WinDevice::isr`] returns false),
//! - has nothing to [`Device::poll`].
//!
//! What the mapped BAR is for once the register map lands: connection-table writes in
//! `open_connection`/`close_connection`, TX descriptor posting in `transmit` (scatter-gather lists
//! from the DMA handle registered in MiniportInitializeEx), the interrupt status register in
//! `isr`, and RX/TX completion rings in `poll`.

use super::ffi::*;
use crate::ndis::NdisStatus;
use crate::nic::{ConnId, ConnParams, Device, DeviceEvent, TxCookie};

pub struct WinDevice {
    adapter: usize,
    /// Mapped BAR 0 (`NdisMMapIoSpace`), NULL when the resource list had no memory BAR.
    mmio: usize,
    mmio_len: u32,
}

// SAFETY: the mapping is plain MMIO; nothing reads or writes it until the register map exists, and
// the register-level code will serialise access itself.
unsafe impl Send for WinDevice {}
// SAFETY: as above.
unsafe impl Sync for WinDevice {}

impl WinDevice {
    /// Maps the first memory BAR of the adapter's resource list.
    ///
    /// # Safety
    /// `resources` is NULL or the `AllocatedResources` list NDIS passed to MiniportInitializeEx;
    /// `adapter` is the MiniportAdapterHandle; PASSIVE.
    pub unsafe fn map(adapter: NDIS_HANDLE, resources: PNDIS_RESOURCE_LIST) -> Result<WinDevice, NdisStatus> {
        // SAFETY: caller's contract.
        let Some((start, len)) = (unsafe { first_resource(resources, CmResourceTypeMemory) }).map(|d| d.memory())
        else {
            // No BAR (an emulated or not-yet-configured device): run without MMIO.
            return Ok(WinDevice {
                adapter: adapter as usize,
                mmio: 0,
                mmio_len: 0,
            });
        };
        let mut va: PVOID = core::ptr::null_mut();
        // SAFETY: maps the BAR NDIS assigned to this adapter; PASSIVE.
        let st = unsafe { NdisMMapIoSpace(&mut va, adapter, LARGE_INTEGER { QuadPart: start }, len) };
        if st != NDIS_STATUS_SUCCESS || va.is_null() {
            return Err(NdisStatus(st));
        }
        Ok(WinDevice {
            adapter: adapter as usize,
            mmio: va as usize,
            mmio_len: len,
        })
    }

    /// Interrupt service: whether the interrupt was ours. TODO(register map): read and acknowledge
    /// the interrupt status register; until then the line is never claimed.
    pub fn isr(&self) -> bool {
        false
    }
}

/// Unmaps the BAR (MiniportHaltEx / failed initialisation, PASSIVE).
impl Drop for WinDevice {
    fn drop(&mut self) {
        if self.mmio != 0 {
            // SAFETY: the mapping came from NdisMMapIoSpace with this length for this adapter.
            unsafe { NdisMUnmapIoSpace(self.adapter as NDIS_HANDLE, self.mmio as PVOID, self.mmio_len) };
        }
    }
}

/// Whether the adapter has an interrupt resource.
///
/// # Safety
/// As [`WinDevice::map`].
pub unsafe fn has_interrupt(resources: PNDIS_RESOURCE_LIST) -> bool {
    // SAFETY: caller's contract.
    unsafe { first_resource(resources, CmResourceTypeInterrupt) }.is_some()
}

/// The first partial descriptor of type `ty`.
///
/// # Safety
/// `list` is NULL or a valid `CM_PARTIAL_RESOURCE_LIST` with `Count` descriptors.
unsafe fn first_resource(list: PNDIS_RESOURCE_LIST, ty: u8) -> Option<CM_PARTIAL_RESOURCE_DESCRIPTOR> {
    if list.is_null() {
        return None;
    }
    // SAFETY: list is valid (caller).
    let count = unsafe { (*list).Count } as usize;
    // SAFETY: in-bounds projection of a valid pointer.
    let first = unsafe { core::ptr::addr_of!((*list).PartialDescriptors) }.cast::<CM_PARTIAL_RESOURCE_DESCRIPTOR>();
    for i in 0..count {
        // SAFETY: i < Count descriptors follow the header (packed(4): read unaligned).
        let d = unsafe { first.wrapping_add(i).read_unaligned() };
        if d.Type == ty {
            return Some(d);
        }
    }
    None
}

impl Device for WinDevice {
    fn open_connection(&self, _params: &ConnParams) -> Result<ConnId, NdisStatus> {
        // TODO(register map): program the connection table.
        Err(NdisStatus::NOT_SUPPORTED)
    }

    fn close_connection(&self, _conn: ConnId) {
        // Nothing can be open (open_connection always fails).
    }

    fn transmit(&self, _conn: ConnId, _frame: &[u8], _cookie: TxCookie) -> Result<(), NdisStatus> {
        // TODO(register map): post a TX descriptor.
        Err(NdisStatus::NOT_SUPPORTED)
    }

    fn poll(&self, _budget: usize, _sink: &mut dyn FnMut(DeviceEvent<'_>)) -> usize {
        0
    }

    fn link_up(&self) -> bool {
        // TODO(register map): read the PHY status register.
        false
    }
}
