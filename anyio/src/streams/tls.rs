//! TLS over any byte stream, on rustls (with its `ring` provider): [`TlsStream`], the
//! client and server handshakes that make one, and [`TlsListener`], which serves TLS on
//! any listener.
//!
//! The stream drives rustls itself rather than through futures-rustls: it feeds rustls
//! one whole TLS record at a time, so that after the peer's close_notify the bytes that
//! follow it are still the stream's to give back ([`TlsStream::unwrap`], AnyIO's
//! STARTTLS-style unwrap), and it works over any [`ByteStream`], not only over
//! `futures_io` types.
//!
//! # Examples
//!
//! A TLS session over an in-memory pair of byte streams, with a certificate made for
//! the occasion:
//!
//! ```
//! use std::sync::Arc;
//! use anyio::abc::{ByteReceiveStream, ByteSendStream};
//! use anyio::streams::object_bytes::memory_byte_stream_pair;
//! use anyio::streams::tls::TlsStream;
//! # use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
//!
//! # anyio::run(async {
//! # let made = rcgen::generate_simple_self_signed(vec!["example.test".to_owned()]).unwrap();
//! # let cert = CertificateDer::from(made.cert.der().to_vec());
//! # let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(made.key_pair.serialize_der()));
//! // A server configuration with a certificate for "example.test", and a client that
//! // trusts that certificate.
//! let server_config = rustls::ServerConfig::builder()
//!     .with_no_client_auth()
//!     .with_single_cert(vec![cert.clone()], key)
//!     .unwrap();
//! let mut roots = rustls::RootCertStore::empty();
//! roots.add(cert).unwrap();
//! let client_config = rustls::ClientConfig::builder()
//!     .with_root_certificates(roots)
//!     .with_no_client_auth();
//!
//! let (client_side, server_side) = memory_byte_stream_pair(16);
//! let (mut client, mut server) = anyio::gather!(
//!     TlsStream::connect(client_side, "example.test").config(Arc::new(client_config)),
//!     TlsStream::accept(server_side, Arc::new(server_config)),
//! )?;
//! client.send(b"secret").await?;
//! assert_eq!(server.receive(64).await?, b"secret");
//! # anyio::Result::Ok(()) }).unwrap();
//! ```

use std::fmt;
use std::future::{Future, IntoFuture};
use std::io::{self, Read, Write};
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use rustls::pki_types::{CertificateDer, ServerName as PkiServerName};
use rustls::{ClientConfig, ClientConnection, Connection, ServerConfig, ServerConnection};

use crate::abc::{AsyncResource, ByteReceiveStream, ByteSendStream, ByteStream, Listener};
use crate::error::{Error, ErrorKind, Result};
use crate::time::IntoDuration;
use crate::typed_attr::{TypedAttribute, TypedAttributeProvider, TypedAttributes};

/// The header of a TLS record: content type, version (2 bytes), length (2 bytes).
const RECORD_HEADER: usize = 5;
/// The longest record a peer may send (2^14 plus the largest expansion TLS allows).
const MAX_RECORD: usize = 16_384 + 2_048;
/// How much a fill asks the transport for at once.
const FILL_CHUNK: usize = 18_437;

macro_rules! tls_attribute {
    ($(#[$doc:meta])* $name:ident: $value:ty) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name;

        impl TypedAttribute for $name {
            type Value = $value;
        }
    };
}

tls_attribute!(
    /// The application protocol (ALPN) the two ends agreed on, if they agreed on one.
    ///
    /// # Examples
    ///
    /// See the [module](self) example; after the handshake:
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use anyio::streams::tls::TlsStream;
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
    /// # let (a, b) = anyio::streams::object_bytes::memory_byte_stream_pair(16);
    /// # let (stream, server) = anyio::gather!(
    /// #     TlsStream::connect(a, "localhost").config(client_config),
    /// #     TlsStream::accept(b, server_config),
    /// # )?;
    /// use anyio::TypedAttributeProvider;
    /// use anyio::streams::tls::AlpnProtocol;
    /// if stream.extra::<AlpnProtocol>()?.as_deref() == Some(&b"h2"[..]) {
    ///     // speak HTTP/2
    /// }
    /// # let _ = (stream, server);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    AlpnProtocol: Option<Vec<u8>>
);
tls_attribute!(
    /// The certificate chain the peer presented (DER), its own certificate first; empty
    /// when it presented none (a client, unless the server asked for one).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use anyio::streams::tls::TlsStream;
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
    /// # let (a, b) = anyio::streams::object_bytes::memory_byte_stream_pair(16);
    /// # let (stream, server) = anyio::gather!(
    /// #     TlsStream::connect(a, "localhost").config(client_config),
    /// #     TlsStream::accept(b, server_config),
    /// # )?;
    /// use anyio::TypedAttributeProvider;
    /// use anyio::streams::tls::PeerCertificates;
    /// let chain = stream.extra::<PeerCertificates>()?;
    /// println!("the peer sent {} certificates", chain.len());
    /// # let _ = (stream, server);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    PeerCertificates: Vec<CertificateDer<'static>>
);
tls_attribute!(
    /// The name of the negotiated cipher suite, e.g. `"TLS13_AES_256_GCM_SHA384"`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use anyio::streams::tls::TlsStream;
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
    /// # let (a, b) = anyio::streams::object_bytes::memory_byte_stream_pair(16);
    /// # let (stream, server) = anyio::gather!(
    /// #     TlsStream::connect(a, "localhost").config(client_config),
    /// #     TlsStream::accept(b, server_config),
    /// # )?;
    /// use anyio::TypedAttributeProvider;
    /// use anyio::streams::tls::CipherSuite;
    /// assert!(stream.extra::<CipherSuite>()?.starts_with("TLS"));
    /// # let _ = (stream, server);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    CipherSuite: String
);
tls_attribute!(
    /// The negotiated protocol version: `"TLSv1.3"` or `"TLSv1.2"`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use anyio::streams::tls::TlsStream;
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
    /// # let (a, b) = anyio::streams::object_bytes::memory_byte_stream_pair(16);
    /// # let (stream, server) = anyio::gather!(
    /// #     TlsStream::connect(a, "localhost").config(client_config),
    /// #     TlsStream::accept(b, server_config),
    /// # )?;
    /// use anyio::TypedAttributeProvider;
    /// use anyio::streams::tls::TlsVersion;
    /// assert!(stream.extra::<TlsVersion>()?.starts_with("TLSv"));
    /// # let _ = (stream, server);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    TlsVersion: String
);
tls_attribute!(
    /// Whether this end is the server.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use anyio::streams::tls::TlsStream;
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
    /// # let (a, b) = anyio::streams::object_bytes::memory_byte_stream_pair(16);
    /// # let (stream, server) = anyio::gather!(
    /// #     TlsStream::connect(a, "localhost").config(client_config),
    /// #     TlsStream::accept(b, server_config),
    /// # )?;
    /// use anyio::TypedAttributeProvider;
    /// use anyio::streams::tls::ServerSide;
    /// assert!(!stream.extra::<ServerSide>()?);
    /// assert!(server.extra::<ServerSide>()?);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    ServerSide: bool
);
tls_attribute!(
    /// Whether the stream sends and requires close_notify (see
    /// [`TlsConnect::standard_compatible`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use anyio::streams::tls::TlsStream;
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
    /// # let (a, b) = anyio::streams::object_bytes::memory_byte_stream_pair(16);
    /// # let (stream, server) = anyio::gather!(
    /// #     TlsStream::connect(a, "localhost").config(client_config),
    /// #     TlsStream::accept(b, server_config),
    /// # )?;
    /// use anyio::TypedAttributeProvider;
    /// use anyio::streams::tls::StandardCompatible;
    /// assert!(stream.extra::<StandardCompatible>()?); // the default
    /// # let _ = (stream, server);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    StandardCompatible: bool
);
tls_attribute!(
    /// The server name: the one a client verified the certificate against, or the one a
    /// client asked a server for (SNI); `None` on a server whose client sent none.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use anyio::streams::tls::TlsStream;
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
    /// # let (a, b) = anyio::streams::object_bytes::memory_byte_stream_pair(16);
    /// # let (stream, server) = anyio::gather!(
    /// #     TlsStream::connect(a, "localhost").config(client_config),
    /// #     TlsStream::accept(b, server_config),
    /// # )?;
    /// use anyio::TypedAttributeProvider;
    /// use anyio::streams::tls::ServerName;
    /// if let Some(name) = stream.extra::<ServerName>()? {
    ///     println!("talking to {name}");
    /// }
    /// # let _ = (stream, server);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    ServerName: Option<String>
);

/// The client configuration [`TlsStream::connect`] uses unless given one: Mozilla's
/// root certificates as bundled by `webpki-roots` (no system store or network needed),
/// TLS 1.2 and 1.3, no client certificate, no ALPN.
///
/// # Examples
///
/// ```
/// let config = anyio::streams::tls::default_client_config();
/// assert!(config.alpn_protocols.is_empty());
/// ```
pub fn default_client_config() -> Arc<ClientConfig> {
    static CONFIG: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let roots = rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let config = ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .expect("ring supports the default protocol versions")
                .with_root_certificates(roots)
                .with_no_client_auth();
            Arc::new(config)
        })
        .clone()
}

