//! One subscriber connection: connect, ask for the stream, and time every message it reads.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{Semaphore, watch};

use super::{Plan, Progress, Transport};
use crate::http;
use crate::stream::{Decoder, Found};
use crate::sys::{self, monotonic_ns};

/// Read buffer per connection: a whole event fits, and 10k of them cost 40 MB.
const READ_BUFFER: usize = 4096;
const CONNECT_ATTEMPTS: u32 = 3;
/// A slow consumer's receive buffer: a phone on a poor link, whose window fills after a few
/// frames (the kernel doubles the figure and keeps a floor of its own).
const STALLED_RECEIVE_BUFFER: u32 = 4096;
/// How long a slow consumer, at the end, reads what is left to see whether it was cut off.
const STALLED_DRAIN: Duration = Duration::from_secs(5);

/// What one connection saw.
pub struct Record {
    pub connected: bool,
    pub stalled: bool,
    /// The stream ended before the run did (for a stalled one: the server cut it off).
    pub disconnected: bool,
    /// Declare→receive latency per message, `None` while missing.
    pub latency_ns: Vec<Option<u64>>,
    pub duplicate: u64,
    pub out_of_order: u64,
    pub data_bytes: usize,
}

pub async fn subscriber(
    index: usize,
    plan: Arc<Plan>,
    progress: Arc<Progress>,
    gate: Arc<Semaphore>,
    mut finished: watch::Receiver<bool>,
) -> Record {
    let stalls = plan.stalls(index);
    let mut record = Record {
        connected: false,
        stalled: stalls,
        disconnected: false,
        latency_ns: vec![None; plan.messages],
        duplicate: 0,
        out_of_order: 0,
        data_bytes: 0,
    };
    // The permit bounds connects in flight; it is held until the stream has begun.
    let permit = gate.acquire().await;
    let source = source_address(plan.first_index + index, plan.sources);
    let opened = tokio::time::timeout(plan.connect_timeout, open_stream(&plan, source, stalls)).await;
    let (mut stream, mut pending, mut decoder) = match opened {
        Ok(Ok(opened)) => opened,
        Ok(Err(error)) => {
            eprintln!("client: connection {index} from {source} failed: {error:#}");
            drop(permit);
            progress.settle(false, !stalls);
            return record;
        }
        Err(_) => {
            eprintln!("client: connection {index} from {source} timed out");
            drop(permit);
            progress.settle(false, !stalls);
            return record;
        }
    };
    drop(permit);
    record.connected = true;
    progress.settle(true, !stalls);
    if stalls {
        let _ = finished.wait_for(|done| *done).await;
        record.disconnected = cut_off(&mut stream).await;
        return record;
    }

    let mut found = Vec::new();
    let mut buffer = vec![0u8; READ_BUFFER];
    loop {
        // The time of arrival is taken once per read, before any parsing.
        let now = monotonic_ns();
        if decoder.feed(&pending, &mut found).is_err() {
            record.disconnected = true;
            break;
        }
        for message in found.drain(..) {
            record.receive(&message, now, &progress, plan.from);
        }
        tokio::select! {
            biased;
            read = stream.read(&mut buffer) => match read {
                Ok(0) | Err(_) => { record.disconnected = true; break; }
                Ok(n) => { pending.clear(); pending.extend_from_slice(&buffer[..n]); }
            },
            _ = finished.wait_for(|done| *done) => break,
        }
    }
    // Whatever ended the stream, the socket stays open until the coordinator says finish.
    let _ = finished.wait_for(|done| *done).await;
    drop(stream);
    record
}

/// Reads what a stalled connection left unread: true when the server had closed it.
async fn cut_off(stream: &mut TcpStream) -> bool {
    let mut buffer = vec![0u8; 64 * 1024];
    let drained = tokio::time::timeout(STALLED_DRAIN, async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return true,
                Ok(_) => continue,
            }
        }
    });
    drained.await.unwrap_or(false)
}

/// Connects from `source`, sends the request and waits for the head and the first body bytes;
/// returns them (not yet decoded) with the decoder for the rest.
async fn open_stream(plan: &Plan, source: IpAddr, stalls: bool) -> anyhow::Result<(TcpStream, Vec<u8>, Decoder)> {
    let mut attempt = 0;
    let mut stream = loop {
        attempt += 1;
        match connect_from(source, plan.server, stalls).await {
            Ok(stream) => break stream,
            Err(error) if attempt >= CONNECT_ATTEMPTS => return Err(error),
            Err(_) => tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await,
        }
    };
    stream.write_all(&plan.request).await?;
    let mut head = Vec::new();
    let mut buffer = [0u8; READ_BUFFER];
    loop {
        let n = stream.read(&mut buffer).await?;
        anyhow::ensure!(n > 0, "the server closed the connection before answering");
        head.extend_from_slice(&buffer[..n]);
        if let Some(parsed) = http::parse_head(&head)? {
            let expected = if plan.transport == Transport::WebSocket { 101 } else { 200 };
            anyhow::ensure!(parsed.status == expected, "the server answered {}", parsed.status);
            let mut rest = head.split_off(parsed.length);
            // An SSE stream has begun once its first bytes came (both servers send some at
            // once); a WebSocket once it is upgraded (nchan sends nothing until a message).
            if rest.is_empty() && plan.transport == Transport::Sse {
                // Ready means the stream has begun: wait for its first bytes.
                let n = stream.read(&mut buffer).await?;
                anyhow::ensure!(n > 0, "the server closed the stream at once");
                rest = buffer[..n].to_vec();
            }
            let decoder = match plan.transport {
                Transport::Sse => Decoder::sse(&plan.run, parsed.chunked),
                Transport::WebSocket => Decoder::websocket(&plan.run),
            };
            return Ok((stream, rest, decoder));
        }
        anyhow::ensure!(head.len() < 64 * 1024, "the response head is too long");
    }
}

async fn connect_from(source: IpAddr, server: SocketAddr, stalls: bool) -> anyhow::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    sys::bind_address_no_port(&socket).context("IP_BIND_ADDRESS_NO_PORT")?;
    if stalls {
        // Before connecting: the window scale is agreed in the handshake.
        socket.set_recv_buffer_size(STALLED_RECEIVE_BUFFER)?;
    }
    socket.bind(SocketAddr::new(source, 0)).with_context(|| format!("cannot bind {source}"))?;
    let stream = socket.connect(server).await.with_context(|| format!("cannot connect to {server}"))?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

fn source_address(index: usize, sources: usize) -> IpAddr {
    let host = 2 + (index % sources);
    // 127/8 is all on loopback; `sources` is checked to stay inside 127.0.x.y.
    IpAddr::V4(Ipv4Addr::new(127, 0, (host / 256) as u8, (host % 256) as u8))
}

impl Record {
    fn receive(&mut self, message: &Found, now: u64, progress: &Progress, from: usize) {
        let seq = message.seq as usize;
        let Some(slot) = self.latency_ns.get_mut(seq) else { return };
        // Before `from`: a message this subscriber had before it resumed.
        if slot.is_some() || seq < from {
            self.duplicate += 1;
            return;
        }
        *slot = Some(now.saturating_sub(message.sent_ns));
        if self.latency_ns[seq + 1..].iter().any(Option::is_some) {
            self.out_of_order += 1;
        }
        self.data_bytes = self.data_bytes.max(message.data_bytes);
        progress.delivered(seq);
    }
}
