//! Memory object streams: AnyIO's in-process channels, with backpressure and without
//! losing items to cancellation.
//!
//! # Examples
//!
//! ```
//! use anyio::streams::memory::create_unbounded_memory_object_stream;
//!
//! # anyio::run(async {
//! let (tx, rx) = create_unbounded_memory_object_stream::<String>();
//! let tx2 = tx.clone(); // both ends can be cloned
//! tx2.send_nowait("from a clone".to_owned()).unwrap(); // never full
//! drop((tx, tx2)); // every sender gone: the stream ends once drained
//! assert_eq!(rx.receive().await?, "from a clone");
//! assert_eq!(rx.receive().await.unwrap_err().kind(), anyio::ErrorKind::EndOfStream);
//! # anyio::Result::Ok(()) }).unwrap();
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use crate::abc::{
    AsyncResource, ObjectReceiveStream, ObjectSendStream, UnreliableObjectReceiveStream,
    UnreliableObjectSendStream,
};
use crate::error::{Error, ErrorKind, Result};
use crate::lowlevel::is_cancelled;
use crate::sync::waiters::{WaitQueue, Withdrawn, wake_all};
use crate::typed_attr::TypedAttributeProvider;

/// Creates a channel whose buffer holds up to `max_buffer_size` items; `send` waits
/// while it is full.
///
/// - `0` makes a rendezvous: an item passes only from a sender to a receiver that are
///   both there (`send` waits for a receiver; `send_nowait` succeeds only when one is
///   waiting).
/// - `usize::MAX` makes the buffer unbounded (see
///   [`create_unbounded_memory_object_stream`]).
///
/// Both ends can be cloned; a side counts as closed once every clone of it was closed
/// or dropped. Receivers then see [`ErrorKind::EndOfStream`] after the buffer is drained;
/// senders see [`ErrorKind::BrokenResource`] with their item handed back.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let (tx, rx) = anyio::create_memory_object_stream::<u32>(1);
/// anyio::task_group!(|tg| {
///     tg.start_soon(async move {
///         for n in 0..3 {
///             tx.send(n).await?; // waits while the one-item buffer is full
///         }
///         anyio::Result::Ok(()) // dropping `tx` ends the stream
///     });
///     let mut received = Vec::new();
///     loop {
///         match rx.receive().await {
///             Ok(n) => received.push(n),
///             Err(e) if e.kind() == anyio::ErrorKind::EndOfStream => break,
///             Err(e) => return Err(e),
///         }
///     }
///     assert_eq!(received, [0, 1, 2]);
///     anyio::Result::Ok(())
/// })?;
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
pub fn create_memory_object_stream<T>(
    max_buffer_size: usize,
) -> (MemoryObjectSendStream<T>, MemoryObjectReceiveStream<T>) {
    let channel = Arc::new(Channel {
        inner: Mutex::new(ChannelInner {
            buffer: VecDeque::new(),
            max_buffer_size,
            open_send: 1,
            open_receive: 1,
            senders: WaitQueue::new(),
            receivers: WaitQueue::new(),
        }),
    });
    (
        MemoryObjectSendStream {
            end: End::new(channel.clone(), false),
        },
        MemoryObjectReceiveStream {
            end: End::new(channel, false),
            stream_key: AtomicUsize::new(NO_KEY),
        },
    )
}

/// Creates a channel without a buffer limit: `send` never waits.
///
/// # Examples
///
/// ```
/// let (tx, rx) = anyio::create_unbounded_memory_object_stream();
/// for n in 0..1000 {
///     tx.send_nowait(n).unwrap();
/// }
/// assert_eq!(rx.statistics().current_buffer_used, 1000);
/// ```
pub fn create_unbounded_memory_object_stream<T>()
-> (MemoryObjectSendStream<T>, MemoryObjectReceiveStream<T>) {
    create_memory_object_stream(usize::MAX)
}

/// "No waiter slot" in [`MemoryObjectReceiveStream::stream_key`].
const NO_KEY: usize = usize::MAX;

/// A fresh id for a stream end.
fn next_end_id() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

struct Channel<T> {
    inner: Mutex<ChannelInner<T>>,
}

/// Which kind of end: the parts the two kinds mirror differ only in which count of open
/// ends they keep and in the words of their errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Send,
    Receive,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Send => "send",
            Side::Receive => "receive",
        }
    }

    /// The count of open ends of this kind.
    fn open_count<T>(self, inner: &mut ChannelInner<T>) -> &mut usize {
        match self {
            Side::Send => &mut inner.open_send,
            Side::Receive => &mut inner.open_receive,
        }
    }
}

