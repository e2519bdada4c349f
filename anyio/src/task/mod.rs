//! Tasks: groups, readiness handshakes, and task introspection.
//!
//! - [`TaskGroup`] runs children that never outlive it: `start_soon` for concurrent
//!   children that may borrow, `spawn` for parallel `'static` ones, `start` to wait for a
//!   child to be ready, `create_task` for a child whose value you want ([`TaskHandle`]).
//! - [`TaskInfo`], [`get_current_task`], [`get_running_tasks`] describe running tasks;
//!   [`wait_all_tasks_blocked`] lets tests wait for every other task to park.

pub(crate) mod children;
pub(crate) mod group;
mod handle;
mod helpers;
mod info;
mod output;
mod root;
mod run;
pub(crate) mod spawned;
mod status;

pub use crate::base::task::TaskInfo;
pub use group::TaskGroup;
pub use handle::{TaskHandle, TaskJoin, TaskState, TaskWait};
pub use helpers::{__gathered, AMap, AsCompleted, amap, as_completed, gather};
pub use info::{WaitAllTasksBlocked, get_current_task, get_running_tasks, wait_all_tasks_blocked};
pub(crate) use info::{current_task_name, task_info_by_id};
pub use output::TaskOutput;
pub use run::TaskGroupRun;
pub use status::TaskStatus;
