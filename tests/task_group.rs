//! Task groups: lifecycle, errors, cancellation, start, spawn, panics.

mod common;

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyio::{CancelScope, ErrorKind, TaskGroup};
use common::*;
use futures_lite::FutureExt;

#[anyio::test(timeout = 10)]
async fn the_group_waits_for_every_child() {
    let values = Mutex::new(Vec::new());
    anyio::task_group!(|tg| {
        for i in 0..2 {
            let values = &values;
            tg.start_soon(async move {
                anyio::sleep(0.01).await;
                values.lock().unwrap().push(i);
            });
        }
    })
    .unwrap();
    let mut values = values.into_inner().unwrap();
    values.sort();
    assert_eq!(values, [0, 1]);
}

#[anyio::test(timeout = 10)]
async fn a_child_may_start_more_children_into_its_own_group() {
    let grandchild_done = flag();
    anyio::task_group!(|tg| {
        tg.start_soon(async {
            tg.start_soon(async {
                anyio::sleep(0.01).await;
                set(&grandchild_done);
            });
        });
    })
    .unwrap();
    assert!(is_set(&grandchild_done));
}

#[anyio::test(timeout = 10)]
async fn the_body_value_comes_back_in_some() {
    let value = anyio::task_group!(|tg| {
        tg.start_soon(anyio::sleep(0.001));
        anyio::Result::Ok(42)
    })
    .unwrap();
    assert_eq!(value, Some(42));
}

#[anyio::test(timeout = 10)]
async fn starting_a_task_in_a_finished_group_is_an_error() {
    let group = TaskGroup::new();
    group.run(async {}).await.unwrap();
    let err = group.try_start_soon(async {}).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ClosedResource);
    assert!(err.to_string().contains("not active"), "{err}");
    let err = group
        .start(|s| async move { s.started(()) })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ClosedResource);
    let panic = std::panic::catch_unwind(AssertUnwindSafe(|| group.start_soon(async {})));
    assert!(panic.is_err());
}

#[anyio::test(timeout = 10)]
async fn starting_a_task_after_the_body_failed_is_an_error() {
    let group = TaskGroup::new();
    let err = group
        .run(async { Err::<(), _>(fail("division")) })
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "division");
    assert!(group.try_start_soon(async {}).is_err());
}

#[anyio::test(timeout = 10)]
async fn running_a_group_twice_panics() {
    let group = TaskGroup::new();
    group.run(async {}).await.unwrap();
    let second = AssertUnwindSafe(group.run(async {})).catch_unwind().await;
    assert!(second.is_err());
}

#[anyio::test(timeout = 10)]
async fn a_failing_body_cancels_the_children() {
    let child_completed = flag();
    let err = anyio::task_group!(|tg| {
        tg.start_soon(async {
            anyio::sleep(3).await;
            set(&child_completed);
        });
        anyio::wait_all_tasks_blocked().await;
        Err::<(), _>(fail("dummy error"))
    })
    .unwrap_err();
    assert_eq!(err.to_string(), "dummy error");
    assert_eq!(err.errors().count(), 1);
    assert!(!is_set(&child_completed));
}

#[anyio::test(timeout = 10)]
async fn a_failing_child_cancels_the_sleeping_body_and_the_siblings() {
    let body_finished = flag();
    let sibling_finished = flag();
    let started = Instant::now();
    let err = anyio::task_group!(|tg| {
        tg.start_soon(async {
            anyio::sleep(5).await;
            set(&sibling_finished);
        });
        tg.start_soon(async {
            anyio::wait_all_tasks_blocked().await;
            Err::<(), _>(fail("foo"))
        });
        anyio::sleep(5).await;
        set(&body_finished);
    })
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Other);
    assert_eq!(err.to_string(), "foo");
    assert!(!is_set(&body_finished) && !is_set(&sibling_finished));
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[anyio::test(timeout = 10)]
async fn two_failing_children_are_both_reported() {
    let err = anyio::task_group!(|tg| {
        tg.start_soon(async {
            anyio::sleep(0.01).await;
            Err::<(), _>(fail("task1"))
        });
        tg.start_soon(async {
            // Shielded, so that the first failure does not cancel it before it fails.
            CancelScope::shielded().run(anyio::sleep(0.05)).await;
            Err::<(), _>(fail("task2"))
        });
    })
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Group);
    let mut messages: Vec<_> = err.errors().map(|e| e.to_string()).collect();
    messages.sort();
    assert_eq!(messages, ["task1", "task2"]);
}

