//! One worker process seen from its parent: starting it, the handshake, a call, and its
//! end. Every worker is waited for, whatever happens to it: the [`Worker`] owns its
//! `Child`, and dropping it hands the child to the [`Reaper`].

use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use async_io::{Async, Timer};
use futures_lite::AsyncWriteExt;

use super::protocol;
use super::raw;
use super::worker_mode::{Launch, WORKER_VAR};
use crate::base::lock::lock;
use crate::error::{Error, ErrorKind, Result};

/// How long a new worker may take to say hello (a test binary on a loaded machine
/// starts slowly; a program that never enters worker mode must not hang its caller).
const HELLO_TIMEOUT: Duration = Duration::from_secs(60);

/// How long an idle worker whose socket was closed may take to exit before it is killed.
const EXIT_GRACE: Duration = Duration::from_secs(2);

/// A running worker process and the parent's end of its socket.
pub(super) struct Worker {
    /// The process; `None` once it has been waited for.
    child: Option<Child>,
    socket: Async<UnixStream>,
    pid: u32,
    /// Set while the handshake or a call is in flight, when the worker's state is
    /// unknown: dropped then, it is killed. Dropped idle, it is asked to exit (its socket
    /// closes) and killed only if it does not.
    busy: bool,
    reaper: Arc<Reaper>,
}

impl Worker {
    /// Starts a worker and waits for its hello.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::BrokenWorkerProcess`] if it cannot be started, exits before it is
    /// ready, stays silent for a minute, or runs another build of the program.
    ///
    /// # Cancel safety
    ///
    /// Dropped, it kills the new worker (which is then waited for).
    pub(super) async fn start(launch: &Launch, reaper: &Arc<Reaper>) -> Result<Worker> {
        let (child, socket) = spawn(launch).map_err(|error| {
            Error::with_source(
                ErrorKind::BrokenWorkerProcess,
                format!("could not start a worker process: {error}"),
                error,
            )
        })?;
        let mut worker = Worker {
            pid: child.id(),
            child: Some(child),
            socket,
            busy: true,
            reaper: reaper.clone(),
        };
        let hello = futures_lite::future::or(
            async { Some(protocol::read_frame_async(&worker.socket).await) },
            async {
                Timer::after(HELLO_TIMEOUT).await;
                None
            },
        )
        .await;
        let pid = worker.pid;
        let problem = match hello.as_ref().map(|frame| frame.as_deref()) {
            Some(Ok(body)) => match protocol::parse_hello(body) {
                Some(stamp) if stamp == raw::own_stamp() => {
                    worker.busy = false;
                    return Ok(worker);
                }
                _ => format!(
                    "worker process {pid} runs another build of the program than its parent \
                     (was the executable rebuilt or replaced while it ran?)"
                ),
            },
            Some(Err(_)) => {
                let status = worker.end().await;
                format!(
                    "worker process {pid} exited before it was ready ({status}): {}",
                    hint(launch)
                )
            }
            None => format!(
                "worker process {pid} did not enter worker mode within {} s: {}",
                HELLO_TIMEOUT.as_secs(),
                hint(launch)
            ),
        };
        Err(Error::new(ErrorKind::BrokenWorkerProcess, problem))
    }

    /// The worker's process id.
    pub(super) fn pid(&self) -> u32 {
        self.pid
    }

    /// Whether the process has exited (it is then waited for).
    pub(super) fn has_exited(&mut self) -> bool {
        match self.child.as_mut().map(Child::try_wait) {
            Some(Ok(None)) => false,
            Some(_) => {
                self.child = None;
                true
            }
            None => true,
        }
    }

    /// Sends one call frame and returns the body of the reply frame.
    ///
    /// # Errors
    ///
    /// The I/O error if the worker closed its end (it died) or the socket failed; the
    /// worker is then still busy, to be ended with [`end`](Worker::end).
    ///
    /// # Cancel safety
    ///
    /// Dropped before the reply, the worker stays busy: dropping it kills it.
    pub(super) async fn call(&mut self, request: &[u8]) -> io::Result<Vec<u8>> {
        self.busy = true;
        let mut socket = &self.socket;
        socket.write_all(request).await?;
        let reply = protocol::read_frame_async(&self.socket).await?;
        self.busy = false;
        Ok(reply)
    }

