//! Networking: TCP streams and listeners (with Happy Eyeballs connection racing), UNIX
//! stream sockets (with descriptor passing), UDP and UNIX datagram sockets, and name
//! resolution, on async-io's reactor, socket2 and rustix.
//!
//! Every operation is a checkpoint and says in its docs what a cancel does to data.
//! Sockets are closed when dropped (and by `aclose`); a connection attempt that loses a
//! race, or whose caller is cancelled, closes its socket at once.
//!
//! # Examples
//!
//! A TCP round trip on the loopback interface:
//!
//! ```
//! use anyio::TypedAttributeProvider;
//! use anyio::abc::{ByteReceiveStream, ByteSendStream, Listener};
//! use anyio::net::LocalPort;
//!
//! # anyio::run(async {
//! let mut listener = anyio::create_tcp_listener().local_host("127.0.0.1").await?;
//! let mut client = anyio::connect_tcp("127.0.0.1", listener.extra::<LocalPort>()?).await?;
//! let mut server = listener.accept().await?;
//! client.send(b"ping").await?;
//! let request = server.receive(64).await?;
//! server.send(&request).await?; // echo it back
//! assert_eq!(client.receive(64).await?, b"ping");
//! # anyio::Result::Ok(()) }).unwrap();
//! ```

mod attributes;
mod datagram;
mod readiness;
mod resolve;
mod stream_io;
mod tcp;
mod udp;
mod unix;
mod unix_datagram;

pub use attributes::{
    AddressFamily, Family, LocalAddress, LocalPort, RawSocket, RemoteAddress, RemotePort,
    SocketAddress,
};
pub use readiness::{getnameinfo, notify_closing, wait_readable, wait_writable};
#[allow(deprecated)]
pub use readiness::{wait_socket_readable, wait_socket_writable};
pub(crate) use resolve::ascii_host;
pub use resolve::{GetAddrInfo, ToHost, getaddrinfo};
pub use tcp::{
    ConnectTcp, ConnectTcpTls, CreateTcpListener, TcpListener, TcpReceiveHalf, TcpSendHalf,
    TcpStream, connect_tcp, connect_tcp_addresses, create_tcp_listener,
};
pub use udp::{
    ConnectedUdpSocket, CreateConnectedUdpSocket, CreateUdpSocket, UdpSocket,
    create_connected_udp_socket, create_udp_socket,
};
pub use unix::{
    CreateUnixListener, UnixListener, UnixReceiveHalf, UnixSendHalf, UnixStream, connect_unix,
    create_unix_listener,
};
pub use unix_datagram::{
    ConnectedUnixDatagramSocket, CreateConnectedUnixDatagramSocket, CreateUnixDatagramSocket,
    UnixDatagramSocket, create_connected_unix_datagram_socket, create_unix_datagram_socket,
};
