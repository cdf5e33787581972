// Every function the driver imports, in two groups (expanded by `ndis_imports!` in ffi.rs, and by
// scripts/ffi-check against bindgen's output):
// - `header`: declared in mingw-w64's ddk/ndis.h or ddk/wdm.h: signature-checked against it;
// - `by_name`: NDIS 6 functions mingw's NDIS 5 era header lacks (and KeBugCheckEx, whose ULONG_PTR
//   arguments we declare as usize): checked by name against the exports of libndis.a /
//   libntoskrnl.a only.
// Type names must be the C header's names (they are resolved in bindgen's output for `header`).
ndis_imports! {
    header {
        fn NdisCmOpenAddressFamilyComplete(Status: NDIS_STATUS, NdisAfHandle: NDIS_HANDLE, CallMgrAfContext: NDIS_HANDLE);
        fn NdisCmCloseAddressFamilyComplete(Status: NDIS_STATUS, NdisAfHandle: NDIS_HANDLE);
        fn NdisCmRegisterSapComplete(Status: NDIS_STATUS, NdisSapHandle: NDIS_HANDLE, CallMgrSapContext: NDIS_HANDLE);
        fn NdisCmDeregisterSapComplete(Status: NDIS_STATUS, NdisSapHandle: NDIS_HANDLE);
        fn NdisCmMakeCallComplete(
            Status: NDIS_STATUS,
            NdisVcHandle: NDIS_HANDLE,
            NdisPartyHandle: NDIS_HANDLE,
            CallMgrPartyContext: NDIS_HANDLE,
            CallParameters: PCO_CALL_PARAMETERS,
        );
        fn NdisCmDispatchIncomingCall(
            NdisSapHandle: NDIS_HANDLE,
            NdisVcHandle: NDIS_HANDLE,
            CallParameters: PCO_CALL_PARAMETERS,
        ) -> NDIS_STATUS;
        fn NdisCmDispatchCallConnected(NdisVcHandle: NDIS_HANDLE);
        fn NdisCmCloseCallComplete(Status: NDIS_STATUS, NdisVcHandle: NDIS_HANDLE, NdisPartyHandle: NDIS_HANDLE);
        fn NdisCmDispatchIncomingCloseCall(CloseStatus: NDIS_STATUS, NdisVcHandle: NDIS_HANDLE, Buffer: PVOID, Size: UINT);
        fn NdisCmAddPartyComplete(
            Status: NDIS_STATUS,
            NdisPartyHandle: NDIS_HANDLE,
            CallMgrPartyContext: NDIS_HANDLE,
            CallParameters: PCO_CALL_PARAMETERS,
        );
        fn NdisCmDropPartyComplete(Status: NDIS_STATUS, NdisPartyHandle: NDIS_HANDLE);
        fn NdisCmDispatchIncomingDropParty(DropStatus: NDIS_STATUS, NdisPartyHandle: NDIS_HANDLE, Buffer: PVOID, Size: UINT);
        fn NdisCmModifyCallQoSComplete(Status: NDIS_STATUS, NdisVcHandle: NDIS_HANDLE, CallParameters: PCO_CALL_PARAMETERS);
        fn NdisMCmCreateVc(
            MiniportAdapterHandle: NDIS_HANDLE,
            NdisAfHandle: NDIS_HANDLE,
            MiniportVcContext: NDIS_HANDLE,
            NdisVcHandle: PNDIS_HANDLE,
        ) -> NDIS_STATUS;
        fn NdisMCmDeleteVc(NdisVcHandle: NDIS_HANDLE) -> NDIS_STATUS;
        fn NdisMCmActivateVc(NdisVcHandle: NDIS_HANDLE, CallParameters: PCO_CALL_PARAMETERS) -> NDIS_STATUS;
        fn NdisMCmDeactivateVc(NdisVcHandle: NDIS_HANDLE) -> NDIS_STATUS;
        fn NdisMMapIoSpace(
            VirtualAddress: *mut PVOID,
            MiniportAdapterHandle: NDIS_HANDLE,
            PhysicalAddress: NDIS_PHYSICAL_ADDRESS,
            Length: UINT,
        ) -> NDIS_STATUS;
        fn NdisMUnmapIoSpace(MiniportAdapterHandle: NDIS_HANDLE, VirtualAddress: PVOID, Length: UINT);
        fn NdisMAllocateSharedMemory(
            MiniportAdapterHandle: NDIS_HANDLE,
            Length: ULONG,
            Cached: BOOLEAN,
            VirtualAddress: *mut PVOID,
            PhysicalAddress: PNDIS_PHYSICAL_ADDRESS,
        );
        fn NdisMFreeSharedMemory(
            MiniportAdapterHandle: NDIS_HANDLE,
            Length: ULONG,
            Cached: BOOLEAN,
            VirtualAddress: PVOID,
            PhysicalAddress: NDIS_PHYSICAL_ADDRESS,
        );
        fn NdisReadConfiguration(
            Status: PNDIS_STATUS,
            ParameterValue: *mut PNDIS_CONFIGURATION_PARAMETER,
            ConfigurationHandle: NDIS_HANDLE,
            Keyword: PNDIS_STRING,
            ParameterType: NDIS_PARAMETER_TYPE,
        );
        fn NdisCloseConfiguration(ConfigurationHandle: NDIS_HANDLE);
        fn NdisMSleep(MicrosecondsToSleep: ULONG);
        fn ExAllocatePoolWithTag(PoolType: POOL_TYPE, NumberOfBytes: SIZE_T, Tag: ULONG) -> PVOID;
        fn ExFreePoolWithTag(P: PVOID, Tag: ULONG);
        fn KeInitializeDpc(Dpc: PKDPC, DeferredRoutine: PKDEFERRED_ROUTINE, DeferredContext: PVOID);
        fn KeInsertQueueDpc(Dpc: PKDPC, SystemArgument1: PVOID, SystemArgument2: PVOID) -> BOOLEAN;
        fn KeRemoveQueueDpc(Dpc: PKDPC) -> BOOLEAN;
        fn KeFlushQueuedDpcs();
        fn KeAcquireSpinLockRaiseToDpc(SpinLock: PKSPIN_LOCK) -> KIRQL;
        fn KeReleaseSpinLock(SpinLock: PKSPIN_LOCK, NewIrql: KIRQL);
        fn KeTryToAcquireSpinLockAtDpcLevel(SpinLock: PKSPIN_LOCK) -> BOOLEAN;
        fn KeReleaseSpinLockFromDpcLevel(SpinLock: PKSPIN_LOCK);
        fn KeGetCurrentProcessorNumberEx(ProcNumber: PPROCESSOR_NUMBER) -> ULONG;
    }
    by_name {
        fn NdisCmNotifyCloseAddressFamily(NdisAfHandle: NDIS_HANDLE) -> NDIS_STATUS;
        fn NdisMCmRegisterAddressFamilyEx(MiniportAdapterHandle: NDIS_HANDLE, AddressFamily: PCO_ADDRESS_FAMILY) -> NDIS_STATUS;
        fn NdisMRegisterMiniportDriver(
            DriverObject: PDRIVER_OBJECT,
            RegistryPath: PUNICODE_STRING,
            MiniportDriverContext: NDIS_HANDLE,
            MiniportDriverCharacteristics: *mut NDIS_MINIPORT_DRIVER_CHARACTERISTICS,
            NdisMiniportDriverHandle: PNDIS_HANDLE,
        ) -> NDIS_STATUS;
        fn NdisMDeregisterMiniportDriver(NdisMiniportDriverHandle: NDIS_HANDLE);
        fn NdisSetOptionalHandlers(NdisHandle: NDIS_HANDLE, OptionalHandlers: *mut NDIS_OBJECT_HEADER) -> NDIS_STATUS;
        fn NdisMSetMiniportAttributes(MiniportAdapterHandle: NDIS_HANDLE, MiniportAttributes: *mut NDIS_OBJECT_HEADER) -> NDIS_STATUS;
        fn NdisMSendNetBufferListsComplete(MiniportAdapterHandle: NDIS_HANDLE, NetBufferList: PNET_BUFFER_LIST, SendCompleteFlags: ULONG);
        fn NdisMCoSendNetBufferListsComplete(NdisVcHandle: NDIS_HANDLE, NetBufferLists: PNET_BUFFER_LIST, SendCompleteFlags: ULONG);
        fn NdisMCoIndicateReceiveNetBufferLists(
            NdisVcHandle: NDIS_HANDLE,
            NetBufferLists: PNET_BUFFER_LIST,
            NumberOfNetBufferLists: ULONG,
            CoReceiveFlags: ULONG,
        );
        fn NdisMCoIndicateStatusEx(
            MiniportAdapterHandle: NDIS_HANDLE,
            NdisVcHandle: NDIS_HANDLE,
            StatusIndication: PNDIS_STATUS_INDICATION,
        );
        fn NdisMRegisterInterruptEx(
            MiniportAdapterHandle: NDIS_HANDLE,
            MiniportInterruptContext: NDIS_HANDLE,
            MiniportInterruptCharacteristics: *mut NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS,
            NdisInterruptHandle: PNDIS_HANDLE,
        ) -> NDIS_STATUS;
        fn NdisMDeregisterInterruptEx(NdisInterruptHandle: NDIS_HANDLE);
        fn NdisMSynchronizeWithInterruptEx(
            NdisInterruptHandle: NDIS_HANDLE,
            MessageId: ULONG,
            SynchronizeFunction: MINIPORT_SYNCHRONIZE_INTERRUPT_HANDLER,
            SynchronizeContext: PVOID,
        ) -> BOOLEAN;
        fn NdisMRegisterScatterGatherDma(
            MiniportAdapterHandle: NDIS_HANDLE,
            DmaDescription: *mut NDIS_SG_DMA_DESCRIPTION,
            NdisMiniportDmaHandle: PNDIS_HANDLE,
        ) -> NDIS_STATUS;
        fn NdisMDeregisterScatterGatherDma(NdisMiniportDmaHandle: NDIS_HANDLE);
        fn NdisAllocateTimerObject(
            NdisHandle: NDIS_HANDLE,
            TimerCharacteristics: *mut NDIS_TIMER_CHARACTERISTICS,
            pTimerObject: PNDIS_HANDLE,
        ) -> NDIS_STATUS;
        fn NdisSetTimerObject(TimerObject: NDIS_HANDLE, DueTime: LARGE_INTEGER, MillisecondsPeriod: ULONG, FunctionContext: PVOID) -> BOOLEAN;
        fn NdisCancelTimerObject(TimerObject: NDIS_HANDLE) -> BOOLEAN;
        fn NdisFreeTimerObject(TimerObject: NDIS_HANDLE);
        fn NdisAllocateNetBufferListPool(NdisHandle: NDIS_HANDLE, Parameters: *mut NET_BUFFER_LIST_POOL_PARAMETERS) -> NDIS_HANDLE;
        fn NdisFreeNetBufferListPool(PoolHandle: NDIS_HANDLE);
        fn NdisAllocateNetBufferAndNetBufferList(
            PoolHandle: NDIS_HANDLE,
            ContextSize: USHORT,
            ContextBackFill: USHORT,
            MdlChain: PMDL,
            DataOffset: ULONG,
            DataLength: SIZE_T,
        ) -> PNET_BUFFER_LIST;
        fn NdisFreeNetBufferList(NetBufferList: PNET_BUFFER_LIST);
        fn NdisAllocateMdl(NdisHandle: NDIS_HANDLE, VirtualAddress: PVOID, Length: UINT) -> PMDL;
        fn NdisFreeMdl(Mdl: PMDL);
        fn NdisGetDataBuffer(NetBuffer: PNET_BUFFER, BytesNeeded: ULONG, Storage: PVOID, AlignMultiple: UINT, AlignOffset: UINT) -> PVOID;
        fn NdisAllocateMemoryWithTagPriority(NdisHandle: NDIS_HANDLE, Length: UINT, Tag: ULONG, Priority: EX_POOL_PRIORITY) -> PVOID;
        fn NdisFreeMemoryWithTagPriority(NdisHandle: NDIS_HANDLE, VirtualAddress: PVOID, Tag: ULONG);
        fn NdisOpenConfigurationEx(ConfigObject: PNDIS_CONFIGURATION_OBJECT, ConfigurationHandle: PNDIS_HANDLE) -> NDIS_STATUS;
        fn KeBugCheckEx(BugCheckCode: ULONG, P1: usize, P2: usize, P3: usize, P4: usize) -> !;
    }
}
