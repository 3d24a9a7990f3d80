//! `tryvoha-bench push-sink keys=FILE [port=0]`: a push service on 127.0.0.1 for the Web Push
//! benchmark (bench/push.sh). It takes `POST /push/<i>` as a push service would, with the
//! checks a real one makes, and counts; `GET /stats` shows the counts (JSON), `POST /reset`
//! zeroes them. On start it prints one JSON line: `{"listening": "127.0.0.1:P", "origin", "pid"}`.
//!
//! Every request gets the cheap checks (`check::shape`): `Content-Encoding: aes128gcm`, a `TTL`,
//! the body's aes128gcm header, the form of `Authorization: vapid t=…, k=…`. A sample gets the
//! costly ones, so that the sink does not spend a sender's worth of CPU on each request:
//! the VAPID JWT verified (`verify_first=50`, `verify_every=1000` by arrival) and the body
//! decrypted with the browser's keys from `keys=` (`decrypt_first=20`, `decrypt_every=1000`).
//! `verify_every=1` checks every request. A refused request is answered 400 with the reason and
//! counted; an accepted one `201 Created` with `Content-Length: 0`. A body that does not decrypt
//! is counted (`decrypt_failures`) but accepted, as by a real service, which cannot decrypt.
//!
//! One thread (the binary's runtime): the sink shares the machine with the sender it measures,
//! and must not take more than one core from it. Its own CPU is in `/stats` as `sink_cpu_s`.

mod check;
pub mod keys;
mod request;
mod stats;
#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use anyhow::Context;
use serde_json::json;
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use crate::args::Args;
use crate::sys::monotonic_ns;
use check::Refusal;
use keys::BrowserKey;
use request::{Request, Unreadable};
use stats::{Sample, Sampling, Stats};

struct Sink {
    /// `http://127.0.0.1:P`: what a VAPID JWT's `aud` must say.
    origin: String,
    keys: Vec<BrowserKey>,
    sampling: Sampling,
    stats: Mutex<Stats>,
}

pub async fn run(args: &Args) -> anyhow::Result<()> {
    let port: u16 = args.number("port", 0)?;
    let keys = keys::read(args.required("keys")?)?;
    let sampling = Sampling {
        verify_first: args.number("verify_first", 50)?,
        verify_every: args.number("verify_every", 1000)?,
        decrypt_first: args.number("decrypt_first", 20)?,
        decrypt_every: args.number("decrypt_every", 1000)?,
    };
    args.reject_unknown()?;
    let listener = TcpListener::bind(("127.0.0.1", port)).await.with_context(|| format!("cannot bind port {port}"))?;
    let address = listener.local_addr()?;
    let sink = Arc::new(Sink { origin: format!("http://{address}"), keys, sampling, stats: Mutex::default() });
    // Rust's stdout flushes at each newline: the driver reads this line from a pipe.
    println!("{}", json!({ "listening": address.to_string(), "origin": sink.origin, "pid": std::process::id() }));
    loop {
        match listener.accept().await {
            Ok((socket, _)) => {
                let _ = socket.set_nodelay(true);
                tokio::spawn(serve(socket, sink.clone()));
            }
            // Out of descriptors, say: the sender sees a slow connect, the sink goes on.
            Err(error) => {
                eprintln!("push-sink: accept failed: {error}");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

async fn serve(socket: TcpStream, sink: Arc<Sink>) {
    sink.stats().connections += 1;
    let (read, mut write) = socket.into_split();
    let mut reader = BufReader::with_capacity(16 * 1024, read);
    let mut line = Vec::with_capacity(1024);
    loop {
        let (reply, close) = match request::read(&mut reader, &mut line).await {
            Ok(None) => return,
            Ok(Some(request)) => (sink.answer(&request), false),
            Err(Unreadable(reason)) => {
                sink.stats().refused(reason, false);
                (response("400 Bad Request", "text/plain", reason), true)
            }
        };
        if write.write_all(reply.as_bytes()).await.is_err() || close {
            return;
        }
    }
}

fn response(status: &str, content_type: &str, body: &str) -> String {
    format!("HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}", body.len())
}

impl Sink {
    fn stats(&self) -> MutexGuard<'_, Stats> {
        self.stats.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn answer(&self, request: &Request) -> String {
        match (request.method.as_str(), request.path.as_str()) {
            ("POST", path) if path.starts_with("/push/") => match self.push(path, request) {
                Ok(()) => "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n".to_string(),
                Err(Refusal { reason, vapid }) => {
                    self.stats().refused(reason, vapid);
                    response("400 Bad Request", "text/plain", reason)
                }
            },
            ("GET", "/stats") => response("200 OK", "application/json", &self.stats().to_json().to_string()),
            ("POST", "/reset") => {
                *self.stats() = Stats::default();
                "HTTP/1.1 204 No Content\r\n\r\n".to_string()
            }
            _ => response("404 Not Found", "text/plain", "POST /push/<i>, GET /stats, POST /reset"),
        }
    }

    /// One push request: checked, sampled, counted.
    fn push(&self, path: &str, request: &Request) -> Result<(), Refusal> {
        let arrival = {
            let mut stats = self.stats();
            stats.received += 1;
            stats.received - 1
        };
        let Ok(index) = path["/push/".len()..].parse::<u64>() else {
            return Err(Refusal { reason: "the path is not /push/<index>", vapid: false });
        };
        let vapid = check::shape(request)?;
        // The costly checks run without the lock: the counts stay readable meanwhile.
        let verified = if self.sampling.verifies(arrival) {
            check::verify_vapid(&vapid, &self.origin)?;
            true
        } else {
            false
        };
        let decrypted = self.sampling.decrypts(arrival).then(|| {
            let key = &self.keys[(index % self.keys.len() as u64) as usize];
            check::decrypt(&request.body, key).map(|plain| Sample {
                index,
                body: String::from_utf8_lossy(&plain).into_owned(),
                ttl: request.header("ttl").map(str::to_string),
                urgency: request.header("urgency").map(str::to_string),
                topic: request.header("topic").map(str::to_string),
            })
        });
        let now = monotonic_ns();
        let mut stats = self.stats();
        if verified {
            stats.verified(vapid.key);
        }
        if let Some(outcome) = decrypted {
            stats.decrypted(outcome);
        }
        stats.accepted(index, now);
        Ok(())
    }
}
