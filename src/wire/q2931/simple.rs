//! One- and two-octet IEs: Call state (0x14), QoS parameter (0x5c), Restart indicator (0x79)
//! (Q.2931 4.5.8, 4.5.18, 4.5.20; UNI 3.1 §5.4.5.10, 5.4.5.18, 5.4.5.20).

use super::ie::{IeBody, InvalidIe, put};
use crate::wire::Error;

/// Call state IE: octet 5 = spare(2) | call state value (6 bits; U0..U12 / N0..N12 are 0..12,
/// REST1 = 0x3d, REST2 = 0x3e).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CallState(pub u8);

impl<'a> IeBody<'a> for CallState {
    fn parse(c: &'a [u8]) -> Result<Self, InvalidIe> {
        parse_state(c).map(CallState)
    }
    fn content_len(&self) -> usize {
        1
    }
    fn emit(&self, out: &mut [u8]) -> Result<(), Error> {
        emit_state(self.0, out)
    }
}

/// A one-octet state body (Call State, Endpoint State): six bits of state, spare bits ignored.
pub(super) fn parse_state(c: &[u8]) -> Result<u8, InvalidIe> {
    match *c {
        [s] => Ok(s & 0x3f),
        _ => Err(InvalidIe),
    }
}

/// Emits a one-octet state body; a value wider than six bits is an error.
pub(super) fn emit_state(v: u8, out: &mut [u8]) -> Result<(), Error> {
    if v > 0x3f {
        return Err(Error);
    }
    put(out, &[v])?;
    Ok(())
}

/// QoS parameter IE: octet 5 forward QoS class, octet 6 backward QoS class (0 = unspecified,
/// 1..=4 = classes 1..4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct QosParams {
    /// Forward QoS class.
    pub forward: u8,
    /// Backward QoS class.
    pub backward: u8,
}

impl<'a> IeBody<'a> for QosParams {
    fn parse(c: &'a [u8]) -> Result<Self, InvalidIe> {
        match *c {
            [forward, backward] => Ok(QosParams { forward, backward }),
            _ => Err(InvalidIe),
        }
    }
    fn content_len(&self) -> usize {
        2
    }
    fn emit(&self, out: &mut [u8]) -> Result<(), Error> {
        put(out, &[self.forward, self.backward])?;
        Ok(())
    }
}

/// Restart class (3 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RestartClass {
    /// 000: the indicated virtual channel (a Connection identifier IE names it).
    IndicatedVc,
    /// 001: all virtual channels in the indicated VPC.
    IndicatedVp,
    /// 010: all virtual channels controlled by the layer 3 entity.
    All,
}

/// Restart indicator IE: octet 5 = 1 | spare(4) | class (3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RestartIndicator {
    /// What is restarted.
    pub class: RestartClass,
}

impl<'a> IeBody<'a> for RestartIndicator {
    fn parse(c: &'a [u8]) -> Result<Self, InvalidIe> {
        let class = match *c {
            [o] => match o & 0x07 {
                0 => RestartClass::IndicatedVc,
                1 => RestartClass::IndicatedVp,
                2 => RestartClass::All,
                // Other values are reserved (Q.2931 4.5.20).
                _ => return Err(InvalidIe),
            },
            _ => return Err(InvalidIe),
        };
        Ok(RestartIndicator { class })
    }
    fn content_len(&self) -> usize {
        1
    }
    fn emit(&self, out: &mut [u8]) -> Result<(), Error> {
        let bits = match self.class {
            RestartClass::IndicatedVc => 0,
            RestartClass::IndicatedVp => 1,
            RestartClass::All => 2,
        };
        put(out, &[0x80 | bits])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_indicator_all_is_0x82() {
        let r = RestartIndicator { class: RestartClass::All };
        let mut o = [0u8; 1];
        r.emit(&mut o).unwrap();
        assert_eq!(o, [0x82]);
        assert_eq!(RestartIndicator::parse(&o), Ok(r));
    }

    #[test]
    fn restart_indicator_rejects_reserved_class_and_length() {
        assert!(RestartIndicator::parse(&[0x83]).is_err());
        assert!(RestartIndicator::parse(&[]).is_err());
        assert!(RestartIndicator::parse(&[0x82, 0]).is_err());
    }

    #[test]
    fn call_state_and_qos_lengths_checked() {
        assert_eq!(CallState::parse(&[0x0a]), Ok(CallState(10)));
        assert!(CallState::parse(&[]).is_err());
        assert!(CallState::parse(&[1, 1]).is_err());
        assert!(CallState(0x40).emit(&mut [0u8]).is_err());
        assert_eq!(QosParams::parse(&[1, 0]), Ok(QosParams { forward: 1, backward: 0 }));
        assert!(QosParams::parse(&[1]).is_err());
        assert!(QosParams::parse(&[1, 2, 3]).is_err());
    }
}
