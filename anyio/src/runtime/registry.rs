//! The runtime's registry of tasks: the main task, the live task groups (which list
//! their children), and each thread's activity counter.
//!
//! The registry sees tasks only through `base::task::{TaskSource, TaskIdentity}`, so the
//! runtime does not depend on the `task` module. Looking up the *current* task does not
//! come here at all: the per-thread context has it in O(1).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use crate::base::context::{self, ActivityCounter};
use crate::base::lock::lock;
use crate::base::task::{RootIdentity, TaskIdentity, TaskInfo, TaskSource};

#[derive(Default)]
pub(crate) struct Registry {
    /// The task run by `block_on` (0 when none is running).
    pub(crate) main_task: AtomicU64,
    /// Live task groups. A group registers at its first poll and unregisters when it
    /// ends; a slot is reused after that.
    groups: Mutex<Vec<Option<Weak<dyn TaskSource>>>>,
    /// The counters of the threads serving the runtime (each worker for its life, the
    /// thread of each `block_on` call for its duration).
    activity: Mutex<Vec<Arc<ActivityCounter>>>,
}

impl Registry {
    pub(crate) fn register_group(&self, group: Weak<dyn TaskSource>) -> usize {
        let mut groups = lock(&self.groups);
        if let Some(key) = groups.iter().position(Option::is_none) {
            groups[key] = Some(group);
            key
        } else {
            groups.push(Some(group));
            groups.len() - 1
        }
    }

    pub(crate) fn unregister_group(&self, key: usize) {
        if let Some(slot) = lock(&self.groups).get_mut(key) {
            *slot = None;
        }
    }

    fn live_groups(&self) -> Vec<Arc<dyn TaskSource>> {
        lock(&self.groups)
            .iter()
            .flatten()
            .filter_map(Weak::upgrade)
            .collect()
    }

    /// The task `block_on` runs, if one is running.
    fn main_task_info(&self) -> Option<TaskInfo> {
        let id = self.main_task.load(Ordering::Acquire);
        (id != 0).then(|| RootIdentity { id, name: "main" }.info())
    }

    /// Every task: the main task and the children of every live group.
    pub(crate) fn tasks(&self) -> Vec<TaskInfo> {
        let mut tasks: Vec<TaskInfo> = self.main_task_info().into_iter().collect();
        for group in self.live_groups() {
            group.visit_tasks(&mut |task| {
                tasks.push(task.info());
                true
            });
        }
        tasks
    }

    /// Task `id`, if it runs in this runtime. Compares ids only: copies one task's info.
    /// Every task with what is known of its state and scopes.
    pub(crate) fn described_tasks(&self) -> Vec<(TaskInfo, crate::base::task::TaskDescription)> {
        let mut tasks: Vec<_> = self
            .main_task_info()
            .into_iter()
            .map(|main| {
                let description = crate::base::task::TaskDescription {
                    state: None,
                    scopes: Vec::new(),
                };
                (main, description)
            })
            .collect();
        for group in self.live_groups() {
            group.visit_tasks(&mut |task| {
                tasks.push((task.info(), task.describe()));
                true
            });
        }
        tasks
    }

    pub(crate) fn find(&self, id: u64) -> Option<TaskInfo> {
        if let Some(main) = self.main_task_info().filter(|main| main.id == id) {
            return Some(main);
        }
        let mut found = None;
        for group in self.live_groups() {
            group.visit_tasks(&mut |task| {
                if task.id() == id {
                    found = Some(task.info());
                }
                found.is_none()
            });
            if found.is_some() {
                break;
            }
        }
        found
    }

    /// Lists the activity counter of a thread that starts serving the runtime.
    pub(crate) fn add_activity_counter(&self, counter: Arc<ActivityCounter>) {
        lock(&self.activity).push(counter);
    }

    /// Forgets the counter of a thread that stopped serving the runtime.
    pub(crate) fn remove_activity_counter(&self, counter: &Arc<ActivityCounter>) {
        let mut counters = lock(&self.activity);
        if let Some(at) = counters.iter().position(|c| Arc::ptr_eq(c, counter)) {
            counters.swap_remove(at);
        }
    }

    /// Activity polls so far, summed over the runtime's threads, and whether a thread
    /// other than the calling one is in the middle of a poll.
    pub(crate) fn activity(&self) -> (u64, bool) {
        let counters = lock(&self.activity);
        let polls = counters
            .iter()
            .map(|c| c.polls())
            .fold(0, u64::wrapping_add);
        let others_busy = counters
            .iter()
            .any(|c| c.is_active() && !context::is_current_activity(c));
        (polls, others_busy)
    }
}
