//! TCP: `connect_tcp` (Happy Eyeballs, RFC 8305), `create_tcp_listener`, and the
//! `TcpStream` and `TcpListener` they give.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use async_io::Async;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::abc::{AsyncResource, Listener};
use crate::base::duration::IntoDuration;
use crate::base::lock::lock;
use crate::error::{Error, ErrorKind, Result};
use crate::net::attributes::ip_socket_attributes;
use crate::net::stream_io::{self, closed};
use crate::net::{AddressFamily, ToHost, getaddrinfo};
use crate::streams::tls::TlsStream;
use crate::sync::Event;
use crate::typed_attr::{TypedAttributeProvider, TypedAttributes};

/// Happy Eyeballs' default delay before the next attempt starts (RFC 8305 suggests 250 ms).
const DEFAULT_HAPPY_EYEBALLS_DELAY: Duration = Duration::from_millis(250);

/// Connects to `host` at `port` over TCP, racing its addresses (Happy Eyeballs, RFC 8305):
/// the host is resolved once, its addresses are tried in turn alternating IPv6 and IPv4
/// (IPv6 first), each next attempt starts after [`happy_eyeballs_delay`](ConnectTcp::happy_eyeballs_delay)
/// or as soon as the previous one failed, the first connection wins and every other
/// attempt is cancelled and its socket closed. Await it, or set options first.
///
/// The stream has `TCP_NODELAY` set, as in AnyIO.
///
/// # Errors
///
/// When every attempt failed, one error that lists every address tried and why (its
/// kind is the first failure's); an error naming the host when it cannot be resolved.
///
/// # Examples
///
/// ```
/// use anyio::abc::{ByteReceiveStream, ByteSendStream, Listener};
///
/// # anyio::run(async {
/// let mut listener = anyio::create_tcp_listener().local_host("127.0.0.1").await?;
/// let port = anyio::TypedAttributeProvider::extra::<anyio::net::LocalPort>(&listener)?;
/// let mut client = anyio::connect_tcp("127.0.0.1", port).await?;
/// let mut server = listener.accept().await?;
/// client.send(b"ping").await?;
/// assert_eq!(server.receive(64).await?, b"ping");
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
///
/// # Cancel safety
///
/// Cancelled or dropped, every attempt in progress is dropped and its socket closed.
pub fn connect_tcp(host: impl ToHost, port: u16) -> ConnectTcp {
    ConnectTcp {
        target: Target::Host(host.to_host(), port),
        local_host: None,
        local_port: 0,
        happy_eyeballs_delay: DEFAULT_HAPPY_EYEBALLS_DELAY,
    }
}

/// Connects over TCP to the first of `addresses` that answers, racing them as
/// [`connect_tcp`] races a host's addresses (Happy Eyeballs), in the order given: for
/// addresses resolved elsewhere (a resolver of your own, a list from a configuration).
/// The builder's options are those of [`connect_tcp`].
///
/// # Errors
///
/// When every attempt failed (or `addresses` is empty), one error that lists every
/// address tried and why.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let listener = anyio::create_tcp_listener().local_host("127.0.0.1").await?;
/// let port = anyio::TypedAttributeProvider::extra::<anyio::net::LocalPort>(&listener)?;
/// let closed = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?; // dropped: refuses
/// let good = std::net::SocketAddr::from(([127, 0, 0, 1], port));
/// let client = anyio::net::connect_tcp_addresses([closed, good]).await?;
/// let remote = anyio::TypedAttributeProvider::extra::<anyio::net::RemotePort>(&client)?;
/// assert_eq!(remote, port);
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
///
/// # Cancel safety
///
/// As for [`connect_tcp`].
pub fn connect_tcp_addresses(addresses: impl IntoIterator<Item = SocketAddr>) -> ConnectTcp {
    ConnectTcp {
        target: Target::Addresses(addresses.into_iter().collect()),
        local_host: None,
        local_port: 0,
        happy_eyeballs_delay: DEFAULT_HAPPY_EYEBALLS_DELAY,
    }
}

/// What a [`ConnectTcp`] connects to.
#[derive(Debug, Clone)]
enum Target {
    /// A host to resolve, and the port.
    Host(String, u16),
    /// Addresses resolved already, tried in this order.
    Addresses(Vec<SocketAddr>),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Host(host, port) => write!(f, "{host}:{port}"),
            Target::Addresses(addresses) => write!(f, "any of {} addresses", addresses.len()),
        }
    }
}

/// The builder of [`connect_tcp`] and [`connect_tcp_addresses`]: await it to connect.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let listener = anyio::create_tcp_listener().local_host("127.0.0.1").await?;
/// let port = anyio::TypedAttributeProvider::extra::<anyio::net::LocalPort>(&listener)?;
/// let client = anyio::connect_tcp("localhost", port)
///     .happy_eyeballs_delay(0.05)
///     .local_host("127.0.0.1")
///     .await?;
/// let remote = anyio::TypedAttributeProvider::extra::<anyio::net::RemotePort>(&client)?;
/// assert_eq!(remote, port);
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
#[derive(Debug, Clone)]
#[must_use = "connect_tcp does nothing unless awaited"]
pub struct ConnectTcp {
    target: Target,
    local_host: Option<String>,
    local_port: u16,
    happy_eyeballs_delay: Duration,
}

