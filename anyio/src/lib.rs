//! # anyio: structured concurrency for Rust
//!
//! A Rust port of Python's [AnyIO](https://anyio.readthedocs.io): task groups whose
//! children never outlive them, cancel scopes with deadlines and shields, and errors that
//! are never lost, on a runtime built from the smol ecosystem (async-task, async-io).
//!
//! ```
//! use std::sync::Mutex;
//!
//! # fn main() -> anyio::Result<()> {
//! anyio::run(async {
//!     let pages = Mutex::new(Vec::new()); // children may borrow locals
//!     anyio::task_group!(|tg| {
//!         for url in ["a", "b"] {
//!             let pages = &pages;
//!             tg.start_soon(async move {
//!                 anyio::sleep(0.001).await; // fetch the page...
//!                 pages.lock().unwrap().push(url);
//!                 anyio::Result::Ok(())
//!             });
//!         }
//!     })?;
//!     assert_eq!(pages.lock().unwrap().len(), 2);
//!
//!     // A deadline: Err(kind Timeout) if the body takes longer than 1.5 s.
//!     let reply = anyio::fail_after!(1.5, { "pong" })?;
//!     assert_eq!(reply, "pong");
//!     Ok(())
//! })
//! # }
//! ```
//!
//! ## The cancellation model
//!
//! Rust cancels a future by dropping it; AnyIO cancels by raising at the next checkpoint.
//! anyio combines the two: cancelling a [`CancelScope`] (by hand, or when its deadline
//! passes) makes its body be *dropped at its next suspension point*. Every anyio
//! operation is a checkpoint, and so is every suspension point of any other future, so no
//! cooperation is needed. A shielded scope protects its body (for async cleanup, see
//! [`with_cleanup`]); a [`TaskGroup`] counts as shielded work until its last child has
//! ended, so no child ever outlives the scope around its group.
//!
//! ## Cooperative scheduling
//!
//! An anyio operation that can complete at once (an uncontended lock, an item already in
//! a stream, an event already set) does so without suspending, which keeps it cheap. So
//! that a task looping over such operations still lets its siblings run, every task has
//! a *budget*: **a task never completes more than 128 anyio operations in a row without
//! yielding.** Once the budget of a poll is spent, the next operation yields once (it
//! wakes its task and returns `Pending`) and the budget is refilled at the task's next
//! poll. Like any suspension point, that yield is where a cancelled body is dropped.
//! Code outside an anyio task (a foreign executor) has no budget. A loop that does no
//! anyio operation at all must yield itself, with [`lowlevel::checkpoint`].
//!
//! ## Map
//!
//! - Runtime: [`run`], [`Runtime`], [`Builder`], [`macro@main`], [`macro@test`].
//! - Time: [`sleep`], [`sleep_until`], [`sleep_forever`], [`current_time`].
//! - Cancellation: [`CancelScope`], [`move_on_after`](fn@move_on_after),
//!   [`fail_after`](fn@fail_after), [`current_effective_deadline`], [`with_cleanup`],
//!   [`lowlevel`] checkpoints; macros [`fail_after!`], [`move_on_after!`].
//! - Tasks: [`TaskGroup`], [`task_group!`], [`TaskStatus`], [`TaskHandle`],
//!   [`get_current_task`], [`get_running_tasks`], [`wait_all_tasks_blocked`]; result
//!   helpers [`gather`](fn@gather), [`gather!`](macro@gather), [`amap`], [`as_completed`].
//! - Synchronization: [`Event`], [`Lock`], [`Condition`], [`Semaphore`],
//!   [`CapacityLimiter`], [`ResourceGuard`] (fair, cancel-safe, usable in `static`s).
//! - Memory object streams: [`create_memory_object_stream`] (bounded, rendezvous or
//!   unbounded channels that never lose an item to cancellation).
//! - Streams: the traits in [`abc`], typed attributes ([`TypedAttribute`],
//!   [`TypedAttributeProvider`]), and the wrappers in [`streams`] (buffered, text,
//!   stapled, file, `MultiListener`, `futures-io` adapters both ways).
//! - Networking ([`net`]): [`connect_tcp`] (Happy Eyeballs), [`create_tcp_listener`],
//!   [`connect_unix`], [`create_unix_listener`] (with descriptor passing),
//!   [`create_udp_socket`], [`create_connected_udp_socket`], UNIX datagrams,
//!   [`getaddrinfo`] (with IDNA), [`getnameinfo`], [`wait_readable`], [`wait_writable`],
//!   [`notify_closing`].
//! - TLS ([`streams::tls`]): `TlsStream` over any byte stream, `TlsListener`, and
//!   `connect_tcp(..).tls()`, on rustls.
//! - Threads ([`to_thread`], [`from_thread`]): blocking code on a pool of threads behind
//!   a limiter, calls back into async code, blocking portals for synchronous programs;
//!   per-runtime variables ([`lowlevel::RunVar`]) and tokens ([`lowlevel::current_token`]).
//! - Worker processes ([`to_process`]): functions run in copies of this program.
//! - Subprocesses ([`process`]): [`run_process`], [`open_process`] (killed and reaped
//!   when dropped or cancelled).
//! - Files ([`fs`]): [`open_file`], [`AsyncFile`], [`Path`] (pathlib), temporary files
//!   and directories; signals: [`open_signal_receiver`].
//! - Testing ([`testing`]): a [`MockClock`](testing::MockClock) for virtual time, and
//!   [`task_tree`](testing::task_tree).
//! - Errors: [`Error`], [`ErrorKind`], [`Result`].
//!
//! ## Other executors, and the `tokio` feature
//!
//! Cancel scopes, deadlines, task groups with `start_soon` / `start`, the result helpers,
//! sync primitives, memory object streams and anyio's sockets work in any executor
//! (inside `#[tokio::main]` too): their timers and reactor are async-io's, which runs on
//! a thread of its own when nobody else drives it. [`TaskGroup::spawn`] needs an anyio
//! runtime (it says so in its error). The other direction, tokio-based crates inside
//! anyio tasks, needs the cargo feature `tokio`: every anyio runtime then runs a tokio
//! runtime and enters it on each thread that polls tasks, and `tokio_compat` offers
//! `AbortOnDrop` for tokio tasks that should end with their scope.