/// A byte stream TLS can run over: a [`ByteStream`] whose `receive` and `send` futures
/// are `Send`, so that a handshake over it can run in a spawned task.
///
/// Rust cannot yet state "the future of this async trait method is `Send`" for every
/// implementation of [`ByteStream`] (return type notation will), so the transports TLS
/// runs over implement this small trait, which says it by forwarding to their own
/// methods. anyio's TCP and UNIX streams, the in-memory [`MemoryByteStream`] and
/// [`FuturesIoStream`] implement it; for a byte stream type of your own, forward the same
/// way (see the example).
///
/// [`MemoryByteStream`]: crate::streams::object_bytes::MemoryByteStream
/// [`FuturesIoStream`]: crate::streams::io::FuturesIoStream
///
/// # Examples
///
/// ```
/// use std::future::Future;
/// use anyio::abc::{AsyncResource, ByteReceiveStream, ByteSendStream, ByteStream};
/// use anyio::streams::tls::TlsTransport;
///
/// /// A transport of your own (here, a wrapper that counts received bytes).
/// struct Counting {
///     inner: anyio::net::TcpStream,
///     received: usize,
/// }
/// # impl anyio::TypedAttributeProvider for Counting {}
/// # impl AsyncResource for Counting {
/// #     async fn aclose(&mut self) -> anyio::Result<()> { self.inner.aclose().await }
/// # }
/// # impl ByteReceiveStream for Counting {
/// #     async fn receive(&mut self, max: usize) -> anyio::Result<Vec<u8>> {
/// #         let bytes = self.inner.receive(max).await?;
/// #         self.received += bytes.len();
/// #         Ok(bytes)
/// #     }
/// # }
/// # impl ByteSendStream for Counting {
/// #     async fn send(&mut self, data: &[u8]) -> anyio::Result<()> { self.inner.send(data).await }
/// # }
/// # impl ByteStream for Counting {
/// #     async fn send_eof(&mut self) -> anyio::Result<()> { self.inner.send_eof().await }
/// # }
/// # let _ = |inner| anyio::streams::tls::TlsStream::connect(Counting { inner, received: 0 }, "x");
/// impl TlsTransport for Counting {
///     fn receive_for_tls(
///         &mut self,
///         max_bytes: usize,
///     ) -> impl Future<Output = anyio::Result<Vec<u8>>> + Send {
///         self.receive(max_bytes)
///     }
///
///     fn send_for_tls<'a>(
///         &'a mut self,
///         data: &'a [u8],
///     ) -> impl Future<Output = anyio::Result<()>> + Send + 'a {
///         self.send(data)
///     }
/// }
/// ```
pub trait TlsTransport: ByteStream + Send + 'static {
    /// This stream's [`ByteReceiveStream::receive`].
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::streams::tls::TlsTransport;
    ///
    /// # anyio::run(async {
    /// let (mut a, mut b) = anyio::streams::object_bytes::memory_byte_stream_pair(4);
    /// a.send_for_tls(b"record bytes").await?;
    /// assert_eq!(b.receive_for_tls(64).await?, b"record bytes");
    /// a.send_for_tls(b"more").await?;
    /// let mut buffer = [0; 16];
    /// let read = b.receive_into_for_tls(&mut buffer).await?;
    /// assert_eq!(&buffer[..read], b"more");
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    fn receive_for_tls(&mut self, max_bytes: usize)
    -> impl Future<Output = Result<Vec<u8>>> + Send;

    /// This stream's [`ByteSendStream::send`].
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::streams::tls::TlsTransport;
    ///
    /// # anyio::run(async {
    /// let (mut a, mut b) = anyio::streams::object_bytes::memory_byte_stream_pair(4);
    /// a.send_for_tls(b"record bytes").await?;
    /// assert_eq!(b.receive_for_tls(64).await?, b"record bytes");
    /// a.send_for_tls(b"more").await?;
    /// let mut buffer = [0; 16];
    /// let read = b.receive_into_for_tls(&mut buffer).await?;
    /// assert_eq!(&buffer[..read], b"more");
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    fn send_for_tls<'a>(
        &'a mut self,
        data: &'a [u8],
    ) -> impl Future<Output = Result<()>> + Send + 'a;

    /// Up to `buffer.len()` bytes into `buffer`, 0 at the end of the stream. The default
    /// goes through [`receive_for_tls`](TlsTransport::receive_for_tls); a transport that
    /// can read into a buffer directly overrides it (anyio's sockets do), saving an
    /// allocation per read.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::streams::tls::TlsTransport;
    ///
    /// # anyio::run(async {
    /// let (mut a, mut b) = anyio::streams::object_bytes::memory_byte_stream_pair(4);
    /// a.send_for_tls(b"record bytes").await?;
    /// assert_eq!(b.receive_for_tls(64).await?, b"record bytes");
    /// a.send_for_tls(b"more").await?;
    /// let mut buffer = [0; 16];
    /// let read = b.receive_into_for_tls(&mut buffer).await?;
    /// assert_eq!(&buffer[..read], b"more");
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    fn receive_into_for_tls<'a>(
        &'a mut self,
        buffer: &'a mut [u8],
    ) -> impl Future<Output = Result<usize>> + Send + 'a {
        async move {
            match self.receive_for_tls(buffer.len()).await {
                Ok(bytes) => {
                    buffer[..bytes.len()].copy_from_slice(&bytes);
                    Ok(bytes.len())
                }
                Err(error) if error.kind() == ErrorKind::EndOfStream => Ok(0),
                Err(error) => Err(error),
            }
        }
    }
}

macro_rules! tls_transport {
    ($($stream:ty),*) => {$(
        impl TlsTransport for $stream {
            fn receive_for_tls(
                &mut self,
                max_bytes: usize,
            ) -> impl Future<Output = Result<Vec<u8>>> + Send {
                ByteReceiveStream::receive(self, max_bytes)
            }

            fn send_for_tls<'a>(
                &'a mut self,
                data: &'a [u8],
            ) -> impl Future<Output = Result<()>> + Send + 'a {
                ByteSendStream::send(self, data)
            }
        }
    )*};
}

tls_transport!(crate::streams::object_bytes::MemoryByteStream);

