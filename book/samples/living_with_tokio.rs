//! Chapter "Living with tokio": anyio inside a tokio program (no anyio runtime), and
//! tokio-based code inside an anyio program.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

// ANCHOR: anyio_in_tokio
#[tokio::main(flavor = "current_thread")]
async fn anyio_in_tokio() -> anyio::Result<()> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<u64>(8);
    let arrived = Mutex::new(Vec::new());
    anyio::task_group!(|tg| {
        for ms in [30, 10, 20] {
            let tx = tx.clone();
            tg.start_soon(async move {
                tokio::time::sleep(Duration::from_millis(ms)).await; // a tokio timer
                tx.send(ms).await.map_err(|_| "the receiver is gone")
            });
        }
        drop(tx);
        let arrived = &arrived; // children borrow, as under anyio's own runtime
        tg.start_soon(async move {
            while let Some(ms) = rx.recv().await {
                arrived.lock().unwrap().push(ms);
            }
        });
        // A deadline around tokio futures: the body is dropped at its await.
        let gave_up = anyio::move_on_after!(Duration::from_millis(5), {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        });
        assert_eq!(gave_up, None);
        anyio::Result::Ok(())
    })?;
    let arrived = arrived.into_inner().unwrap();
    assert_eq!(arrived, [10, 20, 30]);
    println!("  anyio in tokio: the children's messages arrived as {arrived:?}");

    needs_a_runtime().await;
    join_handles().await;
    shared_with_tokio_tasks().await?;
    anyio_sockets_in_tokio().await?;
    Ok(())
}
// ANCHOR_END: anyio_in_tokio

// ANCHOR: needs_a_runtime
async fn needs_a_runtime() {
    anyio::task_group!(|tg| {
        // Parallel children need anyio's worker threads: refused here, with the reason.
        let refused = tg.try_spawn(async {}).unwrap_err();
        assert_eq!(refused.kind(), anyio::ErrorKind::Other);
        assert!(refused.message().contains("needs an anyio runtime"));
        // start_soon children run inside the group's future: fine anywhere.
        tg.start_soon(tokio::time::sleep(Duration::from_millis(1)));
    })
    .unwrap();
    // No runtime, no registry of tasks.
    assert!(anyio::get_running_tasks().is_empty());
}
// ANCHOR_END: needs_a_runtime

// ANCHOR: join_handles
async fn join_handles() {
    // A scope that gives up on a JoinHandle drops it, which detaches the task.
    let finished = Arc::new(AtomicBool::new(false));
    let flag = finished.clone();
    let task = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(20)).await;
        flag.store(true, Ordering::SeqCst);
    });
    assert!(anyio::move_on_after(0.001, task).await.is_none());
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(finished.load(Ordering::SeqCst), "the tokio task ran on");

    // To end the task with the scope, abort it when the handle is dropped.
    struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);
    impl<T> Drop for AbortOnDrop<T> {
        fn drop(&mut self) {
            self.0.abort();
        }
    }
    let finished = Arc::new(AtomicBool::new(false));
    let flag = finished.clone();
    let task = AbortOnDrop(tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(20)).await;
        flag.store(true, Ordering::SeqCst);
    }));
    let waited = anyio::move_on_after(0.001, async move {
        let mut task = task; // dropped with the body
        (&mut task.0).await
    });
    assert!(waited.await.is_none());
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        !finished.load(Ordering::SeqCst),
        "the tokio task was aborted"
    );
    println!("  a dropped JoinHandle detaches its task; an aborting wrapper stops it");
}
// ANCHOR_END: join_handles

// ANCHOR: shared_with_tokio_tasks
async fn shared_with_tokio_tasks() -> anyio::Result<()> {
    // A tokio task feeds an anyio group through a memory object stream.
    let (tx, rx) = anyio::create_memory_object_stream::<u32>(1);
    let producer = tokio::spawn(async move {
        for n in 1..=10 {
            tx.send(n).await?; // backpressure: waits while the buffer is full
        }
        anyio::Result::Ok(())
    });
    // tokio tasks are not anyio tasks: they borrow limiter tokens under a name.
    let limiter = Arc::new(anyio::CapacityLimiter::new(1));
    let other = limiter.clone();
    let borrower = tokio::spawn(async move {
        let _token = other.acquire_on_behalf_of("tokio task").await?;
        tokio::time::sleep(Duration::from_millis(2)).await;
        anyio::Result::Ok(())
    });
    let total = Mutex::new(0);
    anyio::task_group!(|tg| {
        for _ in 0..2 {
            let rx = rx.try_clone()?;
            let (limiter, total) = (&limiter, &total);
            tg.start_soon(async move {
                while let Some(n) = rx.next().await {
                    let _token = limiter.acquire().await?; // children are anyio tasks
                    *total.lock().unwrap() += n;
                }
                anyio::Result::Ok(())
            });
        }
        drop(rx);
        anyio::Result::Ok(())
    })?;
    producer.await.unwrap()?;
    borrower.await.unwrap()?;
    let total = total.into_inner().unwrap();
    assert_eq!(total, 55);
    println!("  a tokio task fed an anyio group: sum {total}");
    Ok(())
}
// ANCHOR_END: shared_with_tokio_tasks

