//! UDP sockets: `create_udp_socket` and `create_connected_udp_socket`, and the
//! [`UdpSocket`] and [`ConnectedUdpSocket`] they give.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::task::{Context, Poll};

use async_io::Async;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::abc::{UnreliableObjectReceiveStream, UnreliableObjectSendStream};
use crate::error::Result;
use crate::net::attributes::{AddressFamily, ip_socket_attributes};
use crate::net::datagram::{self, ReceiveBuffer, closed, datagram_error};
use crate::net::resolve::{ToHost, getaddrinfo};
use crate::typed_attr::{TypedAttributeProvider, TypedAttributes};

/// A UDP socket bound to a local address, ready to send datagrams to any address and
/// receive them from any. Await it, or set options first. With no local host it binds
/// the unspecified address of its family (`0.0.0.0`, or `::` for
/// [`AddressFamily::Inet6`]) on a port the system chooses, so it can receive replies.
///
/// # Errors
///
/// An error naming the address: it is in use, the host cannot be resolved, or has no
/// address of the requested family.
///
/// # Examples
///
/// ```
/// use anyio::TypedAttributeProvider;
/// use anyio::net::LocalPort;
///
/// # anyio::run(async {
/// let mut socket = anyio::create_udp_socket().local_host("127.0.0.1").await?;
/// let port = socket.extra::<LocalPort>()?;
/// socket.send_to(b"to myself", "127.0.0.1", port).await?;
/// let (data, sender) = socket.receive().await?;
/// assert_eq!(data, b"to myself");
/// assert_eq!(sender.port(), port);
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
pub fn create_udp_socket() -> CreateUdpSocket {
    CreateUdpSocket {
        local_host: None,
        local_port: 0,
        family: AddressFamily::Unspecified,
        reuse_port: false,
    }
}

/// The builder of [`create_udp_socket`]: await it to bind.
///
/// # Examples
///
/// ```
/// use anyio::TypedAttributeProvider;
/// use anyio::net::{AddressFamily, Family};
///
/// # anyio::run(async {
/// let socket = anyio::create_udp_socket()
///     .family(AddressFamily::Inet6)
///     .local_host("::1")
///     .await?;
/// assert_eq!(socket.extra::<Family>()?, AddressFamily::Inet6);
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
#[derive(Debug, Clone)]
#[must_use = "create_udp_socket does nothing unless awaited"]
pub struct CreateUdpSocket {
    local_host: Option<String>,
    local_port: u16,
    family: AddressFamily,
    reuse_port: bool,
}

impl CreateUdpSocket {
    /// The local host to bind (a name or an IP address; default: every interface).
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::TypedAttributeProvider;
    /// use anyio::net::{LocalAddress, SocketAddress};
    ///
    /// # anyio::run(async {
    /// let socket = anyio::create_udp_socket().local_host("127.0.0.1").await?;
    /// let SocketAddress::Ip(local) = socket.extra::<LocalAddress>()? else { unreachable!() };
    /// assert_eq!(local.ip(), std::net::Ipv4Addr::LOCALHOST);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn local_host(mut self, host: impl ToHost) -> Self {
        self.local_host = Some(host.to_host());
        self
    }

    /// The local port to bind (default 0: the system chooses one).
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::TypedAttributeProvider;
    /// use anyio::net::LocalPort;
    ///
    /// # anyio::run(async {
    /// // A free port: one the system picks, released at once.
    /// let free = std::net::UdpSocket::bind("127.0.0.1:0")?.local_addr()?.port();
    /// let socket = anyio::create_udp_socket()
    ///     .local_host("127.0.0.1")
    ///     .local_port(free)
    ///     .await?;
    /// assert_eq!(socket.extra::<LocalPort>()?, free);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn local_port(mut self, port: u16) -> Self {
        self.local_port = port;
        self
    }

    /// The address family (default: that of the local host, else IPv4).
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::TypedAttributeProvider;
    /// use anyio::net::{AddressFamily, Family};
    ///
    /// # anyio::run(async {
    /// let socket = anyio::create_udp_socket()
    ///     .local_host("localhost")
    ///     .family(AddressFamily::Inet) // 127.0.0.1, not ::1
    ///     .await?;
    /// assert_eq!(socket.extra::<Family>()?, AddressFamily::Inet);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn family(mut self, family: AddressFamily) -> Self {
        self.family = family;
        self
    }

    /// Sets `SO_REUSEPORT`, so several sockets that all set it may bind the same port.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::TypedAttributeProvider;
    /// use anyio::net::LocalPort;
    ///
    /// # anyio::run(async {
    /// let first = anyio::create_udp_socket()
    ///     .local_host("127.0.0.1")
    ///     .reuse_port(true)
    ///     .await?;
    /// let port = first.extra::<LocalPort>()?;
    /// let second = anyio::create_udp_socket()
    ///     .local_host("127.0.0.1")
    ///     .local_port(port) // the same port, shared
    ///     .reuse_port(true)
    ///     .await?;
    /// assert_eq!(second.extra::<LocalPort>()?, port);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn reuse_port(mut self, reuse_port: bool) -> Self {
        self.reuse_port = reuse_port;
        self
    }
}