macro_rules! socket_tls_transport {
    ($($stream:ty),*) => {$(
        impl TlsTransport for $stream {
            fn receive_for_tls(
                &mut self,
                max_bytes: usize,
            ) -> impl Future<Output = Result<Vec<u8>>> + Send {
                ByteReceiveStream::receive(self, max_bytes)
            }

            fn send_for_tls<'a>(
                &'a mut self,
                data: &'a [u8],
            ) -> impl Future<Output = Result<()>> + Send + 'a {
                ByteSendStream::send(self, data)
            }

            fn receive_into_for_tls<'a>(
                &'a mut self,
                buffer: &'a mut [u8],
            ) -> impl Future<Output = Result<usize>> + Send + 'a {
                self.receive_into(buffer)
            }
        }
    )*};
}

socket_tls_transport!(crate::net::TcpStream, crate::net::UnixStream);

impl<T> TlsTransport for crate::streams::io::FuturesIoStream<T>
where
    T: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin + Send + 'static,
{
    fn receive_for_tls(
        &mut self,
        max_bytes: usize,
    ) -> impl Future<Output = Result<Vec<u8>>> + Send {
        ByteReceiveStream::receive(self, max_bytes)
    }

    fn send_for_tls<'a>(
        &'a mut self,
        data: &'a [u8],
    ) -> impl Future<Output = Result<()>> + Send + 'a {
        ByteSendStream::send(self, data)
    }
}

/// A TLS session over a byte stream `S` (a TCP or UNIX stream, or any other): a
/// [`ByteStream`] of plaintext, with `futures_io::AsyncRead` / `AsyncWrite` when `S`
/// has them too. Made by [`TlsStream::connect`] (a client) or [`TlsStream::accept`] (a
/// server).
///
/// Its typed attributes: [`AlpnProtocol`], [`PeerCertificates`], [`CipherSuite`],
/// [`TlsVersion`], [`ServerSide`], [`StandardCompatible`], [`ServerName`], and those of
/// the transport (addresses, ports).
///
/// # Closing
///
/// With `standard_compatible` (the default), `aclose` sends close_notify, then closes
/// the transport; the end of the peer's data must come with a close_notify, or a receive
/// fails with [`ErrorKind::BrokenResource`] (a truncation attack looks like a plain
/// close). Without it, `aclose` just closes the transport, and a peer that closes
/// without close_notify ends the stream normally (as HTTP clients do).
///
/// # Cancel safety
///
/// `receive` is cancel-safe: the transport's receive is (for anyio's streams), and
/// decrypted bytes stay in the session until read. A `send` writes whole TLS records to
/// the transport; cancelled in the middle of the transport's send, it may have sent part
/// of a record, so the stream is then broken: later sends and receives fail with
/// [`ErrorKind::BrokenResource`]. Over `futures_io`, writes report what they wrote and
/// nothing is lost.
///
/// # Examples
///
/// See the [module](self) example.
///
/// ```
/// # let _ = std::mem::size_of::<anyio::streams::tls::TlsStream<anyio::net::TcpStream>>();
/// ```
pub struct TlsStream<S> {
    transport: S,
    session: Connection,
    /// Raw bytes from the transport not yet given to rustls (records not fed yet, a
    /// partial record, or, once the peer closed, what followed its close_notify).
    incoming: RecordBuffer,
    /// Encrypted bytes rustls produced that the transport has not taken yet.
    outgoing: Vec<u8>,
    /// Plaintext rustls holds that nobody has read yet (as it last reported it): sizes
    /// the buffers of receives.
    pending_plaintext: usize,
    /// A transport send is in flight (set before it starts, cleared when it finished):
    /// still set at the next operation, it was cancelled part way.
    sending: bool,
    /// The peer's close_notify was processed: nothing more comes from it.
    peer_closed: bool,
    /// The transport reported the end of its stream.
    transport_ended: bool,
    /// This end sent close_notify.
    close_sent: bool,
    closed: bool,
    standard_compatible: bool,
    server_name: Option<String>,
}

impl<S> fmt::Debug for TlsStream<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsStream")
            .field("server_side", &self.is_server())
            .field("server_name", &self.server_name)
            .field("version", &self.session.protocol_version())
            .field("closed", &self.closed)
            .finish()
    }
}

/// The bytes read from the transport: `data[start..end]` waits for rustls, and reads land
/// in `data[end..]`, so a read needs neither a buffer of its own nor a copy. The buffer
/// is allocated (once, zeroed) at the first read and never shrinks.
#[derive(Default)]
struct RecordBuffer {
    data: Vec<u8>,
    start: usize,
    end: usize,
}

impl RecordBuffer {
    /// Bytes read and not consumed yet.
    fn pending(&self) -> &[u8] {
        &self.data[self.start..self.end]
    }

    fn consume(&mut self, count: usize) {
        self.start += count;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Room for the next read: at least `FILL_CHUNK` bytes (more than one whole record),
    /// moving the pending bytes to the front if needed.
    fn spare(&mut self) -> &mut [u8] {
        if self.data.is_empty() {
            self.data = vec![0; 2 * FILL_CHUNK];
        }
        if self.data.len() - self.end < FILL_CHUNK {
            self.data.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            if self.data.len() - self.end < FILL_CHUNK {
                self.data.resize(self.end + FILL_CHUNK, 0);
            }
        }
        &mut self.data[self.end..]
    }

    /// Marks `count` bytes of the last [`spare`](RecordBuffer::spare) as read.
    fn commit(&mut self, count: usize) {
        self.end += count;
    }
}

/// What a step of the session needs before it can go on.
enum Need {
    /// More bytes from the transport.
    Read,
    /// The transport to take the encrypted bytes waiting in `outgoing`.
    Write,
}

/// The outcome of one attempt to read plaintext.
enum ReadStep {
    /// This many bytes were copied out.
    Data(usize),
    /// The stream's end: no more plaintext will come.
    End,
    Needs(Need),
}

impl<S> TlsStream<S> {
    /// Starts a client handshake over `transport` that verifies the server's certificate
    /// against `hostname` (a DNS name, non-ASCII names through IDNA, or an IP address).
    /// Await it, or set options first.
    ///
    /// # Errors
    ///
    /// An error of kind [`ErrorKind::Tls`] that says what failed: the certificate's
    /// issuer is unknown, it is not valid for `hostname` (both names given), it expired,
    /// no protocol version or ALPN protocol is shared, the peer sent an alert, or it did
    /// not speak TLS. [`ErrorKind::BrokenResource`] if the transport ended during the
    /// handshake; an invalid `hostname` is an error naming it.
    ///
    /// # Cancel safety
    ///
    /// Cancelled or dropped, the handshake drops the transport with it (closing a
    /// socket).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use anyio::streams::tls::TlsStream;
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
    /// use anyio::abc::{ByteReceiveStream, ByteSendStream};
    /// use anyio::streams::object_bytes::memory_byte_stream_pair;
    ///
    /// let (client_side, server_side) = memory_byte_stream_pair(16);
    /// let (mut client, mut server) = anyio::gather!(
    ///     TlsStream::connect(client_side, "localhost").config(client_config),
    ///     TlsStream::accept(server_side, server_config),
    /// )?;
    /// client.send(b"over TLS").await?;
    /// assert_eq!(server.receive(64).await?, b"over TLS");
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn connect(transport: S, hostname: impl Into<String>) -> TlsConnect<S> {
        TlsConnect {
            transport,
            hostname: hostname.into(),
            config: None,
            standard_compatible: true,
        }
    }

