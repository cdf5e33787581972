//! A SunATM (LINKTYPE 123) pcap writer.
//!
//! Each record is a 4-octet pseudo-header — flags (bit 7 direction, low nibble traffic type),
//! VPI, VCI (big-endian) — followed by the AAL5 CPCS-SDU without pad or trailer, which is what
//! Wireshark's SunATM reader expects. The signalling VC 0/5 is written as type 6 (Q.2931, so
//! Wireshark decodes SSCOP → Q.2931); every other VC as type 0 (raw), which Wireshark treats as
//! signalling only on 0/5. Direction: Wireshark shows 0x80 as DTE→DCE, so frames from the user
//! carry 0x80 and frames towards the user carry 0.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::time::Duration;

/// `LINKTYPE_SUNATM`.
pub const LINKTYPE_SUNATM: u32 = 123;
/// Pseudo-header traffic types.
pub const TYPE_RAW: u8 = 0;
pub const TYPE_Q2931: u8 = 6;
/// Pseudo-header direction bit (set = user → network, shown as DTE→DCE).
pub const DIR_FROM_USER: u8 = 0x80;

/// A capture file being written.
pub struct Pcap {
    out: Box<dyn Write + Send>,
    /// The first write error (callers that cannot stop to handle one see it at `finish`).
    error: Option<io::ErrorKind>,
    records: u64,
}

impl std::fmt::Debug for Pcap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pcap")
    }
}

impl Pcap {
    /// Creates `path` and writes the global header.
    pub fn create(path: impl AsRef<Path>) -> io::Result<Pcap> {
        Pcap::new(Box::new(BufWriter::new(File::create(path)?)))
    }

    /// Writes to any sink (tests use a `Vec` behind a shared handle).
    pub fn new(mut out: Box<dyn Write + Send>) -> io::Result<Pcap> {
        let mut h = Vec::with_capacity(24);
        h.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        h.extend_from_slice(&2u16.to_le_bytes());
        h.extend_from_slice(&4u16.to_le_bytes());
        h.extend_from_slice(&0i32.to_le_bytes()); // thiszone
        h.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
        h.extend_from_slice(&(65535u32 + 4).to_le_bytes()); // snaplen
        h.extend_from_slice(&LINKTYPE_SUNATM.to_le_bytes());
        out.write_all(&h)?;
        Ok(Pcap { out, error: None, records: 0 })
    }

    /// The 4-octet SunATM pseudo-header for one frame.
    pub fn pseudo_header(direction_to_user: bool, vpi: u16, vci: u16) -> [u8; 4] {
        let ty = if vpi == 0 && vci == 5 { TYPE_Q2931 } else { TYPE_RAW };
        let dir = if direction_to_user { 0 } else { DIR_FROM_USER };
        let v = vci.to_be_bytes();
        [dir | ty, (vpi & 0xff) as u8, v[0], v[1]]
    }

    /// Writes one record: `payload` is the AAL5 SDU (no pad, no trailer).
    pub fn write(
        &mut self,
        ts: Duration,
        direction_to_user: bool,
        vpi: u16,
        vci: u16,
        payload: &[u8],
    ) -> io::Result<()> {
        let len = u32::try_from(payload.len() + 4).unwrap_or(u32::MAX);
        let mut rec = Vec::with_capacity(16 + 4 + payload.len());
        rec.extend_from_slice(&u32::try_from(ts.as_secs()).unwrap_or(u32::MAX).to_le_bytes());
        rec.extend_from_slice(&ts.subsec_micros().to_le_bytes());
        rec.extend_from_slice(&len.to_le_bytes());
        rec.extend_from_slice(&len.to_le_bytes());
        rec.extend_from_slice(&Self::pseudo_header(direction_to_user, vpi, vci));
        rec.extend_from_slice(payload);
        let r = self.out.write_all(&rec);
        match &r {
            Ok(()) => self.records += 1,
            Err(e) => {
                self.error.get_or_insert(e.kind());
            }
        }
        r
    }

    /// Records written.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Flushes; the first error any write met, or the flush's own.
    pub fn finish(mut self) -> io::Result<u64> {
        let flushed = self.out.flush();
        match self.error {
            Some(kind) => Err(io::Error::new(kind, "a pcap record could not be written")),
            None => flushed.map(|()| self.records),
        }
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

impl Drop for Pcap {
    fn drop(&mut self) {
        let _ = self.out.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn header_and_record_layout() {
        let sink = Shared::default();
        let mut p = Pcap::new(Box::new(sink.clone())).unwrap();
        p.write(Duration::from_micros(1_500_002), false, 0, 5, &[1, 2, 3, 4]).unwrap();
        p.write(Duration::ZERO, true, 1, 0x1234, &[9]).unwrap();
        let b = sink.0.lock().unwrap().clone();
        assert_eq!(&b[..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
        assert_eq!(&b[20..24], &123u32.to_le_bytes());
        assert_eq!(&b[24..28], &1u32.to_le_bytes());
        assert_eq!(&b[28..32], &500_002u32.to_le_bytes());
        assert_eq!(&b[32..36], &8u32.to_le_bytes());
        assert_eq!(&b[40..48], &[0x86, 0, 0, 5, 1, 2, 3, 4]);
        assert_eq!(&b[64..69], &[0x00, 1, 0x12, 0x34, 9]);
        // Data VCs never get the signalling type.
        assert_ne!(Pcap::pseudo_header(true, 0, 32)[0] & 0x0f, TYPE_Q2931);
    }
}
