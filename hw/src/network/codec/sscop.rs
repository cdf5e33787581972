//! SSCOP (Q.2110) PDUs. The "header" is a trailer: the last octet-quad holds
//! `PL(2) | S/reserved(2) | type(4)` and a 24-bit field; user data is padded to 4 octets.

use super::{Error, put_u24};

/// PDU type codes.
pub mod ty {
    pub const BGN: u8 = 0x1;
    pub const BGAK: u8 = 0x2;
    pub const END: u8 = 0x3;
    pub const ENDAK: u8 = 0x4;
    pub const RS: u8 = 0x5;
    pub const RSAK: u8 = 0x6;
    pub const BGREJ: u8 = 0x7;
    pub const SD: u8 = 0x8;
    pub const ER: u8 = 0x9;
    pub const POLL: u8 = 0xa;
    pub const STAT: u8 = 0xb;
    pub const USTAT: u8 = 0xc;
    pub const UD: u8 = 0xd;
    pub const MD: u8 = 0xe;
    pub const ERAK: u8 = 0xf;
}

/// Sequence numbers are 24 bits.
pub const SEQ_MASK: u32 = 0xff_ffff;

/// One SSCOP PDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pdu {
    Bgn {
        nsq: u8,
        nmr: u32,
        uu: Vec<u8>,
    },
    Bgak {
        nmr: u32,
        uu: Vec<u8>,
    },
    Bgrej {
        uu: Vec<u8>,
    },
    /// `source`: the S bit (true = released by SSCOP itself, false = by the user).
    End {
        source: bool,
        uu: Vec<u8>,
    },
    Endak,
    Rs {
        nsq: u8,
        nmr: u32,
        uu: Vec<u8>,
    },
    Rsak {
        nmr: u32,
    },
    Er {
        nsq: u8,
        nmr: u32,
    },
    Erak {
        nmr: u32,
    },
    Sd {
        ns: u32,
        data: Vec<u8>,
    },
    Poll {
        nps: u32,
        ns: u32,
    },
    /// Solicited status; `list` holds the gap boundaries in order.
    Stat {
        nps: u32,
        nmr: u32,
        nr: u32,
        list: Vec<u32>,
    },
    Ustat {
        nmr: u32,
        nr: u32,
        list: [u32; 2],
    },
    Ud {
        data: Vec<u8>,
    },
    Md {
        data: Vec<u8>,
    },
}

