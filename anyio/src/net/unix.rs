//! UNIX stream sockets: `connect_unix`, `create_unix_listener`, and the `UnixStream`
//! (with descriptor passing) and `UnixListener` they give.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::io::{self, IoSlice, IoSliceMut};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::SocketAddr as UnixSocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;

use async_io::Async;
use rustix::net::{
    RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags,
};

use crate::abc::{AsyncResource, Listener};
use crate::error::{Error, ErrorKind, Result};
use crate::net::SocketAddress;
use crate::net::attributes::{AddressFamily, Family, LocalAddress, RawSocket, RemoteAddress};
use crate::net::stream_io::{self, closed};
use crate::typed_attr::{TypedAttributeProvider, TypedAttributes};

/// The most descriptors one `send_fds` may pass (the kernel's limit, `SCM_MAX_FD`).
const MAX_FDS: usize = 253;

/// The address of `path`: an abstract name on Linux when it starts with a NUL byte, else
/// a path in the file system.
pub(crate) fn unix_address(path: &Path) -> io::Result<UnixSocketAddr> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use std::os::linux::net::SocketAddrExt;
        use std::os::unix::ffi::OsStrExt;
        if let Some(name) = path.as_os_str().as_bytes().strip_prefix(b"\0") {
            return UnixSocketAddr::from_abstract_name(name);
        }
    }
    UnixSocketAddr::from_pathname(path)
}

/// The path of an address, or for an abstract name the name with a leading NUL; empty
/// for an unnamed socket.
pub(crate) fn address_path(address: &UnixSocketAddr) -> PathBuf {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use std::os::linux::net::SocketAddrExt;
        use std::os::unix::ffi::OsStrExt;
        if let Some(name) = address.as_abstract_name() {
            let mut bytes = vec![0];
            bytes.extend_from_slice(name);
            return PathBuf::from(std::ffi::OsStr::from_bytes(&bytes));
        }
    }
    address
        .as_pathname()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// The address as a typed attribute.
fn socket_address(address: &UnixSocketAddr) -> SocketAddress {
    SocketAddress::Unix(address_path(address))
}

pub(crate) fn unix_attributes(
    local: Option<UnixSocketAddr>,
    remote: Option<UnixSocketAddr>,
    fd: i32,
) -> TypedAttributes {
    let mut attributes = TypedAttributes::new();
    if let Some(local) = local {
        attributes.insert::<LocalAddress>(socket_address(&local));
    }
    if let Some(remote) = remote {
        attributes.insert::<RemoteAddress>(socket_address(&remote));
    }
    attributes.insert::<Family>(AddressFamily::Unix);
    attributes.insert::<RawSocket>(fd);
    attributes
}

/// The error of an operation on `path`, naming it.
pub(crate) fn path_error(error: io::Error, doing: &str, path: &Path) -> Error {
    Error::with_source(
        ErrorKind::Io(error.kind()),
        format!(
            "could not {doing} the UNIX socket {}: {error}",
            path.display()
        ),
        error,
    )
}

/// Connects to the UNIX socket at `path` (on Linux, a path starting with a NUL byte is an
/// abstract name).
///
/// # Errors
///
/// An error naming the path: no such socket, connection refused (nobody listens),
/// permission denied.
///
/// # Examples
///
/// ```
/// use anyio::abc::{ByteReceiveStream, ByteSendStream, Listener};
///
/// # anyio::run(async {
/// let dir = std::env::temp_dir().join(format!("anyio-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("connect.sock");
/// let mut listener = anyio::create_unix_listener(&path).await?;
/// let mut client = anyio::connect_unix(&path).await?;
/// let mut server = listener.accept().await?;
/// client.send(b"over a UNIX socket").await?;
/// assert_eq!(server.receive(64).await?, b"over a UNIX socket");
/// # std::fs::remove_dir_all(&dir)?;
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
///
/// # Cancel safety
///
/// Cancelled or dropped, the attempt's socket is closed.
pub async fn connect_unix(path: impl AsRef<Path>) -> Result<UnixStream> {
    let path = path.as_ref();
    crate::lowlevel::checkpoint_if_cancelled().await;
    let address = unix_address(path).map_err(|e| path_error(e, "address", path))?;
    let path_owned = path.to_path_buf();
    // A UNIX connect completes at once or fails; it is quick, but may block on a full
    // backlog, so it runs off the event loop's thread.
    let stream = blocking::unblock(move || std::os::unix::net::UnixStream::connect_addr(&address))
        .await
        .map_err(|e| path_error(e, "connect to", &path_owned))?;
    UnixStream::from_std(stream)
}

