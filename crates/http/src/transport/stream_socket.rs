//! Writing to a live stream's socket, for both direct paths ([`super::sse`],
//! [`super::websocket`]): its fixed send buffer, frames gathered into one write, and the write
//! timeout, which cuts a client whose socket takes nothing for that long.

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;
use tryvoha_live::{Feed, Frame, Outlet};

use crate::stream::Connection;

/// The most bytes of frames written at once: half the socket's send buffer
/// ([`STREAM_SEND_BUFFER`]), so that a batch rarely has to wait for room.
const WRITE_BATCH: usize = STREAM_SEND_BUFFER / 2;

/// The kernel's send buffer of a stream's socket (Linux doubles it for its own bookkeeping):
/// room for about a hundred frames, a catch-up page or a snapshot drains through it in a few
/// round trips.
const STREAM_SEND_BUFFER: usize = 32 * 1024;

/// Gives a live stream's socket a send buffer of [`STREAM_SEND_BUFFER`]. A client that stops
/// reading would otherwise park up to the kernel's largest send buffer (4 MiB by default:
/// autotuning grows it) in the kernel for as long as it answers TCP's probes. Fixed, the buffer
/// fills after a few dozen frames, the next write waits, and the write timeout cuts the client
/// off (counted) while its memory stays this small.
pub(crate) fn fix_send_buffer(stream: &TcpStream) {
    if let Err(error) = socket2::SockRef::from(stream).set_send_buffer_size(STREAM_SEND_BUFFER) {
        tracing::debug!(%error, "cannot fix the stream's send buffer");
    }
}

/// A live stream's socket, shared with the hub, which writes to it while the stream is parked
/// ([`tryvoha_live::Feed::park`]).
pub(crate) struct StreamSocket(pub(crate) TcpStream);

impl Outlet for StreamSocket {
    /// Straight to the socket, past tokio's record of its readiness: the fan-out writes to
    /// thousands of sockets in a row, and reading each one's record would cost a cache miss
    /// more per delivery. A write that finds the socket full leaves the record saying
    /// writable; the stream's task, which takes the rest, then finds out by its own write and
    /// waits. (A peer that is gone gives `EPIPE`: Rust programs ignore `SIGPIPE`.)
    fn try_write_vectored(&self, parts: &[std::io::IoSlice<'_>]) -> std::io::Result<usize> {
        socket2::SockRef::from(&self.0).send_vectored(parts)
    }
}

/// Writes `first` (but its first `written_of_first` bytes, which the hub wrote) and whatever
/// else the feed has ready (what queued during a burst, the rest of a catch-up page), up to
/// [`WRITE_BATCH`] bytes, in one write: on loopback and on a busy server the system call, not
/// the bytes, is most of a delivery's cost. Each frame goes as the connection's transport
/// writes it (its SSE or its WebSocket bytes, both made once).
pub(super) async fn deliver(
    stream: &TcpStream,
    first: Arc<Frame>,
    written_of_first: usize,
    feed: &mut Feed,
    connection: &Connection,
) -> std::io::Result<()> {
    let transport = connection.transport;
    let channel = transport.channel();
    let mut size = first.bytes(transport).len() - written_of_first;
    let mut frames = vec![first];
    while size < WRITE_BATCH {
        let Some(frame) = feed.next_ready() else { break };
        size += frame.bytes(transport).len();
        frames.push(frame);
    }
    frames.iter().for_each(|frame| frame.attempted(channel));
    let unwritten = |index: usize, frame: &'_ Arc<Frame>| {
        let bytes = frame.bytes(transport);
        if index == 0 { bytes.slice(written_of_first..) } else { bytes.clone() }
    };
    let written = match frames.as_slice() {
        [only] => write_all(stream, &unwritten(0, only), connection.write_timeout()).await,
        several => {
            let mut joined = Vec::with_capacity(size);
            several.iter().enumerate().for_each(|(index, frame)| joined.extend_from_slice(&unwritten(index, frame)));
            write_all(stream, &joined, connection.write_timeout()).await
        }
    };
    for frame in &frames {
        match &written {
            Ok(()) => {
                frame.delivered(channel);
                connection.metrics.delivered(frame.decided_at);
            }
            Err(_) => frame.failed(channel),
        }
    }
    if matches!(&written, Err(error) if error.kind() == std::io::ErrorKind::TimedOut) {
        connection.metrics.stalled_subscriber_cut();
    }
    written
}

/// Writes everything, waiting for the socket as needed, as long as it takes some of the bytes
/// at least every `within`. Works on `&TcpStream`, so the same socket can be watched for
/// readability meanwhile.
pub(crate) async fn write_all(stream: &TcpStream, bytes: &[u8], within: Duration) -> std::io::Result<()> {
    if bytes.is_empty() {
        return Ok(()); // nothing to say: no system call
    }
    // Nearly always the socket has room and this returns without waiting. Only a wait (a slow
    // client) pays for a timer, on the heap, so that the timer is not part of every waiting
    // stream's future.
    let rest = match stream.try_write(bytes) {
        Ok(written) if written == bytes.len() => return Ok(()),
        Ok(written) => &bytes[written..],
        Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => bytes,
        Err(error) => return Err(error),
    };
    Box::pin(write_while_taken(stream, rest, within)).await
}

/// The rest of [`write_all`]: a client that reads slowly is waited for, one that takes nothing
/// for `within` stopped reading.
async fn write_while_taken(stream: &TcpStream, mut bytes: &[u8], within: Duration) -> std::io::Result<()> {
    let deadline = tokio::time::sleep(within);
    tokio::pin!(deadline);
    while !bytes.is_empty() {
        tokio::select! {
            writable = stream.writable() => writable?,
            _ = &mut deadline => {
                return Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "the client stopped reading"));
            }
        }
        match stream.try_write(bytes) {
            Ok(written) => {
                bytes = &bytes[written..];
                deadline.as_mut().reset(tokio::time::Instant::now() + within);
            }
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

/// Reads and drops what the client sent, at most `reads` times 512 bytes (a client that floods
/// does not hold the thread: the socket stays readable, and the rest waits for the next turn).
/// True once the client closed (end of stream) or the socket failed.
pub(super) fn discard_what_was_sent(stream: &TcpStream, reads: usize) -> bool {
    let mut sink = [0u8; 512];
    for _ in 0..reads {
        match stream.try_read(&mut sink) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => return false,
            Err(_) => return true,
        }
    }
    false
}

#[cfg(test)]
mod tests;