impl ConnectTcp {
    /// Binds the connecting socket to this local address first (an IP address or a name
    /// that resolves to one). Only addresses of the same family are then tried.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::TypedAttributeProvider;
    /// use anyio::net::{LocalAddress, LocalPort, SocketAddress};
    ///
    /// # anyio::run(async {
    /// let listener = anyio::create_tcp_listener().local_host("127.0.0.1").await?;
    /// let port = listener.extra::<LocalPort>()?;
    /// // Bound to 127.0.0.1, the client tries only the IPv4 addresses of "localhost".
    /// let client = anyio::connect_tcp("localhost", port).local_host("127.0.0.1").await?;
    /// let SocketAddress::Ip(local) = client.extra::<LocalAddress>()? else { unreachable!() };
    /// assert_eq!(local.ip(), std::net::Ipv4Addr::LOCALHOST);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn local_host(mut self, host: impl ToHost) -> Self {
        self.local_host = Some(host.to_host());
        self
    }

    /// Binds the connecting socket to this local port first (0: any).
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::TypedAttributeProvider;
    /// use anyio::net::LocalPort;
    ///
    /// # anyio::run(async {
    /// let listener = anyio::create_tcp_listener().local_host("127.0.0.1").await?;
    /// let port = listener.extra::<LocalPort>()?;
    /// // A free port: one the system picks, released at once.
    /// let free = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    /// let client = anyio::connect_tcp("127.0.0.1", port).local_port(free).await?;
    /// assert_eq!(client.extra::<LocalPort>()?, free);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn local_port(mut self, port: u16) -> Self {
        self.local_port = port;
        self
    }

    /// How long an attempt runs alone before the next one starts (default 0.25 s; plain
    /// numbers are seconds).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use anyio::TypedAttributeProvider;
    /// use anyio::net::{LocalPort, RemotePort};
    ///
    /// # anyio::run(async {
    /// let listener = anyio::create_tcp_listener().local_host("127.0.0.1").await?;
    /// let port = listener.extra::<LocalPort>()?;
    /// // If "localhost" is ::1 and 127.0.0.1, the second attempt starts 10 ms after the
    /// // first (or as soon as it fails).
    /// let client = anyio::connect_tcp("localhost", port)
    ///     .happy_eyeballs_delay(Duration::from_millis(10))
    ///     .await?;
    /// assert_eq!(client.extra::<RemotePort>()?, port);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn happy_eyeballs_delay(mut self, delay: impl IntoDuration) -> Self {
        self.happy_eyeballs_delay = delay.into_duration();
        self
    }
}

impl ConnectTcp {
    /// Makes the connection a TLS one, with
    /// [`default_client_config`](crate::streams::tls::default_client_config) (Mozilla's
    /// roots) and the host connected to as the name to verify. Await it for a
    /// [`TlsStream`] over the TCP stream.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use anyio::abc::{ByteReceiveStream, ByteSendStream};
    ///
    /// # anyio::run(async {
    /// let mut stream = anyio::connect_tcp("example.com", 443).tls().await?;
    /// stream.send(b"HEAD / HTTP/1.1\r\nHost: example.com\r\n\r\n").await?;
    /// let head = stream.receive(4096).await?;
    /// assert!(head.starts_with(b"HTTP/1.1"));
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn tls(self) -> ConnectTcpTls {
        ConnectTcpTls {
            tcp: self,
            config: None,
            hostname: None,
            standard_compatible: true,
        }
    }

    /// A TLS connection ([`tls`](ConnectTcp::tls)) with this client configuration
    /// (trusted roots, client certificate, ALPN).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use std::sync::Arc;
    ///
    /// # anyio::run(async {
    /// let mut config = (*anyio::streams::tls::default_client_config()).clone();
    /// config.alpn_protocols = vec![b"h2".to_vec()];
    /// let stream = anyio::connect_tcp("example.com", 443)
    ///     .tls_config(Arc::new(config))
    ///     .await?;
    /// println!("{stream:?}");
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn tls_config(self, config: Arc<rustls::ClientConfig>) -> ConnectTcpTls {
        self.tls().tls_config(config)
    }

    /// A TLS connection ([`tls`](ConnectTcp::tls)) that verifies the certificate against
    /// `hostname` instead of the host connected to (needed after
    /// [`connect_tcp_addresses`]).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # anyio::run(async {
    /// let stream = anyio::connect_tcp("93.184.215.14", 443)
    ///     .tls_hostname("example.com")
    ///     .await?;
    /// println!("{stream:?}");
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn tls_hostname(self, hostname: impl Into<String>) -> ConnectTcpTls {
        self.tls().tls_hostname(hostname)
    }

    /// A TLS connection ([`tls`](ConnectTcp::tls)) that does (`true`, the default) or
    /// does not require close_notify at the end of the peer's data.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # anyio::run(async {
    /// let stream = anyio::connect_tcp("example.com", 443)
    ///     .tls_standard_compatible(false) // an HTTP server may close without it
    ///     .await?;
    /// println!("{stream:?}");
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn tls_standard_compatible(self, standard_compatible: bool) -> ConnectTcpTls {
        self.tls().tls_standard_compatible(standard_compatible)
    }
}

/// The builder of a TLS connection over TCP ([`ConnectTcp::tls`] and its kin): await it
/// for a [`TlsStream`] over a [`TcpStream`].
///
/// # Errors
///
/// Those of [`connect_tcp`], then those of the handshake (see
/// [`TlsStream::connect`]).
///
/// # Cancel safety
///
/// Cancelled or dropped, the attempts in progress and the handshake are dropped, and
/// every socket is closed.
///
/// # Examples
///
/// See [`ConnectTcp::tls`].
///
/// ```
/// # let _ = anyio::connect_tcp("localhost", 443).tls().tls_hostname("localhost");
/// ```
#[derive(Debug)]
#[must_use = "connect_tcp does nothing unless awaited"]
pub struct ConnectTcpTls {
    tcp: ConnectTcp,
    config: Option<Arc<rustls::ClientConfig>>,
    hostname: Option<String>,
    standard_compatible: bool,
}

