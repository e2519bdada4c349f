//! A group's children as a small executor inside the group's future: their slots, their
//! wakers, and the round that polls those that are new or woken.

use std::any::Any;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::task::{Poll, Wake};

use crate::base::context::TaskEnter;
use crate::base::lock::lock;
use crate::base::scope::CancelOrigin;
use crate::base::task::{CurrentTask, TaskIdentity};
use crate::error::Error;
use crate::os::local_task::{LocalMeta, LocalTask, NodeRef};
use crate::os::name::TaskName;
use crate::runtime::executor::Executor;
use crate::task::group::{GroupShared, TaskGroup};
use crate::task::output::ChildOutcome;
use crate::task::spawned::ChildTask;

/// A local child: its node and its future in one allocation, owned by the group.
pub(crate) type LocalChild<'env> = LocalTask<'env, ChildNode>;

/// A counted reference to a local child's node.
pub(crate) type ChildRef = NodeRef<ChildNode>;

/// The part of the children's bookkeeping that wakers and the registry reach: inside
/// `GroupShared`, `'static`.
#[derive(Default)]
pub(crate) struct SharedChildren {
    /// Keys of children woken since the group last looked; each key at most once
    /// (guarded by `ChildNode::queued`).
    pub(crate) ready: Vec<usize>,
    /// The live children by key, for wakers and `get_running_tasks`.
    /// Invariant: `nodes[k]` is `Some` exactly while slot `k` holds a child.
    pub(crate) nodes: Vec<Option<ChildRef>>,
    /// The `spawn`ed children's tasks, each until a sweep finds it `finished` (a child
    /// ends without this lock: it only sets its flag and counts itself out of
    /// `GroupShared::spawned_live`).
    spawned: Vec<ChildTask>,
    /// The executors this group's spawned children were queued on, each told of the
    /// group once (see `insert_spawned`); usually one.
    listed_on: Vec<Weak<Executor>>,
    /// Whether a spawned child may be listed without looking at the group's status:
    /// opened by the group's first poll, closed by its last look (both under this lock).
    pub(crate) spawns_open: bool,
    /// Outcomes reported from outside the group's poll (spawned children, orphaned
    /// `start` failures), until the group's next round takes them.
    pub(crate) reported: Failures,
}

/// Ended children a sweep of `spawned` may leave behind, beyond a quarter of the live ones.
const SPAWNED_SLACK: usize = 64;

impl SharedChildren {
    /// Lists a spawned child and counts it in `group.spawned_live`, sweeping out ended
    /// ones first when there are enough of them (amortized O(1) per child). The group
    /// must be running (`spawns_open`, or its status under `TaskGroup::local`).
    pub(crate) fn insert_spawned(&mut self, task: ChildTask, group: &Arc<GroupShared>) {
        let live = group.spawned_live.fetch_add(1, Ordering::AcqRel);
        self.sweep_spawned(live);
        // The executor learns of the group once, so that it can drop the group's
        // children that it holds when the runtime is dropped (`Executor::close`).
        let executor = task.executor();
        if !self
            .listed_on
            .iter()
            .any(|listed| std::ptr::eq(listed.as_ptr(), Arc::as_ptr(executor)))
        {
            self.listed_on.retain(|listed| listed.strong_count() > 0);
            self.listed_on.push(Arc::downgrade(executor));
            executor.list_group(group);
        }
        self.spawned.push(task);
    }

    /// The spawned children on `executor` that have not ended (for `Executor::close`).
    pub(crate) fn spawned_on(&self, executor: &Executor) -> Vec<ChildTask> {
        self.spawned
            .iter()
            .filter(|task| !task.is_finished() && std::ptr::eq(&**task.executor(), executor))
            .cloned()
            .collect()
    }

    /// Drops the ended spawned children when they are at least as many as the live.
    pub(crate) fn sweep_spawned(&mut self, live: usize) {
        // An ended child's reference holds its whole task (the space of its dropped
        // future too) until a sweep: they are swept once they reach a quarter of the live
        // ones (plus the slack). A sweep is O(listed) and drops at least that many, so it
        // costs at most five steps per ended child.
        if self.spawned.len() >= live + live / 4 + SPAWNED_SLACK {
            self.spawned.retain(|task| !task.is_finished());
        }
    }

