//! Waiting for a descriptor to be readable or writable, and waking those waits when the
//! descriptor is about to be closed; and the reverse name lookup.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::sync::{Arc, Mutex};

use async_io::Async;

use crate::base::lock::lock;
use crate::error::{Error, ErrorKind, Result};
use crate::sync::Event;

/// For each descriptor with a wait in progress: the event `notify_closing` sets.
static CLOSING: Mutex<Option<HashMap<RawFd, Arc<Event>>>> = Mutex::new(None);

/// The closing event of `fd`, shared by its waits.
fn closing_event(fd: RawFd) -> Arc<Event> {
    lock(&CLOSING)
        .get_or_insert_with(HashMap::new)
        .entry(fd)
        .or_insert_with(|| Arc::new(Event::new()))
        .clone()
}

/// Forgets the closing event of `fd` once no wait holds it.
fn release_closing_event(fd: RawFd, event: Arc<Event>) {
    let mut map = lock(&CLOSING);
    if let Some(events) = map.as_mut()
        && Arc::strong_count(&event) == 2
        && events
            .get(&fd)
            .is_some_and(|held| Arc::ptr_eq(held, &event))
    {
        events.remove(&fd);
    }
}

/// Waits until `fd` is readable (or `notify_closing` is called on it).
async fn wait_ready(fd: &impl AsFd, writable: bool) -> Result<()> {
    crate::lowlevel::checkpoint_if_cancelled().await;
    let raw = fd.as_fd().as_raw_fd();
    // Registered without changing the descriptor's blocking mode; deregistered (not
    // closed: it is borrowed) when this wait ends.
    let watcher = Async::new_nonblocking(fd.as_fd()).map_err(|error| {
        Error::with_source(
            ErrorKind::Io(error.kind()),
            format!(
                "could not wait for descriptor {raw} (another wait on it may be in progress): {error}"
            ),
            error,
        )
    })?;
    let closing = closing_event(raw);
    let ready = async {
        let result = if writable {
            watcher.writable().await
        } else {
            watcher.readable().await
        };
        Some(result)
    };
    let closed = async {
        closing.wait().await;
        None
    };
    let outcome = futures_lite::future::or(ready, closed).await;
    drop(watcher);
    release_closing_event(raw, closing);
    match outcome {
        Some(result) => Ok(result?),
        None => Err(Error::new(
            ErrorKind::ClosedResource,
            format!("descriptor {raw} was closed while a task waited on it"),
        )),
    }
}

/// Waits until `fd` (a socket, a pipe, ...) has data to read, or its peer closed it.
///
/// One wait per descriptor at a time, and not on a descriptor that an anyio stream
/// already watches (the reactor registers each descriptor once): that is an error.
///
/// # Errors
///
/// [`ErrorKind::ClosedResource`] if [`notify_closing`] was called on `fd` meanwhile; the
/// system's error of registering the descriptor.
///
/// # Examples
///
/// ```
/// use std::io::Write;
///
/// # anyio::run(async {
/// let (mut a, b) = std::os::unix::net::UnixStream::pair()?;
/// a.write_all(b"x")?;
/// anyio::wait_readable(&b).await?; // returns at once: a byte is waiting
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
///
/// # Cancel safety
///
/// A checkpoint; cancelled, the wait just ends.
pub async fn wait_readable(fd: &impl AsFd) -> Result<()> {
    wait_ready(fd, false).await
}

/// Waits until `fd` can be written to without blocking.
///
/// # Errors
///
/// As for [`wait_readable`].
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let (a, _b) = std::os::unix::net::UnixStream::pair()?;
/// anyio::wait_writable(&a).await?; // an empty socket buffer: writable at once
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
///
/// # Cancel safety
///
/// A checkpoint; cancelled, the wait just ends.
pub async fn wait_writable(fd: &impl AsFd) -> Result<()> {
    wait_ready(fd, true).await
}

/// The old name of [`wait_readable`], kept as AnyIO keeps it.
///
/// # Examples
///
/// ```
/// # #![allow(deprecated)]
/// # anyio::run(async {
/// use std::io::Write;
///
/// let (mut a, b) = std::os::unix::net::UnixStream::pair()?;
/// a.write_all(b"x")?;
/// anyio::net::wait_socket_readable(&b).await?; // as anyio::wait_readable(&b)
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
///
/// # Errors
///
/// As for [`wait_readable`].
#[deprecated(note = "use `anyio::wait_readable`")]
pub async fn wait_socket_readable(fd: &impl AsFd) -> Result<()> {
    wait_readable(fd).await
}

/// The old name of [`wait_writable`], kept as AnyIO keeps it.
///
/// # Examples
///
/// ```
/// # #![allow(deprecated)]
/// # anyio::run(async {
/// let (a, _b) = std::os::unix::net::UnixStream::pair()?;
/// anyio::net::wait_socket_writable(&a).await?; // as anyio::wait_writable(&a)
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
///
/// # Errors
///
/// As for [`wait_writable`].
#[deprecated(note = "use `anyio::wait_writable`")]
pub async fn wait_socket_writable(fd: &impl AsFd) -> Result<()> {
    wait_writable(fd).await
}

/// Wakes every [`wait_readable`] and [`wait_writable`] on `fd` with an error of kind
/// [`ErrorKind::ClosedResource`]: call it before closing a descriptor that tasks may be
/// waiting on.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let (a, _b) = std::os::unix::net::UnixStream::pair()?;
/// let error = anyio::task_group!(|tg| {
///     tg.start_soon(async {
///         anyio::wait_all_tasks_blocked().await;
///         anyio::notify_closing(&a);
///     });
///     anyio::wait_readable(&a).await // fails: the group reports it
/// })
/// .unwrap_err();
/// assert_eq!(error.kind(), anyio::ErrorKind::ClosedResource);
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
pub fn notify_closing(fd: &impl AsFd) {
    let raw = fd.as_fd().as_raw_fd();
    let event = lock(&CLOSING)
        .as_mut()
        .and_then(|events| events.remove(&raw));
    if let Some(event) = event {
        event.set();
    }
}

/// The host name and service name of `address` (a reverse lookup, run on a blocking
/// thread; a name the resolver does not know comes back as the numeric address).
///
/// # Errors
///
/// An error of kind [`ErrorKind::Io`] naming the address when the lookup fails.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let (host, service) = anyio::getnameinfo("127.0.0.1:80".parse().unwrap()).await?;
/// assert!(!host.is_empty());
/// assert!(service == "http" || service == "80");
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
///
/// # Cancel safety
///
/// A checkpoint; cancelled, the lookup finishes on its thread and its result is dropped.
pub async fn getnameinfo(address: SocketAddr) -> Result<(String, String)> {
    crate::lowlevel::checkpoint_if_cancelled().await;
    blocking::unblock(move || dns_lookup::getnameinfo(&address, 0))
        .await
        .map_err(|error| {
            let error = std::io::Error::from(error);
            Error::with_source(
                ErrorKind::Io(error.kind()),
                format!("could not look up the name of {address}: {error}"),
                error,
            )
        })
}
