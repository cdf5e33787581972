//! [`WinDevice`]: the NIC behind the [`Device`](crate::nic::Device) seam on Windows — the
//! register-level [`RegNic`] (ATM1, `hw/REGISTERS.md`) over [`WinBus`], with the kernel spin lock
//! for its control and data-path locks.
//!
//! [`open`] builds it in MiniportInitializeEx (after the scatter-gather DMA registration, which
//! `NdisMAllocateSharedMemory` needs): map BAR 0, check the ID, reset, allocate and program the
//! rings, enable. Dropping it (MiniportHaltEx / failed initialisation) resets the NIC, then gives
//! the shared memory back and unmaps the BAR. The ISR calls [`RegNic::interrupt`], MiniportDisable/EnableInterruptEx
//! `disable_interrupts` / `enable_interrupts`; the DPC polls through `Adapter::dpc`, whose unmask
//! runs under NdisMSynchronizeWithInterruptEx; MiniportShutdownEx calls `RegNic::shutdown`.

use super::bus::WinBus;
use super::ffi::*;
use super::lock::NdisSpinLock;
use crate::ndis::NdisStatus;
use crate::nic::regnic::{RegNic, RegNicConfig};

/// The Windows NIC.
pub type WinDevice = RegNic<WinBus, NdisSpinLock>;

/// Maps BAR 0 and brings the NIC up with `cfg`.
///
/// # Safety
/// As [`super::bus::map`]: NDIS's resource list and adapter handle, scatter-gather DMA registered,
/// PASSIVE.
pub unsafe fn open(
    adapter: NDIS_HANDLE,
    resources: PNDIS_RESOURCE_LIST,
    cfg: RegNicConfig,
) -> Result<WinDevice, NdisStatus> {
    // SAFETY: caller's contract.
    let bus = unsafe { super::bus::map(adapter, resources) }?;
    RegNic::new(bus, cfg)
}

/// Whether the adapter has an interrupt resource.
///
/// # Safety
/// `resources` is NULL or NDIS's `AllocatedResources` list.
pub unsafe fn has_interrupt(resources: PNDIS_RESOURCE_LIST) -> bool {
    // SAFETY: caller's contract.
    unsafe { first_resource(resources, CmResourceTypeInterrupt) }.is_some()
}

/// The first partial descriptor of type `ty`.
///
/// # Safety
/// `list` is NULL or a valid `CM_PARTIAL_RESOURCE_LIST` with `Count` descriptors.
pub(super) unsafe fn first_resource(list: PNDIS_RESOURCE_LIST, ty: u8) -> Option<CM_PARTIAL_RESOURCE_DESCRIPTOR> {
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