    /// Every live child, local or spawned (both lists may still hold ended children
    /// until a later round or sweep clears them).
    pub(crate) fn all_tasks(&self) -> impl Iterator<Item = &dyn TaskIdentity> {
        let local = self
            .nodes
            .iter()
            .flatten()
            .filter(|node| !node.finished.load(Ordering::Acquire))
            .map(|node| &**node as &dyn TaskIdentity);
        let spawned = self
            .spawned
            .iter()
            .filter(|task| !task.is_finished())
            .map(|task| task as &dyn TaskIdentity);
        local.chain(spawned)
    }

    /// The spawned children's tasks (which the group's own wakes do not reach) that have
    /// not ended, into `to_wake`: woken once the `children` lock is released, so that they
    /// see a change of the group's cancellation. (A wake may drop a child at once, when
    /// its runtime is gone, and the child's report takes this lock.)
    fn spawned_to_wake(&self, to_wake: &mut Vec<ChildTask>) {
        to_wake.extend(
            self.spawned
                .iter()
                .filter(|task| !task.is_finished())
                .cloned(),
        );
    }
}

/// A local child's identity and waker; shared by its waker clones, its slot (which lends
/// it to the thread context as the task's identity around the child's poll), and the
/// registry.
pub(crate) struct ChildNode {
    pub(crate) group: Arc<GroupShared>,
    /// The slot of the child; set before the child is first polled. (32 bits: with the
    /// two flags below it fills one word.)
    pub(crate) key: AtomicU32,
    pub(crate) id: u64,
    pub(crate) name: TaskName,
    /// The parent task while it is not the group's host (0: the host). A child started
    /// with `start` has the task that called `start` until it reports readiness.
    pub(crate) parent: AtomicU64,
    /// True while the key is in `SharedChildren::ready`.
    pub(crate) queued: AtomicBool,
    /// Set when the child ended, or its group closed; wakes after that are ignored (its
    /// slot may be reused).
    pub(crate) finished: AtomicBool,
}

impl LocalMeta for ChildNode {
    type Output = ChildOutcome;

    fn wake(&self) {
        if self.finished.load(Ordering::Acquire) || self.queued.swap(true, Ordering::AcqRel) {
            return;
        }
        let group = &self.group;
        {
            let mut children = lock(&group.children);
            children
                .ready
                .push(self.key.load(Ordering::Acquire) as usize);
            group.has_ready.store(true, Ordering::SeqCst);
        }
        group.wake_unless_polling();
    }
}