/// What a send end and a receive end have alike: the channel, an id, and whether the end
/// was closed. One implementation of opening, cloning and closing serves both.
struct End<T> {
    channel: Arc<Channel<T>>,
    /// Tells this end's parked operations apart from its clones'.
    id: u64,
    /// Set once by `close` (or drop); never cleared.
    closed: AtomicBool,
}

impl<T> End<T> {
    fn new(channel: Arc<Channel<T>>, closed: bool) -> End<T> {
        End {
            channel,
            id: next_end_id(),
            closed: AtomicBool::new(closed),
        }
    }

    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Another open end of the same kind, counted among the open ones.
    fn try_clone(&self, side: Side) -> Result<End<T>> {
        let mut inner = self.channel.lock();
        if self.is_closed() {
            return Err(closed_end(side.name()));
        }
        *side.open_count(&mut inner) += 1;
        Ok(End::new(self.channel.clone(), false))
    }

    /// Another end of the same kind: open, or closed if this one is.
    fn clone_end(&self, side: Side) -> End<T> {
        self.try_clone(side)
            .unwrap_or_else(|_| End::new(self.channel.clone(), true))
    }

    /// Closes the end: with the channel locked and this end no longer counted as open,
    /// `then` fails what waits on it. Does nothing if it was closed already.
    fn close(&self, side: Side, then: impl FnOnce(&mut ChannelInner<T>, u64)) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        let mut inner = self.channel.lock();
        *side.open_count(&mut inner) -= 1;
        then(&mut inner, self.id);
    }

    fn statistics(&self) -> MemoryObjectStreamStatistics {
        self.channel.lock().statistics()
    }
}

struct ChannelInner<T> {
    buffer: VecDeque<T>,
    max_buffer_size: usize,
    open_send: usize,
    open_receive: usize,
    /// Parked senders: their end's id and their item. Grant `None`: the item was taken;
    /// `Some((why, item))`: handed back (every receiver closed, or this end closed).
    senders: WaitQueue<(u64, T), Option<(ErrorKind, T)>>,
    /// Parked receivers: their end's id. Grant: an item, or the error that ends their
    /// wait.
    receivers: WaitQueue<u64, std::result::Result<T, ErrorKind>>,
}

impl<T> Channel<T> {
    fn lock(&self) -> MutexGuard<'_, ChannelInner<T>> {
        crate::base::lock::lock(&self.inner)
    }
}

impl<T> ChannelInner<T> {
    /// Takes the next item without waiting: from the buffer (refilling it from the first
    /// live parked sender), or straight from a parked sender. Returns the sender's waker.
    fn take(&mut self) -> Option<(T, Option<Waker>)> {
        if let Some(item) = self.buffer.pop_front() {
            let mut waker = None;
            // (An item given back to a rendezvous stream can sit in its empty buffer:
            // refill only up to the buffer's size.)
            if self.buffer.len() < self.max_buffer_size
                && let Some(key) = self.senders.first_live()
            {
                let ((_, refill), sender) = self.senders.grant(key, None);
                self.buffer.push_back(refill);
                waker = Some(sender);
            }
            return Some((item, waker));
        }
        let key = self.senders.first_live()?;
        let ((_, item), waker) = self.senders.grant(key, None);
        Some((item, Some(waker)))
    }

    /// Places an item without waiting: with the first live parked receiver, or in the
    /// buffer. Hands it back when neither can take it.
    fn place(&mut self, item: T) -> std::result::Result<Option<Waker>, T> {
        if let Some(key) = self.receivers.first_live() {
            return Ok(Some(self.receivers.grant(key, Ok(item)).1));
        }
        if self.buffer.len() < self.max_buffer_size {
            self.buffer.push_back(item);
            return Ok(None);
        }
        Err(item)
    }

    /// Whether [`place`](ChannelInner::place) would succeed.
    fn has_room(&self) -> bool {
        self.buffer.len() < self.max_buffer_size || self.receivers.has_live()
    }

    /// An item handed to a receiver that went away before taking it: to the next live
    /// receiver, else back to the front of the buffer (it is older than what is there).
    fn give_back(&mut self, item: T) -> Option<Waker> {
        if let Some(key) = self.receivers.first_live() {
            return Some(self.receivers.grant(key, Ok(item)).1);
        }
        self.buffer.push_front(item);
        None
    }

    fn statistics(&self) -> MemoryObjectStreamStatistics {
        MemoryObjectStreamStatistics {
            current_buffer_used: self.buffer.len(),
            max_buffer_size: self.max_buffer_size,
            open_send_streams: self.open_send,
            open_receive_streams: self.open_receive,
            tasks_waiting_send: self.senders.len(),
            tasks_waiting_receive: self.receivers.len(),
        }
    }
}

