//! `Process`: a running child, its pipes, and the no-orphan policy.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::process::ExitStatus;
use std::task::{Context, Poll};

use crate::abc::{AsyncResource, ByteReceiveStream, ByteSendStream};
use crate::error::{Error, ErrorKind, Result};
use crate::process::Signal;
use crate::process::command::Command;

/// A running child process, from [`open_process`](crate::open_process).
///
/// Its standard streams are public fields: `Some` when piped to this side (the default
/// for all three), `None` otherwise or once taken.
///
/// # No orphans, no zombies
///
/// Dropping a `Process` whose child is still running kills the child (`SIGKILL`) and
/// has it reaped in the background; so does cancelling the task that owns it, since the
/// cancel drops it. The kill is immediate, as in AnyIO: a child that should shut down
/// gracefully is sent [`terminate`](Process::terminate) and waited for first, for as
/// long as your program chooses (`move_on_after(grace, process.wait())`).
///
/// # Examples
///
/// ```
/// use anyio::abc::{AsyncResource, ByteReceiveStream, ByteSendStream};
///
/// # anyio::run(async {
/// let mut process = anyio::open_process(["cat"]).await?;
/// let mut stdin = process.stdin.take().unwrap();
/// stdin.send(b"hello").await?;
/// stdin.aclose().await?; // cat sees the end of its input
/// let echoed = process.stdout.as_mut().unwrap().receive(100).await?;
/// assert_eq!(echoed, b"hello");
/// assert_eq!(process.wait().await?, 0);
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
pub struct Process {
    /// The child's standard input, when piped.
    pub stdin: Option<ProcessStdin>,
    /// The child's standard output, when piped.
    pub stdout: Option<ProcessStdout>,
    /// The child's standard error, when piped.
    pub stderr: Option<ProcessStderr>,
    child: async_process::Child,
    command: Command,
    returncode: Option<i32>,
}

impl fmt::Debug for Process {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Process")
            .field("pid", &self.child.id())
            .field("command", &self.command)
            .field("returncode", &self.returncode)
            .finish_non_exhaustive()
    }
}

/// The return code of an exit status: the exit code, or minus the signal that killed
/// the process (as Python's `returncode`).
pub(crate) fn returncode(status: ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(signal)) => -signal,
        (None, None) => -1,
    }
}

impl Process {
    pub(crate) fn new(mut child: async_process::Child, command: Command) -> Process {
        Process {
            stdin: child
                .stdin
                .take()
                .map(|pipe| ProcessStdin { pipe: Some(pipe) }),
            stdout: child.stdout.take().map(|pipe| ProcessStdout { pipe }),
            stderr: child.stderr.take().map(|pipe| ProcessStderr { pipe }),
            child,
            command,
            returncode: None,
        }
    }

    /// The command this process runs.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let process = anyio::open_process(["sleep", "0"]).await?;
    /// assert_eq!(process.command().to_string(), "sleep 0");
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn command(&self) -> &Command {
        &self.command
    }

    /// The child's process id.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let mut process = anyio::open_process("echo $$").await?;
    /// let pid = process.pid();
    /// let out = process.stdout.as_mut().unwrap();
    /// let printed = anyio::abc::ByteReceiveStream::receive(out, 64).await?;
    /// assert_eq!(String::from_utf8_lossy(&printed).trim(), pid.to_string());
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The return code if the process has exited (the exit code, or minus the signal
    /// that killed it), `None` while it runs. Never waits.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let mut process = anyio::open_process(["sleep", "10"]).await?;
    /// assert_eq!(process.returncode(), None);
    /// process.kill()?;
    /// assert_eq!(process.wait().await?, -9); // SIGKILL
    /// assert_eq!(process.returncode(), Some(-9));
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn returncode(&mut self) -> Option<i32> {
        if self.returncode.is_none()
            && let Ok(Some(status)) = self.child.try_status()
        {
            self.returncode = Some(returncode(status));
        }
        self.returncode
    }

    /// Waits for the process to exit and returns its return code (see
    /// [`returncode`](Process::returncode)).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a cancelled wait leaves the process running (it is killed when the
    /// `Process` is dropped).
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let mut process = anyio::open_process("exit 3").await?;
    /// assert_eq!(process.wait().await?, 3);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn wait(&mut self) -> Result<i32> {
        crate::lowlevel::checkpoint_if_cancelled().await;
        if let Some(code) = self.returncode {
            return Ok(code);
        }
        let status = self.child.status().await?;
        let code = returncode(status);
        self.returncode = Some(code);
        Ok(code)
    }

