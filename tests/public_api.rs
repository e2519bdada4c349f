//! The public names, listed: removing or renaming one fails to build here. A name added
//! to the crate belongs in this list too (see the review checklist in the README).
#![allow(unused_imports, deprecated)]

// The crate root (AnyIO's top-level names).
use anyio::{
    AMap, Acquire, AsCompleted, Borrower, BoxError, Builder, CancelOnSet, CancelScope,
    CancelScopeRun, CapacityLimiter, CapacityLimiterStatistics, Condition, ConditionGuard,
    ConditionStatistics, ConditionWait, Error, ErrorKind, Event, EventStatistics, EventWait,
    FailAfter, IntoDuration, LimiterAcquire, LimiterGuard, Lock, LockAcquire, LockGuard,
    LockStatistics, MemoryObjectReceiveStream, MemoryObjectSendStream,
    MemoryObjectStreamStatistics, MoveOnAfter, ResourceGuard, ResourceGuardToken, Result, Runtime,
    Semaphore, SemaphoreAcquire, SemaphoreGuard, SemaphoreStatistics, SendError, Sleep, TaskGroup,
    TaskGroupRun, TaskHandle, TaskInfo, TaskJoin, TaskOutput, TaskState, TaskStatus, TaskWait,
    TypedAttribute, TypedAttributeProvider, TypedAttributes, WaitAllTasksBlocked, WithCleanup,
    amap, create_memory_object_stream, create_unbounded_memory_object_stream,
    current_effective_deadline, current_time, fail_after, fail_after_with_reason, fail_at, gather,
    get_current_task, get_running_tasks, getaddrinfo, main, move_on_after, move_on_at, run, sleep,
    sleep_forever, sleep_until, task_group, test, wait_all_tasks_blocked, with_cleanup,
};
// Namespaces AnyIO users already type.
use anyio::abc::{
    AsyncResource, ByteReceiveStream, ByteSendStream, ByteStream, DEFAULT_MAX_BYTES, Listener,
    ObjectReceiveStream, ObjectSendStream, ObjectStream,
};
use anyio::from_thread::{
    BlockingPortal, BlockingPortalProvider, PortalFuture, ProvidedPortal, check_cancelled,
    run as _, run_sync as _, start_blocking_portal,
};
use anyio::lowlevel::{
    Checkpoint, EventLoopToken, RunVar, RunVarToken, cancel_shielded_checkpoint, checkpoint,
    checkpoint_if_cancelled, current_token, is_cancelled,
};
use anyio::net::{
    AddressFamily, ConnectTcp, CreateTcpListener, CreateUnixListener, Family, GetAddrInfo,
    LocalAddress, LocalPort, RawSocket, RemoteAddress, RemotePort, SocketAddress, TcpListener,
    TcpStream, ToHost, UnixListener, UnixStream, connect_tcp as _, connect_unix as _,
    create_tcp_listener as _, create_unix_listener as _, getaddrinfo as _,
};
use anyio::process::{
    Command, OpenProcess, ProcessStderr, ProcessStdin, ProcessStdout, RunProcess,
};
use anyio::streams::buffered::{BufferedByteReceiveStream, BufferedByteStream};
use anyio::streams::file::{FileDescriptor, FilePath, FileReadStream, FileWriteStream, SeekFrom};
use anyio::streams::io::{ByteStreamIo, FuturesIoStream};
use anyio::streams::memory::{MemoryNext, MemoryReceive, MemorySend};
use anyio::streams::multi_listener::MultiListener;
use anyio::streams::object_bytes::{
    MemoryByteStream, ObjectByteReceiveStream, ObjectByteSendStream, memory_byte_stream_pair,
};
use anyio::streams::stapled::{StapledByteStream, StapledObjectStream};
use anyio::streams::text::{TextReceiveStream, TextSendStream, TextStream};
use anyio::testing::{MockClock, TaskTree, task_tree};
use anyio::to_process::{
    RunSync as ProcessRunSync, current_default_process_limiter, init, run_sync,
};
use anyio::to_thread::{RunSync, RunSyncFuture, current_default_thread_limiter, run_sync as _};
use anyio::{CompletedProcess, IntoCommand, Process, Signal, open_process, run_process};

/// Methods of the main handles, named as values: renaming one fails to build.
#[::core::prelude::v1::test]
fn method_names_are_stable() {
    let _ = (
        CancelScope::new,
        CancelScope::with_deadline,
        CancelScope::shielded,
    );
    let _ = (
        CancelScope::cancel,
        CancelScope::cancel_called,
        CancelScope::cancelled_caught,
    );
    let _ = (
        CancelScope::deadline,
        CancelScope::set_deadline,
        CancelScope::shield,
    );
    let _ = (CancelScope::set_shield, CancelScope::cancel_reason);
    let _ = (
        Semaphore::new,
        Semaphore::with_max_value,
        Semaphore::MAX_VALUE,
    );
    let _ = (
        Lock::new,
        Lock::acquire_nowait,
        Lock::locked,
        Lock::statistics,
    );
    let _ = (Event::new, Event::set, Event::is_set, Event::statistics);
    let _ = (
        ConditionGuard::holds_lock,
        ConditionGuard::notify,
        ConditionGuard::notify_all,
    );
    let _ = TaskGroup::cancel_scope;
    let _ = TaskGroup::cancel;
    let _ = (
        TaskHandle::<u8>::name,
        TaskHandle::<u8>::status,
        TaskHandle::<u8>::cancel,
        TaskHandle::<u8>::wait,
    );
    let _ = [
        TaskState::Pending,
        TaskState::Finished,
        TaskState::Cancelling,
        TaskState::Cancelled,
        TaskState::Failed,
    ];
    let _ = ErrorKind::TaskFailed;
    let _ = (
        ErrorKind::NoEventLoop,
        ErrorKind::RunFinished,
        ErrorKind::BrokenWorkerProcess,
    );
    let _ = (
        MockClock::new,
        MockClock::now,
        |clock: &MockClock| clock.jump(1.0),
        MockClock::set_rate,
        |clock: MockClock| clock.autojump_threshold(0),
        anyio::Builder::clock,
        anyio::Builder::seed,
    );
    let _ = (
        BlockingPortal::stop,
        BlockingPortal::is_running,
        PortalFuture::<u32>::wait,
        PortalFuture::<u32>::cancel,
        PortalFuture::<u32>::is_finished,
    );
    let _ = (
        BlockingPortalProvider::new,
        BlockingPortalProvider::portal,
        RunVar::<u32>::new,
        RunVar::<u32>::with_default,
        RunVar::<u32>::get,
        RunVar::<u32>::get_or,
        RunVar::<u32>::set,
        RunVar::<u32>::reset,
    );
    let _ = (
        ProcessRunSync::<u8>::cancellable,
        ProcessRunSync::<u8>::limiter,
    );
    let _ = (init, current_default_process_limiter);
    let _ = run_sync::<fn(u8) -> u8, u8, u8>;
}
