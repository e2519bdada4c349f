//! `Event::cancel_on_set`: shutdown on an event in one line (issue 15, point 5).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyio::Event;
use common::*;

#[anyio::test(timeout = 10)]
async fn a_body_that_finishes_first_gives_its_output_and_leaves_no_waiter() {
    let stop = Event::new();
    let output = stop.cancel_on_set(async { 5 }).await;
    assert_eq!(output, Some(5));
    assert_eq!(stop.statistics().tasks_waiting, 0);
    let output = stop
        .cancel_on_set(async {
            anyio::sleep(0.001).await;
            6
        })
        .await;
    assert_eq!(output, Some(6));
    assert_eq!(stop.statistics().tasks_waiting, 0);
}

#[anyio::test(timeout = 10)]
async fn setting_the_event_cancels_a_waiting_body() {
    let stop = Event::new();
    let dropped = flag();
    let guard = dropped.clone();
    let output = anyio::task_group!(|tg| {
        tg.start_soon(async {
            anyio::wait_all_tasks_blocked().await;
            stop.set();
        });
        let output = stop
            .cancel_on_set(async move {
                let _guard = DropFlag(guard);
                anyio::sleep_forever().await;
            })
            .await;
        anyio::Result::Ok(output)
    })
    .unwrap()
    .unwrap();
    assert_eq!(output, None);
    assert!(is_set(&dropped));
}

#[anyio::test(timeout = 10)]
async fn an_event_set_already_stops_the_body_at_its_first_checkpoint() {
    let stop = Event::new();
    stop.set();
    let (before, after) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let output = stop
        .cancel_on_set(async {
            before.fetch_add(1, Ordering::SeqCst);
            anyio::lowlevel::checkpoint().await;
            after.fetch_add(1, Ordering::SeqCst);
        })
        .await;
    assert_eq!(output, None);
    assert_eq!((before.into_inner(), after.into_inner()), (1, 0));
}

#[anyio::test(timeout = 10, worker_threads = 1)]
async fn an_event_set_from_another_thread_stops_the_body() {
    let stop = Arc::new(Event::new());
    let setter = stop.clone();
    let thread = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(5));
        setter.set();
    });
    let output = stop.cancel_on_set(anyio::sleep_forever()).await;
    thread.join().unwrap();
    assert_eq!(output, None);
}

#[anyio::test(timeout = 10)]
async fn an_outer_cancellation_is_the_outer_scopes() {
    let stop = Event::new();
    let outer = anyio::move_on_after(0.005, stop.cancel_on_set(anyio::sleep_forever())).await;
    assert_eq!(outer, None, "the outer deadline ended it");
    assert_eq!(
        stop.statistics().tasks_waiting,
        0,
        "its watch left the queue"
    );
}