#[anyio::test(timeout = 10)]
async fn a_failure_of_the_body_and_of_a_child_are_both_reported() {
    let err = anyio::task_group!(|tg| {
        tg.start_soon(async { Err::<(), _>(fail("child")) });
        // The child fails first; this body fails during its own cleanup.
        anyio::with_cleanup(
            async {
                anyio::sleep(2).await;
                anyio::Result::Ok(())
            },
            async {},
        )
        .await?;
        Err::<(), _>(fail("host"))
    })
    .unwrap_err();
    // The body was cancelled (not failed) by the child's failure: one error.
    assert_eq!(err.to_string(), "child");

    let err = anyio::task_group!(|tg| {
        tg.start_soon(async {
            anyio::sleep(0.01).await;
            Err::<(), _>(fail("child"))
        });
        Err::<(), _>(fail("host"))
    })
    .unwrap_err();
    // The child is cancelled by the host's failure before it fails itself.
    assert_eq!(err.to_string(), "host");
}

#[anyio::test(timeout = 10)]
async fn nested_group_errors_stay_nested_and_cancellations_are_filtered() {
    let err = anyio::task_group!(|outer| {
        outer.start_soon(async {
            anyio::task_group!(|inner| {
                inner.start_soon(async {
                    anyio::wait_all_tasks_blocked().await;
                    Err::<(), _>(fail("child task failed"))
                });
                inner.start_soon(async {
                    CancelScope::shielded().run(anyio::sleep(0.02)).await;
                    Err::<(), _>(fail("second child failed"))
                });
                anyio::sleep(1).await;
            })
        });
        outer.start_soon(async {
            CancelScope::shielded().run(anyio::sleep(0.05)).await;
            Err::<(), _>(fail("parent task failed"))
        });
    })
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Group);
    assert_eq!(err.group_members().len(), 2);
    assert!(
        err.group_members()
            .iter()
            .any(|e| e.kind() == ErrorKind::Group)
    );
    assert_eq!(err.errors().count(), 3);
}

#[anyio::test(timeout = 10)]
async fn cancelling_the_group_is_not_a_failure() {
    let result = anyio::task_group!(|tg| {
        tg.start_soon(anyio::sleep(10));
        tg.start_soon(anyio::sleep_forever());
        anyio::wait_all_tasks_blocked().await;
        tg.cancel();
        anyio::sleep(10).await;
    });
    assert_eq!(result.unwrap(), None);
}

#[anyio::test(timeout = 10)]
async fn the_group_catches_its_own_cancellation() {
    let group = TaskGroup::new();
    let tg = &group;
    let result = group
        .run(async {
            tg.cancel();
            anyio::lowlevel::checkpoint().await;
        })
        .await
        .unwrap();
    assert_eq!(result, None);
    assert!(tg.cancel_scope().cancelled_caught());
}

#[anyio::test(timeout = 10)]
async fn a_child_of_a_cancelled_group_runs_until_its_first_checkpoint() {
    let reached = flag();
    let past_checkpoint = flag();
    anyio::task_group!(|tg| {
        tg.start_soon(async {
            set(&reached);
            anyio::lowlevel::checkpoint().await;
            set(&past_checkpoint);
        });
        tg.cancel();
    })
    .unwrap();
    assert!(is_set(&reached));
    assert!(!is_set(&past_checkpoint));
}

#[anyio::test(timeout = 10)]
async fn a_group_can_be_cancelled_twice_in_a_row() {
    for _ in 0..2 {
        let host_finished = flag();
        anyio::task_group!(|tg| {
            tg.start_soon(async {
                anyio::wait_all_tasks_blocked().await;
                tg.cancel();
            });
            anyio::sleep(1).await;
            set(&host_finished);
        })
        .unwrap();
        assert!(!is_set(&host_finished));
    }
}

