//! The macros of the `anyio-macros` crate, re-exported here with their documentation,
//! so that users depend on `anyio` alone.
//!
//! Every macro expands to calls of anyio's public API only; the expansions below are
//! exact up to hygiene (the names the macros introduce cannot clash with the user's).

/// Runs `async fn main` on an anyio runtime.
///
/// ```
/// #[anyio::main]
/// async fn main() {
///     anyio::sleep(0.001).await;
///     println!("slept on an anyio runtime");
/// }
/// ```
///
/// `main` may return anything a synchronous `main` may, such as a `Result`:
///
/// ```
/// #[anyio::main(worker_threads = 2)]
/// async fn main() -> anyio::Result<()> {
///     let answer = anyio::fail_after!(1, { 42 })?;
///     assert_eq!(answer, 42);
///     Ok(())
/// }
/// ```
///
/// # Expansion
///
/// `#[anyio::main(worker_threads = N)] async fn main() -> R { body }` becomes a
/// synchronous `fn main() -> R` (same attributes and visibility) that builds
/// `anyio::Runtime::builder().worker_threads(N)` (without the option: the builder's
/// default, one worker per core besides the main thread), calls `.build()` (panicking
/// with the reason if the runtime cannot start) and returns
/// `runtime.block_on(async move { body })`.
///
/// # Options
///
/// - `worker_threads = N`: threads serving [`TaskGroup::spawn`](crate::TaskGroup::spawn)ed
///   tasks besides the main thread; `0` runs everything on the main thread.
///
/// # Errors at compile time
///
/// The function must be `async`, named `main`, without arguments (read them with
/// `std::env::args()`) and without generic parameters; an unknown, repeated or malformed
/// option is an error pointing at it. For a runtime around any other function, call
/// [`run`](crate::run) or [`Runtime::block_on`](crate::Runtime::block_on).
pub use anyio_macros::main;

/// Runs an `async fn` test on its own anyio runtime, optionally under a time limit.
///
/// ```
/// #[anyio::test(timeout = 10)]
/// async fn sleeps_briefly() {
///     anyio::sleep(0.001).await;
/// }
///
/// #[anyio::test(worker_threads = 1)]
/// async fn may_return_a_result() -> anyio::Result<()> {
///     anyio::move_on_after!(0.01, { anyio::sleep_forever().await });
///     Ok(())
/// }
///
/// #[anyio::test]
/// #[should_panic(expected = "boom")]
/// async fn panics() {
///     panic!("boom");
/// }
/// # fn main() {}
/// ```
///
/// # Expansion
///
/// `#[anyio::test(timeout = S, worker_threads = N)] async fn name() -> R { body }`
/// becomes `#[test] fn name() -> R` (keeping the other attributes, so `#[should_panic]`
/// and `#[ignore]` work as usual) whose body builds a runtime exactly as
/// [`main`](macro@crate::main) does and returns `runtime.block_on(fut)`, where `fut` is
/// `async move { body }`, or with `timeout = S`:
///
/// ```text
/// async move {
///     match anyio::fail_after(S, async move { body }).await {
///         Ok(output) => output,
///         Err(_) => panic!("test `name` timed out after S s (its `timeout` option)"),
///     }
/// }
/// ```
///
/// # Options
///
/// - `timeout = S`: a positive number of seconds (`10`, `0.5`). The body runs in a
///   [`fail_after`](fn@crate::fail_after) scope, so a hung test fails with a message naming
///   the test and the limit instead of stalling the run. Note that this makes
///   [`current_effective_deadline`](crate::current_effective_deadline) return that
///   deadline inside the test.
/// - `worker_threads = N`: as for [`main`](macro@crate::main).
///
/// # Errors at compile time
///
/// The function must be `async`, without arguments and without generic parameters; an
/// unknown, repeated or malformed option is an error pointing at it.
pub use anyio_macros::test;

