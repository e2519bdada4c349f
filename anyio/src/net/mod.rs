//! Networking: TCP streams and listeners (with Happy Eyeballs connection racing), UNIX
//! stream sockets (with descriptor passing), and name resolution, on async-io's reactor,
//! socket2 and rustix.
//!
//! Every operation is a checkpoint and says in its docs what a cancel does to data.
//! Sockets are closed when dropped (and by `aclose`); a connection attempt that loses a
//! race, or whose caller is cancelled, closes its socket at once.
//!
//! Not here yet (the networking issue goes on): UDP and UNIX datagram sockets, IDNA for
//! non-ASCII host names (they are resolved as given today).

mod attributes;
mod readiness;
mod resolve;
mod stream_io;
mod tcp;
mod unix;

pub use attributes::{
    AddressFamily, Family, LocalAddress, LocalPort, RawSocket, RemoteAddress, RemotePort,
    SocketAddress,
};
pub use readiness::{getnameinfo, notify_closing, wait_readable, wait_writable};
pub use resolve::{GetAddrInfo, ToHost, getaddrinfo};
pub use tcp::{
    ConnectTcp, CreateTcpListener, TcpListener, TcpStream, connect_tcp, create_tcp_listener,
};
pub use unix::{CreateUnixListener, UnixListener, UnixStream, connect_unix, create_unix_listener};