impl TaskIdentity for ChildNode {
    fn id(&self) -> u64 {
        self.id
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn parent_id(&self) -> Option<u64> {
        let parent = match self.parent.load(Ordering::Acquire) {
            0 => self.group.host_task.load(Ordering::Acquire),
            parent => parent,
        };
        (parent != 0).then_some(parent)
    }

    fn describe(&self) -> crate::base::task::TaskDescription {
        let state = if self.finished.load(Ordering::Acquire) {
            "finished"
        } else if self.queued.load(Ordering::Acquire) {
            "ready to run"
        } else {
            "waiting"
        };
        crate::base::task::TaskDescription {
            state: Some(state),
            scopes: self.group.scope.describe_chain(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// Created; children may be queued but nothing runs yet.
    Idle,
    /// The run future is active.
    Running,
    /// The run future finished or was dropped; starting a task is an error.
    Closed,
}

/// The `'env` part of a group that starters reach: children started since the group last
/// looked. Behind `TaskGroup::local`.
pub(crate) struct Local<'env> {
    pub(crate) status: Status,
    /// Children started since the group last looked (`GroupShared::has_new` says there
    /// are some); polled first at its next round.
    pub(crate) new: Vec<NewChild<'env>>,
    /// Children `spawn`ed before the group ran: launched at its first poll, once its
    /// scope has its place in the scope tree.
    pub(crate) deferred_spawns: Vec<DeferredSpawn>,
}

/// A spawned child waiting for its group to run: lists it (`insert_spawned`) when called
/// with the group's `children`, and returns its task, for the caller to wake once the
/// lock is released.
pub(crate) type DeferredSpawn = Box<dyn FnOnce(&mut SharedChildren) -> ChildTask + Send>;

impl Local<'_> {
    pub(crate) fn new() -> Self {
        Local {
            status: Status::Idle,
            new: Vec::new(),
            deferred_spawns: Vec::new(),
        }
    }
}

/// The children the run future polls, owned by it: nobody else touches their futures,
/// so a round needs no lock for them.
#[derive(Default)]
pub(crate) struct RunChildren<'env> {
    slots: Vec<Option<LocalChild<'env>>>,
    free: Vec<usize>,
    /// Children in `slots`.
    pub(crate) live: usize,
    // Scratch lists, kept to avoid allocating on every poll.
    ready: Vec<usize>,
    /// Keys of children that ended whose `SharedChildren::nodes` entries are still to be
    /// cleared, at the next round that takes the `children` lock anyway (a finished node
    /// is skipped by `all_tasks` meanwhile). Cleared before any key is reused.
    finished_keys: Vec<usize>,
    /// Spawned children to wake after the lock is released (a change of cancellation).
    to_wake: Vec<ChildTask>,
}

/// A child started since the group last looked.
pub(crate) struct NewChild<'env> {
    pub(crate) task: LocalChild<'env>,
}

/// Polls a local child as its task: its node is the current task identity meanwhile
/// (lent, with no reference count traffic).
fn poll_child(task: &mut LocalChild<'_>, id: u64) -> Poll<ChildOutcome> {
    task.poll(|lent, poll| {
        let mut slot = Some(CurrentTask::Local(lent));
        let result = {
            let _task = TaskEnter::new(id, &mut slot);
            poll()
        };
        match slot {
            Some(CurrentTask::Local(lent)) => (lent, result),
            // The value put there comes back (the context is restored in order).
            _ => unreachable!("a child's node comes back from the thread context"),
        }
    })
}

/// Marks the group closed and drops whatever children remain, outside the lock (a
/// child's drop may touch the group). Frees every allocation of the children's
/// bookkeeping: `TaskGroup::local` is never dropped (see `TaskGroup`), so what stays in
/// it is leaked.
pub(crate) fn close_children<'env>(group: &TaskGroup<'env>, run: &mut RunChildren<'env>) {
    let closed = {
        let mut local = group.lock_local();
        let mut closed = Local::new();
        closed.status = Status::Closed;
        std::mem::replace(&mut *local, closed)
    };
    let run = std::mem::take(run);
    for task in run.slots.iter().flatten() {
        task.finished.store(true, Ordering::Release);
    }
    // Breaks the node -> group reference cycle first: a child's drop is user code, and
    // a panic in it must not leak the group.
    let (shared, to_wake) = {
        let mut children = lock(&group.shared.children);
        // Spawned children still running (the run future was dropped before the end):
        // marked under the lock their reports take, so that none reports into the
        // emptied lists; woken (after the lock is released), so that each drops its
        // future at its next poll.
        let mut to_wake = Vec::new();
        for task in &children.spawned {
            // A swap: a child that ended meanwhile has reported, and needs no wake. (A
            // load first: at a normal close every spawned child has ended.)
            if !task.is_finished() && !task.finish() {
                to_wake.push(task.clone());
            }
        }
        (std::mem::take(&mut *children), to_wake)
    };
    for task in to_wake {
        task.wake();
    }
    drop(shared);
    drop(run);
    drop(closed);
}

/// Failures and panics collected from the body and the children.
#[derive(Default)]
pub(crate) struct Failures {
    pub(crate) errors: Vec<Error>,
    pub(crate) panic: Option<Box<dyn Any + Send + 'static>>,
    /// A child was dropped by a cancellation: like a body that was, the group then
    /// delivers that cancellation instead of completing (as a Trio nursery re-raises
    /// its children's `Cancelled`).
    pub(crate) child_cancelled: bool,
}

