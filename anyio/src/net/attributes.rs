//! The typed attributes of sockets and listeners, and the address types they use.

use std::fmt;
use std::net::SocketAddr;
use std::os::fd::RawFd;
use std::path::PathBuf;

use crate::typed_attr::{TypedAttribute, TypedAttributes};

/// The address of a socket: an IP address and port, or a UNIX socket path.
///
/// # Examples
///
/// ```
/// use anyio::net::SocketAddress;
///
/// let address = SocketAddress::Ip("127.0.0.1:8080".parse().unwrap());
/// assert_eq!(address.to_string(), "127.0.0.1:8080");
/// assert_eq!(address.port(), Some(8080));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SocketAddress {
    /// An IPv4 or IPv6 address and port.
    Ip(SocketAddr),
    /// The path of a UNIX socket.
    Unix(PathBuf),
}

impl SocketAddress {
    /// The port of an IP address (`None` for a UNIX socket).
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::net::SocketAddress;
    ///
    /// assert_eq!(SocketAddress::Ip("[::1]:443".parse().unwrap()).port(), Some(443));
    /// assert_eq!(SocketAddress::Unix("/run/app.sock".into()).port(), None);
    /// ```
    pub fn port(&self) -> Option<u16> {
        match self {
            SocketAddress::Ip(address) => Some(address.port()),
            SocketAddress::Unix(_) => None,
        }
    }
}

impl fmt::Display for SocketAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SocketAddress::Ip(address) => write!(f, "{address}"),
            SocketAddress::Unix(path) => write!(f, "{}", path.display()),
        }
    }
}

/// An address family: which addresses a socket or a lookup uses.
///
/// # Examples
///
/// ```
/// use anyio::net::AddressFamily;
///
/// let v6: std::net::SocketAddr = "[::1]:80".parse().unwrap();
/// assert_eq!(AddressFamily::of(&v6), AddressFamily::Inet6);
/// assert!(AddressFamily::Unspecified.allows(&v6));
/// assert!(!AddressFamily::Inet.allows(&v6));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AddressFamily {
    /// Any family (as a filter: both IPv4 and IPv6).
    #[default]
    Unspecified,
    /// IPv4.
    Inet,
    /// IPv6.
    Inet6,
    /// UNIX sockets.
    Unix,
}

impl AddressFamily {
    /// The family of an IP address.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::net::AddressFamily;
    ///
    /// let v4: std::net::SocketAddr = "127.0.0.1:80".parse().unwrap();
    /// assert_eq!(AddressFamily::of(&v4), AddressFamily::Inet);
    /// ```
    pub fn of(address: &SocketAddr) -> AddressFamily {
        match address {
            SocketAddr::V4(_) => AddressFamily::Inet,
            SocketAddr::V6(_) => AddressFamily::Inet6,
        }
    }

    /// Whether this family, as a filter, allows `address`.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::net::AddressFamily;
    ///
    /// let v4: std::net::SocketAddr = "127.0.0.1:80".parse().unwrap();
    /// assert!(AddressFamily::Inet.allows(&v4));
    /// assert!(AddressFamily::Unspecified.allows(&v4)); // any family
    /// assert!(!AddressFamily::Inet6.allows(&v4));
    /// ```
    pub fn allows(self, address: &SocketAddr) -> bool {
        self == AddressFamily::Unspecified || self == AddressFamily::of(address)
    }
}

macro_rules! attribute {
    ($(#[$doc:meta])* $name:ident: $value:ty) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name;

        impl TypedAttribute for $name {
            type Value = $value;
        }
    };
}

attribute!(
    /// The local address of a socket or listener.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::TypedAttributeProvider;
    /// use anyio::net::{LocalAddress, SocketAddress};
    ///
    /// # anyio::run(async {
    /// let listener = anyio::create_tcp_listener().local_host("127.0.0.1").await?;
    /// let SocketAddress::Ip(address) = listener.extra::<LocalAddress>()? else {
    ///     unreachable!("a TCP listener has an IP address")
    /// };
    /// assert!(address.ip().is_loopback());
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    LocalAddress: SocketAddress
);
attribute!(
    /// The address of the peer of a connected socket.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::TypedAttributeProvider;
    /// use anyio::net::{LocalPort, RemotePort};
    ///
    /// # anyio::run(async {
    /// let listener = anyio::create_tcp_listener().local_host("127.0.0.1").await?;
    /// let port = listener.extra::<LocalPort>()?;
    /// let client = anyio::connect_tcp("127.0.0.1", port).await?;
    /// assert_eq!(client.extra::<RemotePort>()?, port);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    RemoteAddress: SocketAddress
);
attribute!(
    /// The local port of an IP socket or listener.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::TypedAttributeProvider;
    /// use anyio::net::LocalPort;
    ///
    /// # anyio::run(async {
    /// let listener = anyio::create_tcp_listener().local_host("127.0.0.1").await?;
    /// assert_ne!(listener.extra::<LocalPort>()?, 0); // the port the system chose
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    LocalPort: u16
);
attribute!(
    /// The port of the peer of a connected IP socket.
    ///
    /// # Examples
    ///
    /// See [`RemoteAddress`].
    ///
    /// ```
    /// # let _ = anyio::net::RemotePort;
    /// ```
    RemotePort: u16
);
attribute!(
    /// The address family of a socket or listener.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::TypedAttributeProvider;
    /// use anyio::net::{AddressFamily, Family};
    ///
    /// # anyio::run(async {
    /// let listener = anyio::create_tcp_listener().local_host("127.0.0.1").await?;
    /// assert_eq!(listener.extra::<Family>()?, AddressFamily::Inet);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    Family: AddressFamily
);
attribute!(
    /// The file descriptor of a socket (of a listener's first socket), for code that
    /// needs to set an option anyio does not offer.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::TypedAttributeProvider;
    /// use anyio::net::RawSocket;
    ///
    /// # anyio::run(async {
    /// let listener = anyio::create_tcp_listener().local_host("127.0.0.1").await?;
    /// assert!(listener.extra::<RawSocket>()? >= 0);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    RawSocket: RawFd
);

/// The attributes of an IP socket: local (and remote, when connected) address and port,
/// family and descriptor.
pub(crate) fn ip_socket_attributes(
    local: Option<SocketAddr>,
    remote: Option<SocketAddr>,
    fd: RawFd,
) -> TypedAttributes {
    let mut attributes = TypedAttributes::new();
    if let Some(local) = local {
        attributes.insert::<LocalAddress>(SocketAddress::Ip(local));
        attributes.insert::<LocalPort>(local.port());
        attributes.insert::<Family>(AddressFamily::of(&local));
    }
    if let Some(remote) = remote {
        attributes.insert::<RemoteAddress>(SocketAddress::Ip(remote));
        attributes.insert::<RemotePort>(remote.port());
    }
    attributes.insert::<RawSocket>(fd);
    attributes
}
