//! A client process: holds its share of the subscriber connections and times every delivery.
//!
//! It talks to the coordinator in lines on stdout: `ready <connected> <failed> <ms>` once every
//! connection has its first bytes of stream (or has failed), `have <seq>` once every connected
//! subscriber has message `seq`, and at the end `result <json>`. It ends on `finish` (or EOF)
//! on stdin, and until then keeps every connection open, even those that have everything: a
//! subscriber closing early would put its FIN on the wire while others still wait.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Context;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{Semaphore, mpsc, watch};

use crate::args::Args;
use crate::http::{self, Dechunker};
use crate::stream::{Found, Scanner};
use crate::sys::{self, monotonic_ns};

/// Read buffer per connection: a whole event fits, and 10k of them cost 40 MB.
const READ_BUFFER: usize = 4096;
const CONNECT_ATTEMPTS: u32 = 3;

struct Plan {
    server: SocketAddr,
    request: Vec<u8>,
    connections: usize,
    /// Source addresses 127.0.0.2 … 127.0.0.(1 + sources), rotated by global connection index.
    sources: usize,
    first_index: usize,
    run: String,
    messages: usize,
    connect_timeout: Duration,
}

/// What the connections share: counters that decide when to say `ready` and `have`.
struct Progress {
    settled: AtomicUsize,
    failed: AtomicUsize,
    have: Vec<AtomicUsize>,
    notes: mpsc::UnboundedSender<String>,
    started_ns: u64,
    connections: usize,
}

/// What one connection saw.
struct Record {
    connected: bool,
    disconnected: bool,
    /// Declare→receive latency per message, `None` while missing.
    latency_ns: Vec<Option<u64>>,
    duplicate: u64,
    out_of_order: u64,
    data_bytes: usize,
}

pub async fn run(args: &Args) -> anyhow::Result<()> {
    let server: SocketAddr = args.required("server")?.parse().context("server= must be ip:port")?;
    let path = args.required("path")?.to_string();
    let plan = Arc::new(Plan {
        server,
        request: http::request("GET", &path, &server.to_string(), &[("Accept", "text/event-stream")], b""),
        connections: args.number("conns", 0)?,
        sources: args.number("sources", 1usize)?.max(1),
        first_index: args.number("first", 0)?,
        run: args.required("run")?.to_string(),
        messages: args.number("messages", 0)?,
        connect_timeout: Duration::from_secs(args.number("connect_timeout_s", 120)?),
    });
    let concurrency = args.number("concurrency", 256usize)?;
    args.reject_unknown()?;

    let (notes, mut note_lines) = mpsc::unbounded_channel::<String>();
    let progress = Arc::new(Progress {
        settled: AtomicUsize::new(0),
        failed: AtomicUsize::new(0),
        have: (0..plan.messages).map(|_| AtomicUsize::new(0)).collect(),
        notes,
        started_ns: monotonic_ns(),
        connections: plan.connections,
    });
    // The coordinator reads our stdout line by line; each note goes out whole and at once.
    let printer = tokio::spawn(async move {
        while let Some(line) = note_lines.recv().await {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}").and_then(|()| out.flush());
        }
    });
    let (finish, finished) = watch::channel(false);
    // A plain thread waits on stdin: the read blocks, and nothing else here is blocking.
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            if line.map_or(true, |line| line.trim() == "finish") {
                break;
            }
        }
        let _ = finish.send(true);
    });

    let gate = Arc::new(Semaphore::new(concurrency.max(1)));
    let tasks: Vec<_> = (0..plan.connections)
        .map(|index| tokio::spawn(subscriber(index, plan.clone(), progress.clone(), gate.clone(), finished.clone())))
        .collect();
    let mut records = Vec::with_capacity(tasks.len());
    for task in tasks {
        records.push(task.await.context("a subscriber task panicked")?);
    }
    let result = summarize(&records, &plan);
    progress.notes.send(format!("result {result}")).ok();
    drop(progress);
    printer.await.ok();
    Ok(())
}