/// Listens on a UNIX socket at `path` (on Linux, a path starting with a NUL byte is an
/// abstract name). A socket file left behind by a process that has gone is replaced; one
/// that a live process listens on is an error. Await it, or set options first.
///
/// # Errors
///
/// An error naming the path: in use by a live listener, a file that is not a socket,
/// permission denied.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let dir = std::env::temp_dir().join(format!("anyio-doc-listen-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("listen.sock");
/// let listener = anyio::create_unix_listener(&path).mode(0o600).await?;
/// assert_eq!(listener.path(), Some(path.as_path()));
/// # std::fs::remove_dir_all(&dir)?;
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
pub fn create_unix_listener(path: impl AsRef<Path>) -> CreateUnixListener {
    CreateUnixListener {
        path: path.as_ref().to_path_buf(),
        mode: None,
        backlog: 65_536,
    }
}

/// The builder of [`create_unix_listener`]: await it to listen.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let name = format!("\0anyio-doc-abstract-{}", std::process::id());
/// # if cfg!(target_os = "linux") {
/// let listener = anyio::create_unix_listener(&name).backlog(16).await?; // abstract
/// assert!(listener.path().is_some());
/// # }
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
#[derive(Debug, Clone)]
#[must_use = "create_unix_listener does nothing unless awaited"]
pub struct CreateUnixListener {
    path: PathBuf,
    mode: Option<u32>,
    backlog: u32,
}

impl CreateUnixListener {
    /// The permissions of the socket file (e.g. `0o600`: only its owner may connect).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::unix::fs::PermissionsExt;
    ///
    /// # anyio::run(async {
    /// let dir = std::env::temp_dir().join(format!("anyio-doc-lmode-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("private.sock");
    /// let _listener = anyio::create_unix_listener(&path).mode(0o600).await?;
    /// assert_eq!(std::fs::metadata(&path)?.permissions().mode() & 0o777, 0o600);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn mode(mut self, mode: u32) -> Self {
        self.mode = Some(mode);
        self
    }

    /// The length of the queue of connections not yet accepted (default 65536, capped
    /// by the system).
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::abc::Listener;
    ///
    /// # anyio::run(async {
    /// let dir = std::env::temp_dir().join(format!("anyio-doc-backlog-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("queue.sock");
    /// let mut listener = anyio::create_unix_listener(&path).backlog(8).await?;
    /// let _client = anyio::connect_unix(&path).await?; // queued until accepted
    /// let _server = listener.accept().await?;
    /// # std::fs::remove_dir_all(&dir)?;
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn backlog(mut self, backlog: u32) -> Self {
        self.backlog = backlog;
        self
    }
}

impl IntoFuture for CreateUnixListener {
    type Output = Result<UnixListener>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<UnixListener>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            crate::lowlevel::checkpoint_if_cancelled().await;
            self.listen()
        })
    }
}

impl CreateUnixListener {
    fn listen(self) -> Result<UnixListener> {
        let path = &self.path;
        let address = unix_address(path).map_err(|e| path_error(e, "address", path))?;
        if address.as_pathname().is_some() {
            remove_stale_socket(path, SocketKind::Stream)?;
        }
        let listener = match address.as_pathname() {
            Some(_) => self
                .bind_path()
                .map_err(|e| path_error(e, "listen on", path))?,
            // An abstract name: std binds it (with the system's default backlog).
            None => std::os::unix::net::UnixListener::bind_addr(&address)
                .map_err(|e| path_error(e, "listen on", path))?,
        };
        if let (Some(mode), Some(file)) = (self.mode, address.as_pathname()) {
            std::fs::set_permissions(file, std::fs::Permissions::from_mode(mode))
                .map_err(|e| path_error(e, "set the mode of", path))?;
        }
        let listener = Async::new(listener).map_err(|e| path_error(e, "listen on", path))?;
        Ok(UnixListener {
            listener: Some(listener),
            path: Some(self.path),
        })
    }
}

impl CreateUnixListener {
    /// A listening socket bound to the path, with the requested backlog.
    fn bind_path(&self) -> io::Result<std::os::unix::net::UnixListener> {
        let socket = socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::STREAM, None)?;
        socket.set_cloexec(true)?;
        socket.bind(&socket2::SockAddr::unix(&self.path)?)?;
        socket.listen(i32::try_from(self.backlog).unwrap_or(i32::MAX))?;
        Ok(std::os::unix::net::UnixListener::from(OwnedFd::from(
            socket,
        )))
    }
}

