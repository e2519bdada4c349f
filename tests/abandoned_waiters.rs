//! Statistics count only the tasks that still wait: a wait dropped by a timeout (or
//! dropped outright) leaves every primitive's count as it was (issue 15, point 6).

use anyio::{CapacityLimiter, Condition, Event, Lock, Semaphore, create_memory_object_stream};

/// Runs `wait` under a deadline that ends it, and returns whether it was cut short.
async fn times_out<F: std::future::Future>(wait: F) -> bool {
    anyio::move_on_after(0.002, wait).await.is_none()
}

#[anyio::test(timeout = 10)]
async fn a_timed_out_next_is_not_counted_as_a_waiting_receiver() {
    let (_tx, rx) = create_memory_object_stream::<u8>(1);
    assert!(times_out(rx.next()).await);
    assert_eq!(rx.statistics().tasks_waiting_receive, 0);
    assert!(times_out(rx.receive()).await);
    assert_eq!(rx.statistics().tasks_waiting_receive, 0);
}

#[anyio::test(timeout = 10)]
async fn a_timed_out_send_is_not_counted_as_a_waiting_sender() {
    let (tx, _rx) = create_memory_object_stream::<u8>(0);
    assert!(times_out(tx.send(1)).await);
    assert_eq!(tx.statistics().tasks_waiting_send, 0);
}

#[anyio::test(timeout = 10)]
async fn timed_out_acquires_are_not_counted_as_waiting() {
    let lock = Lock::new();
    let _held = lock.acquire().await.unwrap();
    let semaphore = Semaphore::new(0);
    let limiter = CapacityLimiter::new(1);
    let _token = limiter.acquire().await.unwrap();
    anyio::task_group!(|tg| {
        // Other tasks, so that the lock and the limiter see waiters that do not own them.
        tg.start_soon(async {
            assert!(times_out(lock.acquire()).await);
            assert!(times_out(limiter.acquire()).await);
        });
        assert!(times_out(semaphore.acquire()).await);
    })
    .unwrap();
    assert_eq!(lock.statistics().tasks_waiting, 0);
    assert_eq!(semaphore.statistics().tasks_waiting, 0);
    assert_eq!(limiter.statistics().tasks_waiting, 0);
}

#[anyio::test(timeout = 10)]
async fn timed_out_event_and_condition_waits_are_not_counted() {
    let event = Event::new();
    assert!(times_out(event.wait()).await);
    assert_eq!(event.statistics().tasks_waiting, 0);
    let condition = Condition::new();
    let mut guard = condition.acquire().await.unwrap();
    assert!(times_out(guard.wait()).await);
    assert_eq!(condition.statistics().tasks_waiting, 0);
}

#[anyio::test(timeout = 10)]
async fn waits_dropped_without_a_deadline_are_not_counted_either() {
    let lock = Lock::new();
    let _held = lock.acquire().await.unwrap();
    let (_tx, rx) = create_memory_object_stream::<u8>(0);
    anyio::task_group!(|tg| {
        tg.start_soon(async {
            let mut acquire = std::pin::pin!(lock.acquire());
            let mut next = std::pin::pin!(rx.next());
            // Polled once each (they park), then dropped with this block.
            futures_lite::future::poll_once(acquire.as_mut()).await;
            futures_lite::future::poll_once(next.as_mut()).await;
            assert_eq!(lock.statistics().tasks_waiting, 1);
            assert_eq!(rx.statistics().tasks_waiting_receive, 1);
        });
    })
    .unwrap();
    assert_eq!(lock.statistics().tasks_waiting, 0);
    assert_eq!(rx.statistics().tasks_waiting_receive, 0);
}
