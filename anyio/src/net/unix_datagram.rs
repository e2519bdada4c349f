//! UNIX datagram sockets: `create_unix_datagram_socket` and
//! `create_connected_unix_datagram_socket`, and the [`UnixDatagramSocket`] and
//! [`ConnectedUnixDatagramSocket`] they give.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{SocketAddr as UnixSocketAddr, UnixDatagram};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use async_io::Async;

use crate::abc::{UnreliableObjectReceiveStream, UnreliableObjectSendStream};
use crate::error::Result;
use crate::net::datagram::{self, ReceiveBuffer, closed};
use crate::net::unix::{
    SocketKind, address_path, path_error, remove_stale_socket, unix_address, unix_attributes,
};
use crate::typed_attr::{TypedAttributeProvider, TypedAttributes};

/// A UNIX datagram socket, bound to `local_path` if one is set (on Linux, a path
/// starting with a NUL byte is an abstract name), else unnamed (it can send, but no one
/// can reply). A socket file left behind by a process that has gone is replaced; one a
/// live process uses is an error. Await it, or set options first.
///
/// # Errors
///
/// An error naming the path: in use by a live socket, a file that is not a socket,
/// permission denied.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let dir = std::env::temp_dir().join(format!("anyio-doc-dgram-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let mut server = anyio::create_unix_datagram_socket()
///     .local_path(dir.join("server.sock"))
///     .await?;
/// let mut client = anyio::create_unix_datagram_socket()
///     .local_path(dir.join("client.sock"))
///     .await?;
/// client.send_to(b"hello", dir.join("server.sock")).await?;
/// let (data, sender) = server.receive().await?;
/// assert_eq!(data, b"hello");
/// assert_eq!(sender, dir.join("client.sock"));
/// # std::fs::remove_dir_all(&dir)?;
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
pub fn create_unix_datagram_socket() -> CreateUnixDatagramSocket {
    CreateUnixDatagramSocket {
        local: LocalPath::default(),
    }
}

/// Where a UNIX datagram socket is bound, and the mode of its file.
#[derive(Debug, Clone, Default)]
struct LocalPath {
    path: Option<PathBuf>,
    mode: Option<u32>,
}

impl LocalPath {
    /// A socket bound to the path (replacing a stale socket file), or an unnamed one.
    fn bind(&self) -> Result<UnixDatagram> {
        let Some(path) = &self.path else {
            return UnixDatagram::unbound()
                .map_err(|error| datagram::datagram_error(error, "create a UNIX datagram socket"));
        };
        let address = unix_address(path).map_err(|e| path_error(e, "address", path))?;
        if address.as_pathname().is_some() {
            remove_stale_socket(path, SocketKind::Datagram)?;
        }
        let socket = UnixDatagram::bind_addr(&address).map_err(|e| path_error(e, "bind", path))?;
        if let (Some(mode), Some(file)) = (self.mode, address.as_pathname()) {
            std::fs::set_permissions(file, std::fs::Permissions::from_mode(mode))
                .map_err(|e| path_error(e, "set the mode of", path))?;
        }
        Ok(socket)
    }
}

/// The builder of [`create_unix_datagram_socket`]: await it to create the socket.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let name = format!("\0anyio-doc-dgram-{}", std::process::id());
/// # if cfg!(target_os = "linux") {
/// let socket = anyio::create_unix_datagram_socket().local_path(&name).await?; // abstract
/// # drop(socket);
/// # }
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
#[derive(Debug, Clone)]
#[must_use = "create_unix_datagram_socket does nothing unless awaited"]
pub struct CreateUnixDatagramSocket {
    local: LocalPath,
}

impl CreateUnixDatagramSocket {
    /// The path to bind (default: none, an unnamed socket).
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::TypedAttributeProvider;
    /// use anyio::net::{LocalAddress, SocketAddress};
    ///
    /// # anyio::run(async {
    /// let dir = std::env::temp_dir().join(format!("anyio-doc-dgram-path-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("server.sock");
    /// let socket = anyio::create_unix_datagram_socket().local_path(&path).await?;
    /// assert_eq!(socket.extra::<LocalAddress>()?, SocketAddress::Unix(path));
    /// # std::fs::remove_dir_all(&dir)?;
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn local_path(mut self, path: impl AsRef<Path>) -> Self {
        self.local.path = Some(path.as_ref().to_path_buf());
        self
    }

