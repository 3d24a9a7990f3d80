//! `tryvoha-bench floor listen=127.0.0.1:8070 [threads=2]`: the physical floor of a fan-out.
//!
//! A server that does nothing but what every fan-out server must: it holds the subscribers'
//! sockets (SSE, or WebSocket after the handshake) and, for each message published to it
//! (`POST /pub/<anything>`, answered at once), writes the same frame to every socket. No event
//! log, no routing, no queues, no timers, no async runtime: plain blocking writes from
//! `threads` threads, each over its share of the sockets. What it spends per delivery is what
//! the kernel's send costs on this machine; a real server can only add to it.
//!
//! The frame is what tryvoha writes for an event, padded like nchan's body to the same size:
//! SSE `id:`, `event:` and `data:` lines, or one unmasked WebSocket text frame.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use base64::Engine;
use sha1::{Digest, Sha1};

use crate::args::Args;
use crate::ws;

/// A subscriber's socket and how frames are put on it.
struct Subscriber {
    socket: TcpStream,
    websocket: bool,
}

/// The sockets, and how many messages were sent (the SSE `id`).
#[derive(Default)]
struct Audience {
    subscribers: Vec<Subscriber>,
    sent: u64,
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let listen = args.text("listen").unwrap_or("127.0.0.1:8070").to_string();
    let threads: usize = args.number("threads", 2)?;
    anyhow::ensure!(threads > 0, "threads= must be positive");
    args.reject_unknown()?;
    let listener = TcpListener::bind(&listen).with_context(|| format!("cannot listen on {listen}"))?;
    eprintln!("floor: listening on {listen}, writing from {threads} threads");
    let audience = Arc::new(Mutex::new(Audience::default()));
    for connection in listener.incoming() {
        let Ok(socket) = connection else { continue };
        let audience = audience.clone();
        // The connection's request decides what it is; a subscriber's thread ends once its
        // socket is handed over, a publisher's serves its keep-alive connection.
        std::thread::spawn(move || {
            if let Err(error) = serve(socket, &audience, threads) {
                eprintln!("floor: connection ended: {error:#}");
            }
        });
    }
    Ok(())
}

fn serve(socket: TcpStream, audience: &Mutex<Audience>, threads: usize) -> anyhow::Result<()> {
    socket.set_nodelay(true)?;
    let mut reader = BufReader::new(socket.try_clone()?);
    loop {
        let Some(head) = read_head(&mut reader)? else { return Ok(()) };
        if head.method == "POST" {
            let mut body = vec![0u8; head.content_length];
            reader.read_exact(&mut body)?;
            (&socket).write_all(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")?;
            publish(audience, &body, threads);
            continue;
        }
        let mut socket = socket;
        match &head.websocket_key {
            Some(key) => {
                let accept = accept_key(key);
                let answer = format!(
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
                );
                socket.write_all(answer.as_bytes())?;
                // The first frame tells the client the stream has begun, as the servers' do.
                socket.write_all(&ws::server_text_frame(b"{\"type\":\"hello\"}"))?;
            }
            None => socket.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n\r\nretry: 1000\n\n",
            )?,
        }
        let websocket = head.websocket_key.is_some();
        lock(audience).subscribers.push(Subscriber { socket, websocket });
        return Ok(());
    }
}

/// Writes one message to every subscriber: the frames are made once, then each thread writes
/// them to a contiguous share of the sockets. A socket that fails is skipped from then on.
fn publish(audience: &Mutex<Audience>, body: &[u8], threads: usize) {
    let mut audience = lock(audience);
    audience.sent += 1;
    let sse = sse_frame(audience.sent, body);
    let websocket = ws::server_text_frame(body);
    let share = audience.subscribers.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        for part in audience.subscribers.chunks_mut(share) {
            let (sse, websocket) = (&sse, &websocket);
            scope.spawn(move || {
                for subscriber in part {
                    let frame = if subscriber.websocket { websocket } else { sse };
                    let _ = subscriber.socket.write_all(frame);
                }
            });
        }
    });
}

fn sse_frame(id: u64, body: &[u8]) -> Vec<u8> {
    let mut frame = format!("id: {id}\nevent: declared\ndata: ").into_bytes();
    frame.extend_from_slice(body);
    frame.extend_from_slice(b"\n\n");
    frame
}

/// RFC 6455 §4.2.2: the key with the protocol's GUID, SHA-1, base64.
fn accept_key(key: &str) -> String {
    let digest = Sha1::new().chain_update(key.trim()).chain_update("258EAFA5-E914-47DA-95CA-C5AB0DC85B11").finalize();
    base64::engine::general_purpose::STANDARD.encode(digest)
}

struct Head {
    method: String,
    content_length: usize,
    websocket_key: Option<String>,
}

/// The next request head on the connection; `None` when the client closed it.
fn read_head(reader: &mut impl BufRead) -> anyhow::Result<Option<Head>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let method = line.split_whitespace().next().unwrap_or_default().to_string();
    let mut head = Head { method, content_length: 0, websocket_key: None };
    loop {
        line.clear();
        anyhow::ensure!(reader.read_line(&mut line)? > 0, "the request head ended early");
        let line = line.trim_end();
        if line.is_empty() {
            return Ok(Some(head));
        }
        let Some((name, value)) = line.split_once(':') else { continue };
        if name.eq_ignore_ascii_case("content-length") {
            head.content_length = value.trim().parse().context("a bad Content-Length")?;
        } else if name.eq_ignore_ascii_case("sec-websocket-key") {
            head.websocket_key = Some(value.trim().to_string());
        }
    }
}

fn lock(audience: &Mutex<Audience>) -> std::sync::MutexGuard<'_, Audience> {
    audience.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_accept_key_is_the_rfc_example() {
        // RFC 6455 §1.3.
        assert_eq!(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn a_head_is_read_with_its_length_and_key() {
        let text = "POST /pub/x HTTP/1.1\r\nHost: a\r\ncontent-length: 12\r\nSec-WebSocket-Key: k\r\n\r\nrest";
        let head = read_head(&mut text.as_bytes()).unwrap().unwrap();
        assert_eq!((head.method.as_str(), head.content_length, head.websocket_key.as_deref()), ("POST", 12, Some("k")));
        assert!(read_head(&mut &b""[..]).unwrap().is_none());
    }
}
