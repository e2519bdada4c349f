//! anyio inside tokio, without an anyio runtime: cancel scopes, deadlines, task groups,
//! the result helpers, the synchronization primitives, memory object streams and anyio's
//! own networking all work under `#[tokio::test]` (current-thread and multi-thread), next
//! to tokio's timers, channels, sockets and spawned tasks. Only `TaskGroup::spawn` needs
//! an anyio runtime, and says so.
//!
//! The module `with_the_tokio_feature` (compiled with `--features tokio`) covers the other
//! direction: tokio-based futures inside an anyio runtime, on every worker thread.
//!
//! Every test runs under `bounded`, a tokio timeout of its own, so that a hang fails the
//! test instead of stalling the suite. Loopback only.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyio::{CancelScope, CapacityLimiter, Error, ErrorKind, Event, Lock, Semaphore};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[cfg(feature = "tokio")]
#[path = "interop_tokio/with_the_tokio_feature.rs"]
mod with_the_tokio_feature;

/// The most any test may take.
const LIMIT: Duration = Duration::from_secs(20);

/// Runs a test body under a tokio timeout, so that no test can hang.
async fn bounded<F: Future>(body: F) -> F::Output {
    tokio::time::timeout(LIMIT, body)
        .await
        .expect("the test did not finish within its time limit")
}

fn flag() -> Arc<AtomicBool> {
    Arc::new(AtomicBool::new(false))
}

fn is_set(flag: &AtomicBool) -> bool {
    flag.load(Ordering::SeqCst)
}

fn set(flag: &AtomicBool) {
    flag.store(true, Ordering::SeqCst);
}

/// Sets its flag when dropped: proves that a future was dropped (cancelled).
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        set(&self.0);
    }
}

/// Counts the workers inside a section and remembers the most seen at once.
#[derive(Default)]
struct Occupancy {
    inside: AtomicUsize,
    most: AtomicUsize,
}

impl Occupancy {
    fn enter(&self) {
        let now = self.inside.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
    }

    fn leave(&self) {
        self.inside.fetch_sub(1, Ordering::SeqCst);
    }

    fn most(&self) -> usize {
        self.most.load(Ordering::SeqCst)
    }
}

/// A tokio echo server on loopback, served by a tokio task (one more tokio task per
/// connection); returns its address. The server stops with the test's runtime.
async fn tokio_echo_server() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buffer = [0u8; 1024];
                loop {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            if socket.write_all(&buffer[..n]).await.is_err() {
                                break;
                            }
                        }
                    }
                }
            });
        }
    });
    address
}

// ---- deadlines ----

