//! Q.2931 / UNI user-side call and party state: call states, timers, call references, and the
//! message shapes the call manager sends and receives (`msg`, the only place that touches
//! `wire::q2931`).

pub mod msg;
pub mod state;

pub use msg::{In, InKind, Out};
pub use state::{CallRef, TimerKind, UniState};
