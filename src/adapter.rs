//! The adapter: wires the pieces together (MiniportInitializeEx .. MiniportHaltEx).

/// Placeholder until the control plane lands.
pub struct Adapter;