impl IntoFuture for CreateUdpSocket {
    type Output = Result<UdpSocket>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<UdpSocket>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            crate::lowlevel::checkpoint_if_cancelled().await;
            let local =
                local_address(self.local_host.as_deref(), self.local_port, self.family).await?;
            let socket = bind(local, self.reuse_port)?;
            UdpSocket::from_async(socket)
        })
    }
}

/// The address to bind: the first of `host`'s (of `family`), or the unspecified address
/// of `family` (IPv4 unless IPv6 is asked for).
async fn local_address(host: Option<&str>, port: u16, family: AddressFamily) -> Result<SocketAddr> {
    Ok(match host {
        Some(host) => getaddrinfo(host, port).family(family).await?[0],
        None if family == AddressFamily::Inet6 => SocketAddr::from(([0u16; 8], port)),
        None => SocketAddr::from(([0, 0, 0, 0], port)),
    })
}

/// A non-blocking UDP socket bound to `address`, registered with the reactor.
fn bind(address: SocketAddr, reuse_port: bool) -> Result<Async<std::net::UdpSocket>> {
    let bind = || -> io::Result<Async<std::net::UdpSocket>> {
        let socket = Socket::new(
            Domain::for_address(address),
            Type::DGRAM,
            Some(Protocol::UDP),
        )?;
        socket.set_cloexec(true)?;
        if reuse_port {
            socket.set_reuse_port(true)?;
        }
        socket.bind(&SockAddr::from(address))?;
        Async::new(std::net::UdpSocket::from(socket))
    };
    bind().map_err(|error| datagram_error(error, format_args!("bind a UDP socket to {address}")))
}

/// The address to send to among `candidates`: the first of the socket's own family; for
/// an IPv6 socket with only IPv4 candidates, the first mapped into IPv6.
fn pick_destination(local: SocketAddr, candidates: &[SocketAddr]) -> SocketAddr {
    if let Some(same) = candidates.iter().find(|c| c.is_ipv4() == local.is_ipv4()) {
        return *same;
    }
    match (local, candidates[0]) {
        (SocketAddr::V6(_), SocketAddr::V4(v4)) => {
            SocketAddr::new(v4.ip().to_ipv6_mapped().into(), v4.port())
        }
        (_, other) => other,
    }
}

/// A UDP socket that sends to and receives from any address: an
/// [`UnreliableObjectStream`](crate::abc::UnreliableObjectStream) of
/// `(datagram, address)` pairs, and a `futures_core::Stream` of received ones. Datagrams
/// may be lost, duplicated or reordered, as UDP's are.
///
/// Its typed attributes: [`LocalAddress`](crate::net::LocalAddress),
/// [`LocalPort`](crate::net::LocalPort), [`Family`](crate::net::Family) and
/// [`RawSocket`](crate::net::RawSocket).
///
/// # Cancel safety
///
/// `receive` is cancel-safe: cancelled or dropped before it returned, it took no
/// datagram. A send sends its datagram whole or not at all: cancelled, it sent nothing.
///
/// # Examples
///
/// An echo server, and a client that asks it once:
///
/// ```
/// use anyio::TypedAttributeProvider;
/// use anyio::abc::UnreliableObjectSendStream;
/// use anyio::net::LocalPort;
/// use futures_lite::StreamExt;
///
/// # anyio::run(async {
/// let mut server = anyio::create_udp_socket().local_host("127.0.0.1").await?;
/// let port = server.extra::<LocalPort>()?;
/// let mut client = anyio::create_udp_socket().local_host("127.0.0.1").await?;
/// client.send_to(b"ping", "127.0.0.1", port).await?;
/// let (request, sender) = server.next().await.expect("the socket is open")?;
/// server.send((request, sender)).await?; // echo it back
/// assert_eq!(client.receive().await?.0, b"ping");
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
pub struct UdpSocket {
    /// `None` once closed.
    inner: Option<Async<std::net::UdpSocket>>,
    buffer: ReceiveBuffer,
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let socket = self.inner.as_ref().map(Async::get_ref);
        f.debug_struct("UdpSocket")
            .field("local", &socket.and_then(|s| s.local_addr().ok()))
            .finish()
    }
}