#[tokio::test]
async fn move_on_after_cancels_a_tokio_sleep() {
    bounded(async {
        let start = Instant::now();
        let dropped = flag();
        let slow = anyio::move_on_after(Duration::from_millis(20), async {
            let _guard = DropFlag(dropped.clone());
            tokio::time::sleep(Duration::from_secs(3600)).await;
            "finished"
        })
        .await;
        assert_eq!(slow, None);
        assert!(is_set(&dropped), "the body was dropped at its tokio sleep");
        let elapsed = start.elapsed();
        assert!(elapsed >= Duration::from_millis(20), "{elapsed:?}");
        assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");

        // In time: the body's value.
        let quick = anyio::move_on_after!(5, {
            tokio::time::sleep(Duration::from_millis(1)).await;
            7
        });
        assert_eq!(quick, Some(7));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_after_expires_with_kind_timeout() {
    bounded(async {
        let start = Instant::now();
        let err = anyio::fail_after(
            Duration::from_millis(20),
            tokio::time::sleep(Duration::from_secs(3600)),
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout);
        assert!(start.elapsed() < Duration::from_secs(5));

        // The deadline is visible inside, and nests with an earlier outer one.
        let seen = anyio::fail_after!(5, {
            let outer = anyio::current_effective_deadline().unwrap();
            anyio::fail_after!(60, { anyio::current_effective_deadline() }).map(|inner| {
                assert_eq!(inner, Some(outer)); // the earliest deadline wins
            })
        });
        assert!(matches!(seen, Ok(Ok(()))));

        let quick = anyio::fail_after!(5, {
            tokio::time::sleep(Duration::from_millis(1)).await;
            "in time"
        });
        assert_eq!(quick.unwrap(), "in time");
    })
    .await;
}

#[tokio::test]
async fn fail_after_around_a_group_stops_every_child_before_it_returns() {
    bounded(async {
        let dropped: Vec<_> = (0..3).map(|_| flag()).collect();
        let result = anyio::fail_after(Duration::from_millis(20), async {
            anyio::task_group!(|tg| {
                for flag in &dropped {
                    tg.start_soon(async move {
                        let _guard = DropFlag(flag.clone());
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                    });
                }
            })
        })
        .await;
        assert_eq!(result.unwrap_err().kind(), ErrorKind::Timeout);
        // The group waited for its children: none is left running.
        assert!(dropped.iter().all(|flag| is_set(flag)));
    })
    .await;
}

// ---- task groups ----

#[tokio::test]
async fn start_soon_children_use_tokio_timers_and_channels() {
    bounded(async {
        let arrived = Mutex::new(Vec::new());
        let (tx, mut rx) = tokio::sync::mpsc::channel::<u64>(4);
        let result = anyio::task_group!(|tg| {
            for delay in [30u64, 10, 20] {
                let tx = tx.clone();
                tg.start_soon(async move {
                    tokio::time::sleep(Duration::from_millis(delay)).await;
                    tx.send(delay).await.map_err(|_| "the receiver is gone")
                });
            }
            drop(tx); // the channel closes when the last producer is done
            let arrived = &arrived; // borrowed by a child: no Arc needed
            tg.start_soon(async move {
                while let Some(delay) = rx.recv().await {
                    arrived.lock().unwrap().push(delay);
                }
            });
            anyio::Result::Ok("body done")
        });
        assert_eq!(result.unwrap(), Some("body done"));
        assert_eq!(*arrived.lock().unwrap(), [10, 20, 30]);
    })
    .await;
}

#[tokio::test]
async fn a_failing_child_cancels_its_siblings() {
    bounded(async {
        let sleeper_dropped = flag();
        let before_checkpoint = flag();
        let after_checkpoint = flag();
        let (wake_tx, wake_rx) = tokio::sync::oneshot::channel::<()>();
        let start = Instant::now();
        let result = anyio::task_group!(|tg| {
            tg.start_soon(async {
                let _guard = DropFlag(sleeper_dropped.clone());
                tokio::time::sleep(Duration::from_secs(3600)).await;
            });
            tg.start_soon(async {
                let _ = wake_rx.await; // a tokio future: not a checkpoint
                set(&before_checkpoint);
                anyio::lowlevel::checkpoint().await; // the cancellation lands here
                set(&after_checkpoint);
            });
            tg.start_soon(async move {
                tokio::time::sleep(Duration::from_millis(10)).await;
                let _ = wake_tx.send(()); // wakes the sibling, then fails
                Err::<(), _>(Error::new(ErrorKind::Other, "child failed"))
            });
            tokio::time::sleep(Duration::from_secs(3600)).await; // the body is cancelled too
        });
        let err = result.unwrap_err();
        assert_eq!(err.message(), "child failed");
        assert!(is_set(&sleeper_dropped), "the sleeping sibling was dropped");
        assert!(is_set(&before_checkpoint));
        assert!(
            !is_set(&after_checkpoint),
            "the sibling was dropped at its checkpoint"
        );
        assert!(start.elapsed() < Duration::from_secs(5));
    })
    .await;
}

#[tokio::test]
async fn start_waits_for_the_started_handshake() {
    bounded(async {
        let result = anyio::task_group!(|tg| {
            // The child binds a tokio listener, reports its address, then serves.
            let address: SocketAddr = tg
                .start(|status| async move {
                    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
                    status.started(listener.local_addr()?);
                    while let Ok((mut socket, _)) = listener.accept().await {
                        socket.write_all(b"hello").await?;
                    }
                    anyio::Result::Ok(())
                })
                .await?;
            let mut client = tokio::net::TcpStream::connect(address).await?;
            let mut greeting = [0u8; 5];
            client.read_exact(&mut greeting).await?;
            assert_eq!(&greeting, b"hello");

            // A child that ends without calling `started` is an error of `start`.
            let silent = tg.start(|_status: anyio::TaskStatus<u16>| async {
                tokio::time::sleep(Duration::from_millis(1)).await;
            });
            assert_eq!(silent.await.unwrap_err().kind(), ErrorKind::Other);

            tg.cancel(); // stops the server child
            anyio::Result::Ok(())
        });
        assert!(result.is_ok(), "{result:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_group_runs_inside_a_tokio_spawned_task() {
    bounded(async {
        // The group's future may move between tokio's worker threads between polls.
        let total = tokio::spawn(async {
            let total = AtomicUsize::new(0);
            anyio::task_group!(|tg| {
                for n in 1..=10 {
                    let total = &total;
                    tg.start_soon(async move {
                        for _ in 0..5 {
                            tokio::task::yield_now().await;
                            anyio::lowlevel::checkpoint().await;
                        }
                        tokio::time::sleep(Duration::from_millis(n)).await;
                        total.fetch_add(n as usize, Ordering::SeqCst);
                    });
                }
            })
            .unwrap();
            total.into_inner()
        })
        .await
        .unwrap();
        assert_eq!(total, 55);
    })
    .await;
}

#[tokio::test]
async fn spawn_without_an_anyio_runtime_is_a_clear_error() {
    bounded(async {
        let ran = AtomicBool::new(false);
        let result = anyio::task_group!(|tg| {
            let err = tg.try_spawn(async {}).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Other);
            assert!(
                err.message().contains("needs an anyio runtime"),
                "{}",
                err.message()
            );
            let named = tg.try_spawn_named("worker", async {}).unwrap_err();
            assert_eq!(named.kind(), ErrorKind::Other);
            // start_soon is the way under tokio, in the same group.
            tg.start_soon(async { ran.store(true, Ordering::SeqCst) });
        });
        assert!(result.is_ok());
        assert!(ran.load(Ordering::SeqCst));

        // The same outside any group's run.
        let outside = anyio::TaskGroup::new().try_spawn(async {}).unwrap_err();
        assert_eq!(outside.kind(), ErrorKind::Other);
        assert!(outside.message().contains("needs an anyio runtime"));
    })
    .await;
}

// ---- cancel scopes ----

#[tokio::test]
async fn a_shielded_scope_finishes_its_work_through_an_outer_cancel() {
    bounded(async {
        let outer = CancelScope::new();
        let canceller = outer.clone();
        // Cancelled from a plain tokio task, 5 ms in.
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(5)).await;
            canceller.cancel();
        });
        let saved = flag();
        let after = flag();
        let start = Instant::now();
        let result = outer
            .run(async {
                let inner = CancelScope::shielded()
                    .run(async {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        set(&saved);
                        "saved"
                    })
                    .await;
                assert_eq!(inner, Some("saved"));
                tokio::time::sleep(Duration::from_secs(3600)).await; // dropped here
                set(&after);
            })
            .await;
        assert_eq!(result, None);
        assert!(is_set(&saved), "the shielded work ran to its end");
        assert!(!is_set(&after));
        assert!(outer.cancel_called() && outer.cancelled_caught());
        let elapsed = start.elapsed();
        assert!(elapsed >= Duration::from_millis(50), "{elapsed:?}");
        assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    })
    .await;
}

#[tokio::test]
async fn a_tokio_join_handle_dropped_by_a_cancel_scope_does_not_abort_its_task() {
    bounded(async {
        let finished = flag();
        let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn({
            let finished = finished.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(50)).await;
                set(&finished);
                let _ = done_tx.send(());
            }
        });
        // The scope gives up on the handle after 5 ms and drops it...
        let joined = anyio::move_on_after(Duration::from_millis(5), task).await;
        assert!(joined.is_none());
        assert!(!is_set(&finished));
        // ...which detaches the tokio task: it runs on to its end.
        done_rx.await.unwrap();
        assert!(is_set(&finished));

        // To stop it too, abort it when the handle is dropped (what the `tokio` feature's
        // `anyio::tokio_compat::AbortOnDrop` does).
        struct AbortOnDrop(tokio::task::AbortHandle);
        impl Drop for AbortOnDrop {
            fn drop(&mut self) {
                self.0.abort();
            }
        }
        let aborted = flag();
        let finished = flag();
        let task = tokio::spawn({
            let (aborted, finished) = (aborted.clone(), finished.clone());
            async move {
                let _guard = DropFlag(aborted);
                tokio::time::sleep(Duration::from_millis(50)).await;
                set(&finished);
            }
        });
        let guard = AbortOnDrop(task.abort_handle());
        let joined = anyio::move_on_after(Duration::from_millis(5), async move {
            let _guard = guard;
            task.await
        })
        .await;
        assert!(joined.is_none());
        while !is_set(&aborted) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        tokio::time::sleep(Duration::from_millis(80)).await;
        assert!(!is_set(&finished), "the aborted task never finished");
    })
    .await;
}

