//! [`run_sync`]: call a function in a worker process.

use std::any::type_name;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::pool::{self, Pool, Prepared};
use super::raw;
use super::worker_mode;
use crate::base::context;
use crate::error::{Error, ErrorKind, Result};
use crate::sync::CapacityLimiter;

/// Calls `func(arg)` in a worker process and returns what it returns.
///
/// `func` is a function (a fn item such as `my_module::crunch`), a fn pointer, or a
/// closure that captures nothing; `arg` and the result cross between the processes
/// serialized with serde (in postcard's format), so they are owned values (`String`, not
/// `&str`). Use a tuple or a struct to pass several values. Workers are this program's
/// own executable: see the [module docs](crate::to_process) for how they enter worker
/// mode.
///
/// Await the value it returns (it implements [`IntoFuture`]); first set, if needed:
/// - [`cancellable(true)`](RunSync::cancellable): a cancel kills the worker (default: the
///   call is finished first);
/// - [`limiter(&limiter)`](RunSync::limiter): the [`CapacityLimiter`] whose token the call
///   holds while it runs (default: [`current_default_process_limiter`](super::current_default_process_limiter),
///   one token per CPU).
///
/// Like every anyio operation, this is a checkpoint (while it waits for a token).
///
/// # Errors
///
/// - [`ErrorKind::Other`] if `func` panicked (the message names `func` and carries the
///   panic's message and place; the worker survives and is reused), if `func` captures
///   variables, if `arg` or the result cannot be serialized or deserialized, or if this
///   program never set up worker mode (the message says how to).
/// - [`ErrorKind::BrokenWorkerProcess`] if the worker died during the call (for instance
///   `func` called `std::process::abort()`: the message names `func` and the exit status
///   or signal; the next call starts a new worker), or no worker could be started.
///
/// # Cancel safety
///
/// A call still waiting for a limiter token when it is cancelled (or dropped) never
/// starts. Once it has a token:
/// - by default, a cancelled caller waits, shielded, for the result, and **gets it**: the
///   cancel is delivered at the caller's next checkpoint (work that happened is not undone);
/// - with `cancellable(true)`, a cancel kills the worker with SIGKILL at once; the call
///   ends there, and the worker is waited for in the background.
///
/// Dropped from outside anyio's cancellation (a foreign `select!`), a running call kills
/// its worker in both modes.
///
/// # Examples
///
/// ```
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Job {
///     name: String,
///     rounds: u32,
/// }
///
/// fn crunch(job: Job) -> String {
///     let mut total = 0u64;
///     for i in 0..job.rounds {
///         total = total.wrapping_mul(31).wrapping_add(u64::from(i));
///     }
///     format!("{}: {total}", job.name)
/// }
///
/// #[anyio::main]
/// async fn main() -> anyio::Result<()> {
///     let job = Job { name: "demo".into(), rounds: 1_000 };
///     let report = anyio::to_process::run_sync(crunch, job).await?;
///     assert!(report.starts_with("demo: "));
///     Ok(())
/// }
/// ```
pub fn run_sync<F, A, R>(func: F, arg: A) -> RunSync<'static, R>
where
    F: Fn(A) -> R + Copy + 'static,
    A: Serialize + DeserializeOwned + 'static,
    R: Serialize + DeserializeOwned + 'static,
{
    let name = type_name::<F>();
    let call = raw::code_ref::<F, A, R>(&func)
        .map_err(|why| {
            Error::new(
                ErrorKind::Other,
                format!("to_process::run_sync cannot call `{name}`: {why}"),
            )
        })
        .and_then(|code| {
            let argument = postcard::to_stdvec(&arg).map_err(|error| {
                Error::with_source(
                    ErrorKind::Other,
                    format!(
                        "to_process::run_sync cannot serialize the argument of `{name}` (a `{}`): {error}",
                        type_name::<A>()
                    ),
                    error,
                )
            })?;
            Ok(Prepared { code, argument })
        });
    RunSync {
        name,
        call,
        cancellable: false,
        limiter: None,
        result: PhantomData,
    }
}

/// The call made by [`run_sync`]: set options, then await it.
///
/// # Examples
///
/// ```
/// fn add((a, b): (i64, i64)) -> i64 {
///     a + b
/// }
///
/// #[anyio::main]
/// async fn main() -> anyio::Result<()> {
///     let limiter = anyio::CapacityLimiter::new(2);
///     let call: anyio::to_process::RunSync<'_, i64> =
///         anyio::to_process::run_sync(add, (2, 3)).limiter(&limiter).cancellable(true);
///     assert_eq!(call.await?, 5);
///     Ok(())
/// }
/// ```
#[must_use = "run_sync does nothing unless awaited"]
pub struct RunSync<'a, R> {
    /// The function's type name, for messages.
    name: &'static str,
    call: Result<Prepared>,
    cancellable: bool,
    limiter: Option<&'a CapacityLimiter>,
    result: PhantomData<fn() -> R>,
}

