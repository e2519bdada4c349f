//! The messages between a parent and its worker over their UNIX stream socket.
//!
//! Each message is a frame: a little-endian `u32` length, then that many bytes, the first
//! of which says what the message is. Integers are little-endian. The worker speaks first
//! (hello), then answers each call with one reply; the parent closing its end tells the
//! worker to exit.
//!
//! ```text
//! hello   'H' version:u32 stamp            worker -> parent, once, at start
//! call    'C' stamp trampoline:i64 function:i64 fingerprint:u64 argument...
//! reply   'R' result...  |  'P' panic message  |  'F' failure  |  'M' mismatch
//! stamp   device:u64 inode:u64 probe:i64
//! ```

use std::io::{self, Read};

use super::raw::{CodeRef, Outcome, Stamp};

/// Bumped when a frame's layout changes.
const VERSION: u32 = 1;

/// A worker's answer to a call.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Reply {
    /// The encoded result.
    Returned(Vec<u8>),
    /// The function panicked: the panic message (and where, when known).
    Panicked(String),
    /// The call failed in the worker (argument or result encoding).
    Failed(String),
    /// The worker runs other code than the parent meant.
    Mismatch(String),
}

impl From<Outcome> for Reply {
    fn from(outcome: Outcome) -> Reply {
        match outcome {
            Outcome::Returned(bytes) => Reply::Returned(bytes),
            Outcome::Failed(message) => Reply::Failed(message),
            Outcome::Mismatch(message) => Reply::Mismatch(message),
        }
    }
}

/// A frame holding `tag` and `parts`, length first.
fn frame(tag: u8, parts: &[&[u8]]) -> io::Result<Vec<u8>> {
    let length = 1 + parts.iter().map(|part| part.len()).sum::<usize>();
    let Ok(prefix) = u32::try_from(length) else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("a message of {length} bytes is too long for a worker process (4 GiB at most)"),
        ));
    };
    let mut bytes = Vec::with_capacity(4 + length);
    bytes.extend_from_slice(&prefix.to_le_bytes());
    bytes.push(tag);
    for part in parts {
        bytes.extend_from_slice(part);
    }
    Ok(bytes)
}

fn stamp_bytes(stamp: &Stamp) -> [u8; 24] {
    let mut bytes = [0; 24];
    bytes[..8].copy_from_slice(&stamp.device.to_le_bytes());
    bytes[8..16].copy_from_slice(&stamp.inode.to_le_bytes());
    bytes[16..].copy_from_slice(&stamp.probe.to_le_bytes());
    bytes
}

/// Reads fixed-size fields off the front of a frame body.
struct Fields<'a>(&'a [u8]);

impl<'a> Fields<'a> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.0.split_first_chunk::<N>()?;
        self.0 = rest;
        Some(*head)
    }

    fn u64(&mut self) -> Option<u64> {
        self.take().map(u64::from_le_bytes)
    }

    fn i64(&mut self) -> Option<i64> {
        self.take().map(i64::from_le_bytes)
    }

    fn stamp(&mut self) -> Option<Stamp> {
        Some(Stamp {
            device: self.u64()?,
            inode: self.u64()?,
            probe: self.i64()?,
        })
    }

    fn rest(self) -> &'a [u8] {
        self.0
    }
}

/// The hello frame a worker sends first.
pub(super) fn hello(stamp: &Stamp) -> Vec<u8> {
    frame(b'H', &[&VERSION.to_le_bytes(), &stamp_bytes(stamp)]).expect("a hello is short")
}

/// The stamp of a hello frame body of this protocol version.
pub(super) fn parse_hello(body: &[u8]) -> Option<Stamp> {
    let mut fields = Fields(body.strip_prefix(b"H")?);
    if fields.take().map(u32::from_le_bytes)? != VERSION {
        return None;
    }
    fields.stamp()
}

/// A call frame.
///
/// # Errors
///
/// If the argument makes the frame longer than 4 GiB.
pub(super) fn call(stamp: &Stamp, code: &CodeRef, argument: &[u8]) -> io::Result<Vec<u8>> {
    frame(
        b'C',
        &[
            &stamp_bytes(stamp),
            &code.trampoline.to_le_bytes(),
            &code.function.to_le_bytes(),
            &code.fingerprint.to_le_bytes(),
            argument,
        ],
    )
}