/// Which kind of socket a stale-file check connects as.
#[derive(Clone, Copy)]
pub(crate) enum SocketKind {
    Stream,
    Datagram,
}

/// Removes a socket file that no live process listens on (a connect of `kind` is
/// refused); a live one, or a file that is not a socket, is an error.
pub(crate) fn remove_stale_socket(path: &Path, kind: SocketKind) -> Result<()> {
    let Ok(metadata) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    if !metadata.file_type().is_socket() {
        return Err(Error::new(
            ErrorKind::Io(io::ErrorKind::AlreadyExists),
            format!("{} exists and is not a UNIX socket", path.display()),
        ));
    }
    let probe = match kind {
        SocketKind::Stream => std::os::unix::net::UnixStream::connect(path).map(drop),
        SocketKind::Datagram => {
            std::os::unix::net::UnixDatagram::unbound().and_then(|probe| probe.connect(path))
        }
    };
    match probe {
        Ok(()) => Err(Error::new(
            ErrorKind::Io(io::ErrorKind::AddrInUse),
            format!("a live process uses the UNIX socket {}", path.display()),
        )),
        Err(error) if error.kind() == io::ErrorKind::ConnectionRefused => {
            std::fs::remove_file(path).map_err(|e| path_error(e, "replace the stale", path))
        }
        Err(error) => Err(path_error(error, "check", path)),
    }
}

/// A UNIX stream connection: a [`ByteStream`](crate::abc::ByteStream) (and `futures_io::AsyncRead` /
/// `AsyncWrite`) that can also pass file descriptors.
///
/// Its typed attributes: [`LocalAddress`](crate::net::LocalAddress),
/// [`RemoteAddress`](crate::net::RemoteAddress) (as [`SocketAddress::Unix`]),
/// [`Family`](crate::net::Family) and [`RawSocket`](crate::net::RawSocket).
///
/// # Cancel safety
///
/// `receive` and `receive_fds` are cancel-safe: cancelled or dropped before they
/// returned, they took nothing. A `send` cancelled halfway may have sent part of its
/// bytes; `send_fds` sends its message and descriptors in one call, or nothing.
///
/// # Examples
///
/// ```
/// use anyio::abc::{ByteReceiveStream, ByteSendStream};
///
/// # anyio::run(async {
/// let (a, b) = std::os::unix::net::UnixStream::pair()?;
/// let (mut a, mut b) = (anyio::net::UnixStream::from_std(a)?, anyio::net::UnixStream::from_std(b)?);
/// a.send(b"paired").await?;
/// assert_eq!(b.receive(64).await?, b"paired");
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
pub struct UnixStream {
    /// `None` once closed.
    inner: Option<Async<std::os::unix::net::UnixStream>>,
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stream = self.inner.as_ref().map(Async::get_ref);
        f.debug_struct("UnixStream")
            .field("local", &stream.and_then(|s| s.local_addr().ok()))
            .field("remote", &stream.and_then(|s| s.peer_addr().ok()))
            .finish()
    }
}

impl UnixStream {
    /// A stream over a connected standard-library socket (made non-blocking here).
    ///
    /// # Errors
    ///
    /// The error of making it non-blocking or registering it with the reactor.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let (a, _b) = std::os::unix::net::UnixStream::pair()?;
    /// let stream = anyio::net::UnixStream::from_std(a)?;
    /// assert!(format!("{stream:?}").starts_with("UnixStream"));
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> Result<UnixStream> {
        Ok(UnixStream {
            inner: Some(Async::new(stream)?),
        })
    }

    /// Up to `buffer.len()` bytes into `buffer` (0 at the peer's close), with no
    /// allocation: for layers above (TLS) that keep a buffer of their own.
    pub(crate) async fn receive_into(&mut self, buffer: &mut [u8]) -> Result<usize> {
        stream_io::receive_into(self.socket()?, buffer, "UNIX").await
    }

    fn socket(&self) -> Result<&Async<std::os::unix::net::UnixStream>> {
        self.inner.as_ref().ok_or_else(|| closed("UNIX"))
    }

