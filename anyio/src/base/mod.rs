//! The base layer: what every other module stands on, importing nothing above it.
//!
//! The crate is layered; each layer imports only the layers below it (`error` is a leaf
//! every layer may use):
//!
//! 1. `base`: the per-thread context (current scope, current task, the shielded-work
//!    flag, the cooperative budget, activity counters), the state of one cancel scope and
//!    the walks over the scope tree, task identities, the crate's lock policy, and the
//!    vocabulary the layers above share (`IntoDuration`, `TaskOutput`). The public
//!    `lowlevel` checkpoints are thin functions over it, usable from every layer.
//! 2. `runtime`: the executor, the reactor, the deadline queue, the task registry (which
//!    sees tasks only through [`task::TaskSource`]).
//! 3. `cancel`: scopes, deadlines, and the delivery protocol (`cancel/deliver.rs`).
//! 4. `task`: task groups, task roots, `start`, task introspection.
//! 5. `sync`, `streams`, `time`, `lowlevel`: the operations users call.

pub(crate) mod context;
pub(crate) mod coop;
pub(crate) mod duration;
pub(crate) mod lock;
pub(crate) mod output;
pub(crate) mod scope;
pub(crate) mod task;
