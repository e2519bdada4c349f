//! Receiving operating-system signals: `open_signal_receiver`.
//!
//! Handlers are installed with `sigaction` when the first receiver of a signal opens,
//! and the previous action is put back when the last one closes. Each handler writes
//! the signal's number to a pipe that one thread of the process (`anyio-signals`,
//! started with the first receiver) reads and hands to every open receiver of that
//! signal.

use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::os::fd::IntoRawFd;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex};
use std::task::{Context, Poll};

use crate::base::lock::lock;
use crate::error::{Error, ErrorKind, Result};
use crate::os::signals::{SavedAction, install, restore, set_pipe};
use crate::process::Signal;

/// The receivers of one signal, and the action its handler replaced.
struct Entry {
    signal: Signal,
    saved: SavedAction,
    receivers: Vec<(u64, async_channel::Sender<Signal>)>,
}

#[derive(Default)]
struct Registry {
    dispatcher_started: bool,
    entries: HashMap<i32, Entry>,
}

static REGISTRY: LazyLock<Mutex<Registry>> = LazyLock::new(Mutex::default);
static NEXT_RECEIVER: AtomicU64 = AtomicU64::new(1);

/// Starts the thread that reads the handlers' pipe (once per process).
fn start_dispatcher(registry: &mut Registry) -> Result<()> {
    if registry.dispatcher_started {
        return Ok(());
    }
    let (mut reader, writer) = std::os::unix::net::UnixStream::pair()?;
    writer.set_nonblocking(true)?;
    std::thread::Builder::new()
        .name("anyio-signals".to_owned())
        .spawn(move || {
            let mut byte = [0u8; 1];
            loop {
                match reader.read(&mut byte) {
                    Ok(1) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    _ => break,
                }
                let registry = lock(&REGISTRY);
                if let Some(entry) = registry.entries.get(&i32::from(byte[0])) {
                    for (_, sender) in &entry.receivers {
                        let _ = sender.try_send(entry.signal);
                    }
                }
            }
        })?;
    // The write end lives as long as the process: handlers may run at any time.
    set_pipe(writer.into_raw_fd());
    registry.dispatcher_started = true;
    Ok(())
}

/// Starts receiving `signals`: AnyIO's `open_signal_receiver`. The signals' usual
/// actions (terminating the program, for most) are replaced until the receiver is
/// dropped, which puts them back (once the last receiver of a signal is gone).
///
/// # Errors
///
/// An error naming the signal when it cannot be caught (`Kill`, `Stop`) or reports a
/// fault of the program (`Segv`, `Bus`, `Fpe`, `Ill`).
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// use anyio::Signal;
///
/// let mut signals = anyio::open_signal_receiver([Signal::Usr1]).await?;
/// let me = std::process::id().to_string();
/// anyio::run_process(["kill", "-USR1", &me]).await?;
/// assert_eq!(signals.receive().await?, Signal::Usr1);
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
pub async fn open_signal_receiver(
    signals: impl IntoIterator<Item = Signal>,
) -> Result<SignalReceiver> {
    crate::lowlevel::checkpoint_if_cancelled().await;
    let (sender, receiver) = async_channel::unbounded();
    let id = NEXT_RECEIVER.fetch_add(1, Ordering::Relaxed);
    let mut opened = SignalReceiver {
        id,
        signals: Vec::new(),
        receiver: Box::pin(receiver),
    };
    let mut registry = lock(&REGISTRY);
    start_dispatcher(&mut registry)?;
    for signal in signals {
        if opened.signals.contains(&signal) {
            continue;
        }
        if matches!(
            signal,
            Signal::Segv | Signal::Bus | Signal::Fpe | Signal::Ill
        ) {
            // A fault's handler returns to the faulting instruction, which faults again.
            return Err(Error::new(
                ErrorKind::Io(std::io::ErrorKind::InvalidInput),
                format!(
                    "cannot receive the signal {signal:?}: it reports a fault in the \
                     program itself, which cannot go on after its handler returns"
                ),
            ));
        }
        let number = signal as i32;
        match registry.entries.get_mut(&number) {
            Some(entry) => entry.receivers.push((id, sender.clone())),
            None => {
                let saved = install(number).map_err(|e| {
                    Error::with_source(
                        ErrorKind::Io(e.kind()),
                        format!("cannot receive the signal {signal:?} (number {number}): {e}"),
                        e,
                    )
                })?;
                registry.entries.insert(
                    number,
                    Entry {
                        signal,
                        saved,
                        receivers: vec![(id, sender.clone())],
                    },
                );
            }
        }
        opened.signals.push(signal);
    }
    drop(registry);
    Ok(opened)
}

/// The signals received since [`open_signal_receiver`], in order: a `Stream` of
/// [`Signal`], and [`receive`](SignalReceiver::receive).
///
/// Signals that arrive while nobody receives are kept (unless the pipe behind the
/// handlers fills up: a flood of signals may be cut short, as with any signal
/// handling).
///
/// # Examples
///
/// ```
/// use futures_lite::StreamExt;
///
/// # anyio::run(async {
/// let mut signals = anyio::open_signal_receiver([anyio::Signal::Usr2]).await?;
/// anyio::run_process(format!("kill -USR2 {}", std::process::id())).await?;
/// assert_eq!(signals.next().await, Some(anyio::Signal::Usr2));
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
pub struct SignalReceiver {
    id: u64,
    signals: Vec<Signal>,
    /// Boxed: a receiver that has waited is not `Unpin`.
    receiver: Pin<Box<async_channel::Receiver<Signal>>>,
}

impl fmt::Debug for SignalReceiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignalReceiver")
            .field("signals", &self.signals)
            .finish()
    }
}

impl SignalReceiver {
    /// The next signal received.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a signal is taken only when the receive returns it.
    ///
    /// # Errors
    ///
    /// None in practice (the receiver stays registered until dropped).
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let mut signals = anyio::open_signal_receiver([anyio::Signal::Hup]).await?;
    /// anyio::run_process(format!("kill -HUP {}", std::process::id())).await?;
    /// assert_eq!(signals.receive().await?, anyio::Signal::Hup);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn receive(&mut self) -> Result<Signal> {
        crate::lowlevel::checkpoint_if_cancelled().await;
        self.receiver.recv().await.map_err(|_| {
            Error::new(
                ErrorKind::ClosedResource,
                "the signal receiver is no longer registered",
            )
        })
    }

    /// The signals this receiver listens for.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let signals = anyio::open_signal_receiver([anyio::Signal::Usr1]).await?;
    /// assert_eq!(signals.signals(), [anyio::Signal::Usr1]);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn signals(&self) -> &[Signal] {
        &self.signals
    }
}

impl futures_core::Stream for SignalReceiver {
    type Item = Signal;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Signal>> {
        self.receiver.as_mut().poll_next(cx)
    }
}

impl Drop for SignalReceiver {
    fn drop(&mut self) {
        let mut registry = lock(&REGISTRY);
        for signal in &self.signals {
            let number = *signal as i32;
            let Some(entry) = registry.entries.get_mut(&number) else {
                continue;
            };
            entry.receivers.retain(|(id, _)| *id != self.id);
            if entry.receivers.is_empty() {
                let entry = registry.entries.remove(&number).expect("looked up above");
                // The previous action comes back; a failure here leaves the handler in
                // place, which then drops the signal (nobody listens).
                let _ = restore(number, &entry.saved);
            }
        }
    }
}
