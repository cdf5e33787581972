//! The host functions the image's imports bind to, by DLL and name. An import not listed here
//! fails the load naming it (`LoadError::MissingImport`).

use super::{cm, config, data, interrupt, kernel, nbl, ndis};

macro_rules! table {
    ($($dll:literal : { $($name:literal => $f:path,)* })*) => {
        /// (dll, name, host function address) of every implemented import.
        pub fn table() -> Vec<(&'static str, &'static str, usize)> {
            vec![$($(($dll, $name, $f as *const () as usize),)*)*]
        }
    };
}

table! {
    "NDIS.SYS": {
        "NdisMRegisterMiniportDriver" => ndis::ndis_m_register_miniport_driver,
        "NdisMDeregisterMiniportDriver" => ndis::ndis_m_deregister_miniport_driver,
        "NdisSetOptionalHandlers" => ndis::ndis_set_optional_handlers,
        "NdisMSetMiniportAttributes" => ndis::ndis_m_set_miniport_attributes,
        "NdisOpenConfigurationEx" => config::ndis_open_configuration_ex,
        "NdisReadConfiguration" => config::ndis_read_configuration,
        "NdisCloseConfiguration" => config::ndis_close_configuration,
        "NdisMRegisterScatterGatherDma" => ndis::ndis_m_register_scatter_gather_dma,
        "NdisMDeregisterScatterGatherDma" => ndis::ndis_m_deregister_scatter_gather_dma,
        "NdisMAllocateSharedMemory" => ndis::ndis_m_allocate_shared_memory,
        "NdisMFreeSharedMemory" => ndis::ndis_m_free_shared_memory,
        "NdisMMapIoSpace" => ndis::ndis_m_map_io_space,
        "NdisMUnmapIoSpace" => ndis::ndis_m_unmap_io_space,
        "NdisMRegisterInterruptEx" => interrupt::ndis_m_register_interrupt_ex,
        "NdisMDeregisterInterruptEx" => interrupt::ndis_m_deregister_interrupt_ex,
        "NdisMSynchronizeWithInterruptEx" => interrupt::ndis_m_synchronize_with_interrupt_ex,
        "NdisAllocateTimerObject" => ndis::ndis_allocate_timer_object,
        "NdisSetTimerObject" => ndis::ndis_set_timer_object,
        "NdisCancelTimerObject" => ndis::ndis_cancel_timer_object,
        "NdisFreeTimerObject" => ndis::ndis_free_timer_object,
        "NdisMSleep" => ndis::ndis_m_sleep,
        "NdisAllocateMemoryWithTagPriority" => nbl::ndis_allocate_memory_with_tag_priority,
        "NdisFreeMemoryWithTagPriority" => nbl::ndis_free_memory_with_tag_priority,
        "NdisAllocateNetBufferListPool" => nbl::ndis_allocate_net_buffer_list_pool,
        "NdisFreeNetBufferListPool" => nbl::ndis_free_net_buffer_list_pool,
        "NdisAllocateNetBufferAndNetBufferList" => nbl::ndis_allocate_net_buffer_and_net_buffer_list,
        "NdisFreeNetBufferList" => nbl::ndis_free_net_buffer_list,
        "NdisAllocateMdl" => nbl::ndis_allocate_mdl,
        "NdisFreeMdl" => nbl::ndis_free_mdl,
        "NdisGetDataBuffer" => nbl::ndis_get_data_buffer,
        "NdisMCmRegisterAddressFamilyEx" => cm::ndis_m_cm_register_address_family_ex,
        "NdisCmOpenAddressFamilyComplete" => cm::ndis_cm_open_address_family_complete,
        "NdisCmCloseAddressFamilyComplete" => cm::ndis_cm_close_address_family_complete,
        "NdisCmNotifyCloseAddressFamily" => cm::ndis_cm_notify_close_address_family,
        "NdisCmRegisterSapComplete" => cm::ndis_cm_register_sap_complete,
        "NdisCmDeregisterSapComplete" => cm::ndis_cm_deregister_sap_complete,
        "NdisMCmCreateVc" => cm::ndis_m_cm_create_vc,
        "NdisMCmDeleteVc" => cm::ndis_m_cm_delete_vc,
        "NdisMCmActivateVc" => cm::ndis_m_cm_activate_vc,
        "NdisMCmDeactivateVc" => cm::ndis_m_cm_deactivate_vc,
        "NdisCmMakeCallComplete" => cm::ndis_cm_make_call_complete,
        "NdisCmDispatchIncomingCall" => cm::ndis_cm_dispatch_incoming_call,
        "NdisCmDispatchCallConnected" => cm::ndis_cm_dispatch_call_connected,
        "NdisCmCloseCallComplete" => cm::ndis_cm_close_call_complete,
        "NdisCmDispatchIncomingCloseCall" => cm::ndis_cm_dispatch_incoming_close_call,
        "NdisCmAddPartyComplete" => cm::ndis_cm_add_party_complete,
        "NdisCmDropPartyComplete" => cm::ndis_cm_drop_party_complete,
        "NdisCmDispatchIncomingDropParty" => cm::ndis_cm_dispatch_incoming_drop_party,
        "NdisCmModifyCallQoSComplete" => cm::ndis_cm_modify_call_qos_complete,
        "NdisMCoIndicateStatusEx" => cm::ndis_m_co_indicate_status_ex,
        "NdisMCoSendNetBufferListsComplete" => data::ndis_m_co_send_net_buffer_lists_complete,
        "NdisMSendNetBufferListsComplete" => data::ndis_m_send_net_buffer_lists_complete,
        "NdisMCoIndicateReceiveNetBufferLists" => data::ndis_m_co_indicate_receive_net_buffer_lists,
    }
    "ntoskrnl.exe": {
        "ExAllocatePoolWithTag" => kernel::ex_allocate_pool_with_tag,
        "ExFreePoolWithTag" => kernel::ex_free_pool_with_tag,
        "KeAcquireSpinLockRaiseToDpc" => kernel::ke_acquire_spin_lock_raise_to_dpc,
        "KeReleaseSpinLock" => kernel::ke_release_spin_lock,
        "KeTryToAcquireSpinLockAtDpcLevel" => kernel::ke_try_to_acquire_spin_lock_at_dpc_level,
        "KeReleaseSpinLockFromDpcLevel" => kernel::ke_release_spin_lock_from_dpc_level,
        "KeGetCurrentProcessorNumberEx" => kernel::ke_get_current_processor_number_ex,
        "KeInitializeDpc" => kernel::ke_initialize_dpc,
        "KeInsertQueueDpc" => kernel::ke_insert_queue_dpc,
        "KeRemoveQueueDpc" => kernel::ke_remove_queue_dpc,
        "KeFlushQueuedDpcs" => kernel::ke_flush_queued_dpcs,
        "KeBugCheckEx" => kernel::ke_bug_check_ex,
        "memcpy" => kernel::memcpy,
        "memmove" => kernel::memmove,
        "memset" => kernel::memset,
        "memcmp" => kernel::memcmp,
    }
}

/// The host function for `dll!name` (DLL names compare case-insensitively, as the loader does).
pub fn resolve(dll: &str, name: &str) -> Option<usize> {
    table().into_iter().find(|(d, n, _)| d.eq_ignore_ascii_case(dll) && *n == name).map(|(_, _, f)| f)
}