impl Failures {
    /// Records how a child ended; returns whether it failed (the group must then be
    /// cancelled).
    pub(crate) fn record(&mut self, outcome: ChildOutcome) -> bool {
        match outcome {
            ChildOutcome::Done => false,
            ChildOutcome::Cancelled => {
                self.child_cancelled = true;
                false
            }
            ChildOutcome::Failed(error) => {
                self.errors.push(error);
                true
            }
            ChildOutcome::Panicked(payload) => {
                self.panic.get_or_insert(payload);
                true
            }
        }
    }

    /// Moves what `other` recorded into `self`.
    pub(crate) fn absorb(&mut self, other: &mut Failures) {
        self.errors.append(&mut other.errors);
        if let Some(payload) = other.panic.take() {
            self.panic.get_or_insert(payload);
        }
        self.child_cancelled |= std::mem::take(&mut other.child_cancelled);
    }
}

/// The most keys `RunChildren::ready` keeps room for between rounds.
const READY_KEPT: usize = 1024;

/// Polls the children that are new or woken (all of them if `wake_all`, and then the
/// spawned ones are woken too); records their failures and panics, and takes those
/// reported from outside. Returns whether children other than those that yielded are
/// ready to be polled.
///
/// Locks: `local` only if a child was started, `children` only if one was started or
/// woken (or `wake_all`); a round in which neither happened takes no lock.
pub(crate) fn poll_children<'env>(
    group: &TaskGroup<'env>,
    wake_all: bool,
    run: &mut RunChildren<'env>,
    failures: &mut Failures,
) -> bool {
    let shared_group = &group.shared;
    let new = match shared_group.has_new.swap(false, Ordering::SeqCst) {
        true => std::mem::take(&mut group.lock_local().new),
        false => Vec::new(),
    };
    let RunChildren {
        slots,
        free,
        live,
        ready,
        finished_keys,
        to_wake,
    } = run;

    if !new.is_empty() || wake_all || shared_group.has_ready.load(Ordering::SeqCst) {
        let mut shared = lock(&shared_group.children);
        // Every key queued so far is taken below; wakers set the flag again under this
        // lock after they push.
        shared_group.has_ready.store(false, Ordering::SeqCst);
        for key in finished_keys.drain(..) {
            shared.nodes[key] = None;
        }
        for NewChild { task } in new {
            let key = free.pop().unwrap_or_else(|| {
                slots.push(None);
                slots.len() - 1
            });
            let key32 = u32::try_from(key).expect("a group has fewer than 2^32 live children");
            task.key.store(key32, Ordering::Release);
            if shared.nodes.len() <= key {
                shared.nodes.resize_with(key + 1, || None);
            }
            shared.nodes[key] = Some(task.node());
            ready.push(key);
            slots[key] = Some(task);
            *live += 1;
        }
        if wake_all {
            shared.ready.clear();
            ready.clear();
            for (key, slot) in slots.iter().enumerate() {
                if let Some(task) = slot {
                    task.queued.store(true, Ordering::Release);
                    ready.push(key);
                }
            }
            shared.spawned_to_wake(to_wake);
        } else {
            let spawned_live = shared_group.spawned_live.load(Ordering::Acquire);
            shared.sweep_spawned(spawned_live);
            ready.append(&mut shared.ready);
        }
        // A seeded runtime polls the ready children in the seed's order.
        crate::runtime::seed::shuffle_ready(ready);
        failures.absorb(&mut shared.reported);
    }
    for task in to_wake.drain(..) {
        task.wake();
    }

    // Children woken during their own poll: they yielded to let other tasks run.
    let mut yielded = 0;
    for &key in ready.iter() {
        let Some(task) = slots.get_mut(key).and_then(Option::as_mut) else {
            continue;
        };
        // A swap, not a store: it orders this against the poll's reads, so a wake that
        // finds the flag set (and skips queueing) happened before the poll looked.
        task.queued.swap(false, Ordering::AcqRel);
        let id = task.id;
        let poll = poll_child(task, id);
        if poll.is_pending() && task.queued.load(Ordering::Acquire) {
            yielded += 1;
        }
        if let Poll::Ready(outcome) = poll {
            task.finished.store(true, Ordering::Release);
            slots[key] = None;
            free.push(key);
            finished_keys.push(key);
            *live -= 1;
            if failures.record(outcome) {
                shared_group.scope.cancel(CancelOrigin::Explicit, None);
            }
        }
    }
    if ready.capacity() > READY_KEPT {
        // A burst of starts or wakes: give the scratch list back rather than hold its
        // size for the group's life.
        *ready = Vec::new();
    } else {
        ready.clear();
    }
    shared_group.live_children.store(*live, Ordering::Relaxed);

    if shared_group.has_new.load(Ordering::SeqCst) {
        return true;
    }
    // Woken children wait in `children.ready`: worth another round unless all of them
    // are children that yielded.
    shared_group.has_ready.load(Ordering::SeqCst)
        && lock(&shared_group.children).ready.len() > yielded
}

