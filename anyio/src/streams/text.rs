//! Text streams: UTF-8 strings over byte streams, decoded incrementally.
//!
//! # Examples
//!
//! Text over a TCP connection:
//!
//! ```
//! use anyio::TypedAttributeProvider;
//! use anyio::abc::Listener;
//! use anyio::net::LocalPort;
//! use anyio::streams::text::TextStream;
//!
//! # anyio::run(async {
//! let mut listener = anyio::create_tcp_listener().local_host("127.0.0.1").await?;
//! let client = anyio::connect_tcp("127.0.0.1", listener.extra::<LocalPort>()?).await?;
//! let mut client = TextStream::new(client);
//! let mut server = TextStream::new(listener.accept().await?);
//! client.send("grüß dich").await?;
//! assert_eq!(server.receive().await?, "grüß dich");
//! # anyio::Result::Ok(()) }).unwrap();
//! ```

use crate::abc::{
    ByteReceiveStream, ByteSendStream, ByteStream, DEFAULT_MAX_BYTES, ObjectReceiveStream,
    ObjectSendStream, ObjectStream, UnreliableObjectReceiveStream, UnreliableObjectSendStream,
    forward_resource_to_inner,
};
use crate::error::{Error, ErrorKind, Result};

/// Decodes UTF-8 across chunk boundaries: a character split between two chunks comes
/// out once whole.
#[derive(Debug, Default)]
struct Utf8Decoder {
    /// The start of a character whose remaining bytes have not arrived (at most 3).
    pending: Vec<u8>,
    lossy: bool,
}

impl Utf8Decoder {
    fn lossy() -> Utf8Decoder {
        Utf8Decoder {
            pending: Vec::new(),
            lossy: true,
        }
    }

    fn decode(&mut self, chunk: &[u8]) -> Result<String> {
        let mut bytes = std::mem::take(&mut self.pending);
        bytes.extend_from_slice(chunk);
        let mut text = String::with_capacity(bytes.len());
        let mut rest = &bytes[..];
        loop {
            match std::str::from_utf8(rest) {
                Ok(valid) => {
                    text.push_str(valid);
                    return Ok(text);
                }
                Err(error) => {
                    let (valid, after) = rest.split_at(error.valid_up_to());
                    text.push_str(std::str::from_utf8(valid).expect("checked valid"));
                    match error.error_len() {
                        // Incomplete at the end: wait for the next chunk.
                        None => {
                            self.pending = after.to_vec();
                            return Ok(text);
                        }
                        Some(bad) if self.lossy => {
                            text.push(char::REPLACEMENT_CHARACTER);
                            rest = &after[bad..];
                        }
                        Some(_) => {
                            return Err(Error::new(
                                ErrorKind::Io(std::io::ErrorKind::InvalidData),
                                format!(
                                    "the stream is not valid UTF-8 (byte {:#04x} after {} valid \
                                     bytes of this chunk)",
                                    after[0],
                                    valid.len()
                                ),
                            ));
                        }
                    }
                }
            }
        }
    }

    /// At the end of the stream: a character left incomplete is an error (or one
    /// replacement character when lossy).
    fn finish(&mut self) -> Result<Option<String>> {
        if self.pending.is_empty() {
            return Ok(None);
        }
        self.pending.clear();
        if self.lossy {
            return Ok(Some(char::REPLACEMENT_CHARACTER.to_string()));
        }
        Err(Error::new(
            ErrorKind::Io(std::io::ErrorKind::InvalidData),
            "the stream ended inside a UTF-8 character",
        ))
    }
}

