//! Deadlines: fail_after, move_on_after, their absolute forms, and moving deadlines.

mod common;

use std::time::{Duration, Instant};

use anyio::{CancelScope, ErrorKind};
use common::*;

#[anyio::test(timeout = 10)]
async fn fail_after_returns_the_value_of_a_body_that_finishes_in_time() {
    let value = anyio::fail_after(5, async {
        anyio::sleep(0.001).await;
        "done"
    })
    .await
    .unwrap();
    assert_eq!(value, "done");
}

#[anyio::test(timeout = 10)]
async fn fail_after_reports_a_timeout_naming_the_task_and_limit() {
    let after = flag();
    let err = anyio::fail_after(Duration::from_millis(10), async {
        anyio::sleep(5).await;
        set(&after);
    })
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    let message = err.to_string();
    assert!(
        message.contains("main") && message.contains("10ms"),
        "{message}"
    );
    assert!(!is_set(&after));
}

#[anyio::test(timeout = 10)]
async fn fail_after_zero_times_out_at_the_first_checkpoint() {
    let err = anyio::fail_after(0, anyio::lowlevel::checkpoint())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
}

#[anyio::test(timeout = 10)]
async fn fail_after_none_never_times_out() {
    // The test's own `timeout` is the only deadline in effect, inside and outside.
    let outside = anyio::current_effective_deadline();
    let value = anyio::fail_after(None::<f64>, async {
        assert_eq!(anyio::current_effective_deadline(), outside);
        anyio::sleep(0.01).await;
        1
    })
    .await
    .unwrap();
    assert_eq!(value, 1);
}

#[anyio::test(timeout = 10)]
async fn move_on_after_cuts_the_body_short_without_an_error() {
    let rest = flag();
    let result = anyio::move_on_after(0.01, async {
        anyio::sleep(1).await;
        set(&rest);
    })
    .await;
    assert_eq!(result, None);
    assert!(!is_set(&rest));
}

#[anyio::test(timeout = 10)]
async fn move_on_after_with_infinite_delay_completes() {
    assert_eq!(
        anyio::move_on_after(f64::INFINITY, async { 2 }).await,
        Some(2)
    );
}

