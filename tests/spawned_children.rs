//! `spawn`ed children as executor tasks that report their own end to the group: the
//! cases the group's bookkeeping must get right without a handle on each child.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyio::{ErrorKind, TaskGroup};
use common::*;
use futures_lite::FutureExt;

#[anyio::test(timeout = 10, worker_threads = 1)]
async fn a_child_spawned_before_the_group_runs_starts_with_the_run() {
    let ran = flag();
    let group = TaskGroup::new();
    let child_ran = ran.clone();
    group.spawn(async move { set(&child_ran) });
    for _ in 0..20 {
        anyio::sleep(0.001).await;
    }
    assert!(!is_set(&ran), "a spawned child ran before its group");
    group.run(async {}).await.unwrap();
    assert!(is_set(&ran));
}

#[anyio::test(timeout = 10, worker_threads = 1)]
async fn a_child_spawned_before_the_run_is_cancelled_with_the_enclosing_scope() {
    let dropped = flag();
    let guard = dropped.clone();
    let group = TaskGroup::new();
    group.spawn(async move {
        let _guard = DropFlag(guard);
        anyio::sleep_forever().await;
    });
    let result = anyio::move_on_after(0.01, group.run(async {})).await;
    assert!(result.is_none());
    assert!(is_set(&dropped));
}

#[anyio::test(timeout = 10, worker_threads = 1)]
async fn dropping_a_group_run_from_outside_drops_its_spawned_children() {
    let dropped = flag();
    let guard = dropped.clone();
    let started = flag();
    let child_started = started.clone();
    let group = TaskGroup::new();
    let tg = &group;
    let run = group.run(async move {
        tg.spawn(async move {
            let _guard = DropFlag(guard);
            set(&child_started);
            anyio::sleep_forever().await;
        });
        anyio::sleep_forever().await;
    });
    // A foreign `or` drops the run future when the other side wins: no cancel scope.
    let stop = async {
        while !is_set(&started) {
            anyio::sleep(0.001).await;
        }
        Ok(None)
    };
    run.or(stop).await.unwrap();
    // The child is on a worker thread: it drops its future at its next poll, which the
    // group's closing wakes.
    while !is_set(&dropped) {
        anyio::sleep(0.001).await;
    }
}

#[anyio::test(timeout = 10, worker_threads = 2)]
async fn failures_of_many_spawned_children_are_all_reported() {
    let err = anyio::task_group!(|tg| {
        for _ in 0..3 {
            tg.spawn(async { Err::<(), _>(fail("remote")) });
        }
    })
    .unwrap_err();
    // Each child fails at its first poll, before the group's cancel can reach the
    // others: one, two or three may fail, and each one that did is reported.
    match err.kind() {
        ErrorKind::Group => {
            assert!(err.errors().all(|e| e.to_string() == "remote"));
        }
        _ => assert_eq!(err.to_string(), "remote"),
    }
}

#[anyio::test(timeout = 30, worker_threads = 2)]
async fn the_group_waits_for_every_spawned_child_and_lists_none_after() {
    let done = Arc::new(AtomicUsize::new(0));
    for _ in 0..20 {
        anyio::task_group!(|tg| {
            for i in 0..500 {
                let done = done.clone();
                tg.spawn(async move {
                    if i % 2 == 0 {
                        anyio::lowlevel::checkpoint().await;
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                });
            }
        })
        .unwrap();
    }
    assert_eq!(done.load(Ordering::Relaxed), 20 * 500);
    assert_eq!(
        anyio::get_running_tasks().len(),
        1,
        "only the main task is left"
    );
}

#[anyio::test(timeout = 10, worker_threads = 1)]
async fn a_child_spawned_into_a_cancelled_group_stops_at_its_first_checkpoint() {
    // As in Trio and AnyIO: it starts, and the cancel is delivered at its first checkpoint.
    let (started, passed) = (flag(), flag());
    let (child_started, child_passed) = (started.clone(), passed.clone());
    let result = anyio::task_group!(|tg| {
        tg.cancel();
        tg.spawn(async move {
            set(&child_started);
            anyio::lowlevel::checkpoint().await;
            set(&child_passed);
        });
    });
    assert_eq!(result.unwrap(), Some(()));
    assert!(is_set(&started));
    assert!(
        !is_set(&passed),
        "the child went past a checkpoint in a cancelled group"
    );
}

/// A group's run future is dropped from outside (here by `or`) just before the runtime
/// is dropped, while its spawned child waits on something that holds the child's own
/// waker (an event the child owns): dropping the runtime still drops the child's future,
/// rather than leaving the child and its waker keeping each other alive.
fn spawned_child_is_dropped_with_its_runtime(waits_on_itself: bool) -> bool {
    let dropped = flag();
    let runtime = anyio::Runtime::builder().worker_threads(1).build().unwrap();
    let guard = dropped.clone();
    runtime.block_on(async move {
        let started = flag();
        let child_started = started.clone();
        let group = TaskGroup::new();
        let tg = &group;
        let run = group.run(async move {
            tg.spawn(async move {
                let _guard = DropFlag(guard);
                set(&child_started);
                if waits_on_itself {
                    anyio::Event::new().wait().await;
                } else {
                    anyio::sleep_forever().await;
                }
            });
            anyio::sleep_forever().await;
        });
        let stop = async {
            while !is_set(&started) {
                anyio::sleep(0.001).await;
            }
            Ok(None)
        };
        run.or(stop).await.unwrap();
    });
    drop(runtime);
    is_set(&dropped)
}

#[test]
fn a_waiting_spawned_child_is_dropped_when_its_runtime_is() {
    for _ in 0..20 {
        assert!(spawned_child_is_dropped_with_its_runtime(false));
        assert!(
            spawned_child_is_dropped_with_its_runtime(true),
            "a child waiting on its own waker leaked"
        );
    }
}
