//! Typed attributes: extra information a stream or listener offers (its address, its
//! file path, ...), looked up by a key type and returned with that key's value type.

use std::any::{Any, TypeId, type_name};
use std::collections::HashMap;
use std::fmt;

use crate::error::{Error, ErrorKind, Result};

/// A key for a typed attribute: a (usually zero-sized) type naming the attribute, with
/// the type of its value.
///
/// # Examples
///
/// ```
/// use anyio::{TypedAttribute, TypedAttributeProvider, TypedAttributes};
///
/// /// The name of the peer, as a test stream knows it.
/// struct PeerName;
/// impl TypedAttribute for PeerName {
///     type Value = String;
/// }
///
/// struct TestStream;
/// impl TypedAttributeProvider for TestStream {
///     fn extra_attributes(&self) -> TypedAttributes {
///         TypedAttributes::new().with::<PeerName>("alice".to_owned())
///     }
/// }
///
/// assert_eq!(TestStream.extra::<PeerName>().unwrap(), "alice");
/// ```
pub trait TypedAttribute: 'static {
    /// The attribute's value.
    type Value: Clone + Send + Sync + 'static;
}

/// A set of typed attribute values, keyed by their [`TypedAttribute`] types.
///
/// # Examples
///
/// ```
/// use anyio::{TypedAttribute, TypedAttributes};
///
/// struct Port;
/// impl TypedAttribute for Port {
///     type Value = u16;
/// }
///
/// let attributes = TypedAttributes::new().with::<Port>(8080);
/// assert_eq!(attributes.get::<Port>(), Some(&8080));
/// ```
#[derive(Default)]
pub struct TypedAttributes {
    values: HashMap<TypeId, (&'static str, Box<dyn Any + Send + Sync>)>,
}

impl TypedAttributes {
    /// An empty set.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(anyio::TypedAttributes::new().is_empty());
    /// ```
    pub fn new() -> TypedAttributes {
        TypedAttributes::default()
    }

    /// Sets attribute `A` (replacing an earlier value).
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::{TypedAttribute, TypedAttributes};
    ///
    /// struct Name;
    /// impl TypedAttribute for Name {
    ///     type Value = String;
    /// }
    ///
    /// let mut attributes = TypedAttributes::new();
    /// attributes.insert::<Name>("first".into());
    /// attributes.insert::<Name>("second".into());
    /// assert_eq!(attributes.get::<Name>().unwrap(), "second");
    /// ```
    pub fn insert<A: TypedAttribute>(&mut self, value: A::Value) -> &mut TypedAttributes {
        self.values
            .insert(TypeId::of::<A>(), (type_name::<A>(), Box::new(value)));
        self
    }

    /// This set with attribute `A` set.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::{TypedAttribute, TypedAttributes};
    ///
    /// struct Secure;
    /// impl TypedAttribute for Secure {
    ///     type Value = bool;
    /// }
    ///
    /// assert_eq!(TypedAttributes::new().with::<Secure>(true).len(), 1);
    /// ```
    pub fn with<A: TypedAttribute>(mut self, value: A::Value) -> TypedAttributes {
        self.insert::<A>(value);
        self
    }

    /// The value of attribute `A`, if set.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::{TypedAttribute, TypedAttributes};
    ///
    /// struct Missing;
    /// impl TypedAttribute for Missing {
    ///     type Value = u8;
    /// }
    ///
    /// assert_eq!(TypedAttributes::new().get::<Missing>(), None);
    /// ```
    pub fn get<A: TypedAttribute>(&self) -> Option<&A::Value> {
        self.values
            .get(&TypeId::of::<A>())
            .and_then(|(_, value)| value.downcast_ref())
    }

