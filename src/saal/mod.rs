//! The signalling AAL on VPI 0 / VCI 5: SSCOP (Q.2110) under SSCF-UNI (Q.2130).