/// Receives strings from a byte stream, decoding UTF-8 incrementally.
///
/// Each [`receive`](TextReceiveStream::receive) returns the complete characters of at
/// least one chunk; bytes of a character split across chunks wait for the rest. Invalid
/// UTF-8 is an [`ErrorKind::Io`]`(InvalidData)` error, or U+FFFD with
/// [`lossy`](TextReceiveStream::lossy). Offers the inner stream's typed attributes.
///
/// # Examples
///
/// ```
/// use anyio::abc::ByteSendStream;
/// use anyio::streams::object_bytes::memory_byte_stream_pair;
/// use anyio::streams::text::TextReceiveStream;
///
/// # anyio::run(async {
/// let (mut sender, receiver) = memory_byte_stream_pair(4);
/// let mut text = TextReceiveStream::new(receiver);
/// let euro = "€".as_bytes(); // three bytes
/// sender.send(&euro[..1]).await?;
/// sender.send(&euro[1..]).await?;
/// assert_eq!(text.receive().await?, "€");
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
#[derive(Debug)]
pub struct TextReceiveStream<S> {
    inner: S,
    decoder: Utf8Decoder,
}

impl<S> TextReceiveStream<S> {
    /// Decodes strictly: invalid UTF-8 is an error.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::streams::object_bytes::memory_byte_stream_pair;
    /// use anyio::streams::text::TextReceiveStream;
    ///
    /// let (_peer, stream) = memory_byte_stream_pair(1);
    /// let _text = TextReceiveStream::new(stream);
    /// ```
    pub fn new(inner: S) -> TextReceiveStream<S> {
        TextReceiveStream {
            inner,
            decoder: Utf8Decoder::default(),
        }
    }

    /// Decodes leniently: each invalid sequence becomes U+FFFD.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::abc::ByteSendStream;
    /// use anyio::streams::object_bytes::memory_byte_stream_pair;
    /// use anyio::streams::text::TextReceiveStream;
    ///
    /// # anyio::run(async {
    /// let (mut peer, stream) = memory_byte_stream_pair(1);
    /// let mut text = TextReceiveStream::lossy(stream);
    /// peer.send(b"caf\xe9!").await?; // Latin-1, not UTF-8
    /// assert_eq!(text.receive().await?, "caf\u{FFFD}!");
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn lossy(inner: S) -> TextReceiveStream<S> {
        TextReceiveStream {
            inner,
            decoder: Utf8Decoder::lossy(),
        }
    }

    /// The wrapped stream.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::streams::object_bytes::memory_byte_stream_pair;
    /// use anyio::streams::text::TextReceiveStream;
    ///
    /// let (_peer, stream) = memory_byte_stream_pair(1);
    /// let _stream = TextReceiveStream::new(stream).into_inner();
    /// ```
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: ByteReceiveStream> TextReceiveStream<S> {
    /// The next decoded text (never empty).
    ///
    /// # Errors
    ///
    /// The inner stream's errors ([`ErrorKind::EndOfStream`] at its end), and
    /// [`ErrorKind::Io`]`(InvalidData)` for invalid UTF-8 (when strict) or a character
    /// cut off by the end of the stream.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe if the inner stream's `receive` is: bytes of an incomplete character
    /// stay in the decoder for the next call, and decoded text is returned in the poll
    /// that decoded it. A checkpoint if the inner stream's `receive` is.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::abc::{ByteSendStream, ByteStream};
    /// use anyio::streams::object_bytes::memory_byte_stream_pair;
    /// use anyio::streams::text::TextReceiveStream;
    ///
    /// # anyio::run(async {
    /// let (mut peer, stream) = memory_byte_stream_pair(2);
    /// let mut text = TextReceiveStream::new(stream);
    /// peer.send(b"abc").await?;
    /// peer.send_eof().await?;
    /// assert_eq!(text.receive().await?, "abc");
    /// assert_eq!(text.receive().await.unwrap_err().kind(), anyio::ErrorKind::EndOfStream);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn receive(&mut self) -> Result<String> {
        receive_text(&mut self.inner, &mut self.decoder).await
    }
}

/// The next decoded text from `inner`; decoder state lives outside this future.
async fn receive_text<S: ByteReceiveStream>(
    inner: &mut S,
    decoder: &mut Utf8Decoder,
) -> Result<String> {
    loop {
        let chunk = match inner.receive(DEFAULT_MAX_BYTES).await {
            Ok(chunk) => chunk,
            Err(error) if error.kind() == ErrorKind::EndOfStream => {
                return match decoder.finish()? {
                    Some(text) => Ok(text),
                    None => Err(error),
                };
            }
            Err(error) => return Err(error),
        };
        let text = decoder.decode(&chunk)?;
        if !text.is_empty() {
            return Ok(text);
        }
    }
}