#[anyio::test(timeout = 10)]
async fn cancelling_a_group_cancels_nested_groups_and_code_after_them_never_runs() {
    let after_nested = flag();
    let started = Instant::now();
    anyio::task_group!(|tg| {
        tg.start_soon(async {
            anyio::task_group!(|inner| {
                inner.start_soon(anyio::sleep(10));
                anyio::sleep(10).await;
            })
            .unwrap();
            set(&after_nested);
        });
        anyio::wait_all_tasks_blocked().await;
        tg.cancel();
    })
    .unwrap();
    assert!(!is_set(&after_nested));
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[anyio::test(timeout = 10)]
async fn an_empty_group_in_a_cancelled_scope_completes_without_cancelling() {
    let scope = CancelScope::new();
    scope.cancel();
    let after = flag();
    scope
        .run(async {
            let result = anyio::task_group!(|_tg| {});
            assert_eq!(result.unwrap(), Some(()));
            set(&after);
        })
        .await;
    assert!(is_set(&after));
    assert!(!scope.cancelled_caught());
}

#[anyio::test(timeout = 10)]
async fn no_child_outlives_a_group_cancelled_by_an_outer_scope() {
    let child_alive = Arc::new(AtomicUsize::new(0));
    let shielded_child_done = flag();
    let result = anyio::move_on_after(0.02, async {
        anyio::task_group!(|tg| {
            let alive = child_alive.clone();
            tg.start_soon(async move {
                alive.fetch_add(1, Ordering::SeqCst);
                let _guard = Decrement(alive);
                anyio::sleep_forever().await;
            });
            tg.start_soon(async {
                CancelScope::shielded()
                    .run(async {
                        anyio::sleep(0.05).await;
                        set(&shielded_child_done);
                    })
                    .await;
            });
            anyio::sleep_forever().await;
        })
        .unwrap();
        unreachable!("code after a cancelled group does not run");
    })
    .await;
    assert_eq!(result, None);
    // The outer scope waited for the shielded child, and dropped the other.
    assert!(is_set(&shielded_child_done));
    assert_eq!(child_alive.load(Ordering::SeqCst), 0);
}

struct Decrement(Arc<AtomicUsize>);
impl Drop for Decrement {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[anyio::test(timeout = 10)]
async fn dropping_the_group_future_from_outside_drops_every_child() {
    let dropped = flag();
    let guard = dropped.clone();
    let group = TaskGroup::new();
    let tg = &group;
    let raced = group
        .run(async {
            tg.start_soon(async move {
                let _guard = DropFlag(guard);
                anyio::sleep_forever().await;
            });
            anyio::sleep_forever().await;
        })
        .or(async {
            anyio::sleep(0.02).await;
            Ok(Some(()))
        })
        .await;
    assert!(raced.is_ok());
    assert!(is_set(&dropped));
    assert!(group.try_start_soon(async {}).is_err());
}

#[anyio::test(timeout = 10)]
async fn a_child_failure_is_reported_even_while_an_outer_scope_is_cancelled() {
    let outer = CancelScope::new();
    let result = outer
        .run(async {
            anyio::task_group!(|tg| {
                tg.start_soon(async {
                    anyio::wait_all_tasks_blocked().await;
                    outer.cancel();
                    CancelScope::shielded().run(anyio::sleep(0.01)).await;
                    Err::<(), _>(fail("lost?"))
                });
                anyio::sleep_forever().await;
            })
        })
        .await;
    let err = result.unwrap().unwrap_err();
    assert_eq!(err.to_string(), "lost?");
}

#[anyio::test(timeout = 10)]
async fn start_returns_the_value_passed_to_started() {
    anyio::task_group!(|tg| {
        let value = tg
            .start(|status| async move {
                status.started("foo");
                anyio::sleep(0.001).await;
            })
            .await?;
        assert_eq!(value, "foo");
        tg.start(|status| async move { status.started(()) }).await?;
        anyio::Result::Ok(())
    })
    .unwrap();
}

#[anyio::test(timeout = 10)]
async fn start_errors_when_the_child_ends_without_calling_started() {
    let result = anyio::task_group!(|tg| {
        let err = tg
            .start(|_status: anyio::TaskStatus<()>| async {})
            .await
            .unwrap_err();
        assert!(err.to_string().contains("without calling started"), "{err}");
        anyio::Result::Ok(())
    });
    assert!(result.is_ok());
}

#[anyio::test(timeout = 10)]
async fn start_returns_the_childs_error_unwrapped_and_the_group_does_not_repeat_it() {
    let result = anyio::task_group!(|tg| {
        let err = tg
            .start(|_status: anyio::TaskStatus<u8>| async {
                anyio::sleep(0.001).await;
                Err::<(), _>(fail("foo"))
            })
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "foo");
        anyio::Result::Ok(())
    });
    assert_eq!(result.unwrap(), Some(()));
}

#[anyio::test(timeout = 10)]
async fn a_failure_after_started_is_reported_by_the_group() {
    let err = anyio::task_group!(|tg| {
        let value = tg
            .start(|status| async move {
                status.started(2);
                anyio::sleep(0.001).await;
                Err::<(), _>(fail("foo"))
            })
            .await?;
        assert_eq!(value, 2);
        anyio::Result::Ok(())
    })
    .unwrap_err();
    assert_eq!(err.to_string(), "foo");
}

#[anyio::test(timeout = 10)]
async fn cancelling_the_caller_of_start_cancels_the_child_but_not_the_group() {
    let child_finished = flag();
    let group_cancelled = anyio::task_group!(|tg| {
        let caller = CancelScope::new();
        caller.cancel();
        let r = caller
            .run(tg.start(|_status: anyio::TaskStatus<()>| async {
                anyio::sleep(1).await;
                set(&child_finished);
            }))
            .await;
        assert!(r.is_none());
        anyio::Result::Ok(tg.cancel_scope().cancel_called())
    })
    .unwrap();
    assert_eq!(group_cancelled, Some(false));
    assert!(!is_set(&child_finished));
}

#[anyio::test(timeout = 10)]
async fn start_reports_cancelled_when_the_target_group_is_cancelled_first() {
    anyio::task_group!(|outer| {
        outer.start_soon(async {
            anyio::wait_all_tasks_blocked().await;
            outer.cancel_scope().cancel_with_reason("maintenance");
        });
        let err = anyio::task_group!(|_inner| {
            let r = CancelScope::shielded()
                .run(outer.start(|_status: anyio::TaskStatus<()>| async {
                    anyio::sleep(5).await;
                }))
                .await;
            anyio::Result::Ok(r)
        });
        // The child was cancelled by its group before it reported readiness.
        let started = err.unwrap().unwrap().unwrap();
        let err = started.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Cancelled);
        // The reason and the task that cancelled are in the message.
        let message = err.to_string();
        assert!(
            message.contains("maintenance") && message.contains("cancelled by task"),
            "{message}"
        );
    })
    .unwrap();
}