impl UdpSocket {
    /// A socket over a bound standard-library UDP socket (made non-blocking here).
    ///
    /// # Errors
    ///
    /// The error of making it non-blocking or registering it with the reactor.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let std_socket = std::net::UdpSocket::bind("127.0.0.1:0")?;
    /// let socket = anyio::net::UdpSocket::from_std(std_socket)?;
    /// assert!(format!("{socket:?}").contains("127.0.0.1"));
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn from_std(socket: std::net::UdpSocket) -> Result<UdpSocket> {
        UdpSocket::from_async(Async::new(socket)?)
    }

    fn from_async(socket: Async<std::net::UdpSocket>) -> Result<UdpSocket> {
        Ok(UdpSocket {
            inner: Some(socket),
            buffer: ReceiveBuffer::default(),
        })
    }

    fn socket(&self) -> Result<&Async<std::net::UdpSocket>> {
        self.inner.as_ref().ok_or_else(|| closed("UDP"))
    }

    /// The next datagram (up to 65,536 bytes; the system truncates a longer one) and the
    /// address it came from.
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
    /// See [`UdpSocket`].
    ///
    /// ```
    /// # let _ = anyio::net::UdpSocket::receive;
    /// ```
    pub async fn receive(&mut self) -> Result<(Vec<u8>, SocketAddr)> {
        let socket = self.inner.as_ref().ok_or_else(|| closed("UDP"))?;
        datagram::receive(socket, &mut self.buffer, std::net::UdpSocket::recv_from)
            .await
            .map_err(|error| datagram_error(error, "receive a UDP datagram"))
    }

    /// Sends `data` as one datagram to `host` (a name or an IP address) at `port`. A name
    /// is resolved first, and the first address of the socket's family is used.
    ///
    /// # Errors
    ///
    /// An error naming the destination: it cannot be resolved, it is unreachable, or the
    /// datagram is too long. [`ErrorKind::ClosedResource`](crate::ErrorKind::ClosedResource)
    /// once closed.
    ///
    /// # Cancel safety
    ///
    /// The datagram is sent whole or not at all; cancelled, it was not sent.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let mut socket = anyio::create_udp_socket().local_host("127.0.0.1").await?;
    /// let port = anyio::TypedAttributeProvider::extra::<anyio::net::LocalPort>(&socket)?;
    /// socket.send_to(b"by name", "localhost", port).await?; // resolved first
    /// socket.send_to(b"by address", std::net::Ipv4Addr::LOCALHOST, port).await?;
    /// assert_eq!(socket.receive().await?.0, b"by name");
    /// assert_eq!(socket.receive().await?.0, b"by address");
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn send_to(&mut self, data: &[u8], host: impl ToHost, port: u16) -> Result<()> {
        let local = self.socket()?.get_ref().local_addr()?;
        let candidates = getaddrinfo(host, port).await?;
        self.send_to_address(data, pick_destination(local, &candidates))
            .await
    }

    async fn send_to_address(&self, data: &[u8], address: SocketAddr) -> Result<()> {
        crate::lowlevel::checkpoint_if_cancelled().await;
        self.socket()?
            .write_with(|socket| socket.send_to(data, address))
            .await
            .map(drop)
            .map_err(|error| {
                datagram_error(
                    error,
                    format_args!("send a UDP datagram of {} bytes to {address}", data.len()),
                )
            })
    }
}

impl TypedAttributeProvider for UdpSocket {
    fn extra_attributes(&self) -> TypedAttributes {
        match &self.inner {
            Some(socket) => socket_attributes(socket.get_ref()),
            None => TypedAttributes::new(),
        }
    }
}

fn socket_attributes(socket: &std::net::UdpSocket) -> TypedAttributes {
    ip_socket_attributes(
        socket.local_addr().ok(),
        socket.peer_addr().ok(),
        socket.as_raw_fd(),
    )
}

datagram::datagram_socket_resource!(UdpSocket);