    /// Sends `signal` to the process; does nothing once it has exited (its pid may
    /// belong to another process by then).
    ///
    /// # Errors
    ///
    /// An I/O error if the signal cannot be sent (no permission).
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let mut process = anyio::open_process(["sleep", "10"]).await?;
    /// process.send_signal(anyio::Signal::Term)?;
    /// assert_eq!(process.wait().await?, -15);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn send_signal(&mut self, signal: Signal) -> Result<()> {
        if self.returncode().is_some() {
            return Ok(());
        }
        let pid = rustix::process::Pid::from_raw(self.pid() as i32)
            .ok_or_else(|| Error::new(ErrorKind::Other, "the child has no valid pid"))?;
        // `Signal` is `repr(i32)` with the signal numbers as discriminants.
        let number = signal as i32;
        let signal = rustix::process::Signal::from_named_raw(number).ok_or_else(|| {
            Error::new(
                ErrorKind::Other,
                format!("signal {number} cannot be sent to a process"),
            )
        })?;
        rustix::process::kill_process(pid, signal).map_err(io::Error::from)?;
        Ok(())
    }

    /// Asks the process to stop (`SIGTERM`).
    ///
    /// # Errors
    ///
    /// As for [`send_signal`](Process::send_signal).
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let mut process = anyio::open_process(["sleep", "10"]).await?;
    /// process.terminate()?;
    /// assert_eq!(process.wait().await?, -15);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn terminate(&mut self) -> Result<()> {
        self.send_signal(Signal::Term)
    }

    /// Kills the process (`SIGKILL`).
    ///
    /// # Errors
    ///
    /// As for [`send_signal`](Process::send_signal).
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let mut process = anyio::open_process(["sleep", "10"]).await?;
    /// process.kill()?;
    /// assert_eq!(process.wait().await?, -9);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn kill(&mut self) -> Result<()> {
        if self.returncode().is_some() {
            return Ok(());
        }
        Ok(self.child.kill()?)
    }
}

impl AsyncResource for Process {
    /// Closes the process's standard input, waits for it to exit, and closes its
    /// output pipes. Cancelled while waiting, the process is killed (and reaped) as the
    /// `Process` is dropped.
    async fn aclose(&mut self) -> Result<()> {
        if let Some(mut stdin) = self.stdin.take() {
            stdin.aclose().await?;
        }
        self.wait().await?;
        self.stdout = None;
        self.stderr = None;
        Ok(())
    }
}

/// The standard input of a [`Process`]: a byte stream this side writes
/// ([`ByteSendStream`], `futures_io::AsyncWrite`).
///
/// # Examples
///
/// ```
/// use anyio::abc::{AsyncResource, ByteSendStream};
///
/// # anyio::run(async {
/// let mut process = anyio::open_process("wc -c").await?;
/// let mut stdin: anyio::process::ProcessStdin = process.stdin.take().unwrap();
/// stdin.send(b"four").await?;
/// stdin.aclose().await?;
/// process.wait().await?;
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
pub struct ProcessStdin {
    /// `None` once closed.
    pipe: Option<async_process::ChildStdin>,
}

/// The standard output of a [`Process`] ([`ByteReceiveStream`],
/// `futures_io::AsyncRead`).
///
/// # Examples
///
/// ```
/// use anyio::abc::ByteReceiveStream;
///
/// # anyio::run(async {
/// let mut process = anyio::open_process("echo out").await?;
/// let stdout: &mut anyio::process::ProcessStdout = process.stdout.as_mut().unwrap();
/// assert_eq!(stdout.receive(100).await?, b"out\n");
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
pub struct ProcessStdout {
    pipe: async_process::ChildStdout,
}

/// The standard error of a [`Process`] ([`ByteReceiveStream`],
/// `futures_io::AsyncRead`).
///
/// # Examples
///
/// ```
/// use anyio::abc::ByteReceiveStream;
///
/// # anyio::run(async {
/// let mut process = anyio::open_process("echo err >&2").await?;
/// let stderr: &mut anyio::process::ProcessStderr = process.stderr.as_mut().unwrap();
/// assert_eq!(stderr.receive(100).await?, b"err\n");
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
pub struct ProcessStderr {
    pipe: async_process::ChildStderr,
}