    /// Starts a server handshake over `transport` with `config` (its certificate, and
    /// whether it asks clients for theirs). Await it, or set options first.
    ///
    /// # Errors
    ///
    /// As for [`connect`](TlsStream::connect).
    ///
    /// # Cancel safety
    ///
    /// As for [`connect`](TlsStream::connect).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use anyio::streams::tls::TlsStream;
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
    /// use anyio::abc::{ByteReceiveStream, ByteSendStream};
    /// use anyio::streams::object_bytes::memory_byte_stream_pair;
    ///
    /// let (client_side, server_side) = memory_byte_stream_pair(16);
    /// let (mut client, mut server) = anyio::gather!(
    ///     TlsStream::connect(client_side, "localhost").config(client_config),
    ///     TlsStream::accept(server_side, server_config),
    /// )?;
    /// client.send(b"over TLS").await?;
    /// assert_eq!(server.receive(64).await?, b"over TLS");
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn accept(transport: S, config: Arc<ServerConfig>) -> TlsAccept<S> {
        TlsAccept {
            transport,
            config,
            standard_compatible: true,
        }
    }

    fn new(
        transport: S,
        session: Connection,
        standard_compatible: bool,
        server_name: Option<String>,
    ) -> TlsStream<S> {
        TlsStream {
            transport,
            session,
            incoming: RecordBuffer::default(),
            outgoing: Vec::new(),
            pending_plaintext: 0,
            sending: false,
            peer_closed: false,
            transport_ended: false,
            close_sent: false,
            closed: false,
            standard_compatible,
            server_name,
        }
    }

    fn is_server(&self) -> bool {
        matches!(self.session, Connection::Server(_))
    }

    /// The transport, for reading its attributes or options.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use anyio::streams::tls::TlsStream;
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
    /// # let (a, b) = anyio::streams::object_bytes::memory_byte_stream_pair(16);
    /// # let (stream, server) = anyio::gather!(
    /// #     TlsStream::connect(a, "localhost").config(client_config),
    /// #     TlsStream::accept(b, server_config),
    /// # )?;
    /// let transport: &anyio::streams::object_bytes::MemoryByteStream = stream.get_ref();
    /// # let _ = (transport, server);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn get_ref(&self) -> &S {
        &self.transport
    }

    /// The error of an operation after a cancelled send or after `aclose`.
    fn check_usable(&self) -> Result<()> {
        if self.closed {
            return Err(Error::new(
                ErrorKind::ClosedResource,
                "this TLS stream was closed",
            ));
        }
        if self.sending {
            return Err(Error::new(
                ErrorKind::BrokenResource,
                "a send on this TLS stream was cancelled in the middle of a record, so the \
                 stream can no longer be used",
            ));
        }
        Ok(())
    }

    /// Moves what rustls has to send into `outgoing`.
    fn collect_outgoing(&mut self) {
        while self.session.wants_write() {
            if self.session.write_tls(&mut self.outgoing).is_err() {
                break; // writing into a Vec cannot fail
            }
        }
    }

    /// Gives rustls the whole records in `incoming`, one at a time, and processes them,
    /// until one yields plaintext or the peer's close_notify arrives. Leaves the rest (a
    /// partial record, later records, whatever follows close_notify) in `incoming`.
    fn feed(&mut self) -> Result<()> {
        let mut offset = 0;
        let result = loop {
            if self.peer_closed {
                break Ok(());
            }
            let rest = &self.incoming.pending()[offset..];
            if rest.len() < RECORD_HEADER {
                break Ok(());
            }
            if let Err(error) = check_record_header(rest) {
                break Err(error);
            }
            let length = RECORD_HEADER + usize::from(u16::from_be_bytes([rest[3], rest[4]]));
            if rest.len() < length {
                break Ok(());
            }
            let mut record = &rest[..length];
            while !record.is_empty() {
                match self.session.read_tls(&mut record) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(error) => return Err(tls_io_error(error)),
                }
            }
            offset += length;
            match self.session.process_new_packets() {
                Ok(state) => {
                    if state.peer_has_closed() {
                        self.peer_closed = true;
                    }
                    self.pending_plaintext = state.plaintext_bytes_to_read();
                    if state.plaintext_bytes_to_read() > 0 {
                        // Enough for a read; the rest waits here, not in rustls (whose
                        // plaintext buffer is bounded).
                        break Ok(());
                    }
                }
                Err(error) => {
                    // rustls queued an alert for the peer; the caller sends it.
                    self.collect_outgoing();
                    break Err(tls_error(&error, self.server_name.as_deref()));
                }
            }
        };
        self.incoming.consume(offset);
        result
    }

    /// One attempt to read plaintext into `buffer`, with no I/O.
    fn read_step(&mut self, buffer: &mut [u8]) -> Result<ReadStep> {
        loop {
            match self.session.reader().read(buffer) {
                Ok(0) if !buffer.is_empty() => return Ok(ReadStep::End),
                Ok(read) => {
                    self.pending_plaintext = self.pending_plaintext.saturating_sub(read);
                    return Ok(ReadStep::Data(read));
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                Err(error) => return Err(tls_io_error(error)),
            }
            // Answers the peer may be owed (key updates, tickets) go out first.
            self.collect_outgoing();
            if !self.outgoing.is_empty() {
                return Ok(ReadStep::Needs(Need::Write));
            }
            if self.peer_closed {
                return Ok(ReadStep::End);
            }
            let before = self.incoming.pending().len();
            self.feed()?;
            if self.incoming.pending().len() != before {
                continue; // whole records were processed: look for plaintext again
            }
            if self.transport_ended {
                return if self.standard_compatible {
                    Err(Error::new(
                        ErrorKind::BrokenResource,
                        "the peer closed the connection without a TLS close_notify \
                         (the data may have been truncated)",
                    ))
                } else {
                    Ok(ReadStep::End)
                };
            }
            return Ok(ReadStep::Needs(Need::Read));
        }
    }

    /// Gives rustls as much of `data` as it takes (at least one byte), as plaintext to
    /// encrypt, with no I/O.
    fn write_step(&mut self, data: &[u8]) -> Result<usize> {
        if self.close_sent {
            return Err(Error::new(
                ErrorKind::ClosedResource,
                "this TLS stream's sending side was closed (send_eof)",
            ));
        }
        let written = self.session.writer().write(data).map_err(tls_io_error)?;
        self.collect_outgoing();
        Ok(written)
    }
}

impl<S: TlsTransport> TlsStream<S> {
    /// Sends everything in `outgoing` through the transport.
    async fn flush_outgoing(&mut self) -> Result<()> {
        if self.outgoing.is_empty() {
            return Ok(());
        }
        self.sending = true;
        let sent = self.transport.send_for_tls(&self.outgoing).await;
        self.sending = false;
        self.outgoing.clear();
        sent.map_err(transport_error)
    }

    /// Receives more bytes from the transport into `incoming`; notes its end.
    async fn fill(&mut self) -> Result<()> {
        let spare = self.incoming.spare();
        match self.transport.receive_into_for_tls(spare).await {
            Ok(0) => {
                self.transport_ended = true;
                Ok(())
            }
            Ok(read) => {
                self.incoming.commit(read);
                Ok(())
            }
            Err(error) if error.kind() == ErrorKind::EndOfStream => {
                self.transport_ended = true;
                Ok(())
            }
            Err(error) => Err(transport_error(error)),
        }
    }

    /// Runs the handshake to its end.
    async fn handshake(&mut self) -> Result<()> {
        crate::lowlevel::checkpoint_if_cancelled().await;
        while self.session.is_handshaking() {
            self.collect_outgoing();
            self.flush_outgoing().await?;
            if !self.session.is_handshaking() {
                break;
            }
            let before = self.incoming.pending().len();
            if let Err(error) = self.feed() {
                // Tell the peer why (rustls queued an alert), then fail.
                let _ = self.flush_outgoing().await;
                return Err(error);
            }
            if self.incoming.pending().len() != before || self.outgoing_pending() {
                continue;
            }
            if self.transport_ended || self.peer_closed {
                return Err(Error::new(
                    ErrorKind::BrokenResource,
                    "the peer closed the connection during the TLS handshake",
                ));
            }
            self.fill().await?;
        }
        // The last flight (a client's Finished, a server's tickets).
        self.collect_outgoing();
        self.flush_outgoing().await
    }