    /// The permissions of the socket file (e.g. `0o600`: only its owner may send to it).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::unix::fs::PermissionsExt;
    ///
    /// # anyio::run(async {
    /// let dir = std::env::temp_dir().join(format!("anyio-doc-dgram-mode-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("private.sock");
    /// let _socket = anyio::create_unix_datagram_socket()
    ///     .local_path(&path)
    ///     .local_mode(0o600)
    ///     .await?;
    /// assert_eq!(std::fs::metadata(&path)?.permissions().mode() & 0o777, 0o600);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn local_mode(mut self, mode: u32) -> Self {
        self.local.mode = Some(mode);
        self
    }
}

impl IntoFuture for CreateUnixDatagramSocket {
    type Output = Result<UnixDatagramSocket>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<UnixDatagramSocket>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            crate::lowlevel::checkpoint_if_cancelled().await;
            UnixDatagramSocket::from_std(self.local.bind()?)
        })
    }
}

/// A UNIX datagram socket that sends to and receives from any socket path: an
/// [`UnreliableObjectStream`](crate::abc::UnreliableObjectStream) of `(datagram, path)`
/// pairs (the path of an unnamed sender is empty), and a `futures_core::Stream` of
/// received ones.
///
/// Its typed attributes: [`LocalAddress`](crate::net::LocalAddress),
/// [`Family`](crate::net::Family) and [`RawSocket`](crate::net::RawSocket).
///
/// # Cancel safety
///
/// `receive` is cancel-safe: cancelled or dropped before it returned, it took no
/// datagram. A send sends its datagram whole or not at all: cancelled, it sent nothing.
///
/// # Examples
///
/// See [`create_unix_datagram_socket`].
///
/// ```
/// # let _ = std::mem::size_of::<anyio::net::UnixDatagramSocket>();
/// ```
pub struct UnixDatagramSocket {
    /// `None` once closed.
    inner: Option<Async<UnixDatagram>>,
    buffer: ReceiveBuffer,
}

impl fmt::Debug for UnixDatagramSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let socket = self.inner.as_ref().map(Async::get_ref);
        f.debug_struct("UnixDatagramSocket")
            .field("local", &socket.and_then(|s| s.local_addr().ok()))
            .finish()
    }
}

impl UnixDatagramSocket {
    /// A socket over a standard-library UNIX datagram socket (made non-blocking here).
    ///
    /// # Errors
    ///
    /// The error of making it non-blocking or registering it with the reactor.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let dir = std::env::temp_dir().join(format!("anyio-doc-dgstd-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let bound = std::os::unix::net::UnixDatagram::bind(dir.join("std.sock"))?;
    /// let mut socket = anyio::net::UnixDatagramSocket::from_std(bound)?;
    /// std::os::unix::net::UnixDatagram::unbound()?.send_to(b"from std", dir.join("std.sock"))?;
    /// assert_eq!(socket.receive().await?.0, b"from std");
    /// # std::fs::remove_dir_all(&dir)?;
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn from_std(socket: UnixDatagram) -> Result<UnixDatagramSocket> {
        Ok(UnixDatagramSocket {
            inner: Some(Async::new(socket)?),
            buffer: ReceiveBuffer::default(),
        })
    }

    fn socket(&self) -> Result<&Async<UnixDatagram>> {
        self.inner.as_ref().ok_or_else(|| closed("UNIX datagram"))
    }

    /// The next datagram (up to 65,536 bytes) and the path of its sender (empty for an
    /// unnamed sender).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::ClosedResource`](crate::ErrorKind::ClosedResource) once closed; the
    /// system's error otherwise.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: cancelled or dropped before it returned, it took no datagram.
    ///
    /// # Examples
    ///
    /// See [`create_unix_datagram_socket`].
    ///
    /// ```
    /// # let _ = anyio::net::UnixDatagramSocket::receive;
    /// ```
    pub async fn receive(&mut self) -> Result<(Vec<u8>, PathBuf)> {
        let socket = self.inner.as_ref().ok_or_else(|| closed("UNIX datagram"))?;
        datagram::receive(socket, &mut self.buffer, receive_from)
            .await
            .map_err(|error| datagram::datagram_error(error, "receive a UNIX datagram"))
    }