impl UnreliableObjectReceiveStream<(Vec<u8>, SocketAddr)> for UdpSocket {
    /// As [`UdpSocket::receive`].
    async fn receive(&mut self) -> Result<(Vec<u8>, SocketAddr)> {
        UdpSocket::receive(self).await
    }
}

impl UnreliableObjectSendStream<(Vec<u8>, SocketAddr)> for UdpSocket {
    /// Sends the datagram to the address.
    ///
    /// # Cancel safety
    ///
    /// As for [`UdpSocket::send_to`].
    async fn send(&mut self, (data, address): (Vec<u8>, SocketAddr)) -> Result<()> {
        self.send_to_address(&data, address).await
    }
}

impl futures_core::Stream for UdpSocket {
    type Item = Result<(Vec<u8>, SocketAddr)>;

    /// The next datagram and its sender; `None` once the socket is closed.
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let Some(socket) = this.inner.as_ref() else {
            return Poll::Ready(None);
        };
        datagram::poll_receive(socket, &mut this.buffer, cx, std::net::UdpSocket::recv_from).map(
            |received| {
                Some(received.map_err(|error| datagram_error(error, "receive a UDP datagram")))
            },
        )
    }
}

/// A UDP socket connected to one remote address, as AnyIO's: `remote_host` is resolved
/// and its first address (of `family`) is used; the local address is that of
/// `local_host`, or the unspecified address of the remote's family. Await it, or set
/// options first.
///
/// # Errors
///
/// An error naming the host that cannot be resolved, or the address that cannot be
/// bound or connected to.
///
/// # Examples
///
/// ```
/// use anyio::TypedAttributeProvider;
/// use anyio::net::{LocalPort, RemotePort};
///
/// # anyio::run(async {
/// let mut server = anyio::create_udp_socket().local_host("127.0.0.1").await?;
/// let port = server.extra::<LocalPort>()?;
/// let mut client = anyio::create_connected_udp_socket("127.0.0.1", port).await?;
/// assert_eq!(client.extra::<RemotePort>()?, port);
/// client.send(b"hello").await?;
/// let (data, from) = server.receive().await?;
/// server.send_to(b"welcome", from.ip(), from.port()).await?;
/// assert_eq!(data, b"hello");
/// assert_eq!(client.receive().await?, b"welcome");
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
pub fn create_connected_udp_socket(
    remote_host: impl ToHost,
    remote_port: u16,
) -> CreateConnectedUdpSocket {
    CreateConnectedUdpSocket {
        remote_host: remote_host.to_host(),
        remote_port,
        family: AddressFamily::Unspecified,
        local_host: None,
        local_port: 0,
        reuse_port: false,
    }
}

/// The builder of [`create_connected_udp_socket`]: await it to bind and connect.
///
/// # Examples
///
/// ```
/// use anyio::TypedAttributeProvider;
/// use anyio::net::LocalPort;
///
/// # anyio::run(async {
/// let server = anyio::create_udp_socket().local_host("127.0.0.1").await?;
/// let port = server.extra::<LocalPort>()?;
/// let client = anyio::create_connected_udp_socket("localhost", port)
///     .family(anyio::net::AddressFamily::Inet)
///     .local_host("127.0.0.1")
///     .await?;
/// assert_ne!(client.extra::<LocalPort>()?, 0);
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
#[derive(Debug, Clone)]
#[must_use = "create_connected_udp_socket does nothing unless awaited"]
pub struct CreateConnectedUdpSocket {
    remote_host: String,
    remote_port: u16,
    family: AddressFamily,
    local_host: Option<String>,
    local_port: u16,
    reuse_port: bool,
}

