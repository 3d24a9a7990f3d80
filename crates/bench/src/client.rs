//! A client process: holds its share of the subscriber connections and times every delivery.
//!
//! It talks to the coordinator in lines on stdout: `ready <connected> <failed> <ms>` once every
//! connection has its first bytes of stream (or has failed), `have <seq>` once every connected
//! subscriber that reads has message `seq`, and at the end `result <json>`. It ends on `finish`
//! (or EOF) on stdin, and until then keeps every connection open, even those that have
//! everything: a subscriber closing early would put its FIN on the wire while others still wait.
//!
//! Options beyond the connection plan: `transport=sse|ws`; `stall_every=K` makes every K-th
//! connection (by global index) a slow consumer, which stops reading once its stream has begun
//! and offers a small receive window; `last_event_id=ID` resumes every stream after event `ID`
//! and `from=S` says which message is the first one not yet seen (an earlier one is a duplicate).

mod subscriber;

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::json;
use tokio::sync::{Semaphore, mpsc, watch};

use crate::args::Args;
use crate::http;
use crate::sys::monotonic_ns;
use subscriber::{Record, subscriber};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Sse,
    WebSocket,
}

impl Transport {
    pub fn parse(text: &str) -> anyhow::Result<Transport> {
        match text {
            "sse" => Ok(Transport::Sse),
            "ws" => Ok(Transport::WebSocket),
            _ => bail!("transport={text}: expected sse or ws"),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Transport::Sse => "sse",
            Transport::WebSocket => "ws",
        }
    }
}

struct Plan {
    server: SocketAddr,
    transport: Transport,
    request: Vec<u8>,
    connections: usize,
    /// Source addresses 127.0.0.2 … 127.0.0.(1 + sources), rotated by global connection index.
    sources: usize,
    first_index: usize,
    run: String,
    messages: usize,
    /// The first message this client's subscribers have not seen.
    from: usize,
    /// Every this-many-th connection stops reading (0: none does).
    stall_every: usize,
    connect_timeout: Duration,
}

impl Plan {
    fn stalls(&self, index: usize) -> bool {
        self.stall_every > 0 && (self.first_index + index).is_multiple_of(self.stall_every)
    }

    fn readers(&self) -> usize {
        (0..self.connections).filter(|&index| !self.stalls(index)).count()
    }
}

/// What the connections share: counters that decide when to say `ready` and `have`.
struct Progress {
    settled: AtomicUsize,
    failed: AtomicUsize,
    have: Vec<AtomicUsize>,
    notes: mpsc::UnboundedSender<String>,
    started_ns: u64,
    connections: usize,
    /// The connections that read (the others stall on purpose and never have anything).
    readers: usize,
    failed_readers: AtomicUsize,
}

pub async fn run(args: &Args) -> anyhow::Result<()> {
    let server: SocketAddr = args.required("server")?.parse().context("server= must be ip:port")?;
    let path = args.required("path")?.to_string();
    let transport = Transport::parse(args.text("transport").unwrap_or("sse"))?;
    let host = server.to_string();
    let last_event_id = args.text("last_event_id").map(str::to_string);
    let request = match transport {
        Transport::Sse => {
            let mut headers = vec![("Accept", "text/event-stream")];
            headers.extend(last_event_id.as_deref().map(|id| ("Last-Event-ID", id)));
            http::request("GET", &path, &host, &headers, b"")
        }
        Transport::WebSocket => {
            anyhow::ensure!(last_event_id.is_none(), "last_event_id= is for SSE (a WebSocket resumes with ?after=)");
            crate::ws::request(&path, &host)
        }
    };
    let plan = Arc::new(Plan {
        server,
        transport,
        request,
        connections: args.number("conns", 0)?,
        sources: args.number("sources", 1usize)?.max(1),
        first_index: args.number("first", 0)?,
        run: args.required("run")?.to_string(),
        messages: args.number("messages", 0)?,
        from: args.number("from", 0)?,
        stall_every: args.number("stall_every", 0)?,
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
        readers: plan.readers(),
        failed_readers: AtomicUsize::new(0),
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

impl Progress {
    fn settle(&self, connected: bool, reads: bool) {
        if !connected {
            self.failed.fetch_add(1, Ordering::SeqCst);
            if reads {
                self.failed_readers.fetch_add(1, Ordering::SeqCst);
            }
        }
        if self.settled.fetch_add(1, Ordering::SeqCst) + 1 == self.connections {
            let failed = self.failed.load(Ordering::SeqCst);
            let ms = (monotonic_ns() - self.started_ns) as f64 / 1e6;
            self.notes.send(format!("ready {} {failed} {ms:.1}", self.connections - failed)).ok();
        }
    }

    fn delivered(&self, seq: usize) {
        let count = self.have[seq].fetch_add(1, Ordering::SeqCst) + 1;
        if count == self.readers - self.failed_readers.load(Ordering::SeqCst) {
            self.notes.send(format!("have {seq}")).ok();
        }
    }
}

/// The client's `result` line: counts, and every latency in µs, per message, over the
/// connections that read; the stalled ones are counted apart.
fn summarize(records: &[Record], plan: &Plan) -> serde_json::Value {
    let connected: Vec<&Record> = records.iter().filter(|r| r.connected && !r.stalled).collect();
    let stalled: Vec<&Record> = records.iter().filter(|r| r.connected && r.stalled).collect();
    let missing: usize =
        connected.iter().map(|r| r.latency_ns[plan.from..].iter().filter(|l| l.is_none()).count()).sum();
    let latency_us: Vec<Vec<u64>> = (0..plan.messages)
        .map(|seq| connected.iter().filter_map(|r| r.latency_ns[seq]).map(|ns| ns / 1000).collect())
        .collect();
    json!({
        "transport": plan.transport.name(),
        "connections": plan.connections,
        "connected": connected.len(),
        "failed": records.iter().filter(|r| !r.connected).count(),
        "disconnected": connected.iter().filter(|r| r.disconnected).count(),
        "stalled": stalled.len(),
        "stalled_cut": stalled.iter().filter(|r| r.disconnected).count(),
        "missing": missing,
        "duplicate": connected.iter().map(|r| r.duplicate).sum::<u64>(),
        "out_of_order": connected.iter().map(|r| r.out_of_order).sum::<u64>(),
        "data_bytes": connected.iter().map(|r| r.data_bytes).max().unwrap_or(0),
        "latency_us": latency_us,
    })
}
