//! Result helpers over one task group: `gather`, `gather!`, `amap` and `as_completed`.
//!
//! Each runs its futures as children of a task group of its own, so they behave as a
//! group's children do: they run concurrently, a failure cancels the others and is
//! reported as the group reports it (one error, or one of kind `Group`), and a panic
//! resumes in the caller once the others have stopped.

use std::collections::VecDeque;
use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use crate::CancelScope;
use crate::base::context;
use crate::base::lock::lock;
use crate::error::{Error, ErrorKind, Result};
use crate::sync::CapacityLimiter;
use crate::task::TaskHandle;
use crate::task::group::TaskGroup;
use crate::task::output::TaskOutput;

/// Runs `futures` concurrently as children of one task group, and returns their values
/// in input order.
///
/// Each future returns `()` or a `Result<T, E>`, as a group's child does; the values are
/// the `T`s. A failure cancels the others and is returned as a task group returns it.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let squares = anyio::gather((1..=3).map(|n| async move {
///     anyio::sleep(0.001 * (4 - n) as f64).await; // the last one finishes first
///     anyio::Result::Ok(n * n)
/// }))
/// .await
/// .unwrap();
/// assert_eq!(squares, [1, 4, 9]);
/// # });
/// ```
///
/// # Cancel safety
///
/// As for a task group: cancelled, every future is dropped at its next checkpoint.
pub async fn gather<I, F>(futures: I) -> Result<Vec<<F::Output as TaskOutput>::Value>>
where
    I: IntoIterator<Item = F>,
    F: IntoFuture,
    F::IntoFuture: Send,
    F::Output: TaskOutput,
    <F::Output as TaskOutput>::Value: Send,
{
    let futures: Vec<F::IntoFuture> = futures.into_iter().map(IntoFuture::into_future).collect();
    let group = TaskGroup::new();
    let tg = &group;
    let values = group
        .run(async move {
            let handles: Vec<_> = futures.into_iter().map(|f| tg.create_task(f)).collect();
            collect_in_order(handles).await
        })
        .await;
    finish(values)
}

/// Awaits `handles` in order; `None` if one did not finish (its group reports why).
pub(crate) async fn collect_in_order<T>(handles: Vec<TaskHandle<T>>) -> Result<Option<Vec<T>>> {
    let mut values = Vec::with_capacity(handles.len());
    for handle in handles {
        match handle.await {
            Ok(value) => values.push(value),
            // The group reports the failure itself (or delivers the cancellation).
            Err(_) => return Ok(None),
        }
    }
    Ok(Some(values))
}

/// A helper group's result as its caller returns it. Not public API: used by `gather!`.
#[doc(hidden)]
pub fn __gathered<T>(result: Result<Option<Option<T>>>) -> Result<T> {
    match result? {
        Some(Some(values)) => Ok(values),
        // A child ended without a value and the group reported no failure: it was
        // cancelled (its scope, not the group's).
        _ => Err(Error::new(
            ErrorKind::Cancelled,
            "a gathered task was cancelled before it gave its value",
        )),
    }
}

fn finish<T>(result: Result<Option<Option<T>>>) -> Result<T> {
    __gathered(result)
}

/// Runs `func` on every item of `items` concurrently, as children of one task group, and
/// returns the values in input order. Await it, or set [`limit`](AMap::limit) first to
/// run at most that many at a time.
///
/// Each call returns a future of `()` or a `Result<T, E>`, as a group's child does; a
/// failure cancels the others and is returned as a task group returns it.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let lengths = anyio::amap(
///     |word: &str| async move { anyio::Result::Ok(word.len()) },
///     ["one", "three", "five"],
/// )
/// .limit(2)
/// .await
/// .unwrap();
/// assert_eq!(lengths, [3, 5, 4]);
/// # });
/// ```
///
/// # Cancel safety
///
/// As for a task group: cancelled, every call in progress is dropped at its next
/// checkpoint and the rest never start.
pub fn amap<'a, Func, I, F>(func: Func, items: I) -> AMap<'a, Func, I>
where
    Func: FnMut(I::Item) -> F,
    I: IntoIterator,
    F: Future + Send,
    F::Output: TaskOutput,
    <F::Output as TaskOutput>::Value: Send,
{
    AMap {
        func,
        items,
        limit: None,
        lifetime: PhantomData,
    }
}

