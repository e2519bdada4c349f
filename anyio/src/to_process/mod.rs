//! Running functions in worker processes: AnyIO's `anyio.to_process`.
//!
//! [`run_sync`]`(func, arg)` calls `func(arg)` in a worker process and returns its
//! result. Reach for it when work should not share the caller's process: code that may
//! crash it (`abort`, a segfault in a C library), leak, or need killing when it is
//! cancelled (a thread cannot be killed; a process can, with
//! [`cancellable(true)`](RunSync::cancellable)). For plain CPU-bound work, threads are
//! cheaper.
//!
//! ```
//! fn fib(n: u64) -> u64 {
//!     if n < 2 { n } else { fib(n - 1) + fib(n - 2) }
//! }
//!
//! #[anyio::main]
//! async fn main() -> anyio::Result<()> {
//!     // At most one worker per CPU runs at once (the default limiter).
//!     let calls = (20..24).map(|n| anyio::to_process::run_sync(fib, n).into_future());
//!     let values = anyio::gather(calls).await?;
//!     assert_eq!(values, [6_765, 10_946, 17_711, 28_657]);
//!     Ok(())
//! }
//! # use std::future::IntoFuture;
//! ```
//!
//! # How worker mode is entered
//!
//! A worker is this program's own executable (the file the parent runs, through
//! `/proc/self/exe` where there is one, else [`std::env::current_exe`]), started with the
//! environment variable `ANYIO_TO_PROCESS_WORKER` set to `"<fd>,<parent pid>"`: `fd` is
//! the worker's end of a UNIX socket pair, the only descriptor it inherits besides the
//! standard streams. Its stdin is `/dev/null` and its stderr the parent's; the protocol never
//! touches the standard streams. Something early in the worker must notice the variable
//! and serve calls instead of running the program; what that is depends on the kind of
//! program:
//!
//! - **`#[anyio::main]`** does it first thing, before your `main`'s body.
//! - **A plain `fn main`**: call [`init()`] first thing in `main`, before the program
//!   does anything a worker should not do again (read its input, bind a port, print).
//! - **`#[anyio::test]`**: a test binary's `main` is libtest's, so the parent starts the
//!   test binary again with arguments that select one test: `<binary> <test name> --exact
//!   --nocapture --test-threads=1 --include-ignored`. Every `#[anyio::test]` records its
//!   name (its `module_path!()` without the crate, plus the function's name) as it
//!   starts, and, started in a worker, serves calls instead of running its body. Any such
//!   test can serve any call, so `run_sync` works anywhere inside an `#[anyio::test]`.
//!   The worker's stdout (where libtest reports) is discarded; use `eprintln!` to debug
//!   a function.
//! - **A plain `#[test]`**: call [`init()`] first thing in the test. It records the test
//!   (libtest names each test's thread after the test) and serves calls in a worker.
//!   A plain test that does not call `init` can still use `run_sync` once another test
//!   of the binary has recorded itself (an `#[anyio::test]` or a plain test calling
//!   `init`), since libtest may run them in any order, only rely on it within the tests
//!   that record themselves.
//!
//! - **Doc tests**: write the example as an `#[anyio::main] async fn main` (or a `fn main`
//!   that calls [`init()`] first). rustdoc runs each example in a process of its own, and
//!   the worker runs that same example's `main`, which enters worker mode.
//!
//! A program that set none of this up gets an error from `run_sync` saying so, rather
//! than starting copies of itself that never become workers. A worker exits when its
//! parent closes the socket: when the parent's runtime ends, when the worker has been
//! idle for 5 minutes and a later call retires it (there is no timer: an idle pool is
//! looked at when a call needs a worker), or when the parent exits. The variable names the parent's pid, so
//! processes that a worker's function starts in turn do not mistake themselves for
//! workers.
//!
//! # How a function crosses
//!
//! Code cannot be sent, but the worker runs the same executable, so the function is sent
//! as its offset from a fixed function of the executable: address-space randomization
//! moves the whole image, so offsets agree between processes. The worker calls a
//! *trampoline* (a generic function instantiated for the call's types, sent the same way)
//! which checks a fingerprint of the types, decodes the argument, calls the function
//! and encodes the result. Each side checks that the other runs the very same build
//! before any call, so a rebuilt or replaced executable is an error
//! ([`ErrorKind::BrokenWorkerProcess`](crate::ErrorKind::BrokenWorkerProcess)), not
//! undefined behaviour.
//!
//! Hence the limits: `func` must be a function item, a fn pointer or a closure that
//! captures nothing at all (not even a zero-sized value: a marker that proves something
//! in this process would prove nothing in the worker), defined in the executable (not in a shared library); its argument
//! and result are serde types that own their data (they are encoded with postcard). A
//! function item's errors name it by its path (`my_crate::crunch`); a fn pointer's only
//! by its type.
//!
//! # Workers, their pool, and their end
//!
//! Each anyio [`Runtime`](crate::Runtime) has its own pool of workers and its own
//! [`current_default_process_limiter`] (code outside any anyio runtime shares one pool
//! for the whole process). A call takes a token of its limiter, then the most recently
//! used idle worker or, if there is none, a new one, and gives the worker back when the
//! call ends. A worker idle for 5 minutes is retired when a later call looks for one.
//! A worker that dies during a call (a crash, `std::process::abort()`, a panic under
//! `panic = "abort"`, SIGKILL from outside) fails that call with
//! [`ErrorKind::BrokenWorkerProcess`](crate::ErrorKind::BrokenWorkerProcess) and is
//! replaced by the next call; a panic in `func` only fails its call (kind
//! [`Other`](crate::ErrorKind::Other), with the panic message), and the worker lives on.
//!
//! No worker becomes a zombie: each one that exits or is killed is waited for (in the
//! background, on the blocking thread pool, when it does not exit at once). When a
//! runtime is dropped (at the end of [`run`](crate::run), `#[anyio::main]` or
//! `#[anyio::test]`), its idle workers are told to exit and the drop waits for them.

mod limiter;
mod pool;
mod protocol;
use crate::os::code as raw;
mod run_sync;
mod worker;
pub(crate) mod worker_mode;

pub use limiter::current_default_process_limiter;
pub(crate) use pool::Pool;
pub use run_sync::{RunSync, run_sync};
pub use worker_mode::init;