impl ConnectTcpTls {
    /// As [`ConnectTcp::tls_config`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # anyio::run(async {
    /// # let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    /// # let cert = rustls::pki_types::CertificateDer::from(made.cert.der().to_vec());
    /// # let key = rustls::pki_types::PrivateKeyDer::Pkcs8(made.key_pair.serialize_der().into());
    /// # let server_config = rustls::ServerConfig::builder().with_no_client_auth();
    /// # let server_config = Arc::new(server_config.with_single_cert(vec![cert.clone()], key).unwrap());
    /// # let mut roots = rustls::RootCertStore::empty();
    /// # roots.add(cert).unwrap();
    /// # let client_config = rustls::ClientConfig::builder().with_root_certificates(roots);
    /// # let client_config = Arc::new(client_config.with_no_client_auth());
    /// # let tcp = anyio::create_tcp_listener().local_host("127.0.0.1").await?;
    /// # let port = anyio::TypedAttributeProvider::extra::<anyio::net::LocalPort>(&tcp)?;
    /// # let mut listener = anyio::streams::tls::TlsListener::new(tcp, server_config);
    /// # anyio::task_group!(|tg| {
    /// # tg.start_soon(async {
    /// #     loop {
    /// #         let _ = anyio::abc::Listener::accept(&mut listener).await;
    /// #     }
    /// # });
    /// let stream = anyio::connect_tcp("localhost", port)
    ///     .tls() // the default roots, replaced on the next line
    ///     .tls_config(client_config) // trusts the server's private CA
    ///     .await?;
    /// # drop(stream);
    /// # tg.cancel();
    /// # anyio::Result::Ok(())
    /// # })?;
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn tls_config(mut self, config: Arc<rustls::ClientConfig>) -> Self {
        self.config = Some(config);
        self
    }

    /// As [`ConnectTcp::tls_hostname`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # anyio::run(async {
    /// # let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    /// # let cert = rustls::pki_types::CertificateDer::from(made.cert.der().to_vec());
    /// # let key = rustls::pki_types::PrivateKeyDer::Pkcs8(made.key_pair.serialize_der().into());
    /// # let server_config = rustls::ServerConfig::builder().with_no_client_auth();
    /// # let server_config = Arc::new(server_config.with_single_cert(vec![cert.clone()], key).unwrap());
    /// # let mut roots = rustls::RootCertStore::empty();
    /// # roots.add(cert).unwrap();
    /// # let client_config = rustls::ClientConfig::builder().with_root_certificates(roots);
    /// # let client_config = Arc::new(client_config.with_no_client_auth());
    /// # let tcp = anyio::create_tcp_listener().local_host("127.0.0.1").await?;
    /// # let port = anyio::TypedAttributeProvider::extra::<anyio::net::LocalPort>(&tcp)?;
    /// # let mut listener = anyio::streams::tls::TlsListener::new(tcp, server_config);
    /// # anyio::task_group!(|tg| {
    /// # tg.start_soon(async {
    /// #     loop {
    /// #         let _ = anyio::abc::Listener::accept(&mut listener).await;
    /// #     }
    /// # });
    /// let stream = anyio::connect_tcp("127.0.0.1", port)
    ///     .tls_config(client_config)
    ///     .tls_hostname("localhost") // the name in the certificate
    ///     .await?;
    /// # drop(stream);
    /// # tg.cancel();
    /// # anyio::Result::Ok(())
    /// # })?;
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn tls_hostname(mut self, hostname: impl Into<String>) -> Self {
        self.hostname = Some(hostname.into());
        self
    }

    /// As [`ConnectTcp::tls_standard_compatible`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # anyio::run(async {
    /// # let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    /// # let cert = rustls::pki_types::CertificateDer::from(made.cert.der().to_vec());
    /// # let key = rustls::pki_types::PrivateKeyDer::Pkcs8(made.key_pair.serialize_der().into());
    /// # let server_config = rustls::ServerConfig::builder().with_no_client_auth();
    /// # let server_config = Arc::new(server_config.with_single_cert(vec![cert.clone()], key).unwrap());
    /// # let mut roots = rustls::RootCertStore::empty();
    /// # roots.add(cert).unwrap();
    /// # let client_config = rustls::ClientConfig::builder().with_root_certificates(roots);
    /// # let client_config = Arc::new(client_config.with_no_client_auth());
    /// # let tcp = anyio::create_tcp_listener().local_host("127.0.0.1").await?;
    /// # let port = anyio::TypedAttributeProvider::extra::<anyio::net::LocalPort>(&tcp)?;
    /// # let mut listener = anyio::streams::tls::TlsListener::new(tcp, server_config);
    /// # anyio::task_group!(|tg| {
    /// # tg.start_soon(async {
    /// #     loop {
    /// #         let _ = anyio::abc::Listener::accept(&mut listener).await;
    /// #     }
    /// # });
    /// let stream = anyio::connect_tcp("localhost", port)
    ///     .tls_config(client_config)
    ///     .tls_standard_compatible(false)
    ///     .await?;
    /// let relaxed = anyio::TypedAttributeProvider::extra::<anyio::streams::tls::StandardCompatible>(&stream)?;
    /// assert!(!relaxed);
    /// # tg.cancel();
    /// # anyio::Result::Ok(())
    /// # })?;
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn tls_standard_compatible(mut self, standard_compatible: bool) -> Self {
        self.standard_compatible = standard_compatible;
        self
    }