/// A snapshot of a memory object stream, the same from either end.
///
/// # Examples
///
/// ```
/// let (tx, rx) = anyio::create_memory_object_stream::<u8>(4);
/// let stats = tx.statistics();
/// assert_eq!(stats, rx.statistics());
/// assert_eq!((stats.open_send_streams, stats.open_receive_streams), (1, 1));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MemoryObjectStreamStatistics {
    /// Items in the buffer.
    pub current_buffer_used: usize,
    /// The buffer's capacity (`usize::MAX`: unbounded).
    pub max_buffer_size: usize,
    /// Send ends (clones included) not closed yet.
    pub open_send_streams: usize,
    /// Receive ends (clones included) not closed yet.
    pub open_receive_streams: usize,
    /// Tasks waiting in `send`.
    pub tasks_waiting_send: usize,
    /// Tasks waiting in `receive`.
    pub tasks_waiting_receive: usize,
}

/// A send that failed, with the item it could not deliver.
///
/// Converts into [`Error`] (dropping the item), so `?` works in functions returning
/// [`anyio::Result`](crate::Result).
///
/// # Examples
///
/// ```
/// let (tx, rx) = anyio::create_memory_object_stream::<String>(0);
/// drop(rx);
/// let error = tx.send_nowait("hello".to_owned()).unwrap_err();
/// assert_eq!(error.kind(), anyio::ErrorKind::BrokenResource);
/// assert_eq!(error.into_inner(), "hello");
/// ```
pub struct SendError<T> {
    kind: ErrorKind,
    item: T,
}

impl<T> SendError<T> {
    /// Why the send failed: [`ErrorKind::WouldBlock`], [`ErrorKind::BrokenResource`] or
    /// [`ErrorKind::ClosedResource`].
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = anyio::create_memory_object_stream::<u8>(0);
    /// assert_eq!(tx.send_nowait(1).unwrap_err().kind(), anyio::ErrorKind::WouldBlock);
    /// ```
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The item that was not sent.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = anyio::create_memory_object_stream::<u8>(0);
    /// assert_eq!(*tx.send_nowait(1).unwrap_err().item(), 1);
    /// ```
    pub fn item(&self) -> &T {
        &self.item
    }

    /// Takes the item back.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = anyio::create_memory_object_stream::<String>(0);
    /// let item = tx.send_nowait("mine".into()).unwrap_err().into_inner();
    /// assert_eq!(item, "mine");
    /// ```
    pub fn into_inner(self) -> T {
        self.item
    }

    fn message(&self) -> &'static str {
        match self.kind {
            ErrorKind::WouldBlock => "the memory object stream's buffer is full",
            ErrorKind::BrokenResource => "every receive end of the memory object stream is closed",
            _ => "this send end of the memory object stream is closed",
        }
    }
}

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendError")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message())
    }
}

impl<T> std::error::Error for SendError<T> {}

impl<T> From<SendError<T>> for Error {
    fn from(error: SendError<T>) -> Error {
        Error::new(error.kind, error.message())
    }
}

fn closed_end(side: &str) -> Error {
    Error::new(
        ErrorKind::ClosedResource,
        format!("this {side} end of the memory object stream is closed"),
    )
}

/// The error a parked receive was handed (`EndOfStream` or `ClosedResource`).
fn receive_error(kind: ErrorKind) -> Error {
    match kind {
        ErrorKind::EndOfStream => end_of_stream(),
        _ => closed_end("receive"),
    }
}

fn end_of_stream() -> Error {
    Error::new(
        ErrorKind::EndOfStream,
        "every send end of the memory object stream is closed and its buffer is empty",
    )
}

/// The sending end of a memory object stream.
///
/// Methods take `&self`, so tasks in a group may share one end by reference; clone it to
/// give a task its own end (the stream ends when every clone is closed or dropped).
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let (tx, rx) = anyio::create_memory_object_stream::<u32>(8);
/// anyio::task_group!(|tg| {
///     for worker in 0..3 {
///         let tx = tx.clone(); // each producer owns an end
///         tg.start_soon(async move { tx.send(worker).await.map_err(anyio::Error::from) });
///     }
/// })?;
/// drop(tx);
/// assert_eq!(rx.statistics().current_buffer_used, 3);
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
pub struct MemoryObjectSendStream<T> {
    end: End<T>,
}

