//! Task handles (`TaskGroup::create_task`): AnyIO's TG-101..108, in Rust idiom.

mod common;

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyio::{ErrorKind, Lock, TaskState};
use common::cancel_points::cancel_at_every_suspension;
use common::*;
use futures_lite::FutureExt;

#[anyio::test(timeout = 10)]
async fn awaiting_a_handle_gives_the_value_and_the_state_follows() {
    anyio::task_group!(|tg| {
        let handle = tg.create_task(async {
            anyio::lowlevel::checkpoint().await;
            anyio::Result::Ok(6)
        });
        assert_eq!(handle.status(), TaskState::Pending);
        handle.wait().await;
        assert_eq!(handle.status(), TaskState::Finished);
        assert_eq!(handle.await.unwrap(), 6);
    })
    .unwrap();
}

#[anyio::test(timeout = 10)]
async fn a_result_child_gives_its_ok_value() {
    anyio::task_group!(|tg| {
        let handle = tg.create_task(async { anyio::Result::Ok(String::from("ok")) });
        assert_eq!(handle.await.unwrap(), "ok");
    })
    .unwrap();
}

#[anyio::test(timeout = 10)]
async fn a_failed_task_gives_task_failed_and_the_group_still_reports_the_error() {
    let mut seen = None;
    let result = anyio::task_group!(|tg| {
        let handle = tg.create_task(async {
            anyio::lowlevel::checkpoint().await;
            Err::<u32, _>(fail("disk full"))
        });
        let error = handle.await.unwrap_err();
        seen = Some((error.kind(), error.to_string()));
    });
    let (kind, message) = seen.expect("the body awaited the handle");
    assert_eq!(kind, ErrorKind::TaskFailed);
    assert!(message.contains("disk full"), "{message}");
    assert_eq!(result.unwrap_err().to_string(), "disk full");
}

#[anyio::test(timeout = 10)]
async fn wait_returns_without_error_when_the_task_failed() {
    let mut states = Vec::new();
    let result = anyio::task_group!(|tg| {
        let handle = tg.create_task(async { Err::<(), _>(fail("boom")) });
        states.push(handle.status());
        handle.wait().await;
        states.push(handle.status());
        handle.wait().await;
    });
    assert!(result.is_err());
    assert_eq!(states, [TaskState::Pending, TaskState::Failed]);
}

#[anyio::test(timeout = 10)]
async fn a_panicking_task_is_failed_and_the_panic_resumes_in_the_group() {
    let mut seen = None;
    let outcome = AssertUnwindSafe(async {
        anyio::task_group!(|tg| {
            let handle = tg.create_task(async {
                anyio::lowlevel::checkpoint().await;
                panic!("kaboom");
            });
            handle.wait().await;
            seen = Some(handle.status());
            let error = handle.await.unwrap_err();
            assert_eq!(error.kind(), ErrorKind::TaskFailed);
            assert!(error.to_string().contains("panicked"), "{error}");
        })
    })
    .catch_unwind()
    .await;
    assert_eq!(seen, Some(TaskState::Failed));
    let payload = outcome.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"kaboom"));
}

#[anyio::test(timeout = 10)]
async fn cancelling_a_handle_cancels_only_its_task() {
    let other_finished = flag();
    anyio::task_group!(|tg| {
        let other = other_finished.clone();
        tg.start_soon(async move {
            anyio::sleep(0.01).await;
            set(&other);
        });
        let handle = tg.create_task(anyio::sleep_forever());
        anyio::wait_all_tasks_blocked().await;
        handle.cancel();
        assert_eq!(handle.status(), TaskState::Cancelling);
        handle.wait().await;
        assert_eq!(handle.status(), TaskState::Cancelled);
        let error = handle.await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Cancelled);
    })
    .unwrap();
    assert!(
        is_set(&other_finished),
        "the group went on after the cancel"
    );
}

