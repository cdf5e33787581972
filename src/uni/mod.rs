//! Q.2931 / UNI user-side call and party state: call states, timers, call references, and the
//! message shapes the call manager sends and receives (`msg`, the only place that touches
//! `wire::q2931`).

pub(crate) mod call;
pub(crate) mod link;
pub mod msg;
pub(crate) mod party;
pub(crate) mod restart;
pub mod state;
pub(crate) mod timers;

pub use msg::{In, InKind, Out};
pub use state::{CallRef, TimerKind, UniState};