impl<T> MemoryObjectSendStream<T> {
    /// Sends an item, waiting while the buffer is full (or, with buffer 0, until a
    /// receiver takes it).
    ///
    /// A checkpoint: in a cancelled scope it delivers nothing.
    ///
    /// # Errors
    ///
    /// With the item handed back: [`ErrorKind::ClosedResource`] if this end was closed,
    /// [`ErrorKind::BrokenResource`] if every receive end is closed (also while waiting).
    ///
    /// # Cancel safety
    ///
    /// Cancelled by its scope or dropped before a receiver took the item, the send never
    /// delivers it: the item is withdrawn (receivers skip a send whose scope is cancelled)
    /// and dropped with the future. Once taken, it is delivered and the send returns `Ok`,
    /// even if its scope was cancelled meanwhile. Nothing is delivered twice.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let (tx, rx) = anyio::create_memory_object_stream::<&str>(0);
    /// anyio::task_group!(|tg| {
    ///     tg.start_soon(async {
    ///         tx.send("waits for the receiver").await?;
    ///         anyio::Result::Ok(())
    ///     });
    ///     assert_eq!(rx.receive().await?, "waits for the receiver");
    ///     anyio::Result::Ok(())
    /// })?;
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn send(&self, item: T) -> MemorySend<'_, T> {
        MemorySend {
            stream: self,
            item: Some(item),
            key: None,
        }
    }

    /// Sends an item if that needs no waiting: a receiver is waiting, or the buffer has
    /// room.
    ///
    /// # Errors
    ///
    /// With the item handed back: [`ErrorKind::WouldBlock`] if the buffer is full and no
    /// receiver waits; otherwise as for [`send`](MemoryObjectSendStream::send).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = anyio::create_memory_object_stream::<u8>(1);
    /// tx.send_nowait(1).unwrap();
    /// let full = tx.send_nowait(2).unwrap_err();
    /// assert_eq!(full.kind(), anyio::ErrorKind::WouldBlock);
    /// assert_eq!(full.into_inner(), 2);
    /// assert_eq!(rx.receive_nowait().unwrap(), 1);
    /// ```
    pub fn send_nowait(&self, item: T) -> std::result::Result<(), SendError<T>> {
        let waker = {
            let mut inner = self.end.channel.lock();
            if let Err(kind) = self.check_open(&inner) {
                return Err(SendError { kind, item });
            }
            match inner.place(item) {
                Ok(waker) => waker,
                Err(item) => {
                    return Err(SendError {
                        kind: ErrorKind::WouldBlock,
                        item,
                    });
                }
            }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// Closes this end (clones stay open). Sends waiting on this end fail with
    /// [`ErrorKind::ClosedResource`] and their items handed back. Receivers see the end
    /// of the stream once every send end is closed and the buffer is drained.
    /// Idempotent; dropping closes too.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = anyio::create_memory_object_stream::<u8>(1);
    /// tx.send_nowait(1).unwrap();
    /// tx.close();
    /// assert_eq!(rx.receive_nowait().unwrap(), 1); // buffered items still arrive
    /// assert_eq!(rx.receive_nowait().unwrap_err().kind(), anyio::ErrorKind::EndOfStream);
    /// ```
    pub fn close(&self) {
        let mut wakers = Vec::new();
        self.end.close(Side::Send, |inner, id| {
            // Sends parked on this end fail, with their items handed back.
            inner.senders.grant_matching(
                |(end, _)| *end == id,
                |(_, item)| Some((ErrorKind::ClosedResource, item)),
                &mut wakers,
            );
            if inner.open_send == 0 && inner.buffer.is_empty() {
                inner
                    .receivers
                    .grant_all(|_| Err(ErrorKind::EndOfStream), &mut wakers);
            }
        });
        wake_all(wakers);
    }

    /// Another send end on the same stream.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::ClosedResource`] if this end is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = anyio::create_memory_object_stream::<u8>(4);
    /// let tx2 = tx.try_clone().unwrap();
    /// drop(tx);
    /// tx2.send_nowait(7).unwrap(); // the clone keeps the stream open
    /// assert_eq!(rx.receive_nowait().unwrap(), 7);
    /// ```
    pub fn try_clone(&self) -> Result<MemoryObjectSendStream<T>> {
        Ok(MemoryObjectSendStream {
            end: self.end.try_clone(Side::Send)?,
        })
    }

    /// Whether this end was closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = anyio::create_memory_object_stream::<u8>(1);
    /// tx.close();
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.end.is_closed()
    }

    /// The stream's state (the same from every end).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = anyio::create_memory_object_stream::<u8>(1);
    /// tx.send_nowait(1).unwrap();
    /// assert_eq!(tx.statistics().current_buffer_used, 1);
    /// ```
    pub fn statistics(&self) -> MemoryObjectStreamStatistics {
        self.end.statistics()
    }

    fn check_open(&self, inner: &ChannelInner<T>) -> std::result::Result<(), ErrorKind> {
        if self.end.is_closed() {
            Err(ErrorKind::ClosedResource)
        } else if inner.open_receive == 0 {
            Err(ErrorKind::BrokenResource)
        } else {
            Ok(())
        }
    }
}

impl<T> Clone for MemoryObjectSendStream<T> {
    /// Another send end; cloning a closed end gives a closed end (see
    /// [`try_clone`](MemoryObjectSendStream::try_clone)).
    fn clone(&self) -> Self {
        MemoryObjectSendStream {
            end: self.end.clone_end(Side::Send),
        }
    }
}