    /// As [`ConnectTcp::local_host`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # anyio::run(async {
    /// # let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    /// # let cert = rustls::pki_types::CertificateDer::from(made.cert.der().to_vec());
    /// # let key = rustls::pki_types::PrivateKeyDer::Pkcs8(made.key_pair.serialize_der().into());
    /// # let server_config = rustls::ServerConfig::builder().with_no_client_auth();
    /// # let server_config = Arc::new(server_config.with_single_cert(vec![cert.clone()], key).unwrap());
    /// # let mut roots = rustls::RootCertStore::empty();
    /// # roots.add(cert).unwrap();
    /// # let client_config = rustls::ClientConfig::builder().with_root_certificates(roots);
    /// # let client_config = Arc::new(client_config.with_no_client_auth());
    /// # let tcp = anyio::create_tcp_listener().local_host("127.0.0.1").await?;
    /// # let port = anyio::TypedAttributeProvider::extra::<anyio::net::LocalPort>(&tcp)?;
    /// # let mut listener = anyio::streams::tls::TlsListener::new(tcp, server_config);
    /// # anyio::task_group!(|tg| {
    /// # tg.start_soon(async {
    /// #     loop {
    /// #         let _ = anyio::abc::Listener::accept(&mut listener).await;
    /// #     }
    /// # });
    /// let stream = anyio::connect_tcp("localhost", port)
    ///     .tls_config(client_config)
    ///     .local_host("127.0.0.1")
    ///     .await?;
    /// # drop(stream);
    /// # tg.cancel();
    /// # anyio::Result::Ok(())
    /// # })?;
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn local_host(mut self, host: impl ToHost) -> Self {
        self.tcp = self.tcp.local_host(host);
        self
    }

    /// As [`ConnectTcp::local_port`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # anyio::run(async {
    /// # let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    /// # let cert = rustls::pki_types::CertificateDer::from(made.cert.der().to_vec());
    /// # let key = rustls::pki_types::PrivateKeyDer::Pkcs8(made.key_pair.serialize_der().into());
    /// # let server_config = rustls::ServerConfig::builder().with_no_client_auth();
    /// # let server_config = Arc::new(server_config.with_single_cert(vec![cert.clone()], key).unwrap());
    /// # let mut roots = rustls::RootCertStore::empty();
    /// # roots.add(cert).unwrap();
    /// # let client_config = rustls::ClientConfig::builder().with_root_certificates(roots);
    /// # let client_config = Arc::new(client_config.with_no_client_auth());
    /// # let tcp = anyio::create_tcp_listener().local_host("127.0.0.1").await?;
    /// # let port = anyio::TypedAttributeProvider::extra::<anyio::net::LocalPort>(&tcp)?;
    /// # let mut listener = anyio::streams::tls::TlsListener::new(tcp, server_config);
    /// # anyio::task_group!(|tg| {
    /// # tg.start_soon(async {
    /// #     loop {
    /// #         let _ = anyio::abc::Listener::accept(&mut listener).await;
    /// #     }
    /// # });
    /// let free = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    /// let stream = anyio::connect_tcp("localhost", port)
    ///     .tls_config(client_config)
    ///     .local_port(free)
    ///     .await?;
    /// let local = anyio::TypedAttributeProvider::extra::<anyio::net::LocalPort>(&stream)?;
    /// assert_eq!(local, free);
    /// # tg.cancel();
    /// # anyio::Result::Ok(())
    /// # })?;
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn local_port(mut self, port: u16) -> Self {
        self.tcp = self.tcp.local_port(port);
        self
    }

    /// As [`ConnectTcp::happy_eyeballs_delay`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # anyio::run(async {
    /// # let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    /// # let cert = rustls::pki_types::CertificateDer::from(made.cert.der().to_vec());
    /// # let key = rustls::pki_types::PrivateKeyDer::Pkcs8(made.key_pair.serialize_der().into());
    /// # let server_config = rustls::ServerConfig::builder().with_no_client_auth();
    /// # let server_config = Arc::new(server_config.with_single_cert(vec![cert.clone()], key).unwrap());
    /// # let mut roots = rustls::RootCertStore::empty();
    /// # roots.add(cert).unwrap();
    /// # let client_config = rustls::ClientConfig::builder().with_root_certificates(roots);
    /// # let client_config = Arc::new(client_config.with_no_client_auth());
    /// # let tcp = anyio::create_tcp_listener().local_host("127.0.0.1").await?;
    /// # let port = anyio::TypedAttributeProvider::extra::<anyio::net::LocalPort>(&tcp)?;
    /// # let mut listener = anyio::streams::tls::TlsListener::new(tcp, server_config);
    /// # anyio::task_group!(|tg| {
    /// # tg.start_soon(async {
    /// #     loop {
    /// #         let _ = anyio::abc::Listener::accept(&mut listener).await;
    /// #     }
    /// # });
    /// let stream = anyio::connect_tcp("localhost", port)
    ///     .tls_config(client_config)
    ///     .happy_eyeballs_delay(0.1)
    ///     .await?;
    /// # drop(stream);
    /// # tg.cancel();
    /// # anyio::Result::Ok(())
    /// # })?;
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn happy_eyeballs_delay(mut self, delay: impl IntoDuration) -> Self {
        self.tcp = self.tcp.happy_eyeballs_delay(delay);
        self
    }
}