#[anyio::test(timeout = 10, worker_threads = 2)]
async fn a_spawned_child_on_another_thread_is_cancelled_by_its_group() {
    let dropped = flag();
    let thread_seen = Arc::new(Mutex::new(None));
    let result = anyio::task_group!(|tg| {
        let dropped = dropped.clone();
        let seen = thread_seen.clone();
        tg.spawn(async move {
            *seen.lock().unwrap() = Some(std::thread::current().id());
            let _guard = DropFlag(dropped);
            anyio::sleep_forever().await;
        });
        while thread_seen.lock().unwrap().is_none() {
            anyio::sleep(0.001).await;
        }
        tg.cancel();
    });
    assert_eq!(result.unwrap(), Some(()));
    assert!(is_set(&dropped));
}

#[anyio::test(timeout = 10, worker_threads = 2)]
async fn a_spawned_child_failure_cancels_the_body() {
    let err = anyio::task_group!(|tg| {
        tg.spawn(async {
            anyio::sleep(0.01).await;
            Err::<(), _>(fail("remote"))
        });
        anyio::sleep(10).await;
    })
    .unwrap_err();
    assert_eq!(err.to_string(), "remote");
}

#[anyio::test(timeout = 10, worker_threads = 2)]
async fn spawned_children_see_the_group_scope_and_its_deadline() {
    let result = anyio::move_on_after(0.02, async {
        anyio::task_group!(|tg| {
            tg.spawn(async {
                assert!(anyio::current_effective_deadline().is_some());
                anyio::sleep(10).await;
            });
        })
    })
    .await;
    assert!(result.is_none());
}