/// The builder of [`amap`]: await it to run.
///
/// `'a` is the lifetime of what the calls borrow (the future it becomes is boxed).
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let prefix = &String::from("item-"); // borrowed by every call
/// let names: anyio::AMap<'_, _, _> = anyio::amap(
///     move |n: u32| async move { anyio::Result::Ok(format!("{prefix}{n}")) },
///     1..=2,
/// );
/// assert_eq!(names.await.unwrap(), ["item-1", "item-2"]);
/// # });
/// ```
#[must_use = "amap does nothing unless awaited"]
pub struct AMap<'a, Func, I> {
    func: Func,
    items: I,
    limit: Option<usize>,
    lifetime: PhantomData<&'a ()>,
}

impl<Func, I> std::fmt::Debug for AMap<'_, Func, I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AMap").field("limit", &self.limit).finish()
    }
}

impl<Func, I> AMap<'_, Func, I> {
    /// Runs at most `n` calls at a time (the others wait their turn, in input order).
    ///
    /// # Panics
    ///
    /// Panics if `n` is 0 (nothing could ever run).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    ///
    /// # anyio::run(async {
    /// let (running, most) = (&AtomicUsize::new(0), &AtomicUsize::new(0));
    /// let call = move |_: u32| async move {
    ///     most.fetch_max(running.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
    ///     anyio::sleep(0.001).await;
    ///     running.fetch_sub(1, Ordering::SeqCst);
    /// };
    /// anyio::amap(call, 0..6).limit(2).await.unwrap();
    /// assert_eq!(most.load(Ordering::SeqCst), 2);
    /// # });
    /// ```
    #[track_caller]
    pub fn limit(mut self, n: usize) -> Self {
        assert!(
            n > 0,
            "amap(..).limit(0) would never run anything: give a limit of 1 or more"
        );
        self.limit = Some(n);
        self
    }
}

impl<'a, Func, I, F> IntoFuture for AMap<'a, Func, I>
where
    Func: FnMut(I::Item) -> F + Send + 'a,
    I: IntoIterator + Send + 'a,
    I::IntoIter: Send,
    I::Item: Send,
    F: Future + Send + 'a,
    F::Output: TaskOutput,
    <F::Output as TaskOutput>::Value: Send + 'a,
{
    type Output = Result<Vec<<F::Output as TaskOutput>::Value>>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        let AMap {
            mut func,
            items,
            limit,
            ..
        } = self;
        Box::pin(async move {
            let limiter = limit.map(CapacityLimiter::new);
            let limiter = &limiter;
            let group = TaskGroup::new();
            let tg = &group;
            let values = group
                .run(async move {
                    let handles: Vec<_> = items
                        .into_iter()
                        .map(|item| {
                            let call = func(item);
                            tg.create_task(async move {
                                let _slot = match limiter {
                                    Some(limiter) => Some(limiter.acquire().await?),
                                    None => None,
                                };
                                call.await.into_result()
                            })
                        })
                        .collect();
                    collect_in_order(handles).await
                })
                .await;
            finish(values)
        })
    }
}

