//! `Send`, `Sync` and `Unpin` of every public handle and future, checked at compile
//! time: a change that loses one of them fails to build here, not in a user's crate.
//! (The `#[test]` at the end only makes the file count as a test.)
#![allow(dead_code, clippy::extra_unused_type_parameters)]

use std::future::Future;

use anyio::abc::{ByteReceiveStream, ByteSendStream};
use anyio::lowlevel::Checkpoint;
use anyio::streams::buffered::BufferedByteReceiveStream;
use anyio::streams::file::{FileReadStream, FileWriteStream};
use anyio::streams::io::{ByteStreamIo, FuturesIoStream};
use anyio::streams::memory::{MemoryNext, MemoryReceive, MemorySend};
use anyio::streams::object_bytes::{
    MemoryByteStream, ObjectByteReceiveStream, ObjectByteSendStream,
};
use anyio::streams::stapled::{MultiListener, StapledByteStream, StapledObjectStream};
use anyio::streams::text::{TextReceiveStream, TextSendStream, TextStream};
use anyio::*;

/// Asserts at compile time that a type has the listed auto traits.
macro_rules! assert_value {
    ($type:ty: $($auto:ident)&+) => {
        const _: fn() = || {
            fn check<T: ?Sized $(+ $auto)+>() {}
            check::<$type>();
        };
    };
}

/// A future that is `Send + Sync + Unpin`, to instantiate generic wrappers with.
type Ready = std::future::Ready<()>;
/// A future that is `Send` but neither `Sync` nor `Unpin`.
type SendOnly = std::pin::Pin<Box<dyn Future<Output = ()> + Send>>;

// Runtime and errors.
assert_value!(Runtime: Send & Sync & Unpin);
assert_value!(Builder: Send & Sync & Unpin);
assert_value!(Error: Send & Sync & Unpin);
assert_value!(ErrorKind: Send & Sync & Unpin);
assert_value!(TaskInfo: Send & Sync & Unpin);

// Cancellation.
assert_value!(CancelScope: Send & Sync & Unpin);
assert_value!(CancelScopeRun<Ready>: Send & Sync & Unpin);
assert_value!(CancelScopeRun<SendOnly>: Send & Unpin);
assert_value!(FailAfter<Ready>: Send & Sync & Unpin);
assert_value!(FailAfter<SendOnly>: Send & Unpin);
assert_value!(MoveOnAfter<Ready>: Send & Sync & Unpin);
assert_value!(MoveOnAfter<SendOnly>: Send & Unpin);
assert_value!(WithCleanup<Ready, Ready>: Send & Sync & Unpin);
assert_value!(Checkpoint: Send & Sync & Unpin);
assert_value!(Sleep: Send & Sync & Unpin);

// Testing.
assert_value!(anyio::testing::TaskTree: Send & Sync & Unpin);
assert_value!(anyio::testing::MockClock: Send & Sync & Unpin);

