//! `gather`, `gather!` and `amap`: AnyIO's concurrency helpers, as children of one group.

mod common;

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyio::ErrorKind;
use common::*;
use futures_lite::FutureExt;

/// A child that finishes after `n` checkpoints and gives `n`.
async fn after(n: usize) -> anyio::Result<usize> {
    for _ in 0..n {
        anyio::lowlevel::checkpoint().await;
    }
    Ok(n)
}

#[anyio::test(timeout = 10)]
async fn gather_returns_values_in_input_order_whatever_the_finishing_order() {
    let finished = std::sync::Mutex::new(Vec::new());
    let values = anyio::gather([5, 1, 3].map(|n| {
        let finished = &finished;
        async move {
            let value = after(n).await?;
            finished.lock().unwrap().push(n);
            anyio::Result::Ok(value)
        }
    }))
    .await
    .unwrap();
    assert_eq!(values, [5, 1, 3]);
    assert_eq!(*finished.lock().unwrap(), [1, 3, 5]);
}

#[anyio::test(timeout = 10)]
async fn gather_of_nothing_is_empty() {
    let nothing: Vec<std::future::Ready<()>> = Vec::new();
    assert!(anyio::gather(nothing).await.unwrap().is_empty());
}

#[anyio::test(timeout = 10)]
async fn gather_of_unit_futures_gives_units() {
    let units = anyio::gather((0..3).map(|_| anyio::sleep(0.001)))
        .await
        .unwrap();
    assert_eq!(units.len(), 3);
}

#[anyio::test(timeout = 10)]
async fn a_gather_failure_cancels_the_others_and_surfaces_as_the_group_error() {
    let dropped = flag();
    let guard = dropped.clone();
    let slow = async move {
        let _guard = DropFlag(guard);
        anyio::sleep_forever().await;
        anyio::Result::Ok(0)
    };
    let failing = async {
        after(2).await?;
        Err(fail("broken pipe"))
    };
    let futures: Vec<
        std::pin::Pin<Box<dyn std::future::Future<Output = anyio::Result<usize>> + Send>>,
    > = vec![Box::pin(slow), Box::pin(failing)];
    let error = anyio::gather(futures).await.unwrap_err();
    assert_eq!(error.to_string(), "broken pipe");
    assert!(is_set(&dropped), "the other child was cancelled");
}

#[anyio::test(timeout = 10)]
async fn a_panic_in_gather_resumes_in_the_caller() {
    let outcome = AssertUnwindSafe(anyio::gather((0..2).map(|n| async move {
        after(n).await?;
        if n == 1 {
            panic!("gathered panic");
        }
        anyio::Result::Ok(n)
    })))
    .catch_unwind()
    .await;
    let payload = outcome.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"gathered panic"));
}

#[anyio::test(timeout = 10)]
async fn gather_in_a_cancelled_scope_is_cancelled_as_a_whole() {
    let result = anyio::move_on_after(0.01, anyio::gather((0..3).map(|_| anyio::sleep(10)))).await;
    assert!(result.is_none());
}

#[anyio::test(timeout = 10)]
async fn gather_macro_returns_a_tuple_in_argument_order() {
    let (a, b, c) = anyio::gather!(
        async { after(3).await.map(|n| n * 10) },
        async { anyio::Result::Ok("text") },
        anyio::sleep(0.001),
    )
    .unwrap();
    assert_eq!((a, b, c), (30, "text", ()));
}

#[anyio::test(timeout = 10)]
async fn gather_macro_with_one_future_and_many_futures() {
    let (only,) = anyio::gather!(after(1)).unwrap();
    assert_eq!(only, 1);
    let sixteen = anyio::gather!(
        after(1),
        after(2),
        after(3),
        after(4),
        after(5),
        after(6),
        after(7),
        after(8),
        after(9),
        after(10),
        after(11),
        after(12),
        after(13),
        after(14),
        after(15),
        after(16),
    )
    .unwrap();
    assert_eq!(sixteen.0 + sixteen.15, 17);
}

#[anyio::test(timeout = 10)]
async fn gather_macro_failure_surfaces_as_the_group_error() {
    let error = anyio::gather!(async { after(5).await }, async {
        after(1).await?;
        Err::<usize, _>(fail("bad input"))
    },)
    .unwrap_err();
    assert_eq!(error.to_string(), "bad input");
}

#[anyio::test(timeout = 10)]
async fn gather_macro_may_borrow_locals() {
    let words = ["a".to_owned(), "bc".to_owned()];
    let (first, total) = anyio::gather!(async { anyio::Result::Ok(words[0].as_str()) }, async {
        anyio::Result::Ok(words.iter().map(String::len).sum::<usize>())
    },)
    .unwrap();
    assert_eq!((first, total), ("a", 3));
}

#[anyio::test(timeout = 10)]
async fn amap_returns_values_in_input_order() {
    let values = anyio::amap(|n: usize| after(n), [4, 0, 2]).await.unwrap();
    assert_eq!(values, [4, 0, 2]);
}

#[anyio::test(timeout = 10)]
async fn amap_of_nothing_is_empty() {
    let values = anyio::amap(|n: usize| after(n), Vec::new()).await.unwrap();
    assert!(values.is_empty());
}

#[anyio::test(timeout = 10)]
async fn amap_failure_surfaces_as_the_group_error() {
    let error = anyio::amap(
        |n: usize| async move {
            after(n).await?;
            if n == 2 {
                return Err(fail("item 2 failed"));
            }
            Ok(n)
        },
        [1, 2, 3],
    )
    .await
    .unwrap_err();
    assert_eq!(error.to_string(), "item 2 failed");
}

