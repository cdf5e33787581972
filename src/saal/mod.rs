//! The signalling AAL on VPI 0 / VCI 5: SSCOP (Q.2110) under SSCF-UNI (Q.2130).

use core::time::Duration;

/// Placeholder until the SSCOP/SSCF link lands: passes messages straight through.
#[derive(Debug, Default)]
pub struct Link {
    up: bool,
}

/// What the link tells Q.2931.
#[derive(Debug)]
pub enum SaalEvent<'a> {
    Established,
    Released { cause: u8 },
    Data(&'a [u8]),
}

impl Link {
    pub fn new(_cfg: &crate::config::Config) -> Result<Self, ()> {
        Ok(Link { up: false })
    }
    pub fn next_deadline(&self) -> Option<Duration> {
        None
    }
    pub fn establish(&mut self, _now: Duration, _tx: &mut impl FnMut(&[u8])) {
        self.up = true;
    }
    pub fn send(&mut self, _now: Duration, msg: &[u8], tx: &mut impl FnMut(&[u8])) {
        tx(msg)
    }
    pub fn receive(&mut self, _now: Duration, pdu: &[u8], _tx: &mut impl FnMut(&[u8]), up: &mut impl FnMut(SaalEvent<'_>)) {
        up(SaalEvent::Data(pdu))
    }
    pub fn on_timer(&mut self, _now: Duration, _tx: &mut impl FnMut(&[u8]), _up: &mut impl FnMut(SaalEvent<'_>)) {}
    pub fn link_lost(&mut self, up: &mut impl FnMut(SaalEvent<'_>)) {
        self.up = false;
        up(SaalEvent::Released { cause: 0 })
    }
}
