//! [`current_default_process_limiter`]: the limiter of calls that name none.

use std::sync::Arc;

use super::pool::Pool;
use crate::sync::CapacityLimiter;

/// The limiter that [`run_sync`](super::run_sync) uses when given none: one token per
/// CPU (`std::thread::available_parallelism`), so that at most that many workers run at
/// once.
///
/// There is one per anyio runtime, as AnyIO has one per event loop (and one shared by
/// code that runs outside any anyio runtime). Change its total with
/// [`CapacityLimiter::set_total_tokens`].
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let limiter = anyio::to_process::current_default_process_limiter();
/// let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
/// assert_eq!(limiter.total_tokens(), cpus);
/// limiter.set_total_tokens(2); // at most two workers busy at once in this runtime
/// assert_eq!(anyio::to_process::current_default_process_limiter().total_tokens(), 2);
/// # });
/// ```
pub fn current_default_process_limiter() -> Arc<CapacityLimiter> {
    Pool::current().limiter().clone()
}
