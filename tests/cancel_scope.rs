//! Cancel scopes: cancellation by hand, delivery by drop, and who catches it.

mod common;

use std::future::pending;
use std::time::Duration;

use anyio::{CancelScope, lowlevel};
use common::*;

#[anyio::test(timeout = 10)]
async fn cancel_before_entering_scope_cancels_at_first_checkpoint() {
    let scope = CancelScope::new();
    scope.cancel();
    let reached = flag();
    let result = scope
        .run(async {
            set(&reached); // runs: no checkpoint yet
            anyio::sleep(1).await;
            unreachable!("the sleep is a checkpoint in a cancelled scope");
        })
        .await;
    assert_eq!(result, None::<()>);
    assert!(is_set(&reached));
    assert!(scope.cancel_called() && scope.cancelled_caught());
}

#[anyio::test(timeout = 10)]
async fn cancel_from_another_task_interrupts_a_sleep() {
    let scope = CancelScope::new();
    let result = anyio::task_group!(|tg| {
        let handle = scope.clone();
        tg.start_soon(async move {
            anyio::wait_all_tasks_blocked().await;
            handle.cancel();
        });
        anyio::Result::Ok(scope.run(anyio::sleep(30)).await)
    })
    .unwrap();
    assert_eq!(result, Some(None));
    assert!(scope.cancelled_caught());
}

#[anyio::test(timeout = 10)]
async fn cancel_from_another_thread_interrupts_a_sleep() {
    let scope = CancelScope::new();
    let handle = scope.clone();
    let thread = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        handle.cancel();
    });
    assert_eq!(scope.run(anyio::sleep_forever()).await, None);
    thread.join().unwrap();
    assert!(scope.cancelled_caught());
}

#[anyio::test(timeout = 10)]
async fn code_after_an_inner_scope_does_not_run_when_only_the_outer_is_cancelled() {
    let outer = CancelScope::new();
    let inner = CancelScope::new();
    let after_inner = flag();
    let handle = outer.clone();
    let result = outer
        .run(async {
            inner
                .run(async {
                    handle.cancel();
                    anyio::sleep(10).await;
                })
                .await;
            set(&after_inner);
        })
        .await;
    assert_eq!(result, None);
    assert!(!is_set(&after_inner));
    assert!(outer.cancelled_caught());
    assert!(!inner.cancel_called() && !inner.cancelled_caught());
}

#[anyio::test(timeout = 10)]
async fn a_cancelled_scope_without_a_checkpoint_does_not_catch() {
    let scope = CancelScope::new();
    let result = scope
        .run(async {
            scope.cancel();
            5
        })
        .await;
    assert_eq!(result, Some(5));
    assert!(scope.cancel_called());
    assert!(!scope.cancelled_caught());
}

#[anyio::test(timeout = 10)]
async fn the_outermost_cancelled_scope_catches_the_cancellation() {
    let outer = CancelScope::new();
    let inner = CancelScope::new();
    outer.cancel();
    inner.cancel();
    let result = outer.run(inner.run(anyio::sleep_forever())).await;
    assert_eq!(result, None);
    assert!(outer.cancelled_caught());
    assert!(!inner.cancelled_caught());
}

#[anyio::test(timeout = 10)]
async fn a_shielded_inner_scope_catches_its_own_cancellation() {
    let outer = CancelScope::new();
    let inner = CancelScope::shielded();
    let between = flag();
    outer.cancel();
    let result = outer
        .run(async {
            let caught = inner
                .run(async {
                    inner.cancel();
                    anyio::sleep_forever().await;
                })
                .await;
            set(&between); // no checkpoint between the scopes
            caught
        })
        .await;
    assert_eq!(result, Some(None));
    assert!(is_set(&between));
    assert!(inner.cancelled_caught());
    assert!(!outer.cancelled_caught());
}

#[anyio::test(timeout = 10)]
async fn cancelling_after_the_body_finished_does_nothing() {
    let scope = CancelScope::new();
    assert_eq!(scope.run(async { 1 }).await, Some(1));
    scope.cancel();
    assert!(scope.cancel_called());
    assert!(!scope.cancelled_caught());
    lowlevel::checkpoint().await; // no stale cancellation outside the scope
}