    /// Sends `message` (at least one byte) with the descriptors `fds` (at most 253), in
    /// one message: the peer gets them with [`receive_fds`](UnixStream::receive_fds).
    /// The descriptors stay open here; the peer gets copies.
    ///
    /// # Errors
    ///
    /// An [`ErrorKind::Io`]`(InvalidInput)` error for an empty message or too many
    /// descriptors; the system's error of sending.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::{Read, Seek, Write};
    /// use std::os::fd::AsFd;
    ///
    /// # anyio::run(async {
    /// let (a, b) = std::os::unix::net::UnixStream::pair()?;
    /// let (mut a, mut b) = (anyio::net::UnixStream::from_std(a)?, anyio::net::UnixStream::from_std(b)?);
    /// let mut file = tempfile_in_temp_dir()?;
    /// file.write_all(b"shared through a descriptor")?;
    /// a.send_fds(b"a file", &[file.as_fd()]).await?;
    /// let (message, fds) = b.receive_fds(64, 1).await?;
    /// assert_eq!(message, b"a file");
    /// let mut received = std::fs::File::from(fds.into_iter().next().unwrap());
    /// received.rewind()?;
    /// let mut text = String::new();
    /// received.read_to_string(&mut text)?;
    /// assert_eq!(text, "shared through a descriptor");
    /// # anyio::Result::Ok(()) }).unwrap();
    /// # fn tempfile_in_temp_dir() -> std::io::Result<std::fs::File> {
    /// #     let path = std::env::temp_dir().join(format!("anyio-doc-fd-{}", std::process::id()));
    /// #     let file = std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(true).open(&path)?;
    /// #     std::fs::remove_file(&path)?;
    /// #     Ok(file)
    /// # }
    /// ```
    ///
    /// # Cancel safety
    ///
    /// The descriptors go with the first bytes of the message, in one `sendmsg`, or not
    /// at all; cancelled after that, the rest of the message may be partly sent.
    pub async fn send_fds(&mut self, message: &[u8], fds: &[BorrowedFd<'_>]) -> Result<()> {
        if message.is_empty() || fds.len() > MAX_FDS {
            return Err(Error::new(
                ErrorKind::Io(io::ErrorKind::InvalidInput),
                format!(
                    "send_fds needs a message of at least one byte and at most {MAX_FDS} \
                     descriptors (got {} bytes, {} descriptors)",
                    message.len(),
                    fds.len()
                ),
            ));
        }
        crate::lowlevel::checkpoint_if_cancelled().await;
        let socket = self.socket()?;
        let mut space = vec![MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(fds.len()))];
        let sent = socket
            .write_with(|stream| {
                let mut control = SendAncillaryBuffer::new(&mut space);
                control.push(SendAncillaryMessage::ScmRights(fds));
                rustix::net::sendmsg(
                    stream.as_fd(),
                    &[IoSlice::new(message)],
                    &mut control,
                    SendFlags::NOSIGNAL,
                )
                .map_err(io::Error::from)
            })
            .await
            .map_err(|e| stream_io::stream_error(e, "UNIX"))?;
        // The descriptors went with the first bytes; the rest follows as a plain send.
        if sent < message.len() {
            stream_io::send(socket, &message[sent..], "UNIX").await?;
        }
        Ok(())
    }

    /// Receives a message of up to `max_bytes` bytes and up to `max_fds` descriptors sent
    /// with it (by [`send_fds`](UnixStream::send_fds) or any `SCM_RIGHTS` sender).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::EndOfStream`] when the peer closed the connection; an
    /// [`ErrorKind::Io`]`(InvalidInput)` error if `max_bytes` is 0.
    ///
    /// # Examples
    ///
    /// See [`send_fds`](UnixStream::send_fds).
    ///
    /// ```
    /// # anyio::run(async {
    /// let (a, b) = std::os::unix::net::UnixStream::pair()?;
    /// let (mut a, mut b) = (anyio::net::UnixStream::from_std(a)?, anyio::net::UnixStream::from_std(b)?);
    /// a.send_fds(b"no descriptor needed", &[]).await?;
    /// let (message, fds) = b.receive_fds(64, 4).await?;
    /// assert_eq!((message.as_slice(), fds.len()), (&b"no descriptor needed"[..], 0));
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a receive takes the message and its descriptors only in the poll
    /// that returns them.
    pub async fn receive_fds(
        &mut self,
        max_bytes: usize,
        max_fds: usize,
    ) -> Result<(Vec<u8>, Vec<OwnedFd>)> {
        crate::abc::check_max_bytes(max_bytes)?;
        crate::lowlevel::checkpoint_if_cancelled().await;
        let socket = self.socket()?;
        let mut buffer = vec![0; max_bytes.min(crate::abc::DEFAULT_MAX_BYTES)];
        let mut space =
            vec![MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(max_fds.clamp(1, MAX_FDS)))];
        let (read, fds) = socket
            .read_with(|stream| {
                let mut control = RecvAncillaryBuffer::new(&mut space);
                let received = rustix::net::recvmsg(
                    stream.as_fd(),
                    &mut [IoSliceMut::new(&mut buffer)],
                    &mut control,
                    RecvFlags::CMSG_CLOEXEC,
                )
                .map_err(io::Error::from)?;
                let mut fds = Vec::new();
                for message in control.drain() {
                    if let RecvAncillaryMessage::ScmRights(received_fds) = message {
                        fds.extend(received_fds);
                    }
                }
                Ok((received.bytes, fds))
            })
            .await
            .map_err(|e| stream_io::stream_error(e, "UNIX"))?;
        if read == 0 && fds.is_empty() {
            return Err(Error::new(
                ErrorKind::EndOfStream,
                "the peer closed the UNIX connection",
            ));
        }
        buffer.truncate(read);
        Ok((buffer, fds))
    }
}

