//! Name resolution: `getaddrinfo`, run on a blocking thread so that a slow resolver never
//! holds up the tasks of the event loop.

use std::future::{Future, IntoFuture};
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::pin::Pin;

use crate::error::{Error, ErrorKind, Result};
use crate::net::AddressFamily;

/// A host to connect to or listen on: a name (`&str`, `String`) or an IP address.
///
/// # Examples
///
/// ```
/// use anyio::net::ToHost;
///
/// assert_eq!("example.com".to_host(), "example.com");
/// assert_eq!(std::net::Ipv4Addr::LOCALHOST.to_host(), "127.0.0.1");
/// ```
pub trait ToHost {
    /// The host as text (an IPv6 address without brackets).
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::net::ToHost;
    ///
    /// assert_eq!(std::net::Ipv6Addr::LOCALHOST.to_host(), "::1"); // no brackets
    /// assert_eq!(String::from("localhost").to_host(), "localhost");
    /// ```
    fn to_host(&self) -> String;
}

impl ToHost for str {
    fn to_host(&self) -> String {
        self.to_owned()
    }
}

impl ToHost for &str {
    fn to_host(&self) -> String {
        (*self).to_owned()
    }
}

impl ToHost for String {
    fn to_host(&self) -> String {
        self.clone()
    }
}

impl ToHost for IpAddr {
    fn to_host(&self) -> String {
        self.to_string()
    }
}

impl ToHost for std::net::Ipv4Addr {
    fn to_host(&self) -> String {
        self.to_string()
    }
}

impl ToHost for std::net::Ipv6Addr {
    fn to_host(&self) -> String {
        self.to_string()
    }
}

/// Looks up the socket addresses of `host` at `port` (the system's resolver, run on a
/// blocking thread). Await it, or set [`family`](GetAddrInfo::family) first.
///
/// A host name that is not ASCII goes through IDNA first (UTS 46 without transitional
/// processing, as IDNA 2008: `"faß.de"` is looked up as `"xn--fa-hia.de"`, not as
/// `"fass.de"`); an IP address is used as it is, with no lookup.
///
/// # Errors
///
/// An error of kind [`ErrorKind::Io`] that names the host when it cannot be resolved, or
/// has no address of the requested family.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let addresses = anyio::getaddrinfo("localhost", 80).await?;
/// assert!(addresses.iter().all(|a| a.port() == 80 && a.ip().is_loopback()));
/// let v4 = anyio::getaddrinfo("127.0.0.1", 80)
///     .family(anyio::net::AddressFamily::Inet)
///     .await?;
/// assert_eq!(v4, ["127.0.0.1:80".parse().unwrap()]);
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
///
/// # Cancel safety
///
/// A checkpoint; cancelled, the lookup in progress finishes on its thread and its
/// result is dropped.
pub fn getaddrinfo(host: impl ToHost, port: u16) -> GetAddrInfo {
    GetAddrInfo {
        host: host.to_host(),
        port,
        family: AddressFamily::Unspecified,
    }
}

/// The builder of [`getaddrinfo`]: await it to look up.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let lookup: anyio::net::GetAddrInfo = anyio::getaddrinfo("::1", 443);
/// assert_eq!(lookup.await?, ["[::1]:443".parse().unwrap()]);
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
#[derive(Debug, Clone)]
#[must_use = "getaddrinfo does nothing unless awaited"]
pub struct GetAddrInfo {
    host: String,
    port: u16,
    family: AddressFamily,
}

impl GetAddrInfo {
    /// Only addresses of `family` (default: any).
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let v6 = anyio::getaddrinfo("::1", 80)
    ///     .family(anyio::net::AddressFamily::Inet6)
    ///     .await?;
    /// assert!(v6.iter().all(|a| a.is_ipv6()));
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn family(mut self, family: AddressFamily) -> Self {
        self.family = family;
        self
    }
}

impl IntoFuture for GetAddrInfo {
    type Output = Result<Vec<SocketAddr>>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            crate::lowlevel::checkpoint_if_cancelled().await;
            let GetAddrInfo { host, port, family } = self;
            // An IP address needs no resolver (and no thread).
            let found: Vec<SocketAddr> = match host.parse::<IpAddr>() {
                Ok(ip) => vec![SocketAddr::new(ip, port)],
                Err(_) => {
                    let lookup = ascii_host(&host)?;
                    blocking::unblock(move || {
                        (lookup.as_str(), port)
                            .to_socket_addrs()
                            .map(Iterator::collect)
                    })
                    .await
                    .map_err(|error| {
                        Error::with_source(
                            ErrorKind::Io(error.kind()),
                            format!("could not resolve the host {host:?}: {error}"),
                            error,
                        )
                    })?
                }
            };
            let mut addresses: Vec<SocketAddr> = Vec::with_capacity(found.len());
            for address in found {
                if family.allows(&address) && !addresses.contains(&address) {
                    addresses.push(address);
                }
            }
            if addresses.is_empty() {
                return Err(Error::new(
                    ErrorKind::Io(std::io::ErrorKind::NotFound),
                    format!("the host {host:?} has no address of the family {family:?}"),
                ));
            }
            Ok(addresses)
        })
    }
}

/// The name to give the resolver: an ASCII name as it is, any other through IDNA.
pub(crate) fn ascii_host(host: &str) -> Result<String> {
    if host.is_ascii() {
        return Ok(host.to_owned());
    }
    idna::domain_to_ascii(host).map_err(|error| {
        Error::new(
            ErrorKind::Io(std::io::ErrorKind::InvalidInput),
            format!("the host name {host:?} is not a valid internationalized domain name: {error}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::ascii_host;

    #[test]
    fn non_ascii_names_go_through_idna_2008() {
        assert_eq!(ascii_host("faß.de").unwrap(), "xn--fa-hia.de");
        assert_eq!(
            ascii_host("bücher.example").unwrap(),
            "xn--bcher-kva.example"
        );
        assert_eq!(ascii_host("Example.COM").unwrap(), "Example.COM");
    }

    #[test]
    fn an_invalid_name_is_an_error_naming_it() {
        let error = ascii_host("bad\u{fffd}name.example").unwrap_err();
        assert_eq!(
            error.kind(),
            crate::ErrorKind::Io(std::io::ErrorKind::InvalidInput)
        );
        assert!(error.to_string().contains("bad\u{fffd}name"), "{error}");
    }
}
