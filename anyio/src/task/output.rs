//! What a task or a group body may return, and how a child's end is reported.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;

use crate::error::Error;

pub use crate::base::output::TaskOutput;

/// How a child task ended, as reported to its group.
pub(crate) enum ChildOutcome {
    /// Finished without failure.
    Done,
    /// Finished with an error: a failure of the group.
    Failed(Error),
    /// Dropped by a cancellation: never a failure.
    Cancelled,
    /// Panicked; the group resumes the panic once every other child has ended.
    Panicked(Box<dyn Any + Send + 'static>),
}

impl ChildOutcome {
    pub(crate) fn from_output<O: TaskOutput>(output: O) -> ChildOutcome {
        match output.into_result() {
            Ok(_) => ChildOutcome::Done,
            Err(error) => ChildOutcome::Failed(error),
        }
    }
}

/// Drops a task's future or a group's body. The drop is user code: a panic in it is
/// returned (it is that task's panic) instead of unwinding through the group.
pub(crate) fn drop_contained<F>(
    mut future: Pin<&mut Option<F>>,
) -> Result<(), Box<dyn Any + Send + 'static>> {
    catch_unwind(AssertUnwindSafe(move || future.set(None)))
}