impl TypedAttributeProvider for UnixStream {
    fn extra_attributes(&self) -> TypedAttributes {
        match &self.inner {
            Some(stream) => {
                let socket = stream.get_ref();
                unix_attributes(
                    socket.local_addr().ok(),
                    socket.peer_addr().ok(),
                    socket.as_raw_fd(),
                )
            }
            None => TypedAttributes::new(),
        }
    }
}

stream_io::socket_stream_impls!(UnixStream, "UNIX");
stream_io::socket_stream_halves!(
    UnixStream,
    UnixReceiveHalf,
    UnixSendHalf,
    "UNIX",
    r#"
```
use anyio::abc::{ByteReceiveStream, ByteSendStream};

# anyio::run(async {
let (a, b) = std::os::unix::net::UnixStream::pair()?;
let mut a = anyio::net::UnixStream::from_std(a)?;
let mut b = anyio::net::UnixStream::from_std(b)?;
let (mut reader, mut writer) = a.split();
writer.send(b"ping").await?;
assert_eq!(b.receive(64).await?, b"ping");
b.send(b"pong").await?;
assert_eq!(reader.receive(64).await?, b"pong");
# anyio::Result::Ok(()) }).unwrap();
```
"#
);

/// A listener on a UNIX socket: a [`Listener`] of [`UnixStream`]s. Dropping it (or
/// `aclose`) closes the socket; the socket file stays, and the next listener on the
/// path replaces it.
///
/// # Cancel safety
///
/// `accept` is cancel-safe: cancelled or dropped before it returned, it took no
/// connection.
///
/// # Examples
///
/// ```
/// use anyio::abc::Listener;
///
/// # anyio::run(async {
/// let dir = std::env::temp_dir().join(format!("anyio-doc-ul-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("server.sock");
/// let mut listener = anyio::create_unix_listener(&path).await?;
/// let _client = anyio::connect_unix(&path).await?;
/// let server = listener.accept().await?;
/// assert!(format!("{server:?}").contains("server.sock"));
/// # std::fs::remove_dir_all(&dir)?;
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
pub struct UnixListener {
    listener: Option<Async<std::os::unix::net::UnixListener>>,
    path: Option<PathBuf>,
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixListener")
            .field("path", &self.path)
            .finish()
    }
}

impl UnixListener {
    /// The path it listens on (for an abstract name, the name with a leading NUL).
    ///
    /// # Examples
    ///
    /// See [`UnixListener`].
    ///
    /// ```
    /// # let _ = anyio::net::UnixListener::path;
    /// ```
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }
}

impl AsyncResource for UnixListener {
    async fn aclose(&mut self) -> Result<()> {
        self.listener = None;
        Ok(())
    }
}

impl TypedAttributeProvider for UnixListener {
    fn extra_attributes(&self) -> TypedAttributes {
        match &self.listener {
            Some(listener) => {
                let socket = listener.get_ref();
                unix_attributes(socket.local_addr().ok(), None, socket.as_raw_fd())
            }
            None => TypedAttributes::new(),
        }
    }
}

impl Listener for UnixListener {
    type Stream = UnixStream;

    async fn accept(&mut self) -> Result<UnixStream> {
        crate::lowlevel::checkpoint_if_cancelled().await;
        let listener = self.listener.as_ref().ok_or_else(|| {
            Error::new(ErrorKind::ClosedResource, "this UNIX listener was closed")
        })?;
        let (stream, _) = listener.read_with(|l| l.accept()).await?;
        UnixStream::from_std(stream)
    }
}