    /// Sends `data` as one datagram to the socket at `path` (on Linux, a path starting
    /// with a NUL byte is an abstract name).
    ///
    /// # Errors
    ///
    /// An error naming the path: no socket there, permission denied, the datagram is too
    /// long. [`ErrorKind::ClosedResource`](crate::ErrorKind::ClosedResource) once closed.
    ///
    /// # Cancel safety
    ///
    /// The datagram is sent whole or not at all; cancelled, it was not sent.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let dir = std::env::temp_dir().join(format!("anyio-doc-dgsend-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let mut server = anyio::create_unix_datagram_socket()
    ///     .local_path(dir.join("server.sock"))
    ///     .await?;
    /// let mut client = anyio::create_unix_datagram_socket().await?; // unnamed
    /// client.send_to(b"anonymous", dir.join("server.sock")).await?;
    /// let (data, sender) = server.receive().await?;
    /// assert_eq!((data.as_slice(), sender.as_os_str().is_empty()), (&b"anonymous"[..], true));
    /// # std::fs::remove_dir_all(&dir)?;
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn send_to(&mut self, data: &[u8], path: impl AsRef<Path>) -> Result<()> {
        crate::lowlevel::checkpoint_if_cancelled().await;
        let path = path.as_ref();
        let socket = self.socket()?;
        let address = unix_address(path).map_err(|e| path_error(e, "address", path))?;
        socket
            .write_with(|socket| socket.send_to_addr(data, &address))
            .await
            .map(drop)
            .map_err(|error| path_error(error, "send a datagram to", path))
    }
}

fn receive_from(socket: &UnixDatagram, buffer: &mut [u8]) -> io::Result<(usize, PathBuf)> {
    socket
        .recv_from(buffer)
        .map(|(length, sender)| (length, address_path(&sender)))
}

fn socket_attributes(socket: &UnixDatagram) -> TypedAttributes {
    let named = |address: io::Result<UnixSocketAddr>| {
        address
            .ok()
            .filter(|a| a.as_pathname().is_some() || !address_path(a).as_os_str().is_empty())
    };
    unix_attributes(
        named(socket.local_addr()),
        named(socket.peer_addr()),
        socket.as_raw_fd(),
    )
}

impl TypedAttributeProvider for UnixDatagramSocket {
    fn extra_attributes(&self) -> TypedAttributes {
        match &self.inner {
            Some(socket) => socket_attributes(socket.get_ref()),
            None => TypedAttributes::new(),
        }
    }
}

datagram::datagram_socket_resource!(UnixDatagramSocket);

impl UnreliableObjectReceiveStream<(Vec<u8>, PathBuf)> for UnixDatagramSocket {
    /// As [`UnixDatagramSocket::receive`].
    async fn receive(&mut self) -> Result<(Vec<u8>, PathBuf)> {
        UnixDatagramSocket::receive(self).await
    }
}

impl UnreliableObjectSendStream<(Vec<u8>, PathBuf)> for UnixDatagramSocket {
    /// As [`UnixDatagramSocket::send_to`].
    async fn send(&mut self, (data, path): (Vec<u8>, PathBuf)) -> Result<()> {
        self.send_to(&data, path).await
    }
}

impl futures_core::Stream for UnixDatagramSocket {
    type Item = Result<(Vec<u8>, PathBuf)>;

    /// The next datagram and its sender's path; `None` once the socket is closed.
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let Some(socket) = this.inner.as_ref() else {
            return Poll::Ready(None);
        };
        datagram::poll_receive(socket, &mut this.buffer, cx, receive_from).map(|received| {
            Some(received.map_err(|e| datagram::datagram_error(e, "receive a UNIX datagram")))
        })
    }
}