impl<T> Drop for MemoryObjectSendStream<T> {
    fn drop(&mut self) {
        self.close();
    }
}

impl<T> fmt::Debug for MemoryObjectSendStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryObjectSendStream")
            .field("closed", &self.is_closed())
            .field("statistics", &self.statistics())
            .finish()
    }
}

/// Future of [`MemoryObjectSendStream::send`].
///
/// # Cancel safety
///
/// As for [`MemoryObjectSendStream::send`].
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let (tx, _rx) = anyio::create_memory_object_stream::<u8>(0);
/// // Nobody receives: give up; the item is withdrawn, not delivered later.
/// assert!(anyio::move_on_after(0.001, tx.send(1)).await.is_none());
/// assert_eq!(tx.statistics().tasks_waiting_send, 0);
/// # });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct MemorySend<'a, T> {
    stream: &'a MemoryObjectSendStream<T>,
    /// The item until it is placed or parked (then the queue holds it).
    item: Option<T>,
    key: Option<usize>,
}

impl<T> Unpin for MemorySend<'_, T> {}

impl<T> fmt::Debug for MemorySend<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemorySend")
            .field("waiting", &self.key.is_some())
            .finish()
    }
}

impl<T> Future for MemorySend<'_, T> {
    type Output = std::result::Result<(), SendError<T>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let stream = this.stream;
        // A checkpoint: a send that starts in a cancelled scope delivers nothing.
        if this.key.is_none() {
            std::task::ready!(crate::base::coop::poll_start(cx));
        }
        let waker = {
            let mut inner = stream.end.channel.lock();
            match this.key {
                None => {
                    let item = this
                        .item
                        .take()
                        .expect("MemorySend polled after completion");
                    if let Err(kind) = stream.check_open(&inner) {
                        return Poll::Ready(Err(SendError { kind, item }));
                    }
                    match inner.place(item) {
                        Ok(waker) => waker,
                        Err(item) => {
                            this.key = Some(inner.senders.push((stream.end.id, item), cx.waker()));
                            return Poll::Pending;
                        }
                    }
                }
                Some(key) => {
                    if let Some(outcome) = inner.senders.poll_granted(key, cx.waker()) {
                        this.key = None;
                        return Poll::Ready(match outcome {
                            None => Ok(()),
                            Some((kind, item)) => Err(SendError { kind, item }),
                        });
                    }
                    if is_cancelled() {
                        return Poll::Pending;
                    }
                    let closed = stream.end.is_closed();
                    // Skipped while cancelled and then shielded, or this end was closed.
                    if !closed && !inner.has_room() {
                        return Poll::Pending;
                    }
                    this.key = None;
                    let Withdrawn::Queued((_, item)) = inner.senders.withdraw(key) else {
                        unreachable!("checked not granted above")
                    };
                    if closed {
                        return Poll::Ready(Err(SendError {
                            kind: ErrorKind::ClosedResource,
                            item,
                        }));
                    }
                    match inner.place(item) {
                        Ok(waker) => waker,
                        Err(_) => unreachable!("checked for room above"),
                    }
                }
            }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Poll::Ready(Ok(()))
    }
}

impl<T> Drop for MemorySend<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            // The withdrawn item (not delivered) is dropped after the mutex is released.
            let withdrawn = self.stream.end.channel.lock().senders.withdraw(key);
            drop(withdrawn);
        }
    }
}

/// The receiving end of a memory object stream.
///
/// Methods take `&self`, so tasks in a group may share one end by reference; clone it
/// for several consumers (each item goes to one of them). Also a
/// [`futures_core::Stream`] of items, which ends at the end of the stream.
///
/// # Examples
///
/// ```
/// use futures_lite::StreamExt;
///
/// # anyio::run(async {
/// let (tx, rx) = anyio::create_memory_object_stream::<u32>(4);
/// for n in 1..=4 {
///     tx.send_nowait(n).unwrap();
/// }
/// drop(tx);
/// assert_eq!(rx.next().await, Some(1)); // ends with `None` at the end of the stream
/// // Or as a `Stream`, with its combinators:
/// let rest: Vec<u32> = rx.map(|n| n * 10).collect().await;
/// assert_eq!(rest, [20, 30, 40]);
/// # });
/// ```
pub struct MemoryObjectReceiveStream<T> {
    end: End<T>,
    /// The waiter slot of `Stream::poll_next` ([`NO_KEY`] when none). It outlives a
    /// dropped `next()` future, so `receive` and `receive_nowait` on this end reclaim it
    /// first (an item may already have been handed to it).
    stream_key: AtomicUsize,
}