impl IntoFuture for ConnectTcpTls {
    type Output = Result<TlsStream<TcpStream>>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<TlsStream<TcpStream>>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let hostname = match (self.hostname, &self.tcp.target) {
                (Some(hostname), _) => hostname,
                (None, Target::Host(host, _)) => host.clone(),
                (None, Target::Addresses(_)) => {
                    return Err(Error::new(
                        ErrorKind::Io(io::ErrorKind::InvalidInput),
                        "a TLS connection to addresses needs a name to verify: set tls_hostname",
                    ));
                }
            };
            let tcp = self.tcp.connect().await?;
            let mut handshake =
                TlsStream::connect(tcp, hostname).standard_compatible(self.standard_compatible);
            if let Some(config) = self.config {
                handshake = handshake.config(config);
            }
            handshake.await
        })
    }
}

impl IntoFuture for ConnectTcp {
    type Output = Result<TcpStream>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<TcpStream>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.connect())
    }
}

impl ConnectTcp {
    async fn connect(self) -> Result<TcpStream> {
        // A local port alone is bound per attempt, in the attempt's family.
        let local = match &self.local_host {
            Some(host) => Some(getaddrinfo(host.as_str(), self.local_port).await?[0]),
            None => None,
        };
        let family = local.map_or(AddressFamily::Unspecified, |l| AddressFamily::of(&l));
        let attempts = match &self.target {
            Target::Host(host, port) => {
                interleave_families(getaddrinfo(host.as_str(), *port).family(family).await?)
            }
            Target::Addresses(addresses) => {
                crate::lowlevel::checkpoint_if_cancelled().await;
                let usable: Vec<SocketAddr> = addresses
                    .iter()
                    .copied()
                    .filter(|address| family.allows(address))
                    .collect();
                if usable.is_empty() {
                    return Err(Error::new(
                        ErrorKind::Io(io::ErrorKind::InvalidInput),
                        format!(
                            "no address to connect to: {addresses:?} has none of the family {family:?}"
                        ),
                    ));
                }
                usable
            }
        };
        let stream = happy_eyeballs(&attempts, local, self.local_port, self.happy_eyeballs_delay)
            .await
            .map_err(|failures| {
                let details: Vec<String> = failures
                    .iter()
                    .map(|(address, error)| format!("{address}: {error}"))
                    .collect();
                let kind = failures
                    .first()
                    .map_or(ErrorKind::Other, |(_, error)| ErrorKind::Io(error.kind()));
                Error::new(
                    kind,
                    format!(
                        "could not connect to {} (tried {}): {}",
                        self.target,
                        failures.len(),
                        details.join("; ")
                    ),
                )
            })?;
        TcpStream::from_async(stream)
    }
}

/// The addresses in the order RFC 8305 tries them: alternating families, starting with
/// the family of the first address (the resolver's preference; IPv6 on a dual-stack host).
fn interleave_families(addresses: Vec<SocketAddr>) -> Vec<SocketAddr> {
    let first_is_v6 = addresses.first().is_some_and(SocketAddr::is_ipv6);
    let (mut preferred, mut other): (Vec<_>, Vec<_>) = addresses
        .into_iter()
        .partition(|address| address.is_ipv6() == first_is_v6);
    preferred.reverse();
    other.reverse();
    let mut ordered = Vec::with_capacity(preferred.len() + other.len());
    loop {
        match (preferred.pop(), other.pop()) {
            (None, None) => return ordered,
            (a, b) => ordered.extend(a.into_iter().chain(b)),
        }
    }
}

/// Races connection attempts to `addresses` in order, each after the previous one failed
/// or ran `delay` alone. The first connection wins; the others are dropped (closing their
/// sockets). With none, every attempt's failure.
async fn happy_eyeballs(
    addresses: &[SocketAddr],
    local: Option<SocketAddr>,
    local_port: u16,
    delay: Duration,
) -> std::result::Result<Async<std::net::TcpStream>, Vec<(SocketAddr, io::Error)>> {
    // One address: no race to run (and no group, timer or event to pay for).
    if let [address] = addresses {
        return connect_one(*address, local, local_port)
            .await
            .map_err(|error| vec![(*address, error)]);
    }
    let winner: Mutex<Option<Async<std::net::TcpStream>>> = Mutex::new(None);
    let failures: Mutex<Vec<(SocketAddr, io::Error)>> = Mutex::new(Vec::new());
    // Set when attempt `i` has failed: the next one need not wait for the delay.
    let failed: Vec<Event> = addresses.iter().map(|_| Event::new()).collect();
    let group = crate::TaskGroup::new();
    let tg = &group;
    let (winner_ref, failures_ref, failed_ref) = (&winner, &failures, &failed);
    let _ = group
        .run(async move {
            for (&address, failed) in addresses.iter().zip(failed_ref) {
                tg.start_soon(async move {
                    match connect_one(address, local, local_port).await {
                        Ok(stream) => {
                            let mut winner = lock(winner_ref);
                            if winner.is_none() {
                                *winner = Some(stream);
                                // The others lose: cancelled, their sockets closed.
                                tg.cancel();
                            }
                        }
                        Err(error) => {
                            lock(failures_ref).push((address, error));
                            failed.set();
                        }
                    }
                });
                // The next attempt starts after the delay, or at once if this one failed.
                let _ = crate::move_on_after(delay, failed.wait()).await;
            }
        })
        .await;
    match winner.into_inner().unwrap_or_else(|e| e.into_inner()) {
        Some(stream) => Ok(stream),
        None => Err(failures.into_inner().unwrap_or_else(|e| e.into_inner())),
    }
}

