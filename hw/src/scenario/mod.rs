//! Scenario files: the format ([`format`]), the engine that runs one on the lab ([`engine`]),
//! the shared NDIS + wire sequence ([`trace`]), and the built-in files.

pub mod engine;
mod expect;
pub mod format;
mod pdu;
mod tester;
pub mod trace;
mod values;

#[cfg(test)]
mod tests;

pub use engine::{DriverUnderTest, Outcome, RunOptions, Verdict, run};
pub use format::{FileError, Scenario, parse};

/// The built-in scenario files (`tests/scenarios/**.toml`, embedded at build time): path
/// relative to the repository root, text.
pub static BUILTIN: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/builtin_scenarios.rs"));