    fn outgoing_pending(&mut self) -> bool {
        self.collect_outgoing();
        !self.outgoing.is_empty()
    }

    /// Up to `max_bytes` bytes of plaintext.
    async fn receive_plaintext(&mut self, max_bytes: usize) -> Result<Vec<u8>> {
        crate::abc::check_max_bytes(max_bytes)?;
        crate::lowlevel::checkpoint_if_cancelled().await;
        self.check_usable()?;
        let mut buffer = Vec::new();
        loop {
            // Sized to the plaintext waiting (or a modest guess), not to `max_bytes`:
            // a large limit costs nothing when little has arrived.
            let size = match self.pending_plaintext {
                0 => 4096,
                pending => pending,
            };
            buffer.resize(max_bytes.min(size).min(crate::abc::DEFAULT_MAX_BYTES), 0);
            match self.read_step(&mut buffer) {
                Ok(ReadStep::Data(read)) => {
                    buffer.truncate(read);
                    return Ok(buffer);
                }
                Ok(ReadStep::End) => {
                    return Err(Error::new(
                        ErrorKind::EndOfStream,
                        "the peer closed the TLS stream",
                    ));
                }
                Ok(ReadStep::Needs(Need::Write)) => self.flush_outgoing().await?,
                Ok(ReadStep::Needs(Need::Read)) => self.fill().await?,
                Err(error) => {
                    let _ = self.flush_outgoing().await; // an alert, if rustls queued one
                    return Err(error);
                }
            }
        }
    }

    /// Sends all of `data` as plaintext.
    async fn send_plaintext(&mut self, mut data: &[u8]) -> Result<()> {
        crate::lowlevel::checkpoint_if_cancelled().await;
        self.check_usable()?;
        while !data.is_empty() {
            let written = self.write_step(data)?;
            data = &data[written..];
            self.flush_outgoing().await?;
        }
        Ok(())
    }

    /// Sends close_notify (once), best effort.
    async fn send_close_notify(&mut self) -> Result<()> {
        if !self.close_sent {
            self.close_sent = true;
            self.session.send_close_notify();
            self.collect_outgoing();
        }
        self.flush_outgoing().await
    }

    /// Ends the TLS session and gives back the transport, for plain-text use after TLS
    /// (as STARTTLS protocols do): sends close_notify, waits for the peer's, and returns
    /// the transport with the bytes that came after the peer's close_notify. Plaintext
    /// the peer sent before its close_notify and nobody read is dropped.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::BrokenResource`] if the transport ended before the peer's
    /// close_notify; the transport's errors.
    ///
    /// # Cancel safety
    ///
    /// Cancelled or dropped, the stream (and the transport with it) is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use anyio::streams::tls::TlsStream;
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
    /// use anyio::abc::{ByteReceiveStream, ByteSendStream};
    /// use anyio::streams::object_bytes::memory_byte_stream_pair;
    ///
    /// let (client_side, server_side) = memory_byte_stream_pair(16);
    /// let (client, server) = anyio::gather!(
    ///     TlsStream::connect(client_side, "localhost").config(client_config),
    ///     TlsStream::accept(server_side, server_config),
    /// )?;
    /// // Both ends leave TLS; the server then goes on in plain text.
    /// let ((mut plain, mut early), _) = anyio::gather!(client.unwrap(), async {
    ///     let (mut plain, _) = server.unwrap().await?;
    ///     plain.send(b"plain again").await?;
    ///     anyio::Result::Ok(plain)
    /// })?;
    /// while early.len() < 11 {
    ///     early.extend(plain.receive(64).await?); // bytes past close_notify come first
    /// }
    /// assert_eq!(early, b"plain again");
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn unwrap(mut self) -> Result<(S, Vec<u8>)> {
        crate::lowlevel::checkpoint_if_cancelled().await;
        self.check_usable()?;
        self.send_close_notify().await?;
        let mut discard = [0_u8; 4096];
        while !self.peer_closed {
            match self.read_step(&mut discard)? {
                ReadStep::Data(_) => {}
                ReadStep::End => {
                    if !self.peer_closed {
                        return Err(Error::new(
                            ErrorKind::BrokenResource,
                            "the transport ended before the peer's TLS close_notify",
                        ));
                    }
                }
                ReadStep::Needs(Need::Write) => self.flush_outgoing().await?,
                ReadStep::Needs(Need::Read) => self.fill().await?,
            }
        }
        Ok((self.transport, self.incoming.pending().to_vec()))
    }
}

/// A record header a TLS peer could have sent, or the error that it did not speak TLS.
fn check_record_header(header: &[u8]) -> Result<()> {
    let content_type = header[0];
    let length = usize::from(u16::from_be_bytes([header[3], header[4]]));
    if !(20..=24).contains(&content_type) || header[1] != 3 || length > MAX_RECORD {
        let shown = String::from_utf8_lossy(&header[..RECORD_HEADER]).into_owned();
        return Err(Error::new(
            ErrorKind::Tls,
            format!("the peer did not speak TLS (it sent {shown:?} where a TLS record belongs)"),
        ));
    }
    Ok(())
}

/// A transport failure: the transport's end is a broken TLS stream; other errors pass.
fn transport_error(error: Error) -> Error {
    match error.kind() {
        ErrorKind::EndOfStream | ErrorKind::ClosedResource => Error::with_source(
            ErrorKind::BrokenResource,
            format!("the TLS stream's transport failed: {error}"),
            error,
        ),
        _ => error,
    }
}

/// A rustls I/O error (from `reader`/`writer`/`read_tls`).
fn tls_io_error(error: io::Error) -> Error {
    match error.kind() {
        io::ErrorKind::UnexpectedEof => Error::with_source(
            ErrorKind::BrokenResource,
            "the TLS stream ended without a close_notify",
            error,
        ),
        _ => Error::with_source(ErrorKind::Tls, format!("TLS failed: {error}"), error),
    }
}

/// A rustls error in words a user can act on. `server_name` is the name a client
/// verifies (for name mismatches).
fn tls_error(error: &rustls::Error, server_name: Option<&str>) -> Error {
    use rustls::{CertificateError, Error as E, PeerIncompatible};
    let message = match error {
        E::InvalidCertificate(certificate) => match certificate {
            CertificateError::UnknownIssuer => "the peer's certificate was issued by an \
                 authority that is not trusted (its issuer is not among the trusted roots)"
                .to_owned(),
            CertificateError::NotValidForName => format!(
                "the peer's certificate is not valid for the name {}",
                server_name.unwrap_or("asked for")
            ),
            CertificateError::NotValidForNameContext {
                expected,
                presented,
            } => format!(
                "the peer's certificate is not valid for the name {} (it is valid for: {})",
                server_name.map_or_else(|| format!("{expected:?}"), str::to_owned),
                presented.join(", ")
            ),
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                "the peer's certificate has expired".to_owned()
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                "the peer's certificate is not valid yet".to_owned()
            }
            CertificateError::Revoked => "the peer's certificate was revoked".to_owned(),
            other => format!("the peer's certificate was refused: {other:?}"),
        },
        E::NoApplicationProtocol => "the peers share no application protocol (ALPN)".to_owned(),
        E::PeerIncompatible(PeerIncompatible::ServerDoesNotSupportTls12Or13)
        | E::PeerIncompatible(PeerIncompatible::Tls12NotOffered)
        | E::PeerIncompatible(PeerIncompatible::Tls12NotOfferedOrEnabled)
        | E::PeerIncompatible(PeerIncompatible::SupportedVersionsExtensionRequired) => {
            "the peers share no TLS protocol version".to_owned()
        }
        E::PeerIncompatible(other) => format!("the peer is incompatible: {other:?}"),
        E::AlertReceived(alert) => format!("the peer sent the TLS alert {alert:?}"),
        E::NoCertificatesPresented => {
            "the peer presented no certificate, and one is required".to_owned()
        }
        E::InvalidMessage(_) | E::InappropriateMessage { .. } => {
            format!("the peer did not speak TLS correctly: {error}")
        }
        other => format!("TLS failed: {other}"),
    };
    Error::with_source(ErrorKind::Tls, message, error.clone())
}