impl<T> MemoryObjectReceiveStream<T> {
    /// Receives the next item, waiting for one.
    ///
    /// A checkpoint: in a cancelled scope it takes nothing.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::EndOfStream`] once every send end is closed and the buffer is empty;
    /// [`ErrorKind::ClosedResource`] if this end was closed.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: an item handed to this receive is returned by it, even if its scope
    /// is cancelled meanwhile; if the future is dropped before it could return the item,
    /// the item goes to the next receiver or back to the front of the buffer.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let (tx, rx) = anyio::create_memory_object_stream::<&str>(1);
    /// tx.send_nowait("hi").unwrap();
    /// assert_eq!(rx.receive().await?, "hi");
    /// drop(tx);
    /// assert_eq!(rx.receive().await.unwrap_err().kind(), anyio::ErrorKind::EndOfStream);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn receive(&self) -> MemoryReceive<'_, T> {
        MemoryReceive {
            stream: self,
            key: None,
        }
    }

    /// The next item, or `None` at the end of the stream or once this end is closed: the
    /// awaitable form of [`Stream::next`](futures_core::Stream), which it shadows (an
    /// inherent method wins over `StreamExt::next`, so `rx.next().await` lands here).
    ///
    /// Unlike a poll of the `Stream` impl, the returned future owns its place in the
    /// queue of receivers: dropped before an item reached it (for instance in a
    /// `select!` that took another branch), it leaves no waiting receiver behind, so a
    /// rendezvous `send_nowait` cannot hand it an item that nobody takes.
    ///
    /// Like every anyio operation, this is a checkpoint.
    ///
    /// # Cancel safety
    ///
    /// As for [`receive`](MemoryObjectReceiveStream::receive): no item is lost.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let (tx, rx) = anyio::create_memory_object_stream::<u8>(2);
    /// tx.send_nowait(1).unwrap();
    /// drop(tx);
    /// assert_eq!(rx.next().await, Some(1));
    /// assert_eq!(rx.next().await, None);
    /// # });
    /// ```
    #[allow(clippy::should_implement_trait)] // it is the awaitable form of Stream::next
    pub fn next(&self) -> MemoryNext<'_, T> {
        MemoryNext {
            receive: self.receive(),
        }
    }

    /// Receives an item if one is there: in the buffer or offered by a waiting sender.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::WouldBlock`] if there is none; otherwise as for
    /// [`receive`](MemoryObjectReceiveStream::receive).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = anyio::create_memory_object_stream::<u8>(1);
    /// assert_eq!(rx.receive_nowait().unwrap_err().kind(), anyio::ErrorKind::WouldBlock);
    /// tx.send_nowait(5).unwrap();
    /// assert_eq!(rx.receive_nowait().unwrap(), 5);
    /// ```
    pub fn receive_nowait(&self) -> Result<T> {
        let (item, waker) = {
            let mut inner = self.end.channel.lock();
            if self.end.is_closed() {
                return Err(closed_end("receive"));
            }
            if let Some(result) = self.reclaim_stream_slot(&mut inner) {
                return result;
            }
            match inner.take() {
                Some(taken) => taken,
                None if inner.open_send == 0 => return Err(end_of_stream()),
                None => {
                    return Err(Error::new(
                        ErrorKind::WouldBlock,
                        "the memory object stream has no item ready",
                    ));
                }
            }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(item)
    }

    /// Closes this end (clones stay open). Receives waiting on this end fail with
    /// [`ErrorKind::ClosedResource`]. When every receive end is closed, waiting senders
    /// fail with [`ErrorKind::BrokenResource`] (their items handed back) and buffered
    /// items are dropped. Idempotent; dropping closes too.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = anyio::create_memory_object_stream::<u8>(1);
    /// rx.close();
    /// let error = tx.send_nowait(1).unwrap_err();
    /// assert_eq!(error.kind(), anyio::ErrorKind::BrokenResource);
    /// ```
    pub fn close(&self) {
        let mut wakers = Vec::new();
        let mut dropped_items = VecDeque::new();
        self.end.close(Side::Receive, |inner, id| {
            // Receives parked on this end fail.
            inner.receivers.grant_matching(
                |end| *end == id,
                |_| Err(ErrorKind::ClosedResource),
                &mut wakers,
            );
            if inner.open_receive == 0 {
                inner.senders.grant_all(
                    |(_, item)| Some((ErrorKind::BrokenResource, item)),
                    &mut wakers,
                );
                dropped_items = std::mem::take(&mut inner.buffer);
            }
        });
        // Dropped outside the lock: an item's drop is user code.
        drop(dropped_items);
        wake_all(wakers);
    }

    /// Another receive end on the same stream.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::ClosedResource`] if this end is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = anyio::create_memory_object_stream::<u8>(2);
    /// let second = rx.try_clone().unwrap();
    /// tx.send_nowait(1).unwrap();
    /// assert_eq!(second.receive_nowait().unwrap(), 1); // each item goes to one receiver
    /// rx.close();
    /// assert!(rx.try_clone().is_err());
    /// ```
    pub fn try_clone(&self) -> Result<MemoryObjectReceiveStream<T>> {
        Ok(MemoryObjectReceiveStream {
            end: self.end.try_clone(Side::Receive)?,
            stream_key: AtomicUsize::new(NO_KEY),
        })
    }

    /// Whether this end was closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = anyio::create_memory_object_stream::<u8>(1);
    /// rx.close();
    /// assert!(rx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.end.is_closed()
    }

    /// The stream's state (the same from every end).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = anyio::create_memory_object_stream::<u8>(2);
    /// tx.send_nowait(1).unwrap();
    /// let stats = rx.statistics();
    /// assert_eq!(stats.current_buffer_used, 1);
    /// assert_eq!(stats.max_buffer_size, 2);
    /// assert_eq!(stats.open_send_streams, 1);
    /// assert_eq!(stats.tasks_waiting_receive, 0);
    /// ```
    pub fn statistics(&self) -> MemoryObjectStreamStatistics {
        self.end.statistics()
    }

    fn poll_receive(&self, key: &mut Option<usize>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        // A checkpoint: a receive that starts in a cancelled scope takes nothing.
        if key.is_none() {
            std::task::ready!(crate::base::coop::poll_start(cx));
        }
        let (item, waker) = {
            let mut inner = self.end.channel.lock();
            match *key {
                None => {
                    if self.end.is_closed() {
                        return Poll::Ready(Err(closed_end("receive")));
                    }
                    if let Some(result) = self.reclaim_stream_slot(&mut inner) {
                        return Poll::Ready(result);
                    }
                    match inner.take() {
                        Some(taken) => taken,
                        None if inner.open_send == 0 => return Poll::Ready(Err(end_of_stream())),
                        None => {
                            *key = Some(inner.receivers.push(self.end.id, cx.waker()));
                            return Poll::Pending;
                        }
                    }
                }
                Some(k) => {
                    if let Some(outcome) = inner.receivers.poll_granted(k, cx.waker()) {
                        *key = None;
                        return Poll::Ready(outcome.map_err(receive_error));
                    }
                    if is_cancelled() {
                        return Poll::Pending;
                    }
                    // Skipped while cancelled and then shielded, or this end was closed.
                    let outcome = if self.end.is_closed() {
                        Err(closed_end("receive"))
                    } else {
                        match inner.take() {
                            Some(taken) => Ok(taken),
                            None if inner.open_send == 0 => Err(end_of_stream()),
                            None => return Poll::Pending,
                        }
                    };
                    inner.receivers.withdraw(k);
                    *key = None;
                    match outcome {
                        Ok(taken) => taken,
                        Err(error) => return Poll::Ready(Err(error)),
                    }
                }
            }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Poll::Ready(Ok(item))
    }

    /// Takes back the slot a dropped `next()` left parked: its item or error if one was
    /// handed to it (`None` if not, or if there is no such slot).
    fn reclaim_stream_slot(&self, inner: &mut ChannelInner<T>) -> Option<Result<T>> {
        // A plain load first: receives pass here on every call, and a slot is rare.
        if self.stream_key.load(Ordering::Acquire) == NO_KEY {
            return None;
        }
        let key = self.stream_key.swap(NO_KEY, Ordering::AcqRel);
        if key == NO_KEY {
            return None;
        }
        match inner.receivers.withdraw(key) {
            Withdrawn::Granted(outcome) => Some(outcome.map_err(receive_error)),
            Withdrawn::Queued(_) => None,
        }
    }

    /// Gives up a parked receive: an item already handed to it goes to the next receiver
    /// or back to the buffer.
    fn withdraw(&self, key: usize) {
        let waker = {
            let mut inner = self.end.channel.lock();
            match inner.receivers.withdraw(key) {
                Withdrawn::Granted(Ok(item)) => inner.give_back(item),
                Withdrawn::Granted(Err(_)) | Withdrawn::Queued(_) => None,
            }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> Clone for MemoryObjectReceiveStream<T> {
    /// Another receive end; cloning a closed end gives a closed end (see
    /// [`try_clone`](MemoryObjectReceiveStream::try_clone)).
    fn clone(&self) -> Self {
        MemoryObjectReceiveStream {
            end: self.end.clone_end(Side::Receive),
            stream_key: AtomicUsize::new(NO_KEY),
        }
    }
}

impl<T> Drop for MemoryObjectReceiveStream<T> {
    fn drop(&mut self) {
        let key = *self.stream_key.get_mut();
        if key != NO_KEY {
            self.withdraw(key);
        }
        self.close();
    }
}

impl<T> fmt::Debug for MemoryObjectReceiveStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryObjectReceiveStream")
            .field("closed", &self.is_closed())
            .field("statistics", &self.statistics())
            .finish()
    }
}

impl<T> Unpin for MemoryObjectReceiveStream<T> {}

impl<T> futures_core::Stream for MemoryObjectReceiveStream<T> {
    type Item = T;

    /// The next item; `None` at the end of the stream or once this end is closed.
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        let slot = std::mem::replace(this.stream_key.get_mut(), NO_KEY);
        let mut key = (slot != NO_KEY).then_some(slot);
        let result = this.poll_receive(&mut key, cx);
        *this.stream_key.get_mut() = key.unwrap_or(NO_KEY);
        result.map(Result::ok)
    }
}