    /// Waits for a worker whose socket failed, killing it if it does not exit by
    /// itself, and says how it ended (for instance `signal: 6 (SIGABRT)`).
    ///
    /// # Cancel safety
    ///
    /// Dropped, the worker is killed and waited for in the background.
    pub(super) async fn end(&mut self) -> String {
        self.busy = true;
        // It usually has exited already: its socket closed as it died.
        for attempt in 0..1500 {
            let Some(child) = self.child.as_mut() else {
                return "already waited for".to_owned();
            };
            match child.try_wait() {
                Ok(Some(status)) => {
                    self.child = None;
                    return status.to_string();
                }
                Ok(None) if attempt == 500 => {
                    // Its socket closed, yet it runs on: no use waiting longer.
                    let _ = child.kill();
                }
                Ok(None) => {}
                Err(error) => {
                    self.child = None;
                    return format!("its exit status is unknown: {error}");
                }
            }
            Timer::after(Duration::from_millis(1)).await;
        }
        "killed, not yet exited".to_owned()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if let Some(child) = self.child.take() {
            // The socket closes after this (with the fields), which tells an idle worker
            // to exit; the reaper gives it the time to.
            let grace = if self.busy {
                Duration::ZERO
            } else {
                EXIT_GRACE
            };
            self.reaper.reap(child, grace);
        }
    }
}

/// What to check when a worker does not start.
fn hint(launch: &Launch) -> String {
    match launch {
        Launch::Program => "the program's main must enter worker mode first: use \
                            #[anyio::main], or call anyio::to_process::init() first thing in main"
            .to_owned(),
        Launch::Test(name) => format!(
            "the test `{name}` that it runs must enter worker mode first: make it an \
             #[anyio::test], or call anyio::to_process::init() first thing in it"
        ),
    }
}

/// Starts the executable in worker mode with a socket to it.
fn spawn(launch: &Launch) -> io::Result<(Child, Async<UnixStream>)> {
    let (parent_end, child_end) = UnixStream::pair()?;
    // The child's standard streams are set up over descriptors 0 to 2 before the hook
    // that keeps the socket open runs: keep the socket off them.
    let child_end = if child_end.as_raw_fd() < 3 {
        UnixStream::from(rustix::io::fcntl_dupfd_cloexec(&child_end, 3)?)
    } else {
        child_end
    };
    let socket = Async::new(parent_end)?;
    // /proc/self/exe is the file this process runs, even if its path now names another.
    let program = if Path::new("/proc/self/exe").exists() {
        PathBuf::from("/proc/self/exe")
    } else {
        std::env::current_exe()?
    };
    let mut command = Command::new(program);
    if let Ok(path) = std::env::current_exe() {
        command.arg0(path);
    }
    let fd = child_end.as_raw_fd();
    command
        .env(WORKER_VAR, format!("{fd},{}", std::process::id()))
        .stdin(Stdio::null());
    if let Launch::Test(name) = launch {
        // libtest writes its own report to stdout: keep it out of the parent's output.
        command
            .args([
                name.as_str(),
                "--exact",
                "--nocapture",
                "--test-threads=1",
                "--include-ignored",
            ])
            .stdout(Stdio::null());
    }
    raw::inherit_in_child(&mut command, fd);
    let child = command.spawn()?;
    drop(child_end);
    Ok((child, socket))
}

/// Waits, on the blocking pool, for the workers that were dropped, so that none is
/// left a zombie; the pool's shutdown waits for it to finish.
#[derive(Debug, Default)]
pub(super) struct Reaper {
    /// Children handed over and not yet waited for.
    waiting: Mutex<usize>,
    /// Notified when `waiting` drops to 0.
    all_done: Condvar,
}

impl Reaper {
    /// Waits for `child`, killing it at once when `grace` is zero, or if it has not
    /// exited after `grace`.
    pub(super) fn reap(self: &Arc<Self>, mut child: Child, grace: Duration) {
        if grace.is_zero() {
            let _ = child.kill();
        }
        if !matches!(child.try_wait(), Ok(None)) {
            return;
        }
        *lock(&self.waiting) += 1;
        let reaper = self.clone();
        blocking::unblock(move || {
            let deadline = Instant::now() + grace;
            while Instant::now() < deadline && matches!(child.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(1));
            }
            if matches!(child.try_wait(), Ok(None)) {
                let _ = child.kill();
                let _ = child.wait();
            }
            let mut waiting = lock(&reaper.waiting);
            *waiting -= 1;
            if *waiting == 0 {
                reaper.all_done.notify_all();
            }
        })
        .detach();
    }

    /// Blocks until every child handed over has been waited for, or `timeout` passed.
    pub(super) fn wait_all(&self, timeout: Duration) {
        let waiting = lock(&self.waiting);
        let _ = self
            .all_done
            .wait_timeout_while(waiting, timeout, |waiting| *waiting > 0);
    }
}
