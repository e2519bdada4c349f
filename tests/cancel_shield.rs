//! Shields and async cleanup.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};

use anyio::{CancelScope, lowlevel};
use common::*;

#[anyio::test(timeout = 10)]
async fn shielded_cleanup_runs_to_completion_inside_a_cancelled_scope() {
    let scope = CancelScope::new();
    let cleaned = flag();
    let after_cleanup = flag();
    let handle = scope.clone();
    let result = scope
        .run(async {
            handle.cancel();
            CancelScope::shielded()
                .run(async {
                    anyio::sleep(0.02).await; // would be cancelled without the shield
                    set(&cleaned);
                })
                .await;
            anyio::sleep(0).await; // first checkpoint after the shield
            set(&after_cleanup);
        })
        .await;
    assert_eq!(result, None);
    assert!(is_set(&cleaned));
    assert!(!is_set(&after_cleanup));
    assert!(scope.cancel_called() && scope.cancelled_caught());
}

#[anyio::test(timeout = 10)]
async fn a_shield_blocks_the_cancellation_of_the_group() {
    let shielded_done = flag();
    let result = anyio::task_group!(|tg| {
        tg.start_soon(async {
            anyio::wait_all_tasks_blocked().await;
            tg.cancel();
        });
        let inner = CancelScope::shielded();
        inner
            .run(async {
                anyio::sleep(0.05).await;
                set(&shielded_done);
            })
            .await;
        assert!(inner.shield());
        assert!(!inner.cancel_called());
        anyio::sleep(1).await;
        panic!("the unshielded sleep is cancelled");
        #[allow(unreachable_code)]
        anyio::Result::Ok(())
    })
    .unwrap();
    assert_eq!(result, None::<()>);
    assert!(is_set(&shielded_done));
}

#[anyio::test(timeout = 10)]
async fn a_shielded_scope_that_cancels_itself_is_cancelled() {
    let scope = CancelScope::shielded();
    let result = scope
        .run(async {
            scope.cancel();
            assert!(lowlevel::is_cancelled());
            assert!(anyio::current_effective_deadline().unwrap() <= anyio::current_time());
            anyio::sleep(1).await;
        })
        .await;
    assert_eq!(result, None);
    assert!(scope.cancelled_caught());
}

#[anyio::test(timeout = 10)]
async fn a_shield_lowered_while_running_lets_the_cancellation_in() {
    let completed_shielded_sleep = flag();
    let result = anyio::task_group!(|tg| {
        let child = CancelScope::new();
        let child_handle = child.clone();
        let done = completed_shielded_sleep.clone();
        tg.start_soon(async move {
            child_handle
                .run(async {
                    child_handle.set_shield(true);
                    anyio::wait_all_tasks_blocked().await;
                    anyio::sleep(0.02).await;
                    set(&done);
                    child_handle.set_shield(false);
                    anyio::sleep(5).await;
                    unreachable!("the shield is down and the group is cancelled");
                })
                .await;
        });
        anyio::wait_all_tasks_blocked().await;
        tg.cancel();
    })
    .unwrap();
    assert_eq!(result, Some(()));
    assert!(is_set(&completed_shielded_sleep));
}

#[anyio::test(timeout = 10)]
async fn a_checkpoint_in_the_outer_scope_after_a_shield_ends_the_body() {
    let outer = CancelScope::new();
    let middle = CancelScope::new();
    let shield_passed = flag();
    let after_middle = flag();
    outer
        .run(async {
            middle
                .run(async {
                    CancelScope::shielded()
                        .run(async {
                            outer.cancel();
                            middle.cancel();
                            lowlevel::checkpoint().await;
                            set(&shield_passed);
                        })
                        .await;
                })
                .await;
            // `middle` did not catch (`outer` is cancelled too), so this checkpoint ends it.
            lowlevel::checkpoint().await;
            set(&after_middle);
        })
        .await;
    assert!(is_set(&shield_passed));
    assert!(!is_set(&after_middle));
    assert!(outer.cancelled_caught());
    assert!(!middle.cancelled_caught());
}

#[anyio::test(timeout = 10)]
async fn a_checkpoint_in_the_middle_scope_after_a_shield_ends_the_body() {
    let outer = CancelScope::new();
    let middle = CancelScope::new();
    let after_shield = flag();
    outer
        .run(async {
            middle
                .run(async {
                    CancelScope::shielded()
                        .run(async {
                            outer.cancel();
                            lowlevel::checkpoint().await;
                        })
                        .await;
                    lowlevel::checkpoint().await;
                    set(&after_shield);
                })
                .await;
        })
        .await;
    assert!(!is_set(&after_shield));
    assert!(outer.cancelled_caught());
}