/// Future of [`MemoryObjectReceiveStream::receive`].
///
/// # Cancel safety
///
/// As for [`MemoryObjectReceiveStream::receive`].
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let (_tx, rx) = anyio::create_memory_object_stream::<u8>(1);
/// assert!(anyio::move_on_after(0.001, rx.receive()).await.is_none());
/// assert_eq!(rx.statistics().tasks_waiting_receive, 0);
/// # });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct MemoryReceive<'a, T> {
    stream: &'a MemoryObjectReceiveStream<T>,
    key: Option<usize>,
}

impl<T> fmt::Debug for MemoryReceive<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryReceive")
            .field("waiting", &self.key.is_some())
            .finish()
    }
}

impl<T> Future for MemoryReceive<'_, T> {
    type Output = Result<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        let this = &mut *self;
        this.stream.poll_receive(&mut this.key, cx)
    }
}

impl<T> Drop for MemoryReceive<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.stream.withdraw(key);
        }
    }
}

/// Future of [`MemoryObjectReceiveStream::next`].
///
/// # Cancel safety
///
/// As for [`MemoryObjectReceiveStream::next`].
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let (tx, rx) = anyio::create_memory_object_stream::<u32>(4);
/// for n in 1..=3 {
///     tx.send_nowait(n).unwrap();
/// }
/// drop(tx); // the stream ends once the buffered items are read
/// let mut sum = 0;
/// while let Some(n) = rx.next().await {
///     sum += n;
/// }
/// assert_eq!(sum, 6);
/// # });
/// ```
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct MemoryNext<'a, T> {
    receive: MemoryReceive<'a, T>,
}