// Denied, not forbidden, so that the one module that needs it (`os`: code addresses,
// what a child does before exec, signal handlers) can allow it for itself alone.
#![deny(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations)]
#![doc(test(attr(deny(warnings))))]

pub mod abc;
mod base;
mod cancel;
mod error;
pub mod from_thread;
pub mod fs;
pub mod lowlevel;
mod macros;
pub mod net;
mod os;
pub mod process;
mod runtime;
mod signal;
pub mod streams;
mod sync;
mod task;
pub mod testing;
mod time;
pub mod to_process;
pub mod to_thread;
#[cfg(feature = "tokio")]
pub mod tokio_compat;
mod typed_attr;

pub use abc::aclose_forcefully;
pub use cancel::{
    CancelScope, CancelScopeRun, FailAfter, MoveOnAfter, WithCleanup, current_effective_deadline,
    fail_after, fail_after_with_reason, fail_at, move_on_after, move_on_at, with_cleanup,
};
pub use error::{BoxError, Error, ErrorKind, Result};
pub use fs::{
    AsyncFile, MkDtemp, MkStemp, NamedTemporaryFile, NamedTemporaryFileBuilder, Path,
    TemporaryDirectory, TemporaryDirectoryBuilder, TemporaryFile, gettempdir, mkdtemp, mkstemp,
    open_file, wrap_file,
};
pub use net::{
    connect_tcp, connect_unix, create_connected_udp_socket, create_connected_unix_datagram_socket,
    create_tcp_listener, create_udp_socket, create_unix_datagram_socket, create_unix_listener,
    getaddrinfo, getnameinfo, notify_closing, wait_readable, wait_writable,
};
pub use process::{CompletedProcess, IntoCommand, Process, Signal, open_process, run_process};
pub use runtime::{Builder, Runtime, run};
pub use signal::{SignalReceiver, open_signal_receiver};
pub use streams::memory::{
    MemoryObjectReceiveStream, MemoryObjectSendStream, MemoryObjectStreamStatistics, SendError,
    create_memory_object_stream, create_unbounded_memory_object_stream,
};
#[allow(deprecated)]
pub use sync::Acquire;
pub use sync::{
    Borrower, CancelOnSet, CapacityLimiter, CapacityLimiterStatistics, Condition, ConditionGuard,
    ConditionStatistics, ConditionWait, Event, EventStatistics, EventWait, LimiterAcquire,
    LimiterGuard, Lock, LockAcquire, LockGuard, LockStatistics, ResourceGuard, ResourceGuardToken,
    Semaphore, SemaphoreAcquire, SemaphoreGuard, SemaphoreStatistics,
};
#[doc(hidden)]
pub use task::__gathered;
pub use task::{
    AMap, AsCompleted, TaskGroup, TaskGroupRun, TaskHandle, TaskInfo, TaskJoin, TaskOutput,
    TaskState, TaskStatus, TaskWait, WaitAllTasksBlocked, amap, as_completed, gather,
    get_current_task, get_running_tasks, wait_all_tasks_blocked,
};
pub use time::{IntoDuration, Sleep, current_time, sleep, sleep_forever, sleep_until};
pub use typed_attr::{TypedAttribute, TypedAttributeProvider, TypedAttributes};

pub use macros::{fail_after, main, move_on_after, task_group, test};

/// What the macros expand to; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use crate::testing::{Watchdog, random_seed, real_time_limit, run_with_seeds};
    pub use crate::to_process::worker_mode::{enter_main, enter_test};
}