/// One connection attempt, on a socket bound first to `local` or `local_port` if given.
async fn connect_one(
    address: SocketAddr,
    local: Option<SocketAddr>,
    local_port: u16,
) -> io::Result<Async<std::net::TcpStream>> {
    let socket = Socket::new(
        Domain::for_address(address),
        Type::STREAM,
        Some(Protocol::TCP),
    )?;
    socket.set_nonblocking(true)?;
    socket.set_cloexec(true)?;
    let bind_to = local.or_else(|| {
        (local_port != 0).then(|| match address {
            SocketAddr::V4(_) => SocketAddr::from(([0, 0, 0, 0], local_port)),
            SocketAddr::V6(_) => SocketAddr::from(([0u16; 8], local_port)),
        })
    });
    if let Some(bind_to) = bind_to {
        socket.bind(&SockAddr::from(bind_to))?;
    }
    match socket.connect(&SockAddr::from(address)) {
        Ok(()) => {}
        Err(error)
            if error.raw_os_error() == Some(libc::EINPROGRESS)
                || error.kind() == io::ErrorKind::WouldBlock => {}
        Err(error) => return Err(error),
    }
    let stream = Async::new(std::net::TcpStream::from(socket))?;
    // Writable once the connection is made or has failed; the socket says which.
    stream.writable().await?;
    if let Some(error) = stream.get_ref().take_error()? {
        return Err(error);
    }
    // Connected for sure only if the peer's address can be read.
    stream.get_ref().peer_addr()?;
    Ok(stream)
}

/// A TCP connection: a [`ByteStream`](crate::abc::ByteStream) (and `futures_io::AsyncRead` / `AsyncWrite`).
///
/// Its typed attributes: [`LocalAddress`](crate::net::LocalAddress),
/// [`RemoteAddress`](crate::net::RemoteAddress), [`LocalPort`](crate::net::LocalPort),
/// [`RemotePort`](crate::net::RemotePort), [`Family`](crate::net::Family) and
/// [`RawSocket`](crate::net::RawSocket).
///
/// # Cancel safety
///
/// `receive` is cancel-safe: cancelled or dropped before it returned, it took no bytes.
/// A `send` cancelled halfway may have sent part of its bytes.
///
/// # Examples
///
/// ```
/// use anyio::abc::{ByteReceiveStream, ByteSendStream, ByteStream, Listener};
///
/// # anyio::run(async {
/// let mut listener = anyio::create_tcp_listener().local_host("127.0.0.1").await?;
/// let port = anyio::TypedAttributeProvider::extra::<anyio::net::LocalPort>(&listener)?;
/// let mut client = anyio::connect_tcp("127.0.0.1", port).await?;
/// let mut server = listener.accept().await?;
/// client.send(b"hello").await?;
/// client.send_eof().await?;
/// assert_eq!(server.receive(64).await?, b"hello");
/// let end = server.receive(64).await.unwrap_err();
/// assert_eq!(end.kind(), anyio::ErrorKind::EndOfStream);
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
pub struct TcpStream {
    /// `None` once closed.
    inner: Option<Async<std::net::TcpStream>>,
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stream = self.inner.as_ref().map(Async::get_ref);
        f.debug_struct("TcpStream")
            .field("local", &stream.and_then(|s| s.local_addr().ok()))
            .field("remote", &stream.and_then(|s| s.peer_addr().ok()))
            .finish()
    }
}

impl TcpStream {
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
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let std_stream = std::net::TcpStream::connect(listener.local_addr()?)?;
    /// let stream = anyio::net::TcpStream::from_std(std_stream)?;
    /// assert!(format!("{stream:?}").contains("127.0.0.1"));
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn from_std(stream: std::net::TcpStream) -> Result<TcpStream> {
        TcpStream::from_async(Async::new(stream)?)
    }

    fn from_async(stream: Async<std::net::TcpStream>) -> Result<TcpStream> {
        stream.get_ref().set_nodelay(true)?;
        Ok(TcpStream {
            inner: Some(stream),
        })
    }

    /// Sets `TCP_NODELAY` (on by default: small writes go out at once).
    ///
    /// # Errors
    ///
    /// The system's error, or [`ErrorKind::ClosedResource`] once closed.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let std_stream = std::net::TcpStream::connect(listener.local_addr()?)?;
    /// let stream = anyio::net::TcpStream::from_std(std_stream)?;
    /// stream.set_nodelay(false)?;
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn set_nodelay(&self, nodelay: bool) -> Result<()> {
        Ok(self.socket()?.get_ref().set_nodelay(nodelay)?)
    }

    /// Up to `buffer.len()` bytes into `buffer` (0 at the peer's close), with no
    /// allocation: for layers above (TLS) that keep a buffer of their own.
    pub(crate) async fn receive_into(&mut self, buffer: &mut [u8]) -> Result<usize> {
        stream_io::receive_into(self.socket()?, buffer, "TCP").await
    }

    fn socket(&self) -> Result<&Async<std::net::TcpStream>> {
        self.inner.as_ref().ok_or_else(|| closed("TCP"))
    }
}

impl TypedAttributeProvider for TcpStream {
    fn extra_attributes(&self) -> TypedAttributes {
        match &self.inner {
            Some(stream) => {
                let socket = stream.get_ref();
                ip_socket_attributes(
                    socket.local_addr().ok(),
                    socket.peer_addr().ok(),
                    socket.as_raw_fd(),
                )
            }
            None => TypedAttributes::new(),
        }
    }
}