/// The server name rustls verifies: an IP address as it is, a DNS name (non-ASCII names
/// through IDNA).
fn server_name(hostname: &str) -> Result<PkiServerName<'static>> {
    let ascii = crate::net::ascii_host(hostname)?;
    PkiServerName::try_from(ascii).map_err(|error| {
        Error::new(
            ErrorKind::Io(io::ErrorKind::InvalidInput),
            format!("{hostname:?} is not a valid TLS server name: {error}"),
        )
    })
}

impl<S: TypedAttributeProvider> TypedAttributeProvider for TlsStream<S> {
    fn extra_attributes(&self) -> TypedAttributes {
        let mut attributes = self.transport.extra_attributes();
        let session = &self.session;
        attributes.insert::<AlpnProtocol>(session.alpn_protocol().map(<[u8]>::to_vec));
        attributes.insert::<PeerCertificates>(
            session
                .peer_certificates()
                .map(|chain| chain.iter().map(|c| c.clone().into_owned()).collect())
                .unwrap_or_default(),
        );
        if let Some(suite) = session.negotiated_cipher_suite() {
            attributes.insert::<CipherSuite>(format!("{:?}", suite.suite()));
        }
        if let Some(version) = session.protocol_version() {
            let name = match version {
                rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".to_owned(),
                rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".to_owned(),
                other => format!("{other:?}"),
            };
            attributes.insert::<TlsVersion>(name);
        }
        attributes.insert::<ServerSide>(self.is_server());
        attributes.insert::<StandardCompatible>(self.standard_compatible);
        attributes.insert::<ServerName>(self.server_name.clone());
        attributes
    }
}

impl<S: TlsTransport> AsyncResource for TlsStream<S> {
    /// Sends close_notify if `standard_compatible` (best effort: a broken transport is
    /// closed anyway), then closes the transport. Does not wait for the peer's.
    async fn aclose(&mut self) -> Result<()> {
        if self.closed {
            return Ok(());
        }
        if self.standard_compatible && !self.sending {
            let _ = self.send_close_notify().await;
        }
        self.closed = true;
        self.transport.aclose().await
    }
}

impl<S: TlsTransport> ByteReceiveStream for TlsStream<S> {
    /// Up to `max_bytes` bytes of plaintext.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::EndOfStream`] after the peer's close_notify (or, without
    /// `standard_compatible`, at the transport's end); [`ErrorKind::BrokenResource`] if
    /// the transport ended without close_notify under `standard_compatible`;
    /// [`ErrorKind::Tls`] if the peer sent something rustls refused.
    async fn receive(&mut self, max_bytes: usize) -> Result<Vec<u8>> {
        self.receive_plaintext(max_bytes).await
    }
}

impl<S: TlsTransport> ByteSendStream for TlsStream<S> {
    async fn send(&mut self, data: &[u8]) -> Result<()> {
        self.send_plaintext(data).await
    }
}

impl<S: TlsTransport> ByteStream for TlsStream<S> {
    /// Sends close_notify: the peer sees the end of the stream, and this end can still
    /// receive (TLS 1.3 allows the peer to go on sending; over TLS 1.2 peers usually
    /// answer with their own close_notify).
    async fn send_eof(&mut self) -> Result<()> {
        crate::lowlevel::checkpoint_if_cancelled().await;
        self.check_usable()?;
        self.send_close_notify().await
    }
}

// ---- futures-io, when the transport has it too ----

impl<S: futures_io::AsyncWrite + Unpin> TlsStream<S> {
    /// Writes `outgoing` to the transport; nothing is lost if the caller stops polling.
    fn poll_flush_outgoing(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.outgoing.is_empty() {
            let written = ready!(Pin::new(&mut self.transport).poll_write(cx, &self.outgoing))?;
            if written == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.outgoing.drain(..written);
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: futures_io::AsyncRead + Unpin> TlsStream<S> {
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let spare = self.incoming.spare();
        let read = ready!(Pin::new(&mut self.transport).poll_read(cx, spare))?;
        if read == 0 {
            self.transport_ended = true;
        }
        self.incoming.commit(read);
        Poll::Ready(Ok(()))
    }
}

fn into_io_error(error: Error) -> io::Error {
    let kind = match error.kind() {
        ErrorKind::Io(kind) => kind,
        ErrorKind::BrokenResource => io::ErrorKind::UnexpectedEof,
        ErrorKind::ClosedResource => io::ErrorKind::NotConnected,
        _ => io::ErrorKind::InvalidData,
    };
    io::Error::new(kind, error)
}

impl<S: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin> futures_io::AsyncRead
    for TlsStream<S>
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.check_usable().map_err(into_io_error)?;
        loop {
            match this.read_step(buf).map_err(into_io_error)? {
                ReadStep::Data(read) => return Poll::Ready(Ok(read)),
                ReadStep::End => return Poll::Ready(Ok(0)),
                ReadStep::Needs(Need::Write) => ready!(this.poll_flush_outgoing(cx))?,
                ReadStep::Needs(Need::Read) => ready!(this.poll_fill(cx))?,
            }
        }
    }
}

impl<S: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin> futures_io::AsyncWrite
    for TlsStream<S>
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.check_usable().map_err(into_io_error)?;
        // Earlier records first: a write only starts when the transport took them.
        ready!(this.poll_flush_outgoing(cx))?;
        let written = this.write_step(buf).map_err(into_io_error)?;
        // The new records go out now if the transport takes them, or at the next poll.
        let _ = this.poll_flush_outgoing(cx)?;
        Poll::Ready(Ok(written))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_flush_outgoing(cx))?;
        Pin::new(&mut this.transport).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.close_sent {
            this.close_sent = true;
            this.session.send_close_notify();
            this.collect_outgoing();
        }
        ready!(this.poll_flush_outgoing(cx))?;
        Pin::new(&mut this.transport).poll_close(cx)
    }
}

// ---- the handshakes ----

/// The builder of a client handshake ([`TlsStream::connect`]): await it to connect.
///
/// # Examples
///
/// See the [module](self) example.
///
/// ```
/// # let _ = anyio::streams::tls::TlsConnect::<anyio::net::TcpStream>::standard_compatible;
/// ```
#[must_use = "a TLS handshake does nothing unless awaited"]
pub struct TlsConnect<S> {
    transport: S,
    hostname: String,
    config: Option<Arc<ClientConfig>>,
    standard_compatible: bool,
}

impl<S> fmt::Debug for TlsConnect<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConnect")
            .field("hostname", &self.hostname)
            .field("standard_compatible", &self.standard_compatible)
            .finish()
    }
}