#[anyio::test(timeout = 10)]
async fn a_task_cancelled_right_after_creation_still_runs_to_its_first_checkpoint() {
    let (started, passed) = (AtomicUsize::new(0), AtomicUsize::new(0));
    anyio::task_group!(|tg| {
        let handle = tg.create_task(async {
            started.fetch_add(1, Ordering::SeqCst);
            anyio::lowlevel::checkpoint().await;
            passed.fetch_add(1, Ordering::SeqCst);
        });
        handle.cancel();
        assert_eq!(handle.status(), TaskState::Cancelling);
        assert_eq!(handle.await.unwrap_err().kind(), ErrorKind::Cancelled);
    })
    .unwrap();
    assert_eq!(started.load(Ordering::SeqCst), 1);
    assert_eq!(passed.load(Ordering::SeqCst), 0);
}

#[anyio::test(timeout = 10)]
async fn a_task_cancelled_with_its_group_is_cancelled() {
    let mut handle = None;
    anyio::task_group!(|tg| {
        let task = tg.create_task(anyio::sleep_forever());
        anyio::wait_all_tasks_blocked().await;
        assert_eq!(task.status(), TaskState::Pending);
        handle = Some(task);
        tg.cancel();
    })
    .unwrap();
    let handle = handle.unwrap();
    assert_eq!(handle.status(), TaskState::Cancelled);
    assert_eq!(handle.await.unwrap_err().kind(), ErrorKind::Cancelled);
}

#[anyio::test(timeout = 10)]
async fn cancel_after_the_end_changes_nothing() {
    anyio::task_group!(|tg| {
        let handle = tg.create_task(async { anyio::Result::Ok(1) });
        handle.wait().await;
        handle.cancel();
        assert_eq!(handle.status(), TaskState::Finished);
        assert_eq!(handle.await.unwrap(), 1);
    })
    .unwrap();
}

#[anyio::test(timeout = 10)]
async fn dropping_a_handle_does_not_cancel_its_task() {
    let finished = flag();
    anyio::task_group!(|tg| {
        let finished = finished.clone();
        drop(tg.create_task(async move {
            anyio::sleep(0.005).await;
            set(&finished);
        }));
    })
    .unwrap();
    assert!(is_set(&finished));
}

#[anyio::test(timeout = 10)]
async fn a_handle_can_be_awaited_by_another_child() {
    anyio::task_group!(|tg| {
        let handle = tg.create_task(async {
            anyio::sleep(0.001).await;
            anyio::Result::Ok(21)
        });
        let doubled = tg.create_task(async move { handle.await.map(|n| n * 2) });
        assert_eq!(doubled.await.unwrap(), 42);
    })
    .unwrap();
}

#[anyio::test(timeout = 10)]
async fn default_and_custom_names_are_the_tasks_own() {
    async fn compute() -> anyio::Result<String> {
        Ok(anyio::get_current_task().name)
    }
    anyio::task_group!(|tg| {
        let unnamed = tg.create_task(compute());
        let named = tg.create_task_named("custom name", compute());
        assert_eq!(named.name(), "custom name");
        let default_name = unnamed.name().to_owned();
        assert_eq!(unnamed.await.unwrap(), default_name);
        assert_eq!(named.await.unwrap(), "custom name");
    })
    .unwrap();
}

#[anyio::test(timeout = 10)]
async fn a_cancelled_lock_waiter_leaves_no_waiter_behind() {
    // SY-12: a waiter created with create_task, its handle cancelled, then the holder
    // releases: nobody is left waiting, and the lock can be taken again at once.
    let lock = Lock::new();
    anyio::task_group!(|tg| {
        let guard = lock.acquire().await?;
        let waiter = tg.create_task(async {
            let _guard = lock.acquire().await?;
            anyio::Result::Ok(())
        });
        anyio::wait_all_tasks_blocked().await;
        assert_eq!(lock.statistics().tasks_waiting, 1);
        waiter.cancel();
        drop(guard);
        waiter.wait().await;
        assert_eq!(lock.statistics().tasks_waiting, 0);
        let again = anyio::fail_after(3, lock.acquire()).await??;
        drop(again);
        anyio::Result::Ok(())
    })
    .unwrap()
    .unwrap();
}

