//! Reads the adapter's configuration (the INF's Ndi\params keys) through NdisOpenConfigurationEx /
//! NdisReadConfiguration. The key names, defaults and ranges come from
//! [`crate::config::REGISTRY_KEYS`]; a missing key keeps its default, an out-of-range value is
//! ignored (the default stays) — the INF's ranges keep the UI from writing one.

use super::ffi::*;
use super::netaddr::parse_esi;
use crate::config::{Config, REGISTRY_KEYS};

/// Longest key name (UTF-16 units) we convert.
const MAX_KEY: usize = 64;

/// The adapter's configuration. PASSIVE (MiniportInitializeEx). The ESI comes from the standard
/// `NetworkAddress` keyword when it holds 12 hex digits of a unicast address.
///
/// # Safety
/// `adapter` is the MiniportAdapterHandle.
#[inline(never)]
pub unsafe fn read_config(adapter: NDIS_HANDLE) -> Config {
    let mut config = Config::DEFAULT;
    let mut obj = NDIS_CONFIGURATION_OBJECT {
        Header: NDIS_OBJECT_HEADER::new(
            NDIS_OBJECT_TYPE_CONFIGURATION_OBJECT,
            NDIS_CONFIGURATION_OBJECT_REVISION_1,
            NDIS_SIZEOF_CONFIGURATION_OBJECT_REVISION_1,
        ),
        NdisHandle: adapter,
        Flags: 0,
    };
    let mut handle: NDIS_HANDLE = core::ptr::null_mut();
    // SAFETY: valid object and out-pointer; PASSIVE.
    if unsafe { NdisOpenConfigurationEx(&mut obj, &mut handle) } != NDIS_STATUS_SUCCESS || handle.is_null() {
        return config;
    }
    for key in REGISTRY_KEYS {
        let mut wide = [0u16; MAX_KEY];
        let mut n = 0usize;
        for (dst, b) in wide.iter_mut().zip(key.name.bytes()) {
            *dst = u16::from(b);
            n += 1;
        }
        let bytes = (n * 2) as u16;
        let mut name = UNICODE_STRING { Length: bytes, MaximumLength: bytes, Buffer: wide.as_mut_ptr() };
        let mut status: NDIS_STATUS = NDIS_STATUS_FAILURE;
        let mut param: PNDIS_CONFIGURATION_PARAMETER = core::ptr::null_mut();
        // SAFETY: valid handle, keyword and out-pointers.
        unsafe { NdisReadConfiguration(&mut status, &mut param, handle, &mut name, NdisParameterInteger) };
        if status != NDIS_STATUS_SUCCESS || param.is_null() {
            continue;
        }
        // SAFETY: on success NDIS returns a valid parameter.
        let data = unsafe { &(*param).ParameterData };
        // SAFETY: of the asked type (integer), so the integer arm is the live one.
        let value = unsafe { data.IntegerData };
        // An out-of-range value keeps the default.
        let _ = config.set(key.name, value);
    }
    // SAFETY: the handle is open.
    if let Some(esi) = unsafe { read_network_address(handle) } {
        config.esi = esi;
    }
    // SAFETY: the handle came from NdisOpenConfigurationEx.
    unsafe { NdisCloseConfiguration(handle) };
    config
}

/// The `NetworkAddress` keyword as an ESI.
///
/// # Safety
/// `handle` is an open configuration handle; PASSIVE.
unsafe fn read_network_address(handle: NDIS_HANDLE) -> Option<[u8; 6]> {
    let mut wide = [0u16; 14];
    for (dst, b) in wide.iter_mut().zip(b"NetworkAddress") {
        *dst = u16::from(*b);
    }
    let bytes = (wide.len() * 2) as u16;
    let mut name = UNICODE_STRING { Length: bytes, MaximumLength: bytes, Buffer: wide.as_mut_ptr() };
    let mut status: NDIS_STATUS = NDIS_STATUS_FAILURE;
    let mut param: PNDIS_CONFIGURATION_PARAMETER = core::ptr::null_mut();
    // SAFETY: valid handle, keyword and out-pointers.
    unsafe { NdisReadConfiguration(&mut status, &mut param, handle, &mut name, NdisParameterString) };
    if status != NDIS_STATUS_SUCCESS || param.is_null() {
        return None;
    }
    // SAFETY: on success NDIS returns a valid parameter, valid until the handle is closed.
    let data = unsafe { &(*param).ParameterData };
    // SAFETY: of the asked type (string), so the string arm is the live one.
    let s = unsafe { data.StringData };
    if s.Buffer.is_null() {
        return None;
    }
    // SAFETY: Length octets of UTF-16 at Buffer.
    let units = unsafe { core::slice::from_raw_parts(s.Buffer, usize::from(s.Length) / 2) };
    parse_esi(units.iter().copied())
}