/// The waker of a group's body: marks the body for polling and wakes the group.
pub(crate) struct BodyWake {
    pub(crate) group: Arc<GroupShared>,
}

impl Wake for BodyWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.group.body_woken.swap(true, Ordering::SeqCst) {
            self.group.wake_unless_polling();
        }
    }
}

/// Marks a group as inside its poll until dropped. Meanwhile a start or a wake of the
/// body or a child only sets its flag (the poll looks at the flags before it returns);
/// on drop, a flag set after the poll's last look wakes the group, so that it looks
/// again. The flags and `polling` are SeqCst on both sides: either the waker sees the
/// poll in progress, or the drop sees the flag.
pub(crate) struct PollingGuard<'a> {
    group: &'a GroupShared,
}

impl<'a> PollingGuard<'a> {
    pub(crate) fn new(group: &'a GroupShared) -> Self {
        group.polling.store(true, Ordering::SeqCst);
        PollingGuard { group }
    }
}

impl Drop for PollingGuard<'_> {
    fn drop(&mut self) {
        let group = self.group;
        group.polling.store(false, Ordering::SeqCst);
        if group.has_new.load(Ordering::SeqCst)
            || group.has_ready.load(Ordering::SeqCst)
            || group.body_woken.load(Ordering::SeqCst)
        {
            group.scope.waker.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::root::TaskRoot;

    /// The per-child memory that `benches/PERFORMANCE.md` accounts for; a field added to
    /// these structures must be paid for there (and here).
    #[test]
    fn per_child_structures_stay_within_their_budget() {
        let node = std::mem::size_of::<ChildNode>();
        let slot = std::mem::size_of::<Option<LocalChild<'static>>>();
        let root = std::mem::size_of::<TaskRoot<std::future::Ready<()>>>();
        let meta = std::mem::size_of::<crate::task::spawned::ChildMeta>();
        let spawned =
            std::mem::size_of::<crate::task::spawned::SpawnedBody<std::future::Ready<()>>>();
        let scope = std::mem::size_of::<crate::base::scope::ScopeState>();
        println!(
            "ChildNode {node} B, slot {slot} B, empty TaskRoot {root} B, ChildMeta {meta} B, \
             empty spawned body {spawned} B, ScopeState {scope} B"
        );
        assert!(node <= 48, "ChildNode grew to {node} bytes");
        assert!(slot <= 8, "a child's slot grew to {slot} bytes");
        assert!(root <= 8, "TaskRoot's own fields grew to {root} bytes");
        assert!(meta <= 40, "ChildMeta grew to {meta} bytes");
        assert!(
            spawned <= 16,
            "a spawned child's body grew to {spawned} bytes beyond its future"
        );
        assert!(scope <= 128, "ScopeState grew to {scope} bytes");
    }
}
