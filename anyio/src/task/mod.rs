//! Tasks: groups, readiness handshakes, and task introspection.
//!
//! - [`TaskGroup`] runs children that never outlive it: `start_soon` for concurrent
//!   children that may borrow, `spawn` for parallel `'static` ones, `start` to wait for a
//!   child to be ready.
//! - [`TaskInfo`], [`get_current_task`], [`get_running_tasks`] describe running tasks;
//!   [`wait_all_tasks_blocked`] lets tests wait for every other task to park.

mod group;
mod info;
mod output;
mod root;
mod status;

pub(crate) use group::GroupShared;
pub use group::{TaskGroup, TaskGroupRun};
pub use info::{
    TaskInfo, WaitAllTasksBlocked, get_current_task, get_running_tasks, wait_all_tasks_blocked,
};
pub(crate) use info::{current_task_name, next_task_id, task_info_by_id};
pub use output::TaskOutput;
pub use status::TaskStatus;
