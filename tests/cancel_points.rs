//! Every operation cancelled at each of its suspension points in turn (the harness in
//! `common/cancel_points.rs`), with the invariants checked after each run: no lost or
//! duplicated item, no leaked lock, slot or token, statistics back at rest, no task left.

mod common;

use anyio::abc::ByteSendStream;
use anyio::lowlevel::checkpoint;
use anyio::streams::buffered::BufferedByteReceiveStream;
use anyio::streams::object_bytes::memory_byte_stream_pair;
use anyio::streams::text::TextReceiveStream;
use anyio::{
    CapacityLimiter, Condition, Event, Lock, Semaphore, create_memory_object_stream,
    get_running_tasks,
};
use common::cancel_points::cancel_at_every_suspension;

/// Yields `n` times: lets the operation under test park and be polled again.
async fn yields(n: usize) {
    for _ in 0..n {
        checkpoint().await;
    }
}

#[anyio::test(timeout = 10)]
async fn lock_acquire_leaks_no_lock_whatever_poll_it_is_cancelled_at() {
    let tasks = get_running_tasks().len();
    let runs = cancel_at_every_suspension(20, |point| async move {
        let lock = Lock::new();
        let completed = anyio::task_group!(|tg| {
            let held = lock.acquire_nowait()?;
            tg.start_soon(async move {
                yields(3).await;
                drop(held);
            });
            let acquired = point.run(lock.acquire()).await;
            let completed = acquired.is_some();
            drop(acquired);
            anyio::Result::Ok(completed)
        })
        .unwrap()
        .unwrap();
        assert!(!lock.locked(), "cancel point {}", point.at_poll);
        assert_eq!(lock.statistics().tasks_waiting, 0);
        completed
    })
    .await;
    assert!(runs >= 2, "the acquire waited at least once");
    assert_eq!(get_running_tasks().len(), tasks);
}

#[anyio::test(timeout = 10)]
async fn semaphore_and_limiter_acquires_leak_no_slot_or_token() {
    cancel_at_every_suspension(20, |point| async move {
        let semaphore = Semaphore::new(1);
        let completed = anyio::task_group!(|tg| {
            let held = semaphore.acquire_nowait()?;
            tg.start_soon(async move {
                yields(2).await;
                drop(held);
            });
            anyio::Result::Ok(point.run(semaphore.acquire()).await.is_some())
        })
        .unwrap()
        .unwrap();
        assert_eq!(semaphore.value(), 1, "cancel point {}", point.at_poll);
        assert_eq!(semaphore.statistics().tasks_waiting, 0);
        completed
    })
    .await;
    cancel_at_every_suspension(20, |point| async move {
        let limiter = CapacityLimiter::new(1);
        let completed = anyio::task_group!(|tg| {
            tg.start_soon(async {
                let token = limiter.acquire().await?;
                yields(2).await;
                drop(token);
                anyio::Result::Ok(())
            });
            checkpoint().await; // the child takes the token first
            anyio::Result::Ok(point.run(limiter.acquire()).await.is_some())
        })
        .unwrap()
        .unwrap();
        assert_eq!(
            limiter.borrowed_tokens(),
            0,
            "cancel point {}",
            point.at_poll
        );
        assert_eq!(limiter.statistics().tasks_waiting, 0);
        completed
    })
    .await;
}

#[anyio::test(timeout = 10)]
async fn event_wait_leaves_no_waiter_behind() {
    cancel_at_every_suspension(20, |point| async move {
        let event = Event::new();
        let completed = anyio::task_group!(|tg| {
            tg.start_soon(async {
                yields(2).await;
                event.set();
            });
            anyio::Result::Ok(point.run(event.wait()).await.is_some())
        })
        .unwrap()
        .unwrap();
        assert_eq!(event.statistics().tasks_waiting, 0);
        completed
    })
    .await;
}

#[anyio::test(timeout = 10)]
async fn condition_wait_never_loses_the_lock_or_a_notification() {
    cancel_at_every_suspension(20, |point| async move {
        let condition = Condition::new();
        let completed = anyio::task_group!(|tg| {
            let mut guard = condition.acquire().await?;
            tg.start_soon(async {
                let guard = condition.acquire().await?;
                guard.notify(1);
                drop(guard);
                anyio::Result::Ok(())
            });
            let waited = point.run(guard.wait()).await;
            let completed = waited.is_some();
            if completed {
                assert!(
                    guard.holds_lock(),
                    "a notified wait returns holding the lock"
                );
            }
            drop(guard);
            anyio::Result::Ok(completed)
        })
        .unwrap()
        .unwrap();
        assert!(!condition.locked(), "cancel point {}", point.at_poll);
        assert_eq!(condition.statistics().tasks_waiting, 0);
        completed
    })
    .await;
}

#[anyio::test(timeout = 10)]
async fn memory_receive_loses_and_duplicates_no_item() {
    for capacity in [0, 1] {
        cancel_at_every_suspension(20, |point| async move {
            let (tx, rx) = create_memory_object_stream::<u32>(capacity);
            let (item, completed) = anyio::task_group!(|tg| {
                tg.start_soon(async move {
                    yields(2).await;
                    tx.send(7).await?;
                    anyio::Result::Ok(())
                });
                // The item is either the one the cancelled receive returned, or still
                // there for the next receive.
                anyio::Result::Ok(match point.run(rx.receive()).await {
                    Some(item) => (item?, true),
                    None => (rx.receive().await?, false),
                })
            })
            .unwrap()
            .unwrap();
            assert_eq!(item, 7, "point {}", point.at_poll);
            assert_eq!(
                rx.receive().await.unwrap_err().kind(),
                anyio::ErrorKind::EndOfStream
            );
            let stats = rx.statistics();
            assert_eq!(
                (stats.tasks_waiting_receive, stats.current_buffer_used),
                (0, 0)
            );
            completed
        })
        .await;
    }
}

