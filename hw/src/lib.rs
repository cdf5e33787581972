//! The lab: the world the atmmcm driver core lives in when no NIC is present.

pub mod network;
pub mod nic;
pub mod pcap;