impl<T> Future for MemoryNext<'_, T> {
    type Output = Option<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        Pin::new(&mut self.receive).poll(cx).map(Result::ok)
    }
}

impl<T> TypedAttributeProvider for MemoryObjectSendStream<T> {}

impl<T> AsyncResource for MemoryObjectSendStream<T> {
    /// Closes this end, as [`close`](MemoryObjectSendStream::close).
    ///
    /// # Cancel safety
    ///
    /// Not a checkpoint: it closes at its first poll, even in a cancelled scope. Dropped
    /// before it was polled, it closes nothing.
    async fn aclose(&mut self) -> Result<()> {
        self.close();
        Ok(())
    }
}

impl<T> UnreliableObjectSendStream<T> for MemoryObjectSendStream<T> {
    /// As [`MemoryObjectSendStream::send`], with the item dropped on failure.
    ///
    /// # Cancel safety
    ///
    /// As for [`MemoryObjectSendStream::send`]: a cancelled send never delivers its item.
    async fn send(&mut self, item: T) -> Result<()> {
        MemoryObjectSendStream::send(self, item)
            .await
            .map_err(Error::from)
    }
}

impl<T> ObjectSendStream<T> for MemoryObjectSendStream<T> {}

impl<T> TypedAttributeProvider for MemoryObjectReceiveStream<T> {}

impl<T> AsyncResource for MemoryObjectReceiveStream<T> {
    /// Closes this end, as [`close`](MemoryObjectReceiveStream::close).
    ///
    /// # Cancel safety
    ///
    /// Not a checkpoint: it closes at its first poll, even in a cancelled scope. Dropped
    /// before it was polled, it closes nothing.
    async fn aclose(&mut self) -> Result<()> {
        self.close();
        Ok(())
    }
}

impl<T> UnreliableObjectReceiveStream<T> for MemoryObjectReceiveStream<T> {
    /// As [`MemoryObjectReceiveStream::receive`].
    ///
    /// # Cancel safety
    ///
    /// As for [`MemoryObjectReceiveStream::receive`]: no item is lost.
    async fn receive(&mut self) -> Result<T> {
        MemoryObjectReceiveStream::receive(self).await
    }
}

impl<T> ObjectReceiveStream<T> for MemoryObjectReceiveStream<T> {}