#[anyio::test(timeout = 10)]
async fn memory_send_delivers_exactly_when_it_says_so() {
    for capacity in [0, 1] {
        cancel_at_every_suspension(20, |point| async move {
            let (tx, rx) = create_memory_object_stream::<u32>(capacity);
            if capacity == 1 {
                tx.send_nowait(0).unwrap(); // full: the send under test has to wait
            }
            let received = std::sync::Mutex::new(Vec::new());
            let sent = anyio::task_group!(|tg| {
                tg.start_soon(async {
                    yields(2).await;
                    while let Ok(item) = rx.receive().await {
                        received.lock().unwrap().push(item);
                    }
                });
                let sent = point.run(tx.send(1)).await.map(Result::unwrap).is_some();
                drop(tx);
                anyio::Result::Ok(sent)
            })
            .unwrap()
            .unwrap();
            let received = received.into_inner().unwrap();
            let copies = received.iter().filter(|&&item| item == 1).count();
            assert_eq!(
                copies,
                usize::from(sent),
                "point {}: {received:?}",
                point.at_poll
            );
            assert_eq!(received.len(), capacity + usize::from(sent));
            sent
        })
        .await;
    }
}

#[anyio::test(timeout = 10)]
async fn start_leaves_no_child_behind_when_cancelled() {
    let tasks = get_running_tasks().len();
    cancel_at_every_suspension(20, |point| async move {
        let completed = anyio::task_group!(|tg| {
            let started = point
                .run(tg.start(|status| async move {
                    yields(2).await;
                    status.started(5_u8);
                    yields(1).await;
                }))
                .await;
            anyio::Result::Ok(started.map(Result::unwrap))
        })
        .unwrap()
        .unwrap();
        if let Some(value) = completed {
            assert_eq!(value, 5);
        }
        completed.is_some()
    })
    .await;
    assert_eq!(get_running_tasks().len(), tasks);
}

#[anyio::test(timeout = 10)]
async fn nested_groups_end_every_child_when_cancelled() {
    let tasks = get_running_tasks().len();
    cancel_at_every_suspension(30, |point| async move {
        let finished = std::sync::atomic::AtomicUsize::new(0);
        let finished = &finished;
        let completed = point
            .run(async {
                anyio::task_group!(|outer| {
                    for _ in 0..2 {
                        outer.start_soon(async move {
                            anyio::task_group!(|inner| {
                                inner.start_soon(async move {
                                    yields(2).await;
                                    finished.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                                });
                            })
                        });
                    }
                })
            })
            .await;
        assert_eq!(get_running_tasks().len(), tasks, "point {}", point.at_poll);
        match completed {
            Some(result) => {
                result.unwrap();
                assert_eq!(finished.load(std::sync::atomic::Ordering::SeqCst), 2);
                true
            }
            None => false,
        }
    })
    .await;
}

#[anyio::test(timeout = 10)]
async fn buffered_receive_until_keeps_every_byte_when_cancelled() {
    cancel_at_every_suspension(30, |point| async move {
        let (mut peer, stream) = memory_byte_stream_pair(4);
        let mut reader = BufferedByteReceiveStream::new(stream);
        let line = anyio::task_group!(|tg| {
            tg.start_soon(async move {
                for chunk in [&b"hel"[..], b"lo\nwor", b"ld\n"] {
                    yields(1).await;
                    peer.send(chunk).await?;
                }
                anyio::Result::Ok(())
            });
            let first = point.run(reader.receive_until(b"\n", 64)).await;
            let completed = first.is_some();
            let first = match first {
                Some(line) => line?,
                None => reader.receive_until(b"\n", 64).await?,
            };
            assert_eq!(first, b"hello");
            assert_eq!(reader.receive_until(b"\n", 64).await?, b"world");
            anyio::Result::Ok(completed)
        });
        line.unwrap().unwrap()
    })
    .await;
}

#[anyio::test(timeout = 10)]
async fn text_receive_keeps_a_split_character_when_cancelled() {
    cancel_at_every_suspension(30, |point| async move {
        let (mut peer, stream) = memory_byte_stream_pair(4);
        let mut text = TextReceiveStream::new(stream);
        let euro = "€".as_bytes();
        let completed = anyio::task_group!(|tg| {
            tg.start_soon(async move {
                for byte in euro {
                    yields(1).await;
                    peer.send(&[*byte]).await?;
                }
                anyio::Result::Ok(())
            });
            let mut received = String::new();
            let first = point.run(text.receive()).await;
            let completed = first.is_some();
            if let Some(chunk) = first {
                received.push_str(&chunk?);
            }
            while received.len() < euro.len() {
                received.push_str(&text.receive().await?);
            }
            assert_eq!(received, "€");
            anyio::Result::Ok(completed)
        });
        completed.unwrap().unwrap()
    })
    .await;
}
