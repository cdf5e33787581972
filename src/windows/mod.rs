//! cfg(windows) only: DriverEntry, FFI, trampolines, NBL/SG adaptors, locks, timers.