fn word(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

impl Pdu {
    pub fn type_code(&self) -> u8 {
        match self {
            Pdu::Bgn { .. } => ty::BGN,
            Pdu::Bgak { .. } => ty::BGAK,
            Pdu::Bgrej { .. } => ty::BGREJ,
            Pdu::End { .. } => ty::END,
            Pdu::Endak => ty::ENDAK,
            Pdu::Rs { .. } => ty::RS,
            Pdu::Rsak { .. } => ty::RSAK,
            Pdu::Er { .. } => ty::ER,
            Pdu::Erak { .. } => ty::ERAK,
            Pdu::Sd { .. } => ty::SD,
            Pdu::Poll { .. } => ty::POLL,
            Pdu::Stat { .. } => ty::STAT,
            Pdu::Ustat { .. } => ty::USTAT,
            Pdu::Ud { .. } => ty::UD,
            Pdu::Md { .. } => ty::MD,
        }
    }

    pub fn name(&self) -> &'static str {
        match self.type_code() {
            ty::BGN => "BGN",
            ty::BGAK => "BGAK",
            ty::BGREJ => "BGREJ",
            ty::END => "END",
            ty::ENDAK => "ENDAK",
            ty::RS => "RS",
            ty::RSAK => "RSAK",
            ty::ER => "ER",
            ty::ERAK => "ERAK",
            ty::SD => "SD",
            ty::POLL => "POLL",
            ty::STAT => "STAT",
            ty::USTAT => "USTAT",
            ty::UD => "UD",
            _ => "MD",
        }
    }

    /// Decodes one PDU (a whole AAL5 SDU).
    pub fn parse(buf: &[u8]) -> Result<Pdu, Error> {
        let len = buf.len();
        if len < 4 || !len.is_multiple_of(4) {
            return Err(if len < 4 { Error::Truncated } else { Error::Malformed });
        }
        let last = word(buf, len - 4);
        let code = ((last >> 24) & 0x0f) as u8;
        let pl = ((last >> 30) & 0x3) as usize;
        let low = last & SEQ_MASK;
        let trailer = match code {
            ty::SD | ty::UD | ty::MD => 4,
            ty::STAT => 12,
            ty::USTAT => 16,
            0 => return Err(Error::Malformed),
            _ => 8,
        };
        if len < trailer {
            return Err(Error::Truncated);
        }
        let prev = if trailer >= 8 { word(buf, len - 8) } else { 0 };
        // User data (only for PDU types that carry it), pad removed.
        let data = |with_data: bool| -> Result<Vec<u8>, Error> {
            let body = len - trailer;
            if !with_data {
                return if body == 0 && pl == 0 { Ok(Vec::new()) } else { Err(Error::Malformed) };
            }
            let n = body.checked_sub(pl).ok_or(Error::Malformed)?;
            Ok(buf[..n].to_vec())
        };
        let nsq = (prev & 0xff) as u8;
        let pdu = match code {
            ty::BGN => Pdu::Bgn { nsq, nmr: low, uu: data(true)? },
            ty::BGAK => Pdu::Bgak { nmr: low, uu: data(true)? },
            ty::BGREJ => Pdu::Bgrej { uu: data(true)? },
            ty::END => Pdu::End { source: (last >> 24) & 0x10 != 0, uu: data(true)? },
            ty::ENDAK => {
                data(false)?;
                Pdu::Endak
            }
            ty::RS => Pdu::Rs { nsq, nmr: low, uu: data(true)? },
            ty::RSAK => {
                data(false)?;
                Pdu::Rsak { nmr: low }
            }
            ty::ER => {
                data(false)?;
                Pdu::Er { nsq, nmr: low }
            }
            ty::ERAK => {
                data(false)?;
                Pdu::Erak { nmr: low }
            }
            ty::SD => Pdu::Sd { ns: low, data: data(true)? },
            ty::POLL => {
                data(false)?;
                Pdu::Poll { nps: prev & SEQ_MASK, ns: low }
            }
            ty::STAT => {
                if pl != 0 {
                    return Err(Error::Malformed);
                }
                let list = buf[..len - 12].chunks_exact(4).map(|c| word(c, 0) & SEQ_MASK).collect();
                Pdu::Stat { nps: word(buf, len - 12) & SEQ_MASK, nmr: prev & SEQ_MASK, nr: low, list }
            }
            ty::USTAT => {
                data(false)?;
                Pdu::Ustat { nmr: prev & SEQ_MASK, nr: low, list: [word(buf, 0) & SEQ_MASK, word(buf, 4) & SEQ_MASK] }
            }
            ty::UD => Pdu::Ud { data: data(true)? },
            _ => Pdu::Md { data: data(true)? },
        };
        Ok(pdu)
    }

    pub fn emit(&self) -> Vec<u8> {
        // Payload (padded) plus at most three trailer words: no regrowth for a typical PDU.
        let payload = match self {
            Pdu::Sd { data, .. } | Pdu::Ud { data } | Pdu::Md { data } => data.len(),
            _ => 0,
        };
        let mut out = Vec::with_capacity(payload + 16);
        let code = self.type_code();
        // Data, padded; returns PL.
        let pad = |out: &mut Vec<u8>, d: &[u8]| -> u8 {
            out.extend_from_slice(d);
            let pl = (4 - d.len() % 4) % 4;
            out.resize(out.len() + pl, 0);
            pl as u8
        };
        let last = |out: &mut Vec<u8>, pl: u8, flags: u8, low: u32| {
            out.push((pl << 6) | flags | code);
            put_u24(out, low & SEQ_MASK);
        };
        let nsq_word = |out: &mut Vec<u8>, nsq: u8| out.extend_from_slice(&[0, 0, 0, nsq]);
        let seq_word = |out: &mut Vec<u8>, v: u32| {
            out.push(0);
            put_u24(out, v & SEQ_MASK);
        };
        match self {
            Pdu::Bgn { nsq, nmr, uu } | Pdu::Rs { nsq, nmr, uu } => {
                let pl = pad(&mut out, uu);
                nsq_word(&mut out, *nsq);
                last(&mut out, pl, 0, *nmr);
            }
            Pdu::Bgak { nmr, uu } => {
                let pl = pad(&mut out, uu);
                seq_word(&mut out, 0);
                last(&mut out, pl, 0, *nmr);
            }
            Pdu::Bgrej { uu } => {
                let pl = pad(&mut out, uu);
                seq_word(&mut out, 0);
                last(&mut out, pl, 0, 0);
            }
            Pdu::End { source, uu } => {
                let pl = pad(&mut out, uu);
                seq_word(&mut out, 0);
                last(&mut out, pl, if *source { 0x10 } else { 0 }, 0);
            }
            Pdu::Endak => {
                seq_word(&mut out, 0);
                last(&mut out, 0, 0, 0);
            }
            Pdu::Rsak { nmr } | Pdu::Erak { nmr } => {
                seq_word(&mut out, 0);
                last(&mut out, 0, 0, *nmr);
            }
            Pdu::Er { nsq, nmr } => {
                nsq_word(&mut out, *nsq);
                last(&mut out, 0, 0, *nmr);
            }
            Pdu::Sd { ns, data } => {
                let pl = pad(&mut out, data);
                last(&mut out, pl, 0, *ns);
            }
            Pdu::Poll { nps, ns } => {
                seq_word(&mut out, *nps);
                last(&mut out, 0, 0, *ns);
            }
            Pdu::Stat { nps, nmr, nr, list } => {
                for l in list {
                    seq_word(&mut out, *l);
                }
                seq_word(&mut out, *nps);
                seq_word(&mut out, *nmr);
                last(&mut out, 0, 0, *nr);
            }
            Pdu::Ustat { nmr, nr, list } => {
                seq_word(&mut out, list[0]);
                seq_word(&mut out, list[1]);
                seq_word(&mut out, *nmr);
                last(&mut out, 0, 0, *nr);
            }
            Pdu::Ud { data } | Pdu::Md { data } => {
                let pl = pad(&mut out, data);
                last(&mut out, pl, 0, 0);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pdu_type_round_trips() {
        let all = vec![
            Pdu::Bgn { nsq: 3, nmr: 64, uu: vec![] },
            Pdu::Bgn { nsq: 255, nmr: SEQ_MASK, uu: vec![1, 2, 3, 4, 5] },
            Pdu::Bgak { nmr: 100, uu: vec![9] },
            Pdu::Bgrej { uu: vec![1, 2] },
            Pdu::End { source: true, uu: vec![] },
            Pdu::End { source: false, uu: vec![7, 7, 7] },
            Pdu::Endak,
            Pdu::Rs { nsq: 1, nmr: 2, uu: vec![] },
            Pdu::Rsak { nmr: 5 },
            Pdu::Er { nsq: 9, nmr: 10 },
            Pdu::Erak { nmr: 11 },
            Pdu::Sd { ns: 0x123456, data: b"hello".to_vec() },
            Pdu::Sd { ns: 0, data: vec![] },
            Pdu::Poll { nps: 4, ns: 8 },
            Pdu::Stat { nps: 4, nmr: 72, nr: 3, list: vec![3, 5, 6, 8] },
            Pdu::Stat { nps: 1, nmr: 2, nr: 3, list: vec![] },
            Pdu::Ustat { nmr: 70, nr: 2, list: [2, 4] },
            Pdu::Ud { data: vec![1] },
            Pdu::Md { data: vec![1, 2, 3, 4] },
        ];
        for p in all {
            let b = p.emit();
            assert_eq!(b.len() % 4, 0, "{p:?}");
            assert_eq!(Pdu::parse(&b).unwrap(), p, "{b:02x?}");
        }
    }

    #[test]
    fn sd_carrying_the_release_vector_has_the_documented_20_octet_layout() {
        // signalling.md §4: RELEASE (15 octets) in an SD with N(S)=0 is 20 octets: 1 octet pad, PL=1.
        let release = [0x09, 0x03, 0, 0, 1, 0x4d, 0x80, 0, 6, 0x08, 0x80, 0, 2, 0x80, 0x90];
        let b = Pdu::Sd { ns: 0, data: release.to_vec() }.emit();
        assert_eq!(b.len(), 20);
        assert_eq!(&b[16..], &[0x48, 0, 0, 0]);
        // The AAL5 CRC over SDU + pad + trailer matches the documented value.
        let mut cpcs = b.clone();
        cpcs.resize(40, 0);
        cpcs.extend_from_slice(&[0, 0, 0, 20]);
        let crc = crc::Crc::<u32>::new(&crc::CRC_32_BZIP2).checksum(&cpcs);
        assert_eq!(crc, 0xda75_f633);
        assert_ne!(crc::Crc::<u32>::new(&crc::CRC_32_BZIP2).checksum(&cpcs[1..]), 0xda75_f633);
    }

    #[test]
    fn bad_lengths_and_types_are_errors() {
        assert!(Pdu::parse(&[]).is_err());
        assert!(Pdu::parse(&[0, 0, 0]).is_err());
        assert!(Pdu::parse(&[0, 0, 0, 0, 0]).is_err());
        assert!(Pdu::parse(&[0, 0, 0, 0]).is_err()); // type 0
        assert!(Pdu::parse(&[0x02, 0, 0, 0]).is_err()); // BGAK needs 8
        assert!(Pdu::parse(&[0xc8, 0, 0, 0]).is_err()); // SD, PL 3 > 0 data
        assert!(Pdu::parse(&[0x08, 0, 0, 0]).is_ok());
    }
}