#[anyio::test(timeout = 10)]
async fn a_checkpoint_after_a_timed_out_scope_does_not_cancel() {
    assert_eq!(anyio::move_on_after(0.01, anyio::sleep(1)).await, None);
    lowlevel::checkpoint().await;
    anyio::sleep(0).await;
}

#[anyio::test(timeout = 10)]
async fn a_foreign_future_is_dropped_at_its_next_suspension() {
    let dropped = flag();
    let scope = CancelScope::new();
    let guard_flag = dropped.clone();
    let handle = scope.clone();
    let result = anyio::task_group!(|tg| {
        tg.start_soon(async move {
            anyio::wait_all_tasks_blocked().await;
            handle.cancel();
        });
        scope
            .run(async move {
                let _guard = DropFlag(guard_flag);
                pending::<()>().await; // knows nothing about anyio
            })
            .await;
        anyio::Result::Ok(scope.cancelled_caught())
    })
    .unwrap();
    assert_eq!(result, Some(true));
    assert!(is_set(&dropped));
}

#[anyio::test(timeout = 10)]
async fn a_body_that_cancels_its_own_scope_and_waits_does_not_hang() {
    let scope = CancelScope::new();
    let result = scope
        .run(async {
            scope.cancel();
            pending::<()>().await;
        })
        .await;
    assert_eq!(result, None);
}

#[anyio::test(timeout = 10)]
async fn entering_a_scope_twice_panics() {
    use futures_lite::FutureExt;
    let scope = CancelScope::new();
    scope.run(async {}).await;
    let second = std::panic::AssertUnwindSafe(scope.run(async {}))
        .catch_unwind()
        .await;
    let message = second.unwrap_err();
    let text = message.downcast_ref::<&str>().copied().unwrap_or_default();
    assert!(text.contains("entered twice"), "{text}");
}

#[anyio::test(timeout = 10)]
async fn cancel_with_reason_records_the_reason_and_task() {
    let scope = CancelScope::new();
    scope.cancel_with_reason("shutting down");
    let reason = scope.cancel_reason().unwrap();
    assert!(reason.contains("shutting down"), "{reason}");
    assert!(reason.contains("main"), "{reason}");
    assert_eq!(scope.run(anyio::sleep(1)).await, None);
}

#[anyio::test(timeout = 10)]
async fn cancelling_a_childs_scope_does_not_affect_the_host() {
    let child_scope = CancelScope::new();
    let result = anyio::task_group!(|tg| {
        let scope = child_scope.clone();
        tg.start_soon(async move {
            scope.run(anyio::sleep(10)).await;
        });
        anyio::wait_all_tasks_blocked().await;
        child_scope.cancel();
        anyio::sleep(0.01).await;
        anyio::Result::Ok(tg.cancel_scope().cancel_called())
    })
    .unwrap();
    assert_eq!(result, Some(false));
    assert!(child_scope.cancelled_caught());
}

#[anyio::test(timeout = 10)]
async fn cancellation_is_level_triggered_for_every_checkpoint() {
    let scope = CancelScope::new();
    scope.cancel();
    let shielded_passes = counter();
    scope
        .run(async {
            // Shielded work is not interrupted, again and again.
            for _ in 0..3 {
                lowlevel::cancel_shielded_checkpoint().await;
                bump(&shielded_passes);
            }
            assert!(lowlevel::is_cancelled());
            lowlevel::checkpoint_if_cancelled().await;
            unreachable!();
        })
        .await;
    assert_eq!(count(&shielded_passes), 3);
    assert!(scope.cancelled_caught());
}

#[anyio::test(timeout = 10)]
async fn a_scope_can_be_cancelled_from_its_own_body_and_reports_it() {
    let scope = CancelScope::new();
    let handle = scope.clone();
    let result = scope
        .run(async move {
            anyio::sleep(0).await;
            handle.cancel();
            anyio::sleep(0).await;
            1
        })
        .await;
    assert_eq!(result, None);
    assert!(format!("{scope:?}").contains("cancelled_caught: true"));
}