forward_resource_to_inner!(TextReceiveStream, inner);

impl<S: ByteReceiveStream> UnreliableObjectReceiveStream<String> for TextReceiveStream<S> {
    async fn receive(&mut self) -> Result<String> {
        TextReceiveStream::receive(self).await
    }
}

impl<S: ByteReceiveStream> ObjectReceiveStream<String> for TextReceiveStream<S> {}

/// Sends strings to a byte stream as UTF-8. Offers the inner stream's typed attributes.
///
/// # Examples
///
/// ```
/// use anyio::abc::ByteReceiveStream;
/// use anyio::streams::object_bytes::memory_byte_stream_pair;
/// use anyio::streams::text::TextSendStream;
///
/// # anyio::run(async {
/// let (sender, mut receiver) = memory_byte_stream_pair(4);
/// let mut text = TextSendStream::new(sender);
/// text.send("héllo").await?;
/// assert_eq!(receiver.receive(64).await?, "héllo".as_bytes());
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
#[derive(Debug)]
pub struct TextSendStream<S> {
    inner: S,
}

impl<S> TextSendStream<S> {
    /// Wraps `inner`.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::streams::object_bytes::memory_byte_stream_pair;
    /// use anyio::streams::text::TextSendStream;
    ///
    /// let (stream, _peer) = memory_byte_stream_pair(1);
    /// let _text = TextSendStream::new(stream);
    /// ```
    pub fn new(inner: S) -> TextSendStream<S> {
        TextSendStream { inner }
    }

    /// The wrapped stream.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::streams::object_bytes::memory_byte_stream_pair;
    /// use anyio::streams::text::TextSendStream;
    ///
    /// let (stream, _peer) = memory_byte_stream_pair(1);
    /// let _stream = TextSendStream::new(stream).into_inner();
    /// ```
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: ByteSendStream> TextSendStream<S> {
    /// Sends `text` encoded as UTF-8.
    ///
    /// # Cancel safety
    ///
    /// As for the inner stream's `send` of the encoded bytes: if that can be cut short, a
    /// cancelled send may have sent only part of the text, possibly ending inside a
    /// character.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::abc::ByteReceiveStream;
    /// use anyio::streams::object_bytes::memory_byte_stream_pair;
    /// use anyio::streams::text::TextSendStream;
    ///
    /// # anyio::run(async {
    /// let (stream, mut peer) = memory_byte_stream_pair(1);
    /// let mut text = TextSendStream::new(stream);
    /// text.send("ü").await?;
    /// assert_eq!(peer.receive(8).await?, [0xc3, 0xbc]);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn send(&mut self, text: &str) -> Result<()> {
        self.inner.send(text.as_bytes()).await
    }
}

forward_resource_to_inner!(TextSendStream, inner);

impl<S: ByteSendStream> UnreliableObjectSendStream<String> for TextSendStream<S> {
    async fn send(&mut self, item: String) -> Result<()> {
        TextSendStream::send(self, &item).await
    }
}

impl<S: ByteSendStream> ObjectSendStream<String> for TextSendStream<S> {}

/// A two-way text stream over a byte stream: [`TextReceiveStream`] and
/// [`TextSendStream`] in one.
///
/// # Examples
///
/// ```
/// use anyio::streams::object_bytes::memory_byte_stream_pair;
/// use anyio::streams::text::TextStream;
///
/// # anyio::run(async {
/// let (a, b) = memory_byte_stream_pair(4);
/// let (mut a, mut b) = (TextStream::new(a), TextStream::new(b));
/// a.send("question?").await?;
/// assert_eq!(b.receive().await?, "question?");
/// b.send("answer!").await?;
/// assert_eq!(a.receive().await?, "answer!");
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
#[derive(Debug)]
pub struct TextStream<S> {
    inner: S,
    decoder: Utf8Decoder,
}