/// A UNIX datagram socket connected to the socket at `remote_path`, bound to
/// `local_path` if one is set (so the peer can reply). Await it, or set options first.
///
/// # Errors
///
/// An error naming the path: no socket at the remote path, or as for
/// [`create_unix_datagram_socket`].
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let dir = std::env::temp_dir().join(format!("anyio-doc-cdgram-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let mut server = anyio::create_unix_datagram_socket()
///     .local_path(dir.join("server.sock"))
///     .await?;
/// let mut client = anyio::create_connected_unix_datagram_socket(dir.join("server.sock"))
///     .local_path(dir.join("client.sock"))
///     .await?;
/// client.send(b"ping").await?;
/// let (data, sender) = server.receive().await?;
/// server.send_to(b"pong", &sender).await?;
/// assert_eq!(data, b"ping");
/// assert_eq!(client.receive().await?, b"pong");
/// # std::fs::remove_dir_all(&dir)?;
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
pub fn create_connected_unix_datagram_socket(
    remote_path: impl AsRef<Path>,
) -> CreateConnectedUnixDatagramSocket {
    CreateConnectedUnixDatagramSocket {
        remote_path: remote_path.as_ref().to_path_buf(),
        local: LocalPath::default(),
    }
}

/// The builder of [`create_connected_unix_datagram_socket`]: await it to create and
/// connect the socket.
///
/// # Examples
///
/// See [`create_connected_unix_datagram_socket`].
///
/// ```
/// # let _ = anyio::create_connected_unix_datagram_socket("/tmp/x.sock").local_mode(0o600);
/// ```
#[derive(Debug, Clone)]
#[must_use = "create_connected_unix_datagram_socket does nothing unless awaited"]
pub struct CreateConnectedUnixDatagramSocket {
    remote_path: PathBuf,
    local: LocalPath,
}

impl CreateConnectedUnixDatagramSocket {
    /// The path to bind (default: none, an unnamed socket the peer cannot reply to).
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let dir = std::env::temp_dir().join(format!("anyio-doc-cdpath-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let mut server = anyio::create_unix_datagram_socket()
    ///     .local_path(dir.join("server.sock"))
    ///     .await?;
    /// let mut client = anyio::create_connected_unix_datagram_socket(dir.join("server.sock"))
    ///     .local_path(dir.join("client.sock")) // so that the server can reply
    ///     .await?;
    /// server.send_to(b"hello", dir.join("client.sock")).await?;
    /// assert_eq!(client.receive().await?, b"hello");
    /// # std::fs::remove_dir_all(&dir)?;
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn local_path(mut self, path: impl AsRef<Path>) -> Self {
        self.local.path = Some(path.as_ref().to_path_buf());
        self
    }

    /// The permissions of the local socket file.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::unix::fs::PermissionsExt;
    ///
    /// # anyio::run(async {
    /// let dir = std::env::temp_dir().join(format!("anyio-doc-cdmode-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let _server = anyio::create_unix_datagram_socket()
    ///     .local_path(dir.join("server.sock"))
    ///     .await?;
    /// let _client = anyio::create_connected_unix_datagram_socket(dir.join("server.sock"))
    ///     .local_path(dir.join("client.sock"))
    ///     .local_mode(0o600)
    ///     .await?;
    /// let mode = std::fs::metadata(dir.join("client.sock"))?.permissions().mode();
    /// assert_eq!(mode & 0o777, 0o600);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn local_mode(mut self, mode: u32) -> Self {
        self.local.mode = Some(mode);
        self
    }
}

impl IntoFuture for CreateConnectedUnixDatagramSocket {
    type Output = Result<ConnectedUnixDatagramSocket>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<ConnectedUnixDatagramSocket>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            crate::lowlevel::checkpoint_if_cancelled().await;
            let remote = &self.remote_path;
            let address = unix_address(remote).map_err(|e| path_error(e, "address", remote))?;
            let socket = self.local.bind()?;
            socket
                .connect_addr(&address)
                .map_err(|e| path_error(e, "connect to", remote))?;
            Ok(ConnectedUnixDatagramSocket {
                inner: Some(Async::new(socket)?),
                buffer: ReceiveBuffer::default(),
            })
        })
    }
}

/// A UNIX datagram socket connected to one peer: an
/// [`UnreliableObjectStream`](crate::abc::UnreliableObjectStream) of datagrams
/// (`Vec<u8>`), and a `futures_core::Stream` of received ones.
///
/// Its typed attributes: those of [`UnixDatagramSocket`], and
/// [`RemoteAddress`](crate::net::RemoteAddress).
///
/// # Cancel safety
///
/// As for [`UnixDatagramSocket`].
///
/// # Examples
///
/// See [`create_connected_unix_datagram_socket`].
///
/// ```
/// # let _ = std::mem::size_of::<anyio::net::ConnectedUnixDatagramSocket>();
/// ```
pub struct ConnectedUnixDatagramSocket {
    /// `None` once closed.
    inner: Option<Async<UnixDatagram>>,
    buffer: ReceiveBuffer,
}

impl fmt::Debug for ConnectedUnixDatagramSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let socket = self.inner.as_ref().map(Async::get_ref);
        f.debug_struct("ConnectedUnixDatagramSocket")
            .field("local", &socket.and_then(|s| s.local_addr().ok()))
            .field("remote", &socket.and_then(|s| s.peer_addr().ok()))
            .finish()
    }
}

