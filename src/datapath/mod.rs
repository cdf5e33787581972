//! MiniportCoSendNetBufferLists → per-VC ring → NIC; transmit completion; receive → indication.