    /// Adds every attribute of `other`; its values win over this set's.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::{TypedAttribute, TypedAttributes};
    ///
    /// struct Port;
    /// impl TypedAttribute for Port {
    ///     type Value = u16;
    /// }
    ///
    /// let mut inner = TypedAttributes::new().with::<Port>(1);
    /// inner.extend(TypedAttributes::new().with::<Port>(2));
    /// assert_eq!(inner.get::<Port>(), Some(&2));
    /// ```
    pub fn extend(&mut self, other: TypedAttributes) -> &mut TypedAttributes {
        self.values.extend(other.values);
        self
    }

    /// How many attributes are set.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(anyio::TypedAttributes::new().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether no attribute is set.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(anyio::TypedAttributes::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

impl fmt::Debug for TypedAttributes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(self.values.values().map(|(name, _)| name))
            .finish()
    }
}

/// Something that offers typed attributes: streams, listeners, and the wrappers around
/// them (which also offer their inner stream's attributes).
///
/// # Examples
///
/// ```
/// use anyio::{TypedAttribute, TypedAttributeProvider, TypedAttributes};
///
/// struct Speed;
/// impl TypedAttribute for Speed {
///     type Value = u32;
/// }
///
/// struct Link;
/// impl TypedAttributeProvider for Link {
///     fn extra_attributes(&self) -> TypedAttributes {
///         TypedAttributes::new().with::<Speed>(100)
///     }
/// }
///
/// assert_eq!(Link.extra::<Speed>().unwrap(), 100);
/// assert_eq!(Link.extra_or::<Speed>(10), 100);
/// let memory = anyio::create_memory_object_stream::<u8>(0).0;
/// assert_eq!(memory.extra_or::<Speed>(10), 10); // memory streams offer none
/// ```
pub trait TypedAttributeProvider {
    /// Every attribute this object offers, including those of what it wraps. The default
    /// offers none.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::TypedAttributeProvider;
    /// use anyio::net::{AddressFamily, Family, RemotePort};
    ///
    /// # anyio::run(async {
    /// let listener = anyio::create_tcp_listener().local_host("127.0.0.1").await?;
    /// let attributes = listener.extra_attributes();
    /// assert_eq!(attributes.get::<Family>(), Some(&AddressFamily::Inet));
    /// assert_eq!(attributes.get::<RemotePort>(), None); // a listener has no peer
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    fn extra_attributes(&self) -> TypedAttributes {
        TypedAttributes::new()
    }

    /// The value of attribute `A`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::TypedAttributeLookup`], naming the attribute, if it is not offered.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::TypedAttributeProvider;
    /// use anyio::net::LocalPort;
    /// use anyio::streams::file::FilePath;
    ///
    /// # anyio::run(async {
    /// let socket = anyio::create_udp_socket().local_host("127.0.0.1").await?;
    /// assert_ne!(socket.extra::<LocalPort>()?, 0);
    /// let missing = socket.extra::<FilePath>().unwrap_err(); // a socket has no file path
    /// assert_eq!(missing.kind(), anyio::ErrorKind::TypedAttributeLookup);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    fn extra<A: TypedAttribute>(&self) -> Result<A::Value>
    where
        Self: Sized,
    {
        self.extra_attributes().get::<A>().cloned().ok_or_else(|| {
            Error::new(
                ErrorKind::TypedAttributeLookup,
                format!(
                    "this object does not offer the attribute {}",
                    type_name::<A>()
                ),
            )
        })
    }

    /// The value of attribute `A`, or `default` if it is not offered.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::TypedAttributeProvider;
    /// use anyio::net::LocalPort;
    /// use anyio::streams::object_bytes::memory_byte_stream_pair;
    ///
    /// let (stream, _peer) = memory_byte_stream_pair(1);
    /// assert_eq!(stream.extra_or::<LocalPort>(0), 0); // an in-memory stream has no port
    /// ```
    fn extra_or<A: TypedAttribute>(&self, default: A::Value) -> A::Value
    where
        Self: Sized,
    {
        self.extra_attributes()
            .get::<A>()
            .cloned()
            .unwrap_or(default)
    }
}