impl ConnectedUnixDatagramSocket {
    fn socket(&self) -> Result<&Async<UnixDatagram>> {
        self.inner.as_ref().ok_or_else(|| closed("UNIX datagram"))
    }

    /// The next datagram from the peer (up to 65,536 bytes).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::ClosedResource`](crate::ErrorKind::ClosedResource) once closed; the
    /// system's error otherwise.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: cancelled or dropped before it returned, it took no datagram.
    ///
    /// # Examples
    ///
    /// See [`create_connected_unix_datagram_socket`].
    ///
    /// ```
    /// # let _ = anyio::net::ConnectedUnixDatagramSocket::receive;
    /// ```
    pub async fn receive(&mut self) -> Result<Vec<u8>> {
        let socket = self.inner.as_ref().ok_or_else(|| closed("UNIX datagram"))?;
        datagram::receive(socket, &mut self.buffer, receive_connected)
            .await
            .map(|(data, ())| data)
            .map_err(|error| datagram::datagram_error(error, "receive a UNIX datagram"))
    }

    /// Sends `data` as one datagram to the peer.
    ///
    /// # Errors
    ///
    /// The system's error (the peer is gone: connection refused; the datagram is too
    /// long). [`ErrorKind::ClosedResource`](crate::ErrorKind::ClosedResource) once closed.
    ///
    /// # Cancel safety
    ///
    /// The datagram is sent whole or not at all; cancelled, it was not sent.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let dir = std::env::temp_dir().join(format!("anyio-doc-cdsend-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let mut server = anyio::create_unix_datagram_socket()
    ///     .local_path(dir.join("server.sock"))
    ///     .await?;
    /// let mut client = anyio::create_connected_unix_datagram_socket(dir.join("server.sock")).await?;
    /// client.send(b"one").await?;
    /// client.send(vec![2; 2]).await?;
    /// assert_eq!(server.receive().await?.0, b"one");
    /// assert_eq!(server.receive().await?.0, [2, 2]);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn send(&mut self, data: impl AsRef<[u8]>) -> Result<()> {
        crate::lowlevel::checkpoint_if_cancelled().await;
        let data = data.as_ref();
        let socket = self.socket()?;
        socket
            .write_with(|socket| socket.send(data))
            .await
            .map(drop)
            .map_err(|error| {
                let peer = socket
                    .get_ref()
                    .peer_addr()
                    .map(|peer| address_path(&peer).display().to_string())
                    .unwrap_or_else(|_| "its peer".to_owned());
                datagram::datagram_error(error, format_args!("send a UNIX datagram to {peer}"))
            })
    }
}

fn receive_connected(socket: &UnixDatagram, buffer: &mut [u8]) -> io::Result<(usize, ())> {
    socket.recv(buffer).map(|length| (length, ()))
}

impl TypedAttributeProvider for ConnectedUnixDatagramSocket {
    fn extra_attributes(&self) -> TypedAttributes {
        match &self.inner {
            Some(socket) => socket_attributes(socket.get_ref()),
            None => TypedAttributes::new(),
        }
    }
}

datagram::datagram_socket_resource!(ConnectedUnixDatagramSocket);

impl UnreliableObjectReceiveStream<Vec<u8>> for ConnectedUnixDatagramSocket {
    /// As [`ConnectedUnixDatagramSocket::receive`].
    async fn receive(&mut self) -> Result<Vec<u8>> {
        ConnectedUnixDatagramSocket::receive(self).await
    }
}

impl UnreliableObjectSendStream<Vec<u8>> for ConnectedUnixDatagramSocket {
    /// As [`ConnectedUnixDatagramSocket::send`].
    async fn send(&mut self, item: Vec<u8>) -> Result<()> {
        ConnectedUnixDatagramSocket::send(self, item).await
    }
}

impl futures_core::Stream for ConnectedUnixDatagramSocket {
    type Item = Result<Vec<u8>>;

    /// The next datagram from the peer; `None` once the socket is closed.
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let Some(socket) = this.inner.as_ref() else {
            return Poll::Ready(None);
        };
        datagram::poll_receive(socket, &mut this.buffer, cx, receive_connected).map(|received| {
            Some(
                received
                    .map(|(data, ())| data)
                    .map_err(|e| datagram::datagram_error(e, "receive a UNIX datagram")),
            )
        })
    }
}