/// Runs the futures concurrently as children of one task group and returns their values
/// as a tuple, in argument order: the heterogeneous form of [`gather`](fn@crate::gather).
/// Awaits by itself, like [`task_group!`](crate::task_group), so use it in an `async`
/// context; it evaluates to a `Result<(A, B, ..)>`.
///
/// Each future returns `()` or a `Result<T, E>`, as a group's child does; a failure
/// cancels the others and is returned as a task group returns it. Up to 16 futures;
/// builders that implement `IntoFuture` (`anyio::connect_tcp(..)`, a TLS handshake) may
/// be given as they are.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let (name, size) = anyio::gather!(
///     async { anyio::Result::Ok("config.toml") },
///     async {
///         anyio::sleep(0.001).await;
///         anyio::Result::Ok(512_u64)
///     },
/// )
/// .unwrap();
/// assert_eq!((name, size), ("config.toml", 512));
/// # });
/// ```
#[macro_export]
macro_rules! gather {
    ($($future:expr),+ $(,)?) => {
        $crate::gather!(@bind []
            [__gather_0 __gather_1 __gather_2 __gather_3 __gather_4 __gather_5 __gather_6
             __gather_7 __gather_8 __gather_9 __gather_10 __gather_11 __gather_12
             __gather_13 __gather_14 __gather_15]
            $($future),+)
    };
    // Gives each future a name of its own from the pool.
    (@bind [$(($name:ident $bound:expr))*] [$next:ident $($pool:ident)*]
        $future:expr $(, $more:expr)*) => {
        $crate::gather!(@bind [$(($name $bound))* ($next $future)] [$($pool)*] $($more),*)
    };
    (@bind [$(($name:ident $bound:expr))*] [$($pool:ident)*]) => {{
        // The futures are made here, in the caller's scope (they may borrow its locals);
        // the body below only takes them over. Builders (`IntoFuture`) are welcome too.
        $(let $name = ::core::future::IntoFuture::into_future($bound);)*
        let __gather_group = $crate::TaskGroup::new();
        let __gather_tg = &__gather_group;
        let __gather_result = __gather_group
            .run(async move {
                $(let $name = __gather_tg.create_task($name);)*
                $(let $name = match $name.await {
                    ::core::result::Result::Ok(value) => value,
                    // The group reports the failure itself.
                    ::core::result::Result::Err(_) => {
                        return $crate::Result::Ok(::core::option::Option::None);
                    }
                };)*
                $crate::Result::Ok(::core::option::Option::Some(($($name,)*)))
            })
            .await;
        $crate::__gathered(__gather_result)
    }};
}

/// Runs `futures` concurrently as children of one task group, and yields their values in
/// the order they finish: a [`Stream`](futures_core::Stream) of `Result<T>` (also read
/// with its own [`next`](AsCompleted::next)).
///
/// The stream drives the group: the futures make progress while the stream is polled.
/// A failure cancels the others and is yielded (after the values that finished before
/// it) as a task group reports it; then the stream ends. Dropping the stream cancels the
/// futures that have not finished. An empty input gives an empty stream.
///
/// The group runs in a shielded scope of its own: a cancelled or timed-out `next` leaves
/// the futures as they are (they wait until the stream is polled again), and the scopes
/// of the code that polls the stream do not reach them; dropping the stream is how they
/// are cancelled.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let mut finished = anyio::as_completed([30, 10, 20].map(|ms| async move {
///     anyio::sleep(ms as f64 / 1000.0).await;
///     anyio::Result::Ok(ms)
/// }));
/// let mut order = Vec::new();
/// while let Some(ms) = finished.next().await {
///     order.push(ms.unwrap());
/// }
/// assert_eq!(order, [10, 20, 30]);
/// # });
/// ```
///
/// # Cancel safety
///
/// `next` is cancel-safe: a value that finished stays queued for the next call.
pub fn as_completed<'a, I, F>(futures: I) -> AsCompleted<'a, <F::Output as TaskOutput>::Value>
where
    I: IntoIterator<Item = F>,
    F: Future + Send + 'a,
    F::Output: TaskOutput,
    <F::Output as TaskOutput>::Value: Send + 'a,
{
    let futures: Vec<F> = futures.into_iter().collect();
    let finished = Arc::new(Mutex::new(VecDeque::with_capacity(futures.len())));
    let queue = finished.clone();
    let driver = Box::pin(async move {
        let group = TaskGroup::new();
        let tg = &group;
        let queue = &queue;
        let run = group.run(async move {
            for future in futures {
                tg.start_soon(async move {
                    let value = future.await.into_result()?;
                    lock(queue).push_back(value);
                    Ok::<(), Error>(())
                });
            }
        });
        // Shielded from the scopes of whoever polls the stream (a timed-out `next` must
        // not cancel the futures, and the scope a stream is first polled in may end
        // before the stream does): they are cancelled by dropping the stream.
        match CancelScope::shielded().run(run).await {
            Some(ended) => ended.map(|_| ()),
            None => Ok(()),
        }
    });
    AsCompleted {
        driver: Some(driver),
        finished,
        failure: None,
    }
}