impl<S> TextStream<S> {
    /// Decodes strictly: invalid UTF-8 is an error.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::streams::object_bytes::memory_byte_stream_pair;
    /// use anyio::streams::text::TextStream;
    ///
    /// let (a, _b) = memory_byte_stream_pair(1);
    /// let _text = TextStream::new(a);
    /// ```
    pub fn new(inner: S) -> TextStream<S> {
        TextStream {
            inner,
            decoder: Utf8Decoder::default(),
        }
    }

    /// Decodes leniently: each invalid sequence becomes U+FFFD.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::streams::object_bytes::memory_byte_stream_pair;
    /// use anyio::streams::text::TextStream;
    ///
    /// let (a, _b) = memory_byte_stream_pair(1);
    /// let _text = TextStream::lossy(a);
    /// ```
    pub fn lossy(inner: S) -> TextStream<S> {
        TextStream {
            inner,
            decoder: Utf8Decoder::lossy(),
        }
    }

    /// The wrapped stream.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::streams::object_bytes::memory_byte_stream_pair;
    /// use anyio::streams::text::TextStream;
    ///
    /// let (a, _b) = memory_byte_stream_pair(1);
    /// let _a = TextStream::new(a).into_inner();
    /// ```
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: ByteStream> TextStream<S> {
    /// As [`TextReceiveStream::receive`].
    ///
    /// # Cancel safety
    ///
    /// As for [`TextReceiveStream::receive`].
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::streams::object_bytes::memory_byte_stream_pair;
    /// use anyio::streams::text::TextStream;
    ///
    /// # anyio::run(async {
    /// let (a, b) = memory_byte_stream_pair(1);
    /// let (mut a, mut b) = (TextStream::new(a), TextStream::new(b));
    /// a.send("¡hola!").await?;
    /// assert_eq!(b.receive().await?, "¡hola!");
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn receive(&mut self) -> Result<String> {
        receive_text(&mut self.inner, &mut self.decoder).await
    }

    /// Sends `text` encoded as UTF-8.
    ///
    /// # Cancel safety
    ///
    /// As for [`TextSendStream::send`].
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::abc::ByteReceiveStream;
    /// use anyio::streams::object_bytes::memory_byte_stream_pair;
    /// use anyio::streams::text::TextStream;
    ///
    /// # anyio::run(async {
    /// let (a, mut b) = memory_byte_stream_pair(1);
    /// let mut a = TextStream::new(a);
    /// a.send("ok").await?;
    /// assert_eq!(b.receive(8).await?, b"ok");
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn send(&mut self, text: &str) -> Result<()> {
        self.inner.send(text.as_bytes()).await
    }

    /// Tells the peer no more text will come.
    ///
    /// # Cancel safety
    ///
    /// As for the inner stream's `send_eof`.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::streams::object_bytes::memory_byte_stream_pair;
    /// use anyio::streams::text::TextStream;
    ///
    /// # anyio::run(async {
    /// let (a, b) = memory_byte_stream_pair(1);
    /// let (mut a, mut b) = (TextStream::new(a), TextStream::new(b));
    /// a.send_eof().await?;
    /// assert_eq!(b.receive().await.unwrap_err().kind(), anyio::ErrorKind::EndOfStream);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn send_eof(&mut self) -> Result<()> {
        self.inner.send_eof().await
    }
}

forward_resource_to_inner!(TextStream, inner);

impl<S: ByteStream> UnreliableObjectReceiveStream<String> for TextStream<S> {
    async fn receive(&mut self) -> Result<String> {
        TextStream::receive(self).await
    }
}

impl<S: ByteStream> ObjectReceiveStream<String> for TextStream<S> {}

impl<S: ByteStream> UnreliableObjectSendStream<String> for TextStream<S> {
    async fn send(&mut self, item: String) -> Result<()> {
        TextStream::send(self, &item).await
    }
}

impl<S: ByteStream> ObjectSendStream<String> for TextStream<S> {}

impl<S: ByteStream> ObjectStream<String> for TextStream<S> {
    async fn send_eof(&mut self) -> Result<()> {
        TextStream::send_eof(self).await
    }
}