// ANCHOR: anyio_sockets_in_tokio
async fn anyio_sockets_in_tokio() -> anyio::Result<()> {
    use anyio::TypedAttributeProvider;
    use anyio::abc::{ByteReceiveStream, ByteSendStream, Listener};
    use anyio::net::{LocalPort, TcpStream};

    // anyio's sockets live on async-io's reactor, not tokio's: they work here too.
    let mut listener = anyio::create_tcp_listener().local_host("127.0.0.1").await?;
    let port = listener.extra::<LocalPort>()?;
    anyio::task_group!(|tg| {
        // Outside an anyio runtime, `serve` runs its handlers as start_soon children.
        tg.start_soon(
            listener.serve(|mut client: TcpStream| async move {
                client.send(b"hello from anyio").await
            }),
        );
        let mut client = anyio::fail_after!(5, { anyio::connect_tcp("127.0.0.1", port).await })??;
        let greeting = client.receive(64).await?;
        println!("  {}", String::from_utf8_lossy(&greeting));
        tg.cancel(); // stops the server
        anyio::Result::Ok(())
    })?;
    Ok(())
}
// ANCHOR_END: anyio_sockets_in_tokio

// ANCHOR: own_tokio_runtime
/// A tokio runtime of the program's own, for tokio-based crates.
static TOKIO: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("tokio runtime")
});

thread_local! {
    static ENTERED: std::cell::RefCell<Option<tokio::runtime::EnterGuard<'static>>> =
        const { std::cell::RefCell::new(None) };
}

fn tokio_in_anyio() -> anyio::Result<()> {
    let runtime = anyio::Runtime::builder()
        .worker_threads(2)
        // Every thread that polls anyio tasks enters the tokio runtime...
        .on_thread_start(|| ENTERED.with(|entered| *entered.borrow_mut() = Some(TOKIO.enter())))
        // ...and leaves it when it stops.
        .on_thread_stop(|| ENTERED.with(|entered| drop(entered.borrow_mut().take())))
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        anyio::task_group!(|tg| {
            // A spawned child, on an anyio worker thread: tokio types work there too.
            tg.spawn(async move {
                let (mut socket, _) = listener.accept().await?;
                socket.write_all(b"hello from tokio").await?;
                anyio::Result::Ok(())
            });
            let mut client = tokio::net::TcpStream::connect(address).await?;
            let mut greeting = String::new();
            anyio::fail_after!(5, { client.read_to_string(&mut greeting).await })??;
            println!("  {greeting}");
            anyio::Result::Ok(())
        })?;
        // tokio's timers, under anyio's deadlines.
        let slow = anyio::fail_after!(Duration::from_millis(5), {
            tokio::time::sleep(Duration::from_secs(3600)).await
        });
        assert_eq!(slow.unwrap_err().kind(), anyio::ErrorKind::Timeout);
        anyio::Result::Ok(())
    })
}
// ANCHOR_END: own_tokio_runtime

// ANCHOR: feature_tokio
/// With anyio's `tokio` feature, every anyio runtime runs a tokio runtime and enters it
/// on its threads: no hooks needed.
#[cfg(feature = "tokio")]
fn with_the_feature() {
    anyio::run(async {
        tokio::time::sleep(Duration::from_millis(1)).await;
        let task = anyio::tokio_compat::AbortOnDrop::new(tokio::spawn(async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }));
        // The scope gives up, the wrapper is dropped, and the tokio task is aborted.
        assert!(anyio::move_on_after(0.005, task).await.is_none());
    });
    println!("  with the `tokio` feature: no hooks, and AbortOnDrop ends the task");
}
// ANCHOR_END: feature_tokio

fn main() -> anyio::Result<()> {
    println!("anyio inside tokio:");
    anyio_in_tokio()?;
    println!("tokio inside anyio:");
    tokio_in_anyio()?;
    #[cfg(feature = "tokio")]
    with_the_feature();
    Ok(())
}
