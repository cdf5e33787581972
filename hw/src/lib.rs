//! The lab: the world the atmmcm driver core lives in when no NIC is present — an emulated NDIS
//! with a CoNDIS verifier (`host`), the ATM1 NIC model (`regnic_model`, registers + DMA + SAR),
//! a cell switch (`switch`), an ATM network with network-side UNI
//! signalling (`network`), virtual time (`clock`), SunATM captures (`pcap`), and the `Lab` that
//! wires them (`lab`).

pub mod clock;
pub mod conformance;
pub mod host;
pub mod lab;
pub mod network;
pub mod pcap;
#[cfg(test)]
mod regnic_adapter_tests;
pub mod regnic_model;
#[cfg(test)]
mod regnic_table_tests;
#[cfg(test)]
mod regnic_tests;
#[allow(clippy::new_without_default)]
pub mod scale;
pub mod scenario;
pub mod switch;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub mod sys;