// Processes.
assert_value!(anyio::Process: Send & Sync & Unpin);
assert_value!(anyio::process::ProcessStdin: Send & Sync & Unpin);
assert_value!(anyio::process::ProcessStdout: Send & Sync & Unpin);
assert_value!(anyio::process::RunProcess<'static>: Send & Sync & Unpin);
assert_value!(anyio::CompletedProcess: Send & Sync & Unpin);

// Threads and portals: handles cross threads by design.
assert_value!(anyio::to_thread::RunSyncFuture<'static, u32>: Send & Unpin);
assert_value!(anyio::from_thread::BlockingPortal: Send & Sync & Unpin);
assert_value!(anyio::from_thread::PortalFuture<u32>: Send & Sync & Unpin);
assert_value!(anyio::from_thread::BlockingPortalProvider: Send & Sync & Unpin);
assert_value!(anyio::lowlevel::EventLoopToken: Send & Sync & Unpin);
assert_value!(anyio::lowlevel::RunVar<u32>: Send & Sync & Unpin);
assert_value!(anyio::lowlevel::RunVarToken<u32>: Send & Sync & Unpin);

// Tasks: a group is shared by reference between its children, so it must be `Sync`;
// its run future must be `Send` so that a group can live inside a spawned task.
assert_value!(TaskGroup<'static>: Send & Sync);
assert_value!(TaskGroupRun<'static, 'static, Ready>: Send & Unpin);
assert_value!(TaskGroupRun<'static, 'static, SendOnly>: Send & Unpin);
assert_value!(TaskStatus<u32>: Send & Sync & Unpin);
assert_value!(TaskHandle<u32>: Send & Sync & Unpin);
assert_value!(TaskJoin<u32>: Send & Sync & Unpin);
assert_value!(TaskWait<'static, u32>: Send & Sync & Unpin);
assert_value!(TaskState: Send & Sync & Unpin);
assert_value!(anyio::net::TcpStream: Send & Sync & Unpin);
assert_value!(anyio::net::TcpListener: Send & Sync & Unpin);
assert_value!(anyio::net::ConnectTcp: Send & Sync & Unpin);
assert_value!(anyio::to_process::RunSync<'static, String>: Send & Sync & Unpin);
assert_value!(anyio::net::CreateTcpListener: Send & Sync & Unpin);
assert_value!(anyio::net::UnixStream: Send & Sync & Unpin);
assert_value!(anyio::net::UnixListener: Send & Sync & Unpin);
assert_value!(FuturesIoStream<futures_lite::io::Cursor<Vec<u8>>>: Send & Sync & Unpin);
assert_value!(WaitAllTasksBlocked: Send & Sync & Unpin);

// Synchronization: the primitives are shared by reference (or in statics).
assert_value!(Event: Send & Sync & Unpin);
assert_value!(EventWait<'static>: Send & Sync & Unpin);
assert_value!(Lock: Send & Sync & Unpin);
assert_value!(LockAcquire<'static>: Send & Sync & Unpin);
assert_value!(LockGuard<'static>: Send & Sync & Unpin);
assert_value!(Condition: Send & Sync & Unpin);
assert_value!(ConditionGuard<'static>: Send & Sync & Unpin);
assert_value!(ConditionWait<'static, 'static>: Send & Sync & Unpin);
assert_value!(Semaphore: Send & Sync & Unpin);
assert_value!(SemaphoreAcquire<'static>: Send & Sync & Unpin);
assert_value!(SemaphoreGuard<'static>: Send & Sync & Unpin);
assert_value!(CapacityLimiter: Send & Sync & Unpin);
assert_value!(LimiterAcquire<'static>: Send & Sync & Unpin);
assert_value!(LimiterGuard<'static>: Send & Sync & Unpin);
assert_value!(Borrower: Send & Sync & Unpin);
assert_value!(ResourceGuard: Send & Sync & Unpin);
assert_value!(ResourceGuardToken<'static>: Send & Sync & Unpin);

// Memory object streams: ends are shared by reference between tasks.
assert_value!(MemoryObjectSendStream<String>: Send & Sync & Unpin);
assert_value!(MemoryObjectReceiveStream<String>: Send & Sync & Unpin);
assert_value!(MemorySend<'static, String>: Send & Sync & Unpin);
assert_value!(MemoryReceive<'static, String>: Send & Sync & Unpin);
assert_value!(MemoryNext<'static, String>: Send & Sync & Unpin);
assert_value!(SendError<String>: Send & Sync & Unpin);
assert_value!(MemoryObjectStreamStatistics: Send & Sync & Unpin);

// Stream wrappers over a `Send + Sync` stream.
assert_value!(MemoryByteStream: Send & Sync & Unpin);
assert_value!(BufferedByteReceiveStream<MemoryByteStream>: Send & Sync & Unpin);
assert_value!(TextReceiveStream<MemoryByteStream>: Send & Sync & Unpin);
assert_value!(TextSendStream<MemoryByteStream>: Send & Sync & Unpin);
assert_value!(TextStream<MemoryByteStream>: Send & Sync & Unpin);
assert_value!(StapledByteStream<MemoryByteStream, MemoryByteStream>: Send & Sync & Unpin);
assert_value!(
    StapledObjectStream<MemoryObjectSendStream<u8>, MemoryObjectReceiveStream<u8>>: Send & Sync & Unpin
);
assert_value!(ObjectByteReceiveStream<MemoryObjectReceiveStream<Vec<u8>>>: Send & Sync & Unpin);
assert_value!(ObjectByteSendStream<MemoryObjectSendStream<Vec<u8>>>: Send & Sync & Unpin);
assert_value!(MultiListener<MemoryObjectReceiveStream<u8>>: Send & Sync & Unpin);
assert_value!(FileReadStream: Send & Sync & Unpin);
assert_value!(FileWriteStream: Send & Sync & Unpin);
// The adapter boxes the stream's `async fn` futures, whose `Send`-ness a trait cannot
// promise on stable Rust: it is `Unpin`, not `Send`.
assert_value!(ByteStreamIo<MemoryByteStream>: Unpin);

fn is_send<T: Send>(_: &T) {}

/// The futures of `async fn`s cannot be named: check them on values instead. Never
/// called; it only has to compile.
fn async_fn_futures_are_send(
    tg: &TaskGroup<'static>,
    condition: &Condition,
    guard: &mut ConditionGuard<'static>,
    limiter: &CapacityLimiter,
    buffered: &mut BufferedByteReceiveStream<MemoryByteStream>,
    text: &mut TextStream<MemoryByteStream>,
    bytes: &mut MemoryByteStream,
) {
    is_send(&tg.start(|status: TaskStatus<u8>| async move { status.started(1) }));
    is_send(&tg.run(async {}));
    is_send(&condition.acquire());
    is_send(&guard.wait_for(|| true));
    is_send(&limiter.acquire_on_behalf_of(Borrower::current_task()));
    is_send(&buffered.receive_until(b"\n", 10));
    is_send(&buffered.receive_exactly(3));
    is_send(&text.receive());
    is_send(&text.send("x"));
    is_send(&bytes.receive(10));
    is_send(&bytes.send(b"x"));
    is_send(&sleep(1));
    is_send(&fail_after(1, async {}));
    is_send(&with_cleanup(async {}, async {}));
}

#[::core::prelude::v1::test]
fn auto_traits_are_checked_at_compile_time() {}

/// The helpers' futures are `Send`, so that they can run in spawned tasks.
#[allow(dead_code)]
fn helper_futures_are_send() {
    fn is_send<T: Send>(_: &T) {}
    is_send(&anyio::gather([async { anyio::Result::Ok(1) }]));
    is_send(&std::future::IntoFuture::into_future(
        anyio::amap(|n: u8| async move { anyio::Result::Ok(n) }, [1_u8]).limit(1),
    ));
    is_send(&async { anyio::gather!(async { anyio::Result::Ok(1) }, async {}) });
    is_send(&anyio::as_completed([async { anyio::Result::Ok(1) }]));
    is_send(&std::future::IntoFuture::into_future(
        anyio::to_process::run_sync(|n: u8| n, 1).cancellable(true),
    ));
    is_send(&async {
        let mut stream = anyio::as_completed([async { anyio::Result::Ok(1) }]);
        stream.next().await
    });
}
