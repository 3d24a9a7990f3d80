//! The open-file test's clients, on raw TCP: a refusal is read byte for byte, and a client left
//! hanging is told apart from one answered. Also the server's CPU time and its metrics.

use std::collections::VecDeque;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tryvoha_live::sse::{SseMessage, SseParser};

/// How long a refused client may wait for each part of its answer. The refusal is written as
/// the connection is accepted and the accept loop pauses 10 ms at most between rounds of them;
/// the rest is slack for a loaded machine. A client left in the kernel's queue waits for ever.
const PROMPT: Duration = Duration::from_secs(3);

const STREAM_REQUEST: &[u8] = b"GET /api/v1/stream HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n";

/// A live stream read straight from its socket.
pub struct Subscriber {
    stream: TcpStream,
    parser: SseParser,
    frames: VecDeque<SseMessage>,
}

impl Subscriber {
    /// Opens a stream; the whole answer instead when the server refuses it.
    pub async fn open(port: u16) -> Result<Subscriber, Vec<u8>> {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await.expect("connected (the kernel's queue)");
        // A refusal may come before the request is sent; the answer is what counts.
        let _ = stream.write_all(STREAM_REQUEST).await;
        let mut received = Vec::new();
        let head_end = loop {
            if let Some(at) = received.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            if !read_some(&mut stream, &mut received).await {
                return Err(received);
            }
        };
        if !received.starts_with(b"HTTP/1.1 200") {
            while read_some(&mut stream, &mut received).await {}
            return Err(received);
        }
        let mut parser = SseParser::default();
        let frames = parser.push(&received[head_end..]).into();
        Ok(Subscriber { stream, parser, frames })
    }

    /// Whether the frame that declared the alert `alert_id` arrives within `wait`.
    pub async fn hears(&mut self, alert_id: &Value, wait: Duration) -> bool {
        let deadline = Instant::now() + wait;
        let mut chunk = [0u8; 4096];
        loop {
            while let Some(frame) = self.frames.pop_front() {
                let data: Value = serde_json::from_str(&frame.data).unwrap_or(Value::Null);
                if frame.event == "declared" && data["alert"]["id"] == *alert_id {
                    return true;
                }
            }
            match tokio::time::timeout_at(deadline, self.stream.read(&mut chunk)).await {
                Ok(Ok(read)) if read > 0 => self.frames.extend(self.parser.push(&chunk[..read])),
                _ => return false,
            }
        }
    }
}

/// `rounds` of `per_round` connections at once, `pause` apart, each of which must be refused
/// with a prompt and complete 503. Returns how many there were.
pub async fn refused_rounds(port: u16, rounds: usize, per_round: usize, pause: Duration) -> usize {
    for _ in 0..rounds {
        let attempts = (0..per_round).map(|_| Subscriber::open(port));
        for attempt in futures_util::future::join_all(attempts).await {
            let Err(answer) = attempt else { panic!("a stream was opened past the limit") };
            assert_eq!(complete_status(&answer), Some(503), "{}", String::from_utf8_lossy(&answer));
        }
        tokio::time::sleep(pause).await;
    }
    rounds * per_round
}

/// The status of a whole answer: a head and as many body bytes as its `Content-Length` says;
/// `None` for anything less (or more).
pub fn complete_status(answer: &[u8]) -> Option<u16> {
    let text = std::str::from_utf8(answer).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()?;
    let length: usize = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("content-length").then(|| value.trim().parse().ok())?
    })?;
    (body.len() == length).then_some(status)
}

/// The CPU time (user and system) that process `pid` has used, in seconds.
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("the server's /proc stat");
    // After the command's name, in parentheses, come the state (field 3) … utime (14), stime (15).
    let fields: Vec<&str> = stat.rsplit_once(')').expect("a stat line").1.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    ticks as f64 / clock_ticks_per_second()
}

/// The value of the sample `name` (with its labels) in a Prometheus text.
pub fn metric(metrics: &str, name: &str) -> f64 {
    let line = metrics.lines().find_map(|line| line.strip_prefix(name)?.strip_prefix(' '));
    line.unwrap_or_else(|| panic!("no {name} in {metrics}")).trim().parse().unwrap()
}

/// Reads what comes within [`PROMPT`]; `false` once the server closed (or reset) the connection.
async fn read_some(stream: &mut TcpStream, received: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 4096];
    let read = tokio::time::timeout(PROMPT, stream.read(&mut chunk)).await;
    match read.expect("a client was left waiting for its answer") {
        Ok(read) if read > 0 => {
            received.extend_from_slice(&chunk[..read]);
            true
        }
        _ => false, // closed; a reset after the answer counts as closing
    }
}

fn clock_ticks_per_second() -> f64 {
    let output = std::process::Command::new("getconf").arg("CLK_TCK").output();
    let ticks = output.ok().and_then(|output| String::from_utf8(output.stdout).ok()?.trim().parse().ok());
    ticks.unwrap_or(100.0) // what Linux uses everywhere
}
