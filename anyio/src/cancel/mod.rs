//! Cancel scopes and deadlines.
//!
//! - [`CancelScope`]: cancel a body by hand, give it a deadline, or shield it.
//! - [`move_on_after`] / [`move_on_at`]: give up on a body at a deadline (`Option`).
//! - [`fail_after`] / [`fail_at`]: the same, as an error of kind `Timeout`.
//! - [`with_cleanup`]: async cleanup, shielded, when a body is cancelled or fails.
//! - [`current_effective_deadline`]: the deadline the current code runs under.

mod cleanup;
mod deadline;
pub(crate) mod deliver;
pub(crate) mod scope;
pub(crate) mod timer;

pub use cleanup::{WithCleanup, with_cleanup};
pub use deadline::{
    FailAfter, MoveOnAfter, current_effective_deadline, fail_after, fail_after_with_reason,
    fail_at, move_on_after, move_on_at,
};
pub use scope::{CancelScope, CancelScopeRun};