#[anyio::test(timeout = 10)]
async fn creating_a_task_in_a_finished_group_panics_with_a_clear_message() {
    let group = anyio::TaskGroup::new();
    group.run(async {}).await.unwrap();
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
        let _ = group.create_task(async {});
    }));
    let payload = outcome.unwrap_err();
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(
        message.contains("finished") || message.contains("closed"),
        "{message}"
    );
}

#[anyio::test(timeout = 10)]
async fn awaiting_a_handle_cancelled_at_every_suspension_leaves_the_task_running() {
    cancel_at_every_suspension(20, |point| async move {
        let finished = AtomicUsize::new(0);
        let completed = anyio::task_group!(|tg| {
            let handle = tg.create_task(async {
                for _ in 0..3 {
                    anyio::lowlevel::checkpoint().await;
                }
                finished.fetch_add(1, Ordering::SeqCst);
                anyio::Result::Ok(7)
            });
            let joined = point.run(handle.into_future()).await;
            if let Some(value) = &joined {
                assert_eq!(value.as_ref().unwrap(), &7);
            }
            anyio::Result::Ok(joined.is_some())
        })
        .unwrap()
        .unwrap();
        // Cancelled or not, the await never stopped the task itself.
        assert_eq!(finished.load(Ordering::SeqCst), 1);
        completed
    })
    .await;
}

#[anyio::test(timeout = 10)]
async fn start_with_handle_gives_the_started_value_and_a_handle_on_the_child() {
    anyio::task_group!(|tg| {
        let (ready, handle) = tg
            .start_with_handle(|status: anyio::TaskStatus<&str>| async move {
                status.started("listening");
                anyio::lowlevel::checkpoint().await;
                anyio::Result::Ok(99)
            })
            .await?;
        assert_eq!(ready, "listening");
        assert_eq!(handle.await.unwrap(), 99);
        anyio::Result::Ok(())
    })
    .unwrap()
    .unwrap();
}

#[anyio::test(timeout = 10)]
async fn a_started_child_that_fails_later_fails_its_handle_and_its_group() {
    let mut status = None;
    let result = anyio::task_group!(|tg| {
        let ((), handle) = tg
            .start_named_with_handle("worker", |status: anyio::TaskStatus<()>| async move {
                status.started(());
                anyio::lowlevel::checkpoint().await;
                Err::<(), _>("worker crashed")
            })
            .await?;
        assert_eq!(handle.name(), "worker");
        handle.wait().await;
        status = Some(handle.status());
        anyio::Result::Ok(())
    });
    assert_eq!(status, Some(TaskState::Failed));
    assert_eq!(result.unwrap_err().to_string(), "worker crashed");
}

#[anyio::test(timeout = 10)]
async fn a_child_failing_before_started_fails_start_with_handle() {
    anyio::task_group!(|tg| {
        let error = tg
            .start_with_handle(|_status: anyio::TaskStatus<()>| async {
                Err::<(), _>("could not bind")
            })
            .await
            .unwrap_err();
        assert_eq!(error.to_string(), "could not bind");
    })
    .unwrap();
}

async fn handle_client() -> anyio::Result<String> {
    Ok(anyio::get_current_task().name)
}

#[anyio::test(timeout = 10)]
async fn default_names_read_as_the_function_that_made_the_task() {
    anyio::task_group!(|tg| {
        let from_fn = tg.create_task(handle_client());
        assert_eq!(from_fn.name(), "task_handles::handle_client");
        let from_block = tg.create_task(async { anyio::Result::Ok(()) });
        assert_eq!(
            from_block.name(),
            "task_handles::default_names_read_as_the_function_that_made_the_task"
        );
        let plain_future = tg.create_task(anyio::sleep(0.0));
        assert_eq!(plain_future.name(), "anyio::time::Sleep");
        assert_eq!(from_fn.await.unwrap(), "task_handles::handle_client");
    })
    .unwrap();
}