#[anyio::test(timeout = 10)]
async fn a_shield_hides_outer_deadlines_and_cancellation() {
    anyio::move_on_after(10, async {
        CancelScope::shielded()
            .run(async {
                assert_eq!(anyio::current_effective_deadline(), None);
                anyio::move_on_after(1000, async {
                    let deadline = anyio::current_effective_deadline().unwrap();
                    let far = anyio::current_time() + std::time::Duration::from_secs(900);
                    assert!(deadline > far);
                })
                .await;
            })
            .await;
    })
    .await;
    let outer = CancelScope::new();
    outer.cancel();
    outer
        .run(async {
            assert!(anyio::current_effective_deadline().unwrap() <= anyio::current_time());
            CancelScope::shielded()
                .run(async {
                    assert_eq!(anyio::current_effective_deadline(), None);
                    assert!(!lowlevel::is_cancelled());
                })
                .await;
            assert!(lowlevel::is_cancelled());
        })
        .await;
}

#[anyio::test(timeout = 10)]
async fn with_cleanup_runs_the_cleanup_shielded_when_cancelled() {
    let cleaned = flag();
    let after = flag();
    let result = anyio::move_on_after(0.01, async {
        anyio::with_cleanup(
            async {
                anyio::sleep_forever().await;
                anyio::Result::Ok(())
            },
            async {
                anyio::sleep(0.02).await;
                set(&cleaned);
            },
        )
        .await
        .unwrap();
        set(&after);
    })
    .await;
    assert_eq!(result, None);
    assert!(is_set(&cleaned));
    assert!(!is_set(&after));
}

#[anyio::test(timeout = 10)]
async fn with_cleanup_runs_the_cleanup_when_the_body_fails_and_returns_the_error() {
    let cleaned = flag();
    let result = anyio::with_cleanup(async { Err::<(), _>(fail("broken")) }, async {
        anyio::sleep(0).await;
        set(&cleaned);
    })
    .await;
    assert_eq!(result.unwrap_err().to_string(), "broken");
    assert!(is_set(&cleaned));
}

#[anyio::test(timeout = 10)]
async fn with_cleanup_skips_the_cleanup_on_success() {
    let cleaned = flag();
    let value = anyio::with_cleanup(async { anyio::Result::Ok(3) }, async { set(&cleaned) })
        .await
        .unwrap();
    assert_eq!(value, 3);
    assert!(!is_set(&cleaned));
}

#[anyio::test(timeout = 10)]
async fn a_shielded_child_finishes_before_the_group_cancellation_lands() {
    let finished_shielded = flag();
    let progressed_after = flag();
    let event_set = std::sync::Arc::new(AtomicUsize::new(0));
    let outer = CancelScope::new();
    outer
        .run(async {
            anyio::task_group!(|tg| {
                tg.start_soon(async {
                    CancelScope::shielded()
                        .run(async {
                            while event_set.load(Ordering::SeqCst) == 0 {
                                anyio::sleep(0.005).await;
                            }
                            set(&finished_shielded);
                        })
                        .await;
                    anyio::sleep(0).await;
                    set(&progressed_after);
                });
                anyio::wait_all_tasks_blocked().await;
                outer.cancel();
                event_set.store(1, Ordering::SeqCst);
            })
        })
        .await;
    assert!(is_set(&finished_shielded));
    assert!(!is_set(&progressed_after));
    assert!(outer.cancelled_caught());
}

#[anyio::test(timeout = 10)]
async fn cancel_shielded_checkpoint_yields_but_never_ends_the_body() {
    let scope = CancelScope::new();
    scope.cancel();
    let got_past = scope
        .run(async {
            lowlevel::cancel_shielded_checkpoint().await;
            true
        })
        .await;
    assert_eq!(got_past, Some(true));
}

#[anyio::test(timeout = 10)]
async fn a_group_body_waiting_in_a_shield_survives_child_wakes_while_cancelled() {
    let shielded_done = flag();
    let outer = CancelScope::new();
    outer
        .run(async {
            anyio::task_group!(|tg| {
                tg.start_soon(async {
                    // Wakes the group (not the body) while the outer scope is cancelled.
                    anyio::wait_all_tasks_blocked().await;
                    outer.cancel();
                });
                CancelScope::shielded()
                    .run(async {
                        anyio::sleep(0.05).await;
                        set(&shielded_done);
                    })
                    .await;
            })
        })
        .await;
    assert!(is_set(&shielded_done));
    assert!(outer.cancelled_caught());
}