async fn subscriber(
    index: usize,
    plan: Arc<Plan>,
    progress: Arc<Progress>,
    gate: Arc<Semaphore>,
    mut finished: watch::Receiver<bool>,
) -> Record {
    let mut record = Record {
        connected: false,
        disconnected: false,
        latency_ns: vec![None; plan.messages],
        duplicate: 0,
        out_of_order: 0,
        data_bytes: 0,
    };
    // The permit bounds connects in flight; it is held until the stream has begun.
    let permit = gate.acquire().await;
    let source = source_address(plan.first_index + index, plan.sources);
    let opened = tokio::time::timeout(plan.connect_timeout, open_stream(&plan, source)).await;
    let (mut stream, mut pending) = match opened {
        Ok(Ok(opened)) => opened,
        Ok(Err(error)) => {
            eprintln!("client: connection {index} from {source} failed: {error:#}");
            drop(permit);
            progress.settle(false);
            return record;
        }
        Err(_) => {
            eprintln!("client: connection {index} from {source} timed out");
            drop(permit);
            progress.settle(false);
            return record;
        }
    };
    drop(permit);
    record.connected = true;
    progress.settle(true);

    let mut scanner = Scanner::new(&plan.run);
    let mut body = Vec::new();
    let mut found = Vec::new();
    let mut buffer = vec![0u8; READ_BUFFER];
    loop {
        // The time of arrival is taken once per read, before any parsing.
        let now = monotonic_ns();
        body.clear();
        let fed = match &mut pending.dechunker {
            Some(dechunker) => dechunker.feed(&pending.bytes, &mut body),
            None => {
                body.extend_from_slice(&pending.bytes);
                Ok(())
            }
        };
        if fed.is_err() {
            record.disconnected = true;
            break;
        }
        scanner.feed(&body, &mut found);
        for message in found.drain(..) {
            record.receive(&message, now, &progress);
        }
        tokio::select! {
            biased;
            read = stream.read(&mut buffer) => match read {
                Ok(0) | Err(_) => { record.disconnected = true; break; }
                Ok(n) => { pending.bytes.clear(); pending.bytes.extend_from_slice(&buffer[..n]); }
            },
            _ = finished.wait_for(|done| *done) => break,
        }
    }
    // Whatever ended the stream, the socket stays open until the coordinator says finish.
    let _ = finished.wait_for(|done| *done).await;
    drop(stream);
    record
}

/// Bytes read but not yet scanned, and how to decode the body.
struct Pending {
    bytes: Vec<u8>,
    dechunker: Option<Dechunker>,
}

/// Connects from `source`, sends the request and waits for the head and the first body bytes.
async fn open_stream(plan: &Plan, source: IpAddr) -> anyhow::Result<(TcpStream, Pending)> {
    let mut attempt = 0;
    let mut stream = loop {
        attempt += 1;
        match connect_from(source, plan.server).await {
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
            anyhow::ensure!(parsed.status == 200, "the server answered {}", parsed.status);
            let rest = head.split_off(parsed.length);
            if rest.is_empty() {
                // Ready means the stream has begun: wait for its first bytes.
                let n = stream.read(&mut buffer).await?;
                anyhow::ensure!(n > 0, "the server closed the stream at once");
                head = buffer[..n].to_vec();
            } else {
                head = rest;
            }
            let dechunker = parsed.chunked.then(Dechunker::default);
            return Ok((stream, Pending { bytes: head, dechunker }));
        }
        anyhow::ensure!(head.len() < 64 * 1024, "the response head is too long");
    }
}

async fn connect_from(source: IpAddr, server: SocketAddr) -> anyhow::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    sys::bind_address_no_port(&socket).context("IP_BIND_ADDRESS_NO_PORT")?;
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

impl Progress {
    fn settle(&self, connected: bool) {
        if !connected {
            self.failed.fetch_add(1, Ordering::SeqCst);
        }
        if self.settled.fetch_add(1, Ordering::SeqCst) + 1 == self.connections {
            let failed = self.failed.load(Ordering::SeqCst);
            let ms = (monotonic_ns() - self.started_ns) as f64 / 1e6;
            self.notes.send(format!("ready {} {failed} {ms:.1}", self.connections - failed)).ok();
        }
    }

    fn delivered(&self, seq: usize) {
        let count = self.have[seq].fetch_add(1, Ordering::SeqCst) + 1;
        if count == self.connections - self.failed.load(Ordering::SeqCst) {
            self.notes.send(format!("have {seq}")).ok();
        }
    }
}

impl Record {
    fn receive(&mut self, message: &Found, now: u64, progress: &Progress) {
        let seq = message.seq as usize;
        let Some(slot) = self.latency_ns.get_mut(seq) else { return };
        if slot.is_some() {
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

/// The client's `result` line: counts, and every latency in µs, per message.
fn summarize(records: &[Record], plan: &Plan) -> serde_json::Value {
    let connected: Vec<&Record> = records.iter().filter(|r| r.connected).collect();
    let missing: usize = connected.iter().map(|r| r.latency_ns.iter().filter(|l| l.is_none()).count()).sum();
    let latency_us: Vec<Vec<u64>> = (0..plan.messages)
        .map(|seq| connected.iter().filter_map(|r| r.latency_ns[seq]).map(|ns| ns / 1000).collect())
        .collect();
    json!({
        "connections": plan.connections,
        "connected": connected.len(),
        "failed": records.len() - connected.len(),
        "disconnected": connected.iter().filter(|r| r.disconnected).count(),
        "missing": missing,
        "duplicate": connected.iter().map(|r| r.duplicate).sum::<u64>(),
        "out_of_order": connected.iter().map(|r| r.out_of_order).sum::<u64>(),
        "data_bytes": connected.iter().map(|r| r.data_bytes).max().unwrap_or(0),
        "latency_us": latency_us,
    })
}
