//! Tests only: see tests/atmlab_cli.rs.