#[anyio::test(timeout = 10)]
async fn nested_deadlines_use_the_earliest_and_the_outer_scope_catches() {
    let inner_rest = flag();
    let outer_rest = flag();
    let started = Instant::now();
    let result = anyio::move_on_after(0.05, async {
        let outer_deadline = anyio::current_effective_deadline().unwrap();
        anyio::move_on_after(10, async {
            assert_eq!(anyio::current_effective_deadline(), Some(outer_deadline));
            anyio::sleep(2).await;
            set(&inner_rest);
        })
        .await;
        set(&outer_rest);
    })
    .await;
    assert_eq!(result, None);
    assert!(!is_set(&inner_rest) && !is_set(&outer_rest));
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[anyio::test(timeout = 10)]
async fn a_deadline_moved_later_lets_the_body_finish() {
    let scope = CancelScope::with_deadline(Instant::now() + Duration::from_millis(20));
    let result = scope
        .run(async {
            scope.set_deadline(Some(Instant::now() + Duration::from_secs(5)));
            anyio::sleep(0.06).await;
            "finished"
        })
        .await;
    assert_eq!(result, Some("finished"));
    assert!(!scope.cancel_called());
}

#[anyio::test(timeout = 10)]
async fn a_deadline_moved_earlier_while_waiting_cancels_sooner() {
    let scope = CancelScope::with_deadline(Instant::now() + Duration::from_secs(60));
    let started = Instant::now();
    let result = anyio::task_group!(|tg| {
        let handle = scope.clone();
        tg.start_soon(async move {
            anyio::wait_all_tasks_blocked().await;
            handle.set_deadline(Some(Instant::now() + Duration::from_millis(10)));
        });
        anyio::Result::Ok(scope.run(anyio::sleep(30)).await)
    })
    .unwrap();
    assert_eq!(result, Some(None));
    assert!(scope.cancelled_caught());
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[anyio::test(timeout = 10)]
async fn a_deadline_removed_while_waiting_no_longer_fires() {
    let scope = CancelScope::with_deadline(Instant::now() + Duration::from_millis(30));
    let result = scope
        .run(async {
            anyio::sleep(0.001).await; // the timer is armed now
            scope.set_deadline(None);
            anyio::sleep(0.06).await;
            7
        })
        .await;
    assert_eq!(result, Some(7));
}

#[anyio::test(timeout = 10)]
async fn an_outer_cancellation_is_not_turned_into_a_timeout() {
    let outer = CancelScope::new();
    let reached = flag();
    anyio::task_group!(|tg| {
        let killer = outer.clone();
        tg.start_soon(async move {
            anyio::wait_all_tasks_blocked().await;
            killer.cancel();
        });
        outer
            .run(async {
                CancelScope::new()
                    .run(async {
                        let timed = anyio::fail_after(1, anyio::sleep(2)).await;
                        // Never reached: the outer cancellation is not a timeout.
                        set(&reached);
                        let _ = timed;
                    })
                    .await;
                set(&reached);
            })
            .await;
    })
    .unwrap();
    assert!(!is_set(&reached));
    assert!(outer.cancel_called() && outer.cancelled_caught());
}

#[anyio::test(timeout = 10)]
async fn a_deadline_inside_a_shield_still_times_out_in_a_cancelled_scope() {
    let outer = CancelScope::new();
    outer.cancel();
    let result = outer
        .run(async {
            CancelScope::shielded()
                .run(anyio::fail_after(0.02, anyio::sleep(2)))
                .await
        })
        .await;
    let err = result.unwrap().unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
}

#[anyio::test(timeout = 10)]
async fn fail_after_with_reason_puts_the_reason_in_the_message() {
    let err = anyio::fail_after_with_reason(0, "oopsies", anyio::sleep(1))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(err.to_string().contains("oopsies"), "{err}");
}

#[anyio::test(timeout = 10)]
async fn fail_at_and_move_on_at_use_absolute_deadlines() {
    let past = anyio::current_time();
    assert_eq!(
        anyio::fail_at(past, anyio::sleep(1))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Timeout
    );
    assert_eq!(anyio::move_on_at(past, anyio::sleep(1)).await, None);
    let later = anyio::current_time() + Duration::from_secs(5);
    assert_eq!(anyio::fail_at(later, async { 3 }).await.unwrap(), 3);
    assert_eq!(anyio::move_on_at(later, async { 4 }).await, Some(4));
}

#[anyio::test(timeout = 10)]
async fn delays_accept_durations_floats_and_integers() {
    let checks = [
        anyio::move_on_after(Duration::from_secs(1), async { true }).await == Some(true),
        anyio::move_on_after(1.5, async { true }).await == Some(true),
        anyio::move_on_after(2_u64, async { true }).await == Some(true),
        anyio::move_on_after(-1.0, anyio::sleep(1)).await.is_none(),
    ];
    assert!(checks.iter().all(|&ok| ok), "{checks:?}");
}

#[anyio::test(timeout = 10)]
async fn fail_after_around_a_future_pending_once_returns_its_value() {
    let value = anyio::fail_after(5, async {
        anyio::lowlevel::checkpoint().await;
        9
    })
    .await
    .unwrap();
    assert_eq!(value, 9);
}

#[anyio::test(timeout = 10)]
async fn a_timeout_after_an_earlier_group_cancellation_is_still_a_timeout() {
    anyio::task_group!(|tg| {
        tg.start_soon(async {
            anyio::wait_all_tasks_blocked().await;
            tg.cancel();
        });
        anyio::sleep_forever().await;
    })
    .unwrap();
    let after = flag();
    let err = anyio::fail_after(0.01, async {
        anyio::sleep(0.5).await;
        set(&after);
    })
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(!is_set(&after));
}

#[anyio::test(timeout = 10)]
async fn a_deadline_reached_on_entry_cancels_at_the_first_checkpoint() {
    let scope = CancelScope::with_deadline(Instant::now() - Duration::from_millis(1));
    let ran_until_checkpoint = flag();
    let result = scope
        .run(async {
            set(&ran_until_checkpoint);
            anyio::lowlevel::checkpoint().await;
        })
        .await;
    assert_eq!(result, None);
    assert!(is_set(&ran_until_checkpoint));
    assert!(scope.cancel_called() && scope.cancelled_caught());
}

#[anyio::test(timeout = 10)]
async fn a_group_scope_with_a_deadline_cancels_its_children() {
    let started = Instant::now();
    let result = anyio::task_group!(|tg| {
        tg.cancel_scope()
            .set_deadline(Some(Instant::now() + Duration::from_millis(20)));
        tg.start_soon(anyio::sleep(30));
        anyio::sleep(30).await;
    })
    .unwrap();
    assert_eq!(result, None);
    assert!(started.elapsed() < Duration::from_secs(5));
}