impl fmt::Debug for ProcessStdin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProcessStdin")
            .field("closed", &self.pipe.is_none())
            .finish()
    }
}

impl fmt::Debug for ProcessStdout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProcessStdout").finish_non_exhaustive()
    }
}

impl fmt::Debug for ProcessStderr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProcessStderr").finish_non_exhaustive()
    }
}

fn closed_stdin() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "the process's stdin was closed")
}

impl ProcessStdin {
    fn pipe(&mut self) -> Result<&mut async_process::ChildStdin> {
        self.pipe.as_mut().ok_or_else(|| {
            Error::new(
                ErrorKind::ClosedResource,
                "the process's stdin was closed by this side",
            )
        })
    }
}

impl futures_io::AsyncWrite for ProcessStdin {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.pipe.as_mut() {
            Some(pipe) => Pin::new(pipe).poll_write(cx, buf),
            None => Poll::Ready(Err(closed_stdin())),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.pipe.as_mut() {
            Some(pipe) => Pin::new(pipe).poll_flush(cx),
            None => Poll::Ready(Ok(())),
        }
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.pipe.as_mut() {
            Some(pipe) => {
                let closed = std::task::ready!(Pin::new(pipe).poll_close(cx));
                self.pipe = None;
                Poll::Ready(closed)
            }
            None => Poll::Ready(Ok(())),
        }
    }
}

impl AsyncResource for ProcessStdin {
    /// Closes the pipe: the process sees the end of its input.
    async fn aclose(&mut self) -> Result<()> {
        if let Some(mut pipe) = self.pipe.take() {
            // A process that exited already closed its end: nothing left to flush.
            let _ = futures_lite::AsyncWriteExt::close(&mut pipe).await;
        }
        Ok(())
    }
}

impl crate::TypedAttributeProvider for ProcessStdin {}

impl ByteSendStream for ProcessStdin {
    /// Writes all of `data`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::ClosedResource`] after [`aclose`](AsyncResource::aclose); an I/O
    /// error of kind `BrokenPipe` when the process closed its end.
    ///
    /// # Cancel safety
    ///
    /// Not cancel-safe: a cancelled send may have written part of `data`.
    async fn send(&mut self, data: &[u8]) -> Result<()> {
        crate::lowlevel::checkpoint_if_cancelled().await;
        let pipe = self.pipe()?;
        futures_lite::AsyncWriteExt::write_all(pipe, data).await?;
        Ok(())
    }
}

/// Reads up to `max_bytes` from a pipe as a byte stream receive.
async fn receive_from(
    pipe: &mut (impl futures_io::AsyncRead + Unpin),
    max_bytes: usize,
    name: &str,
) -> Result<Vec<u8>> {
    crate::abc::check_max_bytes(max_bytes)?;
    crate::lowlevel::checkpoint_if_cancelled().await;
    let mut buffer = vec![0; max_bytes.min(crate::abc::DEFAULT_MAX_BYTES)];
    let read = futures_lite::AsyncReadExt::read(pipe, &mut buffer).await?;
    if read == 0 {
        return Err(Error::new(
            ErrorKind::EndOfStream,
            format!("the process closed its {name}"),
        ));
    }
    buffer.truncate(read);
    Ok(buffer)
}

macro_rules! output_pipe {
    ($type:ident, $name:literal) => {
        impl futures_io::AsyncRead for $type {
            fn poll_read(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                Pin::new(&mut self.pipe).poll_read(cx, buf)
            }
        }

        impl AsyncResource for $type {
            /// Nothing to flush: the pipe closes when the stream is dropped.
            async fn aclose(&mut self) -> Result<()> {
                Ok(())
            }
        }

        impl crate::TypedAttributeProvider for $type {}

        impl ByteReceiveStream for $type {
            /// Up to `max_bytes` of what the process wrote.
            ///
            /// # Errors
            ///
            /// [`ErrorKind::EndOfStream`] once the process closed the pipe (usually:
            /// it exited).
            ///
            /// # Cancel safety
            ///
            /// Cancel-safe: no byte is read until the receive completes.
            async fn receive(&mut self, max_bytes: usize) -> Result<Vec<u8>> {
                receive_from(&mut self.pipe, max_bytes, $name).await
            }
        }
    };
}

output_pipe!(ProcessStdout, "stdout");
output_pipe!(ProcessStderr, "stderr");