stream_io::socket_stream_impls!(TcpStream, "TCP");
stream_io::socket_stream_halves!(
    TcpStream,
    TcpReceiveHalf,
    TcpSendHalf,
    "TCP",
    r#"
```
use anyio::abc::{ByteReceiveStream, ByteSendStream, Listener};

# anyio::run(async {
let mut listener = anyio::create_tcp_listener().local_host("127.0.0.1").await?;
let port = anyio::TypedAttributeProvider::extra::<anyio::net::LocalPort>(&listener)?;
let mut client = anyio::connect_tcp("127.0.0.1", port).await?;
let mut server = listener.accept().await?;
let (mut reader, mut writer) = client.split();
anyio::task_group!(|tg| {
    tg.start_soon(async move { writer.send(b"sent while reading").await });
    let echoed = async {
        let request = server.receive(64).await?;
        server.send(&request).await
    };
    echoed.await?;
    assert_eq!(reader.receive(64).await?, b"sent while reading");
    anyio::Result::Ok(())
})?;
# anyio::Result::Ok(()) }).unwrap();
```
"#
);

/// Listens for TCP connections on every address of its local host (for the default, on
/// all interfaces over IPv4 and IPv6, with one port for both). Await it, or set options
/// first.
///
/// # Errors
///
/// The system's error of creating, binding or listening on a socket, naming the address.
///
/// # Examples
///
/// ```
/// use anyio::TypedAttributeProvider;
/// use anyio::net::LocalPort;
///
/// # anyio::run(async {
/// let listener = anyio::create_tcp_listener()
///     .local_host("127.0.0.1")
///     .backlog(128)
///     .await?;
/// assert_ne!(listener.extra::<LocalPort>()?, 0);
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
pub fn create_tcp_listener() -> CreateTcpListener {
    CreateTcpListener {
        local_host: None,
        local_port: 0,
        family: AddressFamily::Unspecified,
        backlog: 65_536,
        reuse_port: false,
    }
}

/// The builder of [`create_tcp_listener`]: await it to listen.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let builder: anyio::net::CreateTcpListener =
///     anyio::create_tcp_listener().local_host("::1").local_port(0);
/// let listener = builder.await?;
/// assert!(listener.local_addresses()[0].is_ipv6());
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
#[derive(Debug, Clone)]
#[must_use = "create_tcp_listener does nothing unless awaited"]
pub struct CreateTcpListener {
    local_host: Option<String>,
    local_port: u16,
    family: AddressFamily,
    backlog: u32,
    reuse_port: bool,
}

impl CreateTcpListener {
    /// The host to listen on (default: all interfaces, IPv4 and IPv6).
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let listener = anyio::create_tcp_listener().local_host("127.0.0.1").await?;
    /// assert_eq!(listener.local_addresses()[0].ip(), std::net::Ipv4Addr::LOCALHOST);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn local_host(mut self, host: impl ToHost) -> Self {
        self.local_host = Some(host.to_host());
        self
    }

    /// The port to listen on (default 0: one the system chooses, the same for every
    /// address).
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::TypedAttributeProvider;
    /// use anyio::net::LocalPort;
    ///
    /// # anyio::run(async {
    /// // A free port: one the system picks, released at once.
    /// let free = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    /// let listener = anyio::create_tcp_listener()
    ///     .local_host("127.0.0.1")
    ///     .local_port(free)
    ///     .await?;
    /// assert_eq!(listener.extra::<LocalPort>()?, free);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn local_port(mut self, port: u16) -> Self {
        self.local_port = port;
        self
    }

    /// Only addresses of this family (default: any).
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::TypedAttributeProvider;
    /// use anyio::net::{AddressFamily, Family};
    ///
    /// # anyio::run(async {
    /// let listener = anyio::create_tcp_listener()
    ///     .local_host("localhost")
    ///     .family(AddressFamily::Inet) // 127.0.0.1, not ::1
    ///     .await?;
    /// assert_eq!(listener.extra::<Family>()?, AddressFamily::Inet);
    /// assert!(listener.local_addresses().iter().all(|a| a.is_ipv4()));
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn family(mut self, family: AddressFamily) -> Self {
        self.family = family;
        self
    }

    /// The length of the queue of connections not yet accepted (default 65536, capped
    /// by the system).
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::TypedAttributeProvider;
    /// use anyio::abc::Listener;
    /// use anyio::net::LocalPort;
    ///
    /// # anyio::run(async {
    /// let mut listener = anyio::create_tcp_listener()
    ///     .local_host("127.0.0.1")
    ///     .backlog(8)
    ///     .await?;
    /// let port = listener.extra::<LocalPort>()?;
    /// let _client = anyio::connect_tcp("127.0.0.1", port).await?; // queued until accepted
    /// let server = listener.accept().await?;
    /// assert_eq!(server.extra::<LocalPort>()?, port);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn backlog(mut self, backlog: u32) -> Self {
        self.backlog = backlog;
        self
    }

    /// Sets `SO_REUSEPORT`, so that several listeners can share the port.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::TypedAttributeProvider;
    /// use anyio::net::LocalPort;
    ///
    /// # anyio::run(async {
    /// let first = anyio::create_tcp_listener()
    ///     .local_host("127.0.0.1")
    ///     .reuse_port(true)
    ///     .await?;
    /// let port = first.extra::<LocalPort>()?;
    /// let second = anyio::create_tcp_listener()
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

impl IntoFuture for CreateTcpListener {
    type Output = Result<TcpListener>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<TcpListener>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.listen())
    }
}

