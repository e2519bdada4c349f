//! Task identities: ids, names and parents, readable from the thread that polls a task
//! in O(1), and from the runtime's registry.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Hands out task ids; unique within the process, never 0.
static NEXT_TASK_ID: AtomicU64 = AtomicU64::new(1);

/// A fresh task id.
pub(crate) fn next_task_id() -> u64 {
    NEXT_TASK_ID.fetch_add(1, Ordering::Relaxed)
}

/// What is known about a running task.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let me = anyio::get_current_task();
/// assert_eq!(me.name, "main");
/// assert_eq!(me.parent_id, None);
/// # });
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TaskInfo {
    /// Unique within the process.
    pub id: u64,
    /// The name given at start, or else the path of the function that made the task's
    /// future (`my_app::server::handle_client`; an async block is named after the
    /// function it is written in), or the future's type name.
    pub name: String,
    /// The task that runs the group this task belongs to (for a child started with
    /// `TaskGroup::start`, the task that called `start` until the child reports
    /// readiness); `None` for the main task.
    pub parent_id: Option<u64>,
}

/// The identity of one task, shared by the code that polls it (through the per-thread
/// context) and by the registry.
pub(crate) trait TaskIdentity: Send + Sync + 'static {
    fn id(&self) -> u64;
    fn name(&self) -> &str;
    /// Read at call time: a `start`ed child changes parents when it reports readiness.
    fn parent_id(&self) -> Option<u64>;

    fn info(&self) -> TaskInfo {
        TaskInfo {
            id: self.id(),
            name: self.name().to_owned(),
            parent_id: self.parent_id(),
        }
    }

    /// What a task tree says of the task beyond its name: its state and the scopes it
    /// runs in, as far as they are known from outside the task.
    fn describe(&self) -> TaskDescription {
        TaskDescription::default()
    }
}

/// A task's state and scopes, for `testing::task_tree`.
#[derive(Debug, Clone, Default)]
pub(crate) struct TaskDescription {
    /// "ready to run", "waiting", "finished", or `None` when unknown.
    pub(crate) state: Option<&'static str>,
    /// The scopes around the task, innermost first, each described in words.
    pub(crate) scopes: Vec<String>,
}

/// The task being polled on a thread, as the thread context holds it: a root task (the
/// main task, a call), or a group child, whose identity lives in its task's allocation (a
/// spawned child's own task reference; a local child's node, lent for its poll). Each
/// variant is one pointer, so this is two words: it moves in and out of the thread
/// context at every poll.
pub(crate) enum CurrentTask {
    Root(Arc<RootIdentity>),
    Spawned(crate::task::spawned::ChildTask),
    Local(crate::os::local_task::Lent<crate::task::children::ChildNode>),
}

impl CurrentTask {
    pub(crate) fn identity(&self) -> &dyn TaskIdentity {
        match self {
            CurrentTask::Root(identity) => &**identity,
            CurrentTask::Spawned(task) => task,
            CurrentTask::Local(node) => &**node,
        }
    }
}

/// Something that holds tasks the registry should list (a task group).
pub(crate) trait TaskSource: Send + Sync {
    /// Calls `visit` with each live task until it returns `false`.
    fn visit_tasks(&self, visit: &mut dyn FnMut(&dyn TaskIdentity) -> bool);
}

/// The identity of a root task: the task that `Runtime::block_on` runs ("main"), or a
/// call from another thread.
pub(crate) struct RootIdentity {
    pub(crate) id: u64,
    pub(crate) name: &'static str,
}

impl TaskIdentity for RootIdentity {
    fn id(&self) -> u64 {
        self.id
    }

    fn name(&self) -> &str {
        self.name
    }

    fn parent_id(&self) -> Option<u64> {
        None
    }
}