/// The parts of a call frame body.
pub(super) fn parse_call(body: &[u8]) -> Option<(Stamp, CodeRef, &[u8])> {
    let mut fields = Fields(body.strip_prefix(b"C")?);
    let stamp = fields.stamp()?;
    let code = CodeRef {
        trampoline: fields.i64()?,
        function: fields.i64()?,
        fingerprint: fields.u64()?,
    };
    Some((stamp, code, fields.rest()))
}

/// A reply frame (a reply too long to send becomes a failure saying so).
pub(super) fn reply(reply: &Reply) -> Vec<u8> {
    let (tag, body) = match reply {
        Reply::Returned(bytes) => (b'R', bytes.as_slice()),
        Reply::Panicked(message) => (b'P', message.as_bytes()),
        Reply::Failed(message) => (b'F', message.as_bytes()),
        Reply::Mismatch(message) => (b'M', message.as_bytes()),
    };
    frame(tag, &[body]).unwrap_or_else(|error| {
        frame(
            b'F',
            &[format!("the result could not be sent: {error}").as_bytes()],
        )
        .expect("a short message fits")
    })
}

/// The reply in a frame body.
pub(super) fn parse_reply(body: &[u8]) -> Option<Reply> {
    let (&tag, rest) = body.split_first()?;
    let text = || String::from_utf8_lossy(rest).into_owned();
    Some(match tag {
        b'R' => Reply::Returned(rest.to_vec()),
        b'P' => Reply::Panicked(text()),
        b'F' => Reply::Failed(text()),
        b'M' => Reply::Mismatch(text()),
        _ => return None,
    })
}

/// Reads one frame body, blocking; `None` at a clean end of stream (between frames).
pub(super) fn read_frame(reader: &mut impl Read) -> io::Result<Option<Vec<u8>>> {
    let mut prefix = [0; 4];
    let mut filled = 0;
    while filled < prefix.len() {
        match reader.read(&mut prefix[filled..]) {
            Ok(0) if filled == 0 => return Ok(None),
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => filled += n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    let mut body = vec![0; u32::from_le_bytes(prefix) as usize];
    reader.read_exact(&mut body)?;
    Ok(Some(body))
}

/// Reads one frame body without blocking the thread; the end of the stream is an error.
pub(super) async fn read_frame_async(
    mut reader: impl futures_lite::AsyncRead + Unpin,
) -> io::Result<Vec<u8>> {
    use futures_lite::AsyncReadExt;
    let mut prefix = [0; 4];
    reader.read_exact(&mut prefix).await?;
    let mut body = vec![0; u32::from_le_bytes(prefix) as usize];
    reader.read_exact(&mut body).await?;
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(frame: &[u8]) -> Vec<u8> {
        read_frame(&mut &frame[..]).unwrap().unwrap()
    }

    const STAMP: Stamp = Stamp {
        device: 7,
        inode: 1234,
        probe: -4096,
    };

    #[test]
    fn a_hello_carries_the_stamp() {
        assert_eq!(parse_hello(&body(&hello(&STAMP))), Some(STAMP));
    }

    #[test]
    fn a_call_carries_the_code_and_the_argument() {
        let code = CodeRef {
            trampoline: -12345,
            function: 678,
            fingerprint: u64::MAX,
        };
        let frame = call(&STAMP, &code, b"argument").unwrap();
        let body = body(&frame);
        let (stamp, parsed, argument) = parse_call(&body).unwrap();
        assert_eq!((stamp, parsed, argument), (STAMP, code, &b"argument"[..]));
    }

    #[test]
    fn every_reply_round_trips() {
        for reply in [
            Reply::Returned(vec![1, 2, 3]),
            Reply::Panicked("boom".into()),
            Reply::Failed("bad argument".into()),
            Reply::Mismatch("other build".into()),
        ] {
            assert_eq!(parse_reply(&body(&super::reply(&reply))), Some(reply));
        }
    }

    #[test]
    fn a_stream_ends_cleanly_only_between_frames() {
        assert!(read_frame(&mut &b""[..]).unwrap().is_none());
        assert!(read_frame(&mut &b"\x05\0"[..]).is_err());
        assert!(read_frame(&mut &b"\x05\0\0\0ab"[..]).is_err());
    }

    #[test]
    fn malformed_bodies_are_refused() {
        assert_eq!(parse_hello(b"Hxx"), None);
        assert_eq!(parse_call(b"C\0\0"), None);
        assert_eq!(parse_reply(b"Z"), None);
        assert_eq!(parse_reply(b""), None);
    }
}
