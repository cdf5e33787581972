//! The signalling AAL on VPI 0 / VCI 5: SSCOP (Q.2110) under SSCF-UNI (Q.2130).

/// Placeholder for the SSCOP/SSCF link until it lands.
#[derive(Debug, Default)]
pub struct Link;

impl Link {
    pub fn next_deadline(&self) -> Option<core::time::Duration> {
        None
    }
}