impl<S> TlsConnect<S> {
    /// The client configuration (trusted roots, client certificate, ALPN protocols);
    /// default: [`default_client_config`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use anyio::streams::tls::TlsStream;
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
    /// use anyio::TypedAttributeProvider;
    /// use anyio::streams::tls::StandardCompatible;
    ///
    /// let (a, b) = anyio::streams::object_bytes::memory_byte_stream_pair(16);
    /// let (client, server) = anyio::gather!(
    ///     TlsStream::connect(a, "localhost")
    ///         .config(client_config) // trusts the server's certificate
    ///         .standard_compatible(false),
    ///     TlsStream::accept(b, server_config).standard_compatible(false),
    /// )?;
    /// assert!(!client.extra::<StandardCompatible>()?);
    /// assert!(!server.extra::<StandardCompatible>()?);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn config(mut self, config: Arc<ClientConfig>) -> Self {
        self.config = Some(config);
        self
    }

    /// Whether to send and require close_notify (default `true`); `false` for peers
    /// that close without it, as many HTTP servers do.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use anyio::streams::tls::TlsStream;
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
    /// use anyio::TypedAttributeProvider;
    /// use anyio::streams::tls::StandardCompatible;
    ///
    /// let (a, b) = anyio::streams::object_bytes::memory_byte_stream_pair(16);
    /// let (client, server) = anyio::gather!(
    ///     TlsStream::connect(a, "localhost")
    ///         .config(client_config) // trusts the server's certificate
    ///         .standard_compatible(false),
    ///     TlsStream::accept(b, server_config).standard_compatible(false),
    /// )?;
    /// assert!(!client.extra::<StandardCompatible>()?);
    /// assert!(!server.extra::<StandardCompatible>()?);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn standard_compatible(mut self, standard_compatible: bool) -> Self {
        self.standard_compatible = standard_compatible;
        self
    }
}

impl<S: TlsTransport> IntoFuture for TlsConnect<S> {
    type Output = Result<TlsStream<S>>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<TlsStream<S>>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let name = server_name(&self.hostname)?;
            let config = self.config.unwrap_or_else(default_client_config);
            let session = ClientConnection::new(config, name).map_err(|error| {
                Error::with_source(
                    ErrorKind::Tls,
                    format!("could not start a TLS session: {error}"),
                    error,
                )
            })?;
            let mut stream = TlsStream::new(
                self.transport,
                Connection::Client(session),
                self.standard_compatible,
                Some(self.hostname),
            );
            stream.handshake().await?;
            Ok(stream)
        })
    }
}

/// The builder of a server handshake ([`TlsStream::accept`]): await it to accept.
///
/// # Examples
///
/// See the [module](self) example.
///
/// ```
/// # let _ = anyio::streams::tls::TlsAccept::<anyio::net::TcpStream>::standard_compatible;
/// ```
#[must_use = "a TLS handshake does nothing unless awaited"]
pub struct TlsAccept<S> {
    transport: S,
    config: Arc<ServerConfig>,
    standard_compatible: bool,
}

impl<S> fmt::Debug for TlsAccept<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsAccept")
            .field("standard_compatible", &self.standard_compatible)
            .finish()
    }
}

impl<S> TlsAccept<S> {
    /// Whether to send and require close_notify (default `true`).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use anyio::streams::tls::TlsStream;
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
    /// use anyio::TypedAttributeProvider;
    /// use anyio::streams::tls::StandardCompatible;
    ///
    /// let (a, b) = anyio::streams::object_bytes::memory_byte_stream_pair(16);
    /// let (client, server) = anyio::gather!(
    ///     TlsStream::connect(a, "localhost")
    ///         .config(client_config) // trusts the server's certificate
    ///         .standard_compatible(false),
    ///     TlsStream::accept(b, server_config).standard_compatible(false),
    /// )?;
    /// assert!(!client.extra::<StandardCompatible>()?);
    /// assert!(!server.extra::<StandardCompatible>()?);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn standard_compatible(mut self, standard_compatible: bool) -> Self {
        self.standard_compatible = standard_compatible;
        self
    }
}

impl<S: TlsTransport> IntoFuture for TlsAccept<S> {
    type Output = Result<TlsStream<S>>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<TlsStream<S>>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(accept_handshake(
            self.transport,
            self.config,
            self.standard_compatible,
        ))
    }
}

async fn accept_handshake<S: TlsTransport>(
    transport: S,
    config: Arc<ServerConfig>,
    standard_compatible: bool,
) -> Result<TlsStream<S>> {
    let session = ServerConnection::new(config).map_err(|error| {
        Error::with_source(
            ErrorKind::Tls,
            format!("could not start a TLS session: {error}"),
            error,
        )
    })?;
    let mut stream = TlsStream::new(
        transport,
        Connection::Server(session),
        standard_compatible,
        None,
    );
    stream.handshake().await?;
    if let Connection::Server(session) = &stream.session {
        stream.server_name = session.server_name().map(str::to_owned);
    }
    Ok(stream)
}

// ---- the listener ----

type Handshake<S> = Pin<Box<dyn Future<Output = Result<TlsStream<S>>> + Send>>;

/// A [`Listener`] of TLS streams over another listener (TCP, UNIX, or any whose streams
/// are byte streams): each connection's handshake runs before `accept` hands it out.
///
/// Handshakes run side by side: a client that stalls (until
/// [`handshake_timeout`](TlsListener::handshake_timeout), 30 s by default), sends
/// garbage or fails its handshake is dropped and logged through `tracing` at debug
/// level, and never holds up the other clients or stops the listener. The handshakes
/// progress while an `accept` (or `serve`, which accepts in a loop) is being awaited.
///
/// # Cancel safety
///
/// `accept` is cancel-safe: cancelled, the handshakes in progress stay with the listener
/// (and go on at the next `accept`), and no handshaken connection is lost.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use anyio::abc::{ByteReceiveStream, ByteSendStream, Listener};
/// use anyio::streams::tls::{TlsListener, TlsStream};
/// # anyio::run(async {
/// # let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
/// # let cert = rustls::pki_types::CertificateDer::from(made.cert.der().to_vec());
/// # let key = rustls::pki_types::PrivateKeyDer::Pkcs8(made.key_pair.serialize_der().into());
/// # let server_config = rustls::ServerConfig::builder().with_no_client_auth();
/// # let server_config = server_config.with_single_cert(vec![cert.clone()], key).unwrap();
/// # let mut roots = rustls::RootCertStore::empty();
/// # roots.add(cert).unwrap();
/// # let client_config = rustls::ClientConfig::builder().with_root_certificates(roots);
/// # let client_config = Arc::new(client_config.with_no_client_auth());
///
/// let tcp = anyio::create_tcp_listener().local_host("127.0.0.1").await?;
/// let port = anyio::TypedAttributeProvider::extra::<anyio::net::LocalPort>(&tcp)?;
/// let mut listener = TlsListener::new(tcp, Arc::new(server_config)).handshake_timeout(10);
/// anyio::task_group!(|tg| {
///     tg.start_soon(async {
///         listener
///             .serve(|mut stream| async move {
///                 let request = stream.receive(1024).await?;
///                 stream.send(&request).await
///             })
///             .await
///     });
///     let tcp = anyio::connect_tcp("127.0.0.1", port).await?;
///     let mut client = TlsStream::connect(tcp, "localhost").config(client_config).await?;
///     client.send(b"echo me").await?;
///     assert_eq!(client.receive(64).await?, b"echo me");
///     tg.cancel(); // stops the server
///     anyio::Result::Ok(())
/// })?;
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
pub struct TlsListener<L: Listener> {
    listener: L,
    config: Arc<ServerConfig>,
    handshake_timeout: Duration,
    standard_compatible: bool,
    /// Handshakes in progress, each with its own deadline.
    handshakes: Vec<Handshake<L::Stream>>,
}

impl<L: Listener> fmt::Debug for TlsListener<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsListener")
            .field("handshake_timeout", &self.handshake_timeout)
            .field("standard_compatible", &self.standard_compatible)
            .field("handshakes_in_progress", &self.handshakes.len())
            .finish()
    }
}