#[anyio::test(timeout = 10)]
async fn amap_limit_runs_at_most_that_many_at_once() {
    let (running, peak, done) = (
        AtomicUsize::new(0),
        AtomicUsize::new(0),
        AtomicUsize::new(0),
    );
    let values = anyio::amap(
        |n: usize| {
            let (running, peak, done) = (&running, &peak, &done);
            async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                after(3).await?;
                running.fetch_sub(1, Ordering::SeqCst);
                done.fetch_add(1, Ordering::SeqCst);
                anyio::Result::Ok(n)
            }
        },
        0..10,
    )
    .limit(3)
    .await
    .unwrap();
    assert_eq!(values, (0..10).collect::<Vec<_>>());
    assert_eq!(done.load(Ordering::SeqCst), 10);
    assert!(
        peak.load(Ordering::SeqCst) <= 3,
        "peak {}",
        peak.load(Ordering::SeqCst)
    );
    assert!(
        peak.load(Ordering::SeqCst) >= 2,
        "the limit still allows concurrency"
    );
}

#[test]
fn amap_limit_zero_is_refused_with_a_message() {
    let outcome = std::panic::catch_unwind(|| {
        let _ = anyio::amap(|n: usize| after(n), [1]).limit(0);
    });
    let payload = outcome.unwrap_err();
    let message = payload.downcast_ref::<&str>().copied().unwrap_or_default();
    assert!(message.contains("limit(0)"), "{message}");
}

#[anyio::test(timeout = 10)]
async fn helpers_are_cancelled_from_outside_with_nothing_left_running() {
    let started = AtomicUsize::new(0);
    let result = anyio::move_on_after(0.01, async {
        anyio::amap(
            |_: usize| {
                let started = &started;
                async move {
                    started.fetch_add(1, Ordering::SeqCst);
                    anyio::sleep_forever().await;
                }
            },
            0..4,
        )
        .await
    })
    .await;
    assert!(result.is_none());
    assert_eq!(started.load(Ordering::SeqCst), 4);
    assert_eq!(
        anyio::get_running_tasks().len(),
        1,
        "only the test's task is left"
    );
    let _ = ErrorKind::Cancelled;
}

#[anyio::test(timeout = 10)]
async fn as_completed_yields_in_completion_order() {
    let mut stream = anyio::as_completed([4, 1, 3, 2].map(after));
    let mut order = Vec::new();
    while let Some(value) = stream.next().await {
        order.push(value.unwrap());
    }
    assert_eq!(order, [1, 2, 3, 4]);
    assert!(stream.next().await.is_none(), "an ended stream stays ended");
}

#[anyio::test(timeout = 10)]
async fn as_completed_is_a_stream() {
    use futures_lite::StreamExt;
    let values: Vec<_> = anyio::as_completed([2, 1].map(after)).collect().await;
    let values: Vec<usize> = values.into_iter().map(Result::unwrap).collect();
    assert_eq!(values, [1, 2]);
}

#[anyio::test(timeout = 10)]
async fn as_completed_of_nothing_ends_at_once() {
    let nothing: Vec<std::future::Ready<()>> = Vec::new();
    assert!(anyio::as_completed(nothing).next().await.is_none());
}

#[anyio::test(timeout = 10)]
async fn as_completed_yields_the_finished_values_then_the_failure_then_ends() {
    let dropped = flag();
    let guard = dropped.clone();
    type Boxed<'a> =
        std::pin::Pin<Box<dyn std::future::Future<Output = anyio::Result<usize>> + Send + 'a>>;
    let futures: Vec<Boxed> = vec![
        Box::pin(after(1)),
        Box::pin(async {
            after(3).await?;
            Err(fail("third failed"))
        }),
        Box::pin(async move {
            let _guard = DropFlag(guard);
            anyio::sleep_forever().await;
            Ok(0)
        }),
    ];
    let mut stream = anyio::as_completed(futures);
    assert_eq!(stream.next().await.unwrap().unwrap(), 1);
    let failure = stream.next().await.unwrap().unwrap_err();
    assert_eq!(failure.to_string(), "third failed");
    assert!(stream.next().await.is_none());
    assert!(is_set(&dropped), "the failure cancelled the rest");
}

#[anyio::test(timeout = 10)]
async fn dropping_as_completed_early_cancels_the_rest() {
    let dropped = AtomicUsize::new(0);
    {
        let mut stream = anyio::as_completed((1..=3).map(|n| {
            let dropped = &dropped;
            async move {
                struct Counted<'a>(&'a AtomicUsize);
                impl Drop for Counted<'_> {
                    fn drop(&mut self) {
                        self.0.fetch_add(1, Ordering::SeqCst);
                    }
                }
                let _counted = Counted(dropped);
                if n > 1 {
                    anyio::sleep_forever().await;
                }
                anyio::Result::Ok(n)
            }
        }));
        assert_eq!(stream.next().await.unwrap().unwrap(), 1);
    }
    assert_eq!(dropped.load(Ordering::SeqCst), 3);
    assert_eq!(
        anyio::get_running_tasks().len(),
        1,
        "nothing is left running"
    );
}

#[anyio::test(timeout = 10)]
async fn as_completed_next_is_cancel_safe() {
    let mut stream = anyio::as_completed([1, 30].map(after));
    // A next() cancelled at once loses nothing: a value it did not return arrives by a
    // later call.
    let mut values = Vec::new();
    for _ in 0..5 {
        if let Some(Some(value)) = anyio::move_on_after(0, stream.next()).await {
            values.push(value.unwrap());
        }
    }
    while let Some(value) = stream.next().await {
        values.push(value.unwrap());
    }
    assert_eq!(values, [1, 30]);
}