impl CreateConnectedUdpSocket {
    /// Only addresses of `family` (default: the first address the remote host has).
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::TypedAttributeProvider;
    /// use anyio::net::{AddressFamily, Family, LocalPort};
    ///
    /// # anyio::run(async {
    /// let server = anyio::create_udp_socket().local_host("127.0.0.1").await?;
    /// let port = server.extra::<LocalPort>()?;
    /// let client = anyio::create_connected_udp_socket("localhost", port)
    ///     .family(AddressFamily::Inet) // 127.0.0.1, not ::1
    ///     .await?;
    /// assert_eq!(client.extra::<Family>()?, AddressFamily::Inet);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn family(mut self, family: AddressFamily) -> Self {
        self.family = family;
        self
    }

    /// The local host to bind (default: every interface of the remote's family).
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::TypedAttributeProvider;
    /// use anyio::net::{LocalAddress, LocalPort, SocketAddress};
    ///
    /// # anyio::run(async {
    /// let server = anyio::create_udp_socket().local_host("127.0.0.1").await?;
    /// let port = server.extra::<LocalPort>()?;
    /// let client = anyio::create_connected_udp_socket("127.0.0.1", port)
    ///     .local_host("127.0.0.1")
    ///     .await?;
    /// let SocketAddress::Ip(local) = client.extra::<LocalAddress>()? else { unreachable!() };
    /// assert_eq!(local.ip(), std::net::Ipv4Addr::LOCALHOST);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn local_host(mut self, host: impl ToHost) -> Self {
        self.local_host = Some(host.to_host());
        self
    }

    /// The local port to bind (default 0: the system chooses one).
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::TypedAttributeProvider;
    /// use anyio::net::LocalPort;
    ///
    /// # anyio::run(async {
    /// let server = anyio::create_udp_socket().local_host("127.0.0.1").await?;
    /// let port = server.extra::<LocalPort>()?;
    /// // A free port: one the system picks, released at once.
    /// let free = std::net::UdpSocket::bind("127.0.0.1:0")?.local_addr()?.port();
    /// let client = anyio::create_connected_udp_socket("127.0.0.1", port)
    ///     .local_port(free)
    ///     .await?;
    /// assert_eq!(client.extra::<LocalPort>()?, free);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn local_port(mut self, port: u16) -> Self {
        self.local_port = port;
        self
    }

    /// Sets `SO_REUSEPORT`, so several sockets that all set it may bind the same port.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::TypedAttributeProvider;
    /// use anyio::net::LocalPort;
    ///
    /// # anyio::run(async {
    /// let server = anyio::create_udp_socket().local_host("127.0.0.1").await?;
    /// let port = server.extra::<LocalPort>()?;
    /// let first = anyio::create_udp_socket()
    ///     .local_host("127.0.0.1")
    ///     .reuse_port(true)
    ///     .await?;
    /// let shared = first.extra::<LocalPort>()?;
    /// let client = anyio::create_connected_udp_socket("127.0.0.1", port)
    ///     .local_host("127.0.0.1")
    ///     .local_port(shared) // the port of `first`, shared
    ///     .reuse_port(true)
    ///     .await?;
    /// assert_eq!(client.extra::<LocalPort>()?, shared);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn reuse_port(mut self, reuse_port: bool) -> Self {
        self.reuse_port = reuse_port;
        self
    }
}

impl IntoFuture for CreateConnectedUdpSocket {
    type Output = Result<ConnectedUdpSocket>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<ConnectedUdpSocket>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            crate::lowlevel::checkpoint_if_cancelled().await;
            let remote = getaddrinfo(self.remote_host.as_str(), self.remote_port)
                .family(self.family)
                .await?[0];
            let local = local_address(
                self.local_host.as_deref(),
                self.local_port,
                AddressFamily::of(&remote),
            )
            .await?;
            let socket = bind(local, self.reuse_port)?;
            socket.get_ref().connect(remote).map_err(|error| {
                datagram_error(error, format_args!("connect a UDP socket to {remote}"))
            })?;
            Ok(ConnectedUdpSocket {
                inner: Some(socket),
                buffer: ReceiveBuffer::default(),
            })
        })
    }
}

/// A UDP socket connected to one peer: an
/// [`UnreliableObjectStream`](crate::abc::UnreliableObjectStream) of datagrams
/// (`Vec<u8>`), and a `futures_core::Stream` of received ones. Only the peer's datagrams
/// are received.
///
/// Its typed attributes: those of [`UdpSocket`], and
/// [`RemoteAddress`](crate::net::RemoteAddress) and [`RemotePort`](crate::net::RemotePort).
///
/// # Cancel safety
///
/// As for [`UdpSocket`].
///
/// # Examples
///
/// See [`create_connected_udp_socket`].
///
/// ```
/// # let _ = std::mem::size_of::<anyio::net::ConnectedUdpSocket>();
/// ```
pub struct ConnectedUdpSocket {
    /// `None` once closed.
    inner: Option<Async<std::net::UdpSocket>>,
    buffer: ReceiveBuffer,
}

