//! The workspace package: owns `examples/`, `tests/` and `benches/`, which use `anyio`
//! through its public API only. It has no code of its own.