impl<L: Listener> TlsListener<L>
where
    L::Stream: TlsTransport,
{
    /// Serves TLS with `config` on the connections of `listener`.
    ///
    /// # Examples
    ///
    /// See [`TlsListener`].
    ///
    /// ```
    /// # let _ = anyio::streams::tls::TlsListener::<anyio::net::TcpListener>::new;
    /// ```
    pub fn new(listener: L, config: Arc<ServerConfig>) -> TlsListener<L> {
        TlsListener {
            listener,
            config,
            handshake_timeout: Duration::from_secs(30),
            standard_compatible: true,
            handshakes: Vec::new(),
        }
    }

    /// How long a client may take over its handshake (default 30 s; plain numbers are
    /// seconds).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # anyio::run(async {
    /// # let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    /// # let cert = rustls::pki_types::CertificateDer::from(made.cert.der().to_vec());
    /// # let key = rustls::pki_types::PrivateKeyDer::Pkcs8(made.key_pair.serialize_der().into());
    /// # let config = rustls::ServerConfig::builder().with_no_client_auth();
    /// # let config = Arc::new(config.with_single_cert(vec![cert], key).unwrap());
    /// let tcp = anyio::create_tcp_listener().local_host("127.0.0.1").await?;
    /// let listener = anyio::streams::tls::TlsListener::new(tcp, config).handshake_timeout(5);
    /// # drop(listener);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn handshake_timeout(mut self, timeout: impl IntoDuration) -> Self {
        self.handshake_timeout = timeout.into_duration();
        self
    }

    /// Whether the streams send and require close_notify (default `true`).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # anyio::run(async {
    /// # let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    /// # let cert = rustls::pki_types::CertificateDer::from(made.cert.der().to_vec());
    /// # let key = rustls::pki_types::PrivateKeyDer::Pkcs8(made.key_pair.serialize_der().into());
    /// # let config = rustls::ServerConfig::builder().with_no_client_auth();
    /// # let config = Arc::new(config.with_single_cert(vec![cert], key).unwrap());
    /// let tcp = anyio::create_tcp_listener().local_host("127.0.0.1").await?;
    /// use anyio::TypedAttributeProvider;
    /// use anyio::streams::tls::StandardCompatible;
    /// let listener = anyio::streams::tls::TlsListener::new(tcp, config).standard_compatible(false);
    /// assert!(!listener.extra::<StandardCompatible>()?);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn standard_compatible(mut self, standard_compatible: bool) -> Self {
        self.standard_compatible = standard_compatible;
        self
    }

    /// The listener underneath.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # anyio::run(async {
    /// # let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    /// # let cert = rustls::pki_types::CertificateDer::from(made.cert.der().to_vec());
    /// # let key = rustls::pki_types::PrivateKeyDer::Pkcs8(made.key_pair.serialize_der().into());
    /// # let config = rustls::ServerConfig::builder().with_no_client_auth();
    /// # let config = Arc::new(config.with_single_cert(vec![cert], key).unwrap());
    /// let tcp = anyio::create_tcp_listener().local_host("127.0.0.1").await?;
    /// let listener = anyio::streams::tls::TlsListener::new(tcp, config);
    /// let addresses = listener.get_ref().local_addresses();
    /// assert!(addresses[0].ip().is_loopback());
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn get_ref(&self) -> &L {
        &self.listener
    }

    /// A handshake with its deadline. It belongs to the listener, not to the `accept`
    /// that polls it, so it holds no cancel scope (a scope must end inside the call that
    /// entered it): a cancelled `accept` leaves it parked at a checkpoint, and the next
    /// `accept` resumes it.
    fn start_handshake(&self, transport: L::Stream) -> Handshake<L::Stream> {
        let timeout = self.handshake_timeout;
        let handshake = accept_handshake(transport, self.config.clone(), self.standard_compatible);
        Box::pin(futures_lite::future::or(handshake, async move {
            crate::sleep(timeout).await;
            Err(Error::new(
                ErrorKind::Timeout,
                format!("the client did not finish its TLS handshake within {timeout:?}"),
            ))
        }))
    }
}

impl<L: Listener> TypedAttributeProvider for TlsListener<L> {
    fn extra_attributes(&self) -> TypedAttributes {
        let mut attributes = self.listener.extra_attributes();
        attributes.insert::<StandardCompatible>(self.standard_compatible);
        attributes
    }
}

impl<L: Listener> AsyncResource for TlsListener<L> {
    /// Closes the listener underneath and drops the handshakes in progress.
    async fn aclose(&mut self) -> Result<()> {
        self.handshakes.clear();
        self.listener.aclose().await
    }
}

impl<L: Listener> Listener for TlsListener<L>
where
    L::Stream: TlsTransport,
{
    type Stream = TlsStream<L::Stream>;

    /// The next connection whose handshake succeeded. Accepting new connections and
    /// running the handshakes in progress go on together. The listener underneath must
    /// have a cancel-safe `accept` (as anyio's TCP and UNIX listeners do): its accept is
    /// dropped whenever a handshake finishes first.
    ///
    /// # Errors
    ///
    /// The listener underneath's errors (a failed handshake is not one: it is logged).
    async fn accept(&mut self) -> Result<TlsStream<L::Stream>> {
        enum Next<T, S> {
            Accepted(Result<T>),
            Handshaken(S),
        }
        crate::lowlevel::checkpoint_if_cancelled().await;
        loop {
            let next = {
                let handshakes = &mut self.handshakes;
                let mut accepting = std::pin::pin!(self.listener.accept());
                std::future::poll_fn(|cx| {
                    if let Poll::Ready(stream) = poll_handshakes(handshakes, cx) {
                        return Poll::Ready(Next::Handshaken(stream));
                    }
                    accepting.as_mut().poll(cx).map(Next::Accepted)
                })
                .await
            };
            match next {
                Next::Handshaken(stream) => return Ok(stream),
                Next::Accepted(Ok(transport)) => {
                    let handshake = self.start_handshake(transport);
                    self.handshakes.push(handshake);
                }
                Next::Accepted(Err(error)) => return Err(error),
            }
        }
    }
}

/// Polls the handshakes in progress: the first that succeeded, if any; failed ones are
/// logged and dropped.
fn poll_handshakes<S>(
    handshakes: &mut Vec<Handshake<S>>,
    cx: &mut Context<'_>,
) -> Poll<TlsStream<S>> {
    let mut index = 0;
    while index < handshakes.len() {
        match handshakes[index].as_mut().poll(cx) {
            Poll::Pending => index += 1,
            Poll::Ready(outcome) => {
                drop(handshakes.swap_remove(index));
                match outcome {
                    Ok(stream) => return Poll::Ready(stream),
                    Err(error) => {
                        tracing::debug!(%error, "a TLS handshake failed; the client was dropped");
                    }
                }
            }
        }
    }
    Poll::Pending
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_unicode_host_name_is_verified_in_its_idna_2008_form() {
        let name = server_name("faß.de").unwrap();
        assert_eq!(name.to_str(), "xn--fa-hia.de"); // not "fass.de"
        let ip = server_name("127.0.0.1").unwrap();
        assert!(matches!(ip, PkiServerName::IpAddress(_)));
    }

    #[test]
    fn a_record_header_that_is_not_tls_says_so() {
        let error = check_record_header(b"HTTP/1.1 200 OK").unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Tls);
        assert!(error.to_string().contains("did not speak TLS"), "{error}");
        assert!(error.to_string().contains("HTTP/"), "{error}");
        assert!(check_record_header(&[22, 3, 1, 0, 200]).is_ok());
        // A record longer than TLS allows is not TLS either.
        assert!(check_record_header(&[23, 3, 3, 0xff, 0xff]).is_err());
    }
}