/// Creates a task group, binds it to a name, runs the body in it and awaits the group.
///
/// `task_group!(|tg| { body })` is used inside an async context and evaluates to the
/// group's result, an `anyio::Result<Option<V>>`: `Ok(Some(v))` with the body's value
/// `v` (unwrapped from `Ok(v)` when the body returns a `Result`), `Ok(None)` when a cancel
/// group's own scope cancelled the body (e.g. `tg.cancel()` from a child), and `Err` with
/// the failure when the body or a child failed: one failure as it is, several as one
/// error of kind [`Group`](crate::ErrorKind::Group) (see [`Error::errors`](crate::Error::errors)).
/// The group does not end before its last child has, and the first failure cancels the
/// body and every other child.
///
/// ```
/// use std::sync::Mutex;
///
/// # anyio::run(async {
/// let arrived = Mutex::new(Vec::new());
/// let value = anyio::task_group!(|tg| {
///     for n in [3, 1, 2] {
///         let arrived = &arrived; // children may borrow the caller's locals
///         tg.start_soon(async move {
///             anyio::sleep(0.002 * n as f64).await;
///             arrived.lock().unwrap().push(n);
///         });
///     }
///     anyio::Result::Ok("the body is done; the children may not be")
/// })?;
/// // The group has waited for every child.
/// assert_eq!(*arrived.lock().unwrap(), [1, 2, 3]);
/// assert_eq!(value, Some("the body is done; the children may not be"));
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
///
/// A failing child cancels its siblings and its error comes out of the macro:
///
/// ```
/// use anyio::{Error, ErrorKind};
///
/// # anyio::run(async {
/// let result = anyio::task_group!(|tg| {
///     tg.start_soon(async { anyio::sleep_forever().await }); // cancelled by the failure
///     tg.start_soon(async { Err::<(), _>(Error::new(ErrorKind::Other, "lost the race")) });
/// });
/// assert_eq!(result.unwrap_err().message(), "lost the race");
/// # });
/// ```
///
/// # Expansion
///
/// ```text
/// {
///     let group = anyio::TaskGroup::new();
///     let tg = &group;
///     group.run(async { body }).await
/// }
/// ```
///
/// (`group` is a hygienic name; when `body` is a block, its braces are the async
/// block's.) See [`TaskGroup`](crate::TaskGroup) for what `tg` offers: `start_soon`,
/// `spawn`, `start`, `create_task`, `cancel_scope`.
///
/// # Caveats
///
/// - The body is an `async` block, not a closure: `return` and `?` inside it leave the
///   body, not the enclosing function, and their value becomes the group's result. Give
///   `?` an error type it can infer, e.g. by ending the body with `anyio::Result::Ok(..)`.
/// - The body borrows the enclosing locals, and so may children started with
///   `start_soon`; they all end before the macro's value is available.
/// - `tg` lives only as long as the macro: a child or a value that keeps using it after
///   the group has ended is refused by the compiler as "borrowed value does not live
///   long enough" (pointing at `tg`), because the group cannot start tasks once it has
///   ended. Start the work inside the body, or use a longer-lived group (create a
///   [`TaskGroup`](crate::TaskGroup) yourself and pass `&group` around while it runs).
///
/// # Errors at compile time
///
/// The input must be `|name| body`: one name between the bars, then one expression.
pub use anyio_macros::task_group;

/// Awaits a body under a deadline and fails with a timeout error if the deadline passes.
///
/// `fail_after!(delay, { body })` evaluates to `anyio::Result<T>`: `Ok` with the body's
/// value, or `Err` of kind [`Timeout`](crate::ErrorKind::Timeout) when `delay` passed
/// first; the body was then dropped at its next suspension point. The delay is anything
/// [`IntoDuration`](crate::IntoDuration) accepts: seconds as a float or integer, a
/// `Duration`, or an `Option` of those (`None` = no deadline). **Plain numbers are
/// seconds**: `fail_after!(1000, { .. })` allows 1000 seconds, not 1000 milliseconds;
/// write `Duration::from_millis(1000)` or `1.0` for one second.
///
/// ```
/// use std::time::Duration;
///
/// # anyio::run(async {
/// let quick = anyio::fail_after!(1.5, { "pong" });
/// assert_eq!(quick.unwrap(), "pong");
///
/// let slow = anyio::fail_after!(Duration::from_millis(10), { anyio::sleep(5).await });
/// assert_eq!(slow.unwrap_err().kind(), anyio::ErrorKind::Timeout);
/// # });
/// ```
///
/// # Expansion
///
/// `anyio::fail_after(delay, async { body }).await` (the braces of the body are the
/// async block's). See [`fail_after`](fn@crate::fail_after).
///
/// # Caveats
///
/// - The body must be a block; to time out a future `fut`, write
///   `fail_after!(delay, { fut.await })`.
/// - `return` and `?` inside the body leave the body, not the enclosing function: with
///   `fail_after!(1, { step()?; Ok(()) })` the value is a `Result<Result<(), E>>`, and the
///   error type of the inner `Ok` may need to be named for inference.
/// - Deadlines nest: an inner, later deadline does not extend an outer, earlier one.
///
/// # Errors at compile time
///
/// The input must be a delay, a comma and a block.
pub use anyio_macros::fail_after;

/// Awaits a body under a deadline and gives up quietly if the deadline passes.
///
/// `move_on_after!(delay, { body })` evaluates to `Option<T>`: `Some` with the body's
/// value, or `None` when `delay` passed first (the body was dropped at its next
/// suspension point) — AnyIO's `with move_on_after(delay):`. The delay is anything
/// [`IntoDuration`](crate::IntoDuration) accepts; **plain numbers are seconds**
/// (`move_on_after!(500, ..)` allows 500 seconds; write `Duration::from_millis(500)`).
///
/// ```
/// # anyio::run(async {
/// let mut polls = 0;
/// let finished = anyio::move_on_after!(0.01, {
///     loop {
///         polls += 1;
///         anyio::sleep(0.001).await;
///     }
/// });
/// assert_eq!(finished, None::<()>);
/// assert!(polls > 0);
/// # });
/// ```
///
/// # Expansion
///
/// `anyio::move_on_after(delay, async { body }).await` (the braces of the body are the
/// async block's). See [`move_on_after`](fn@crate::move_on_after).
///
/// # Caveats
///
/// As for [`fail_after!`](macro@crate::fail_after): the body is a block, and `return`
/// and `?` inside it leave the body only.
///
/// # Errors at compile time
///
/// The input must be a delay, a comma and a block.
pub use anyio_macros::move_on_after;
