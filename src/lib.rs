//! The workspace package: owns `examples/`, `tests/` and `benches/`, which use `anyio`
//! through its public API only. It has no code of its own; its documentation is the
//! README, so that the README's example is compiled and run as a doc test.
#![doc = include_str!("../README.md")]
