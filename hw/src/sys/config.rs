//! NDIS.SYS's configuration calls on the Microsoft x64 ABI: NdisOpenConfigurationEx,
//! NdisReadConfiguration and NdisCloseConfiguration over the adapter's registry key.
//!
//! The key holds what Windows would put there: the INF's `Ndi\params` defaults, written (as the
//! class installer and the Advanced tab write them) as REG_SZ text, plus the lab's overrides. As
//! NDIS does, a REG_SZ read as NdisParameterInteger / NdisParameterHexInteger is converted
//! (base 10 / 16; text that does not convert fails the read), a REG_SZ read as
//! NdisParameterString comes back as an NDIS_STRING, a REG_DWORD comes back as
//! NdisParameterInteger whatever type was asked for, and a keyword the key does not hold fails
//! with NDIS_STATUS_FAILURE. Every parameter block (and its string) is NDIS's memory, valid until
//! NdisCloseConfiguration.

use crate::host::Irql;

use super::host::host;
use super::layout::{self as l, rd, wr};
use super::ndis::{adapter_ok, check_header, kernel_alloc, kernel_free};
use super::rule;

const OK: u32 = l::ST_SUCCESS as u32;
const FAIL: u32 = l::ST_FAILURE as u32;
const INVALID: u32 = l::ST_INVALID_PARAMETER as u32;

/// `NdisParameterHexInteger`: NDIS_PARAMETER_TYPE position 1 (Integer, HexInteger, String,
/// MultiString, Binary: the WDK's ndis.h and mingw-w64's ddk/ndis.h:919-925; no tsv row).
pub const PARAM_HEX_INTEGER: u32 = 1;
/// `NdisParameterString`: position 2 (as above).
pub const PARAM_STRING: u32 = 2;
/// NDIS_STRING (UNICODE_STRING) at `NDIS_CONFIGURATION_PARAMETER.ParameterData` (tsv: 0x8).
const CP_STRING: u64 = l::CP_DATA;

/// One registry value of the adapter's key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegValue {
    /// REG_DWORD.
    Dword(u32),
    /// REG_SZ (what `Ndi\params` values are).
    Sz(String),
}

pub extern "win64" fn ndis_open_configuration_ex(obj: usize, out: usize) -> u32 {
    let h = host();
    h.require_irql("NdisOpenConfigurationEx", Irql::Passive);
    if let Err(s) =
        check_header(h, "NdisOpenConfigurationEx", obj, l::OBJ_TYPE_CONFIG, &[(1, l::SIZEOF_CONFIG_OBJECT_REV_1)])
    {
        return s;
    }
    // SAFETY: the configuration object (size checked).
    let nh = unsafe { rd::<8>(obj, l::CO_NDIS_HANDLE) } as usize;
    if !adapter_ok(h, "NdisOpenConfigurationEx", nh) || out == 0 {
        return INVALID;
    }
    let cfg = Box::into_raw(Box::new(0u64)) as usize;
    h.st().configs.insert(cfg, Vec::new());
    // SAFETY: the driver's out-pointer.
    unsafe { wr::<8>(out, 0, cfg as u64) };
    OK
}

/// What a read of `value` as `ty` returns: (ParameterType, integer) or the string.
fn convert(value: &RegValue, ty: u32) -> Option<(u32, Result<u32, Vec<u16>>)> {
    match (value, ty) {
        // REG_DWORD: an integer, whatever was asked.
        (RegValue::Dword(v), _) => Some((l::PARAM_INTEGER as u32, Ok(*v))),
        // REG_SZ as decimal / hex: converted, or the read fails.
        (RegValue::Sz(s), t) if u64::from(t) == l::PARAM_INTEGER => Some((t, Ok(s.trim().parse().ok()?))),
        (RegValue::Sz(s), PARAM_HEX_INTEGER) => Some((PARAM_HEX_INTEGER, Ok(u32::from_str_radix(s.trim(), 16).ok()?))),
        // REG_SZ as a string: the NDIS_STRING.
        (RegValue::Sz(s), PARAM_STRING) => Some((PARAM_STRING, Err(s.encode_utf16().collect()))),
        // MultiString / Binary: not in this key.
        (RegValue::Sz(_), _) => None,
    }
}

pub extern "win64" fn ndis_read_configuration(status: usize, out: usize, cfg: usize, keyword: usize, ty: u32) {
    let h = host();
    h.require_irql("NdisReadConfiguration", Irql::Passive);
    let set_status = |s: u32| {
        if status != 0 {
            // SAFETY: the driver's NDIS_STATUS.
            unsafe { wr::<4>(status, 0, u64::from(s)) };
        }
    };
    if !h.st().configs.contains_key(&cfg) || keyword == 0 || out == 0 {
        h.finding(rule::HANDLE, format!("NdisReadConfiguration on {cfg:#x}, not an open configuration"));
        set_status(FAIL);
        return;
    }
    // UNICODE_STRING: Length (u16, bytes), MaximumLength, Buffer at 8.
    // SAFETY: the driver's UNICODE_STRING and its buffer.
    let name: String = unsafe {
        let len = rd::<2>(keyword, 0) as usize / 2;
        let buf = rd::<8>(keyword, l::US_BUFFER) as usize;
        (0..len).map(|i| char::from_u32(rd::<2>(buf, (i * 2) as u64) as u32).unwrap_or('?')).collect()
    };
    let value = h.registry.lock().unwrap_or_else(|e| e.into_inner()).get(&name.to_ascii_lowercase()).cloned();
    let Some((ptype, data)) = value.and_then(|v| convert(&v, ty)) else {
        set_status(FAIL);
        return;
    };
    let units = data.as_ref().err().map_or(0, Vec::len);
    let size = l::SIZEOF_CONFIG_PARAMETER as usize + units * 2;
    let param = kernel_alloc(size);
    // SAFETY: a fresh block: NDIS_CONFIGURATION_PARAMETER (ParameterType at 0, ParameterData at
    // 8) followed by the string's UTF-16 units.
    unsafe {
        wr::<4>(param, 0, u64::from(ptype));
        match &data {
            Ok(v) => wr::<4>(param, l::CP_DATA, u64::from(*v)),
            Err(s) => {
                let buf = param + l::SIZEOF_CONFIG_PARAMETER as usize;
                for (i, u) in s.iter().enumerate() {
                    wr::<2>(buf, (i * 2) as u64, u64::from(*u));
                }
                wr::<2>(param, CP_STRING, (s.len() * 2) as u64);
                wr::<2>(param, CP_STRING + 2, (s.len() * 2) as u64);
                wr::<8>(param, CP_STRING + l::US_BUFFER, buf as u64);
            }
        }
        wr::<8>(out, 0, param as u64);
    }
    if let Some(v) = h.st().configs.get_mut(&cfg) {
        v.push((param, size));
    }
    set_status(OK);
}

pub extern "win64" fn ndis_close_configuration(cfg: usize) {
    let h = host();
    let Some(params) = h.st().configs.remove(&cfg) else {
        h.finding(rule::HANDLE, format!("NdisCloseConfiguration({cfg:#x}): not open"));
        return;
    };
    for (p, size) in params {
        kernel_free(p, size);
    }
    // SAFETY: allocated by NdisOpenConfigurationEx as a Box<u64>.
    drop(unsafe { Box::from_raw(cfg as *mut u64) });
}