// ---- synchronization primitives ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_between_tokio_tasks_and_anyio_children() {
    bounded(async {
        let ready = Arc::new(Event::new());
        let reply = Arc::new(Event::new());
        // A tokio task waits for an anyio child's event, and answers with another.
        let tokio_side = tokio::spawn({
            let (ready, reply) = (ready.clone(), reply.clone());
            async move {
                ready.wait().await;
                tokio::time::sleep(Duration::from_millis(1)).await;
                reply.set();
            }
        });
        let local = Event::new();
        let replied = AtomicBool::new(false);
        let relayed = AtomicBool::new(false);
        anyio::task_group!(|tg| {
            tg.start_soon(async {
                tokio::time::sleep(Duration::from_millis(5)).await;
                ready.set();
            });
            tg.start_soon(async {
                reply.wait().await;
                replied.store(true, Ordering::SeqCst);
                local.set(); // and between anyio children
            });
            tg.start_soon(async {
                local.wait().await;
                relayed.store(true, Ordering::SeqCst);
            });
        })
        .unwrap();
        tokio_side.await.unwrap();
        assert!(replied.load(Ordering::SeqCst) && relayed.load(Ordering::SeqCst));
        assert!(ready.is_set() && reply.is_set() && local.is_set());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_serializes_anyio_children_and_tokio_tasks() {
    bounded(async {
        let lock = Arc::new(Lock::new());
        let occupancy = Arc::new(Occupancy::default());
        let rounds = Arc::new(AtomicUsize::new(0));
        let critical = |lock: Arc<Lock>, occupancy: Arc<Occupancy>, rounds: Arc<AtomicUsize>| async move {
            for _ in 0..20 {
                let _held = lock.acquire().await?;
                occupancy.enter();
                tokio::task::yield_now().await; // hold it across a suspension
                occupancy.leave();
                rounds.fetch_add(1, Ordering::SeqCst);
            }
            anyio::Result::Ok(())
        };
        let tokio_tasks: Vec<_> = (0..4)
            .map(|_| tokio::spawn(critical(lock.clone(), occupancy.clone(), rounds.clone())))
            .collect();
        anyio::task_group!(|tg| {
            for _ in 0..4 {
                tg.start_soon(critical(lock.clone(), occupancy.clone(), rounds.clone()));
            }
        })
        .unwrap();
        for task in tokio_tasks {
            task.await.unwrap().unwrap();
        }
        assert_eq!(rounds.load(Ordering::SeqCst), 8 * 20);
        assert_eq!(occupancy.most(), 1);
        assert!(!lock.locked());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_semaphore_and_a_capacity_limiter_bound_mixed_workers() {
    bounded(async {
        let semaphore = Arc::new(Semaphore::new(2));
        let limiter = Arc::new(CapacityLimiter::new(2));
        let in_semaphore = Arc::new(Occupancy::default());
        let in_limiter = Arc::new(Occupancy::default());

        // tokio tasks are not anyio tasks: they borrow limiter tokens under a name.
        let tokio_tasks: Vec<_> = (0..3)
            .map(|i| {
                let (semaphore, limiter) = (semaphore.clone(), limiter.clone());
                let (in_semaphore, in_limiter) = (in_semaphore.clone(), in_limiter.clone());
                tokio::spawn(async move {
                    for _ in 0..5 {
                        {
                            let _permit = semaphore.acquire().await;
                            in_semaphore.enter();
                            tokio::time::sleep(Duration::from_millis(1)).await;
                            in_semaphore.leave();
                        }
                        let _token = limiter.acquire_on_behalf_of(format!("tokio-{i}")).await?;
                        in_limiter.enter();
                        tokio::time::sleep(Duration::from_millis(1)).await;
                        in_limiter.leave();
                    }
                    anyio::Result::Ok(())
                })
            })
            .collect();
        anyio::task_group!(|tg| {
            for _ in 0..3 {
                let (semaphore, limiter) = (&semaphore, &limiter);
                let (in_semaphore, in_limiter) = (&in_semaphore, &in_limiter);
                tg.start_soon(async move {
                    for _ in 0..5 {
                        {
                            let _permit = semaphore.acquire().await;
                            in_semaphore.enter();
                            tokio::time::sleep(Duration::from_millis(1)).await;
                            in_semaphore.leave();
                        }
                        // anyio children are anyio tasks: `acquire` names them.
                        let _token = limiter.acquire().await?;
                        in_limiter.enter();
                        tokio::time::sleep(Duration::from_millis(1)).await;
                        in_limiter.leave();
                    }
                    anyio::Result::Ok(())
                });
            }
        })
        .unwrap();
        for task in tokio_tasks {
            task.await.unwrap().unwrap();
        }
        assert!((1..=2).contains(&in_semaphore.most()));
        assert!((1..=2).contains(&in_limiter.most()));
        assert_eq!(semaphore.value(), 2);
        assert_eq!(limiter.borrowed_tokens(), 0);
    })
    .await;
}

#[tokio::test]
async fn outside_an_anyio_task_a_capacity_limiter_needs_named_borrowers() {
    bounded(async {
        // Code that is not an anyio task (a tokio task, a group's body under tokio) is
        // "task 0" to `acquire`: a second token for it is refused.
        let limiter = CapacityLimiter::new(2);
        let first = limiter.acquire().await.unwrap();
        let second = limiter.acquire().await.unwrap_err();
        assert_eq!(second.kind(), ErrorKind::Other);
        assert!(second.message().contains("already holds"), "{second}");
        drop(first);
        // Named borrowers are distinct.
        let a = limiter.acquire_on_behalf_of("request a").await.unwrap();
        let b = limiter.acquire_on_behalf_of("request b").await.unwrap();
        assert_eq!(limiter.available_tokens(), 0);
        drop((a, b));
    })
    .await;
}

// ---- memory object streams ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_object_streams_between_tokio_tasks_and_anyio_children() {
    bounded(async {
        // tokio producer -> two anyio workers -> the group's body.
        let (numbers_tx, numbers_rx) = anyio::create_memory_object_stream::<u64>(1);
        let producer = tokio::spawn(async move {
            for n in 1..=100 {
                numbers_tx.send(n).await?; // waits while the one-item buffer is full
            }
            anyio::Result::Ok(()) // dropping the sender ends the stream
        });
        let (doubled_tx, doubled_rx) = anyio::create_memory_object_stream::<u64>(0);
        let total = anyio::task_group!(|tg| {
            for _ in 0..2 {
                let numbers_rx = numbers_rx.try_clone()?;
                let doubled_tx = doubled_tx.try_clone()?;
                tg.start_soon(async move {
                    while let Some(n) = numbers_rx.next().await {
                        doubled_tx.send(n * 2).await?;
                    }
                    anyio::Result::Ok(())
                });
            }
            drop((numbers_rx, doubled_tx));
            let mut total = 0;
            while let Some(n) = doubled_rx.next().await {
                total += n;
            }
            anyio::Result::Ok(total)
        });
        assert_eq!(total.unwrap(), Some(2 * 5050));
        producer.await.unwrap().unwrap();

        // And the other way: an anyio child produces, a tokio task consumes.
        let (tx, rx) = anyio::create_memory_object_stream::<u64>(2);
        let consumer = tokio::spawn(async move {
            let mut received = Vec::new();
            while let Some(n) = rx.next().await {
                received.push(n);
            }
            received
        });
        anyio::task_group!(|tg| {
            tg.start_soon(async move {
                for n in 0..10 {
                    tx.send(n).await?;
                }
                anyio::Result::Ok(())
            });
        })
        .unwrap();
        assert_eq!(consumer.await.unwrap(), (0..10).collect::<Vec<_>>());
    })
    .await;
}

// ---- networking ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_tcp_echo_clients_in_a_task_group_with_deadlines() {
    bounded(async {
        let address = tokio_echo_server().await;
        let replies = Mutex::new(Vec::new());
        anyio::task_group!(|tg| {
            for client in 0..8 {
                let replies = &replies;
                tg.start_soon(async move {
                    let reply = anyio::fail_after(5, async {
                        let mut stream = tokio::net::TcpStream::connect(address).await?;
                        let message = format!("hello from client {client}");
                        stream.write_all(message.as_bytes()).await?;
                        let mut reply = vec![0u8; message.len()];
                        stream.read_exact(&mut reply).await?;
                        assert_eq!(reply, message.as_bytes());
                        anyio::Result::Ok(String::from_utf8(reply).unwrap())
                    })
                    .await??;
                    replies.lock().unwrap().push(reply);
                    anyio::Result::Ok(())
                });
            }
        })
        .unwrap();
        let mut replies = replies.into_inner().unwrap();
        replies.sort();
        assert_eq!(replies.len(), 8);
        assert_eq!(replies[0], "hello from client 0");
    })
    .await;
}

#[tokio::test]
async fn anyio_networking_works_inside_tokio() {
    use anyio::TypedAttributeProvider;
    use anyio::abc::{ByteReceiveStream, ByteSendStream, Listener};
    use anyio::net::{LocalPort, TcpStream};
    use anyio::streams::buffered::BufferedByteReceiveStream;

    bounded(async {
        // anyio's sockets use async-io's reactor, which runs on a thread of its own.
        let mut listener = anyio::create_tcp_listener()
            .local_host("127.0.0.1")
            .await
            .unwrap();
        let port = listener.extra::<LocalPort>().unwrap();
        let result = anyio::task_group!(|tg| {
            // Outside an anyio runtime, `serve` runs its handlers as `start_soon` children.
            tg.start_soon(listener.serve(|mut client: TcpStream| async move {
                while let Ok(data) = client.receive(1024).await {
                    client.send(&data).await?;
                }
                anyio::Result::Ok(())
            }));
            let mut client =
                anyio::fail_after!(5, { anyio::connect_tcp("127.0.0.1", port).await })??;
            let (receiver, mut sender) = client.split();
            sender.send(b"one\ntwo\n").await?;
            let mut lines = BufferedByteReceiveStream::new(receiver);
            assert_eq!(lines.receive_until(b"\n", 64).await?, b"one");
            assert_eq!(lines.receive_until(b"\n", 64).await?, b"two");
            tg.cancel(); // stops the server
            anyio::Result::Ok(())
        });
        assert!(result.is_ok(), "{result:?}");

        // anyio's client talks to tokio's server as to any other.
        let address = tokio_echo_server().await;
        let mut client = anyio::connect_tcp("127.0.0.1", address.port())
            .await
            .unwrap();
        client.send(b"ping").await.unwrap();
        let echoed = anyio::fail_after!(5, { client.receive(64).await }).unwrap();
        assert_eq!(echoed.unwrap(), b"ping");
    })
    .await;
}

// ---- result helpers ----

#[tokio::test]
async fn gather_and_gather_macro_under_tokio() {
    bounded(async {
        let (name, size) = anyio::gather!(
            async {
                tokio::time::sleep(Duration::from_millis(5)).await;
                anyio::Result::Ok("config.toml")
            },
            async {
                tokio::time::sleep(Duration::from_millis(1)).await;
                anyio::Result::Ok(512_u64)
            },
        )
        .unwrap();
        assert_eq!((name, size), ("config.toml", 512));

        let squares = anyio::gather((1..=4u64).map(|n| async move {
            tokio::time::sleep(Duration::from_millis(5 - n)).await; // the last ends first
            anyio::Result::Ok(n * n)
        }))
        .await
        .unwrap();
        assert_eq!(squares, [1, 4, 9, 16]);

        // A failure cancels the others and comes out.
        let dropped = flag();
        let failed = anyio::gather!(
            async {
                let _guard = DropFlag(dropped.clone());
                tokio::time::sleep(Duration::from_secs(3600)).await;
                anyio::Result::Ok(())
            },
            async { Err::<(), _>(Error::new(ErrorKind::Other, "no luck")) },
        );
        assert_eq!(failed.unwrap_err().message(), "no luck");
        assert!(is_set(&dropped));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amap_and_as_completed_under_tokio() {
    bounded(async {
        let occupancy = Occupancy::default();
        let lengths = anyio::amap(
            |word: &str| {
                let occupancy = &occupancy;
                async move {
                    occupancy.enter();
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    occupancy.leave();
                    anyio::Result::Ok(word.len())
                }
            },
            ["one", "three", "five", "seven", "eleven"],
        )
        .limit(2)
        .await
        .unwrap();
        assert_eq!(lengths, [3, 5, 4, 5, 6]);
        assert!(occupancy.most() <= 2);

        let mut finished = anyio::as_completed([30u64, 10, 20].map(|ms| async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            anyio::Result::Ok(ms)
        }));
        let mut order = Vec::new();
        while let Some(ms) = finished.next().await {
            order.push(ms.unwrap());
        }
        assert_eq!(order, [10, 20, 30]);
    })
    .await;
}

// ---- time and introspection ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anyio_sleep_and_current_time_under_tokio() {
    bounded(async {
        let before = anyio::current_time();
        anyio::sleep(0.02).await; // seconds
        let slept = anyio::current_time() - before;
        assert!(slept >= Duration::from_millis(20), "{slept:?}");
        assert!(slept < Duration::from_secs(5), "{slept:?}");

        let deadline = anyio::current_time() + Duration::from_millis(5);
        anyio::sleep_until(deadline).await;
        assert!(anyio::current_time() >= deadline);

        // In a tokio task on another worker thread too; and `sleep_forever` ends with a
        // cancel scope.
        let in_task = tokio::spawn(async {
            let start = anyio::current_time();
            anyio::sleep(Duration::from_millis(10)).await;
            let ended = anyio::move_on_after(0.005, anyio::sleep_forever()).await;
            (start.elapsed(), ended)
        })
        .await
        .unwrap();
        assert!(in_task.0 >= Duration::from_millis(15), "{:?}", in_task.0);
        assert_eq!(in_task.1, None);
    })
    .await;
}

#[tokio::test]
async fn introspection_outside_an_anyio_runtime() {
    bounded(async {
        // No runtime: no registry of tasks, and nothing to wait for.
        assert!(anyio::get_running_tasks().is_empty());
        anyio::wait_all_tasks_blocked().await; // returns at once
        let body_is_a_task = std::panic::catch_unwind(|| anyio::get_current_task()).is_ok();
        assert!(!body_is_a_task, "a tokio task is not an anyio task");
        // A group's children are anyio tasks, with ids and names of their own.
        anyio::task_group!(|tg| {
            tg.start_soon_named("worker", async {
                let me = anyio::get_current_task();
                assert_eq!(me.name, "worker");
                assert_ne!(me.id, 0);
            });
        })
        .unwrap();
    })
    .await;
}