impl CreateTcpListener {
    async fn listen(self) -> Result<TcpListener> {
        let addresses: Vec<SocketAddr> = match &self.local_host {
            Some(host) => {
                getaddrinfo(host.as_str(), self.local_port)
                    .family(self.family)
                    .await?
            }
            None => [
                SocketAddr::from(([0u16; 8], self.local_port)),
                SocketAddr::from(([0, 0, 0, 0], self.local_port)),
            ]
            .into_iter()
            .filter(|address| self.family.allows(address))
            .collect(),
        };
        let mut port = self.local_port;
        let mut listeners = Vec::with_capacity(addresses.len());
        for mut address in addresses {
            if port != 0 {
                address.set_port(port);
            }
            match self.bind(address) {
                Ok(listener) => {
                    port = listener.get_ref().local_addr()?.port();
                    listeners.push(listener);
                }
                // A host without IPv6 still listens on IPv4 when no host was given.
                Err(error) if self.local_host.is_none() && address.is_ipv6() => {
                    let _ = error;
                }
                Err(error) => {
                    return Err(Error::with_source(
                        ErrorKind::Io(error.kind()),
                        format!("could not listen on {address}: {error}"),
                        error,
                    ));
                }
            }
        }
        if listeners.is_empty() {
            return Err(Error::new(
                ErrorKind::Io(io::ErrorKind::AddrNotAvailable),
                "no address to listen on",
            ));
        }
        Ok(TcpListener { listeners })
    }

    fn bind(&self, address: SocketAddr) -> io::Result<Async<std::net::TcpListener>> {
        let socket = Socket::new(
            Domain::for_address(address),
            Type::STREAM,
            Some(Protocol::TCP),
        )?;
        socket.set_cloexec(true)?;
        socket.set_reuse_address(true)?;
        if self.reuse_port {
            socket.set_reuse_port(true)?;
        }
        if address.is_ipv6() {
            // One socket per family, as AnyIO: the IPv6 one does not take IPv4 too.
            socket.set_only_v6(true)?;
        }
        socket.bind(&SockAddr::from(address))?;
        socket.listen(i32::try_from(self.backlog).unwrap_or(i32::MAX))?;
        Async::new(std::net::TcpListener::from(socket))
    }
}

/// A TCP listener on one or more sockets (one per address of its local host): a
/// [`Listener`] of [`TcpStream`]s.
///
/// # Cancel safety
///
/// `accept` is cancel-safe: cancelled or dropped before it returned, it took no
/// connection (the next `accept` gets it).
///
/// # Examples
///
/// ```
/// use anyio::abc::{ByteReceiveStream, ByteSendStream, Listener};
/// use anyio::net::LocalPort;
/// use anyio::TypedAttributeProvider;
///
/// # anyio::run(async {
/// let mut listener = anyio::create_tcp_listener().local_host("127.0.0.1").await?;
/// let port = listener.extra::<LocalPort>()?;
/// anyio::task_group!(|tg| {
///     tg.start_soon(async {
///         let mut client = anyio::connect_tcp("127.0.0.1", port).await?;
///         client.send(b"hi").await
///     });
///     let mut server = listener.accept().await?;
///     assert_eq!(server.receive(64).await?, b"hi");
///     anyio::Result::Ok(())
/// })?;
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
pub struct TcpListener {
    listeners: Vec<Async<std::net::TcpListener>>,
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let addresses: Vec<_> = self
            .listeners
            .iter()
            .filter_map(|l| l.get_ref().local_addr().ok())
            .collect();
        f.debug_struct("TcpListener")
            .field("addresses", &addresses)
            .finish()
    }
}

impl TcpListener {
    /// The local addresses of its sockets.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let listener = anyio::create_tcp_listener().local_host("127.0.0.1").await?;
    /// assert_eq!(listener.local_addresses().len(), 1);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn local_addresses(&self) -> Vec<SocketAddr> {
        self.listeners
            .iter()
            .filter_map(|l| l.get_ref().local_addr().ok())
            .collect()
    }

    /// `Ready` with a connection from any of the sockets; registers for readiness on
    /// each that has none.
    fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<std::net::TcpStream>> {
        for listener in &self.listeners {
            loop {
                match listener.get_ref().accept() {
                    Ok((stream, _)) => return Poll::Ready(Ok(stream)),
                    Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                        match listener.poll_readable(cx) {
                            Poll::Ready(Ok(())) => continue,
                            Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                            Poll::Pending => break,
                        }
                    }
                    Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                    Err(error) => return Poll::Ready(Err(error)),
                }
            }
        }
        Poll::Pending
    }
}

impl AsyncResource for TcpListener {
    async fn aclose(&mut self) -> Result<()> {
        self.listeners.clear();
        Ok(())
    }
}

impl TypedAttributeProvider for TcpListener {
    fn extra_attributes(&self) -> TypedAttributes {
        match self.listeners.first() {
            Some(listener) => {
                let socket = listener.get_ref();
                ip_socket_attributes(socket.local_addr().ok(), None, socket.as_raw_fd())
            }
            None => TypedAttributes::new(),
        }
    }
}

impl Listener for TcpListener {
    type Stream = TcpStream;

    async fn accept(&mut self) -> Result<TcpStream> {
        crate::lowlevel::checkpoint_if_cancelled().await;
        if self.listeners.is_empty() {
            return Err(Error::new(
                ErrorKind::ClosedResource,
                "this TCP listener was closed",
            ));
        }
        let stream = std::future::poll_fn(|cx| self.poll_accept(cx)).await?;
        TcpStream::from_std(stream)
    }
}