impl fmt::Debug for ConnectedUdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let socket = self.inner.as_ref().map(Async::get_ref);
        f.debug_struct("ConnectedUdpSocket")
            .field("local", &socket.and_then(|s| s.local_addr().ok()))
            .field("remote", &socket.and_then(|s| s.peer_addr().ok()))
            .finish()
    }
}

impl ConnectedUdpSocket {
    fn socket(&self) -> Result<&Async<std::net::UdpSocket>> {
        self.inner.as_ref().ok_or_else(|| closed("UDP"))
    }

    /// The next datagram from the peer (up to 65,536 bytes).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::ClosedResource`](crate::ErrorKind::ClosedResource) once closed; the
    /// system's error otherwise (e.g. connection refused, when an earlier datagram found
    /// no one listening at the peer's port).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: cancelled or dropped before it returned, it took no datagram.
    ///
    /// # Examples
    ///
    /// See [`create_connected_udp_socket`].
    ///
    /// ```
    /// # let _ = anyio::net::ConnectedUdpSocket::receive;
    /// ```
    pub async fn receive(&mut self) -> Result<Vec<u8>> {
        let socket = self.inner.as_ref().ok_or_else(|| closed("UDP"))?;
        let peer = socket.get_ref().peer_addr().ok();
        datagram::receive(socket, &mut self.buffer, receive_connected)
            .await
            .map(|(data, ())| data)
            .map_err(|error| match peer {
                Some(peer) => {
                    datagram_error(error, format_args!("receive a UDP datagram from {peer}"))
                }
                None => datagram_error(error, "receive a UDP datagram"),
            })
    }

    /// Sends `data` as one datagram to the peer.
    ///
    /// # Errors
    ///
    /// An error naming the peer: unreachable, connection refused, or the datagram is too
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
    /// let mut server = anyio::create_udp_socket().local_host("127.0.0.1").await?;
    /// let port = anyio::TypedAttributeProvider::extra::<anyio::net::LocalPort>(&server)?;
    /// let mut client = anyio::create_connected_udp_socket("127.0.0.1", port).await?;
    /// client.send(b"a slice").await?;
    /// client.send(vec![1, 2, 3]).await?; // or an owned buffer
    /// assert_eq!(server.receive().await?.0, b"a slice");
    /// assert_eq!(server.receive().await?.0, [1, 2, 3]);
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
                    .map_or_else(|_| "its peer".to_owned(), |peer| peer.to_string());
                datagram_error(
                    error,
                    format_args!("send a UDP datagram of {} bytes to {peer}", data.len()),
                )
            })
    }
}

fn receive_connected(socket: &std::net::UdpSocket, buffer: &mut [u8]) -> io::Result<(usize, ())> {
    socket.recv(buffer).map(|length| (length, ()))
}

impl TypedAttributeProvider for ConnectedUdpSocket {
    fn extra_attributes(&self) -> TypedAttributes {
        match &self.inner {
            Some(socket) => socket_attributes(socket.get_ref()),
            None => TypedAttributes::new(),
        }
    }
}

datagram::datagram_socket_resource!(ConnectedUdpSocket);

impl UnreliableObjectReceiveStream<Vec<u8>> for ConnectedUdpSocket {
    /// As [`ConnectedUdpSocket::receive`].
    async fn receive(&mut self) -> Result<Vec<u8>> {
        ConnectedUdpSocket::receive(self).await
    }
}

impl UnreliableObjectSendStream<Vec<u8>> for ConnectedUdpSocket {
    /// As [`ConnectedUdpSocket::send`].
    async fn send(&mut self, item: Vec<u8>) -> Result<()> {
        ConnectedUdpSocket::send(self, item).await
    }
}

impl futures_core::Stream for ConnectedUdpSocket {
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
                    .map_err(|error| datagram_error(error, "receive a UDP datagram")),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_destination_of_the_sockets_family_is_preferred() {
        let v4: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let v6: SocketAddr = "[::1]:9".parse().unwrap();
        let local_v4: SocketAddr = "0.0.0.0:0".parse().unwrap();
        let local_v6: SocketAddr = "[::]:0".parse().unwrap();
        assert_eq!(pick_destination(local_v4, &[v6, v4]), v4);
        assert_eq!(pick_destination(local_v6, &[v4, v6]), v6);
        assert_eq!(
            pick_destination(local_v6, &[v4]),
            "[::ffff:127.0.0.1]:9".parse::<SocketAddr>().unwrap()
        );
        assert_eq!(pick_destination(local_v4, &[v6]), v6);
    }
}