#[anyio::test(timeout = 10)]
async fn a_panicking_child_repanics_in_the_caller_after_the_siblings_stopped() {
    let sibling_dropped = flag();
    let guard = sibling_dropped.clone();
    let seen_at_panic = Arc::new(Mutex::new(None));
    let outcome = AssertUnwindSafe(async {
        anyio::task_group!(|tg| {
            tg.start_soon(async move {
                let _guard = DropFlag(guard);
                anyio::sleep_forever().await;
            });
            tg.start_soon(async {
                anyio::wait_all_tasks_blocked().await;
                panic!("boom");
            });
        })
    })
    .catch_unwind()
    .await;
    *seen_at_panic.lock().unwrap() = Some(is_set(&sibling_dropped));
    let payload = outcome.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom"));
    assert_eq!(*seen_at_panic.lock().unwrap(), Some(true));
}

#[anyio::test(timeout = 10, worker_threads = 1)]
async fn a_panicking_spawned_child_repanics_in_the_caller() {
    let outcome = AssertUnwindSafe(async {
        anyio::task_group!(|tg| {
            tg.spawn(async {
                panic!("remote boom");
            });
            anyio::sleep(5).await;
        })
    })
    .catch_unwind()
    .await;
    let payload = outcome.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"remote boom"));
}

#[anyio::test(timeout = 30)]
async fn ten_thousand_children_complete() {
    let done = AtomicUsize::new(0);
    anyio::task_group!(|tg| {
        for _ in 0..10_000 {
            let done = &done;
            tg.start_soon(async move {
                anyio::lowlevel::checkpoint().await;
                done.fetch_add(1, Ordering::Relaxed);
            });
        }
    })
    .unwrap();
    assert_eq!(done.load(Ordering::Relaxed), 10_000);
}

#[anyio::test(timeout = 10)]
async fn a_group_is_send_and_can_live_inside_a_spawned_task() {
    fn assert_send<T: Send>(_: &T) {}
    anyio::task_group!(|outer| {
        let inner_work = async {
            anyio::task_group!(|tg| {
                tg.start_soon(anyio::sleep(0.001));
            })
        };
        assert_send(&inner_work);
        outer.spawn(async {
            anyio::task_group!(|tg| {
                tg.start_soon(anyio::sleep(0.001));
            })
            .map(|_| ())
        });
    })
    .unwrap();
}

#[test]
fn a_group_works_under_a_foreign_executor_with_start_soon() {
    let done = Arc::new(AtomicUsize::new(0));
    let result = futures_lite::future::block_on(async {
        anyio::task_group!(|tg| {
            let done = &done;
            tg.start_soon(async move {
                anyio::lowlevel::checkpoint().await;
                done.fetch_add(1, Ordering::SeqCst);
            });
            assert!(tg.try_spawn_named("x", async {}).is_err());
        })
    });
    assert!(result.is_ok());
    assert_eq!(done.load(Ordering::SeqCst), 1);
}

#[anyio::test(timeout = 10)]
async fn an_exiting_group_waiting_for_children_is_cancelled_promptly() {
    let waiter_cleaned = flag();
    let started = Instant::now();
    let outer = CancelScope::new();
    outer
        .run(async {
            anyio::task_group!(|tg| {
                tg.start_soon(async {
                    anyio::task_group!(|sub| {
                        sub.start_soon(async {
                            anyio::with_cleanup(
                                async {
                                    anyio::sleep(5).await;
                                    anyio::Result::Ok(())
                                },
                                async { set(&waiter_cleaned) },
                            )
                            .await
                        });
                    })
                });
                tg.start_soon(async {
                    anyio::wait_all_tasks_blocked().await;
                    outer.cancel();
                });
            })
        })
        .await;
    assert!(is_set(&waiter_cleaned));
    assert!(outer.cancelled_caught());
    assert!(started.elapsed() < Duration::from_secs(4));
}