impl<R> fmt::Debug for RunSync<'_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunSync")
            .field("func", &self.name)
            .field("cancellable", &self.cancellable)
            .field("limiter", &self.limiter)
            .finish_non_exhaustive()
    }
}

impl<'a, R> RunSync<'a, R> {
    /// Whether a cancel kills the worker (default `false`).
    ///
    /// With `false`, a cancelled caller waits for the result, shielded, gets it, and the
    /// cancel is delivered at its next checkpoint. With `true`, the worker is killed
    /// with SIGKILL as soon as the caller is cancelled, and the call ends there.
    ///
    /// # Examples
    ///
    /// ```
    /// fn spin(seconds: u64) {
    ///     let end = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    ///     while std::time::Instant::now() < end {}
    /// }
    ///
    /// #[anyio::main]
    /// async fn main() {
    ///     let call = anyio::to_process::run_sync(spin, 60).cancellable(true);
    ///     // The worker is killed after 0.5 s.
    ///     assert!(anyio::move_on_after(0.5, call.into_future()).await.is_none());
    /// }
    /// # use std::future::IntoFuture;
    /// ```
    pub fn cancellable(mut self, cancellable: bool) -> Self {
        self.cancellable = cancellable;
        self
    }

    /// The limiter whose token the call holds while a worker runs it (default:
    /// [`current_default_process_limiter`](super::current_default_process_limiter)).
    ///
    /// # Examples
    ///
    /// ```
    /// fn cube(x: u32) -> u32 {
    ///     x * x * x
    /// }
    ///
    /// #[anyio::main]
    /// async fn main() -> anyio::Result<()> {
    ///     let one_at_a_time = anyio::CapacityLimiter::new(1);
    ///     let cubes = anyio::gather(
    ///         (1..=4).map(|x| anyio::to_process::run_sync(cube, x).limiter(&one_at_a_time).into_future()),
    ///     )
    ///     .await?;
    ///     assert_eq!(cubes, [1, 8, 27, 64]);
    ///     Ok(())
    /// }
    /// # use std::future::IntoFuture;
    /// ```
    pub fn limiter<'b>(self, limiter: &'b CapacityLimiter) -> RunSync<'b, R> {
        RunSync {
            name: self.name,
            call: self.call,
            cancellable: self.cancellable,
            limiter: Some(limiter),
            result: PhantomData,
        }
    }
}

impl<'a, R> IntoFuture for RunSync<'a, R>
where
    R: DeserializeOwned + 'static,
{
    type Output = Result<R>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<R>> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let RunSync {
                name,
                call,
                cancellable,
                limiter,
                ..
            } = self;
            let call = call?;
            let launch = worker_mode::launch()?;
            let pool = Pool::current();
            let default_limiter;
            let limiter = match limiter {
                Some(limiter) => limiter,
                None => {
                    default_limiter = pool.limiter().clone();
                    &*default_limiter
                }
            };
            // A checkpoint: cancelled while queued here, the call never starts.
            let _token = limiter.acquire_on_behalf_of(pool::borrower(name)).await?;
            // A token handed over just before a cancel: still nothing has started, so
            // the call ends here (giving the token back) rather than run shielded.
            crate::lowlevel::checkpoint_if_cancelled().await;
            // A mock clock's autojump does not jump over the call.
            let _hold = crate::runtime::clock::ClockHold::new();
            let run = pool.run(launch, name, &call);
            let result = if cancellable {
                run.await
            } else {
                Shielded { inner: run }.await
            }?;
            postcard::from_bytes(&result).map_err(|error| {
                Error::with_source(
                    ErrorKind::Other,
                    format!(
                        "could not deserialize the result of `{name}` (a `{}`): {error}",
                        type_name::<R>()
                    ),
                    error,
                )
            })
        })
    }
}

pin_project_lite::pin_project! {
    /// Runs `inner` as shielded work: a cancelled scope around it waits for it to finish
    /// (and drops the body at its next checkpoint after it). `inner` must not contain
    /// anyio checkpoints, which would see the cancellation and wait forever.
    struct Shielded<F> {
        #[pin]
        inner: F,
    }
}

impl<F: Future> Future for Shielded<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let poll = self.project().inner.poll(cx);
        if poll.is_pending() {
            context::set_pending_under_shield();
        }
        poll
    }
}