/// The stream of [`as_completed`].
///
/// # Examples
///
/// ```
/// use futures_lite::StreamExt;
///
/// # anyio::run(async {
/// let answered = &anyio::Event::new();
/// let stream = anyio::as_completed(["question", "answer"].map(|role| async move {
///     if role == "answer" { answered.set() } else { answered.wait().await }
///     anyio::Result::Ok(role)
/// }));
/// let order: Vec<&str> = stream.try_collect().await?; // also a `Stream`
/// assert_eq!(order, ["answer", "question"]);
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
#[must_use = "streams do nothing unless polled"]
pub struct AsCompleted<'a, T> {
    /// The group's run; `None` once it has ended.
    driver: Option<Pin<Box<dyn Future<Output = Result<()>> + Send + 'a>>>,
    /// Values in the order their futures finished, not yet yielded.
    finished: Arc<Mutex<VecDeque<T>>>,
    /// The group's failure, yielded after the values queued before it.
    failure: Option<Error>,
}

impl<T> std::fmt::Debug for AsCompleted<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsCompleted")
            .field("running", &self.driver.is_some())
            .field("queued", &lock(&self.finished).len())
            .finish()
    }
}

impl<T> AsCompleted<'_, T> {
    /// The next value to finish, or the group's failure; `None` once every future has
    /// been yielded (or after the failure).
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let mut values = anyio::as_completed([async { anyio::Result::Ok(7) }]);
    /// assert_eq!(values.next().await.unwrap().unwrap(), 7);
    /// assert!(values.next().await.is_none()); // every future has been yielded
    /// let mut failing = anyio::as_completed([async { Err::<(), _>("no route") }]);
    /// assert_eq!(failing.next().await.unwrap().unwrap_err().message(), "no route");
    /// assert!(failing.next().await.is_none());
    /// # });
    /// ```
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a value that finished meanwhile stays queued for the next call.
    pub async fn next(&mut self) -> Option<Result<T>> {
        std::future::poll_fn(|cx| self.poll_next_item(cx)).await
    }

    fn poll_next_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T>>> {
        if let Some(value) = lock(&self.finished).pop_front() {
            return Poll::Ready(Some(Ok(value)));
        }
        let Some(driver) = self.driver.as_mut() else {
            return Poll::Ready(self.failure.take().map(Err));
        };
        // The driver's shielded work stays inside the stream: a scope around `next` may
        // drop it at any time (the stream keeps its futures and values).
        let outer_flag = context::pending_under_shield();
        let ended = driver.as_mut().poll(cx);
        if !outer_flag {
            context::clear_pending_under_shield();
        }
        if let Poll::Ready(result) = ended {
            self.driver = None;
            self.failure = result.err();
        }
        if let Some(value) = lock(&self.finished).pop_front() {
            return Poll::Ready(Some(Ok(value)));
        }
        match self.driver {
            Some(_) => Poll::Pending,
            None => Poll::Ready(self.failure.take().map(Err)),
        }
    }
}

impl<T> Unpin for AsCompleted<'_, T> {}

impl<T> futures_core::Stream for AsCompleted<'_, T> {
    type Item = Result<T>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<T>>> {
        self.get_mut().poll_next_item(cx)
    }
}
