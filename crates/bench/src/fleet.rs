//! The client processes of one run, as the coordinator sees them: spawned children that report
//! `ready`, `have <seq>` and `result <json>` on their stdout.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::args::to_words;
use crate::process;

/// A client's `ready` line.
#[derive(Clone, Copy, Debug)]
pub struct Ready {
    pub connected: usize,
    pub failed: usize,
    pub connect_ms: f64,
}

enum Event {
    Ready(Ready),
    Have(u32),
    Result(Box<Value>),
    Closed,
}

pub struct Fleet {
    children: Vec<Child>,
    stdins: Vec<Option<ChildStdin>>,
    events: mpsc::UnboundedReceiver<(usize, Event)>,
    ready: Vec<Option<Ready>>,
    have: Vec<Vec<bool>>,
    results: Vec<Option<Value>>,
}

/// The share of one client process.
pub struct Share {
    pub connections: usize,
    pub first_index: usize,
}

/// Splits `total` connections over `clients` processes as evenly as possible.
pub fn shares(total: usize, clients: usize) -> Vec<Share> {
    let mut first_index = 0;
    (0..clients)
        .map(|k| {
            let connections = total / clients + usize::from(k < total % clients);
            let share = Share { connections, first_index };
            first_index += connections;
            share
        })
        .collect()
}

impl Fleet {
    /// Starts one client per share; `common` are the arguments every client gets, and client
    /// `k` subscribes to `servers[k % servers.len()]` (the nodes of a cluster, or one server).
    pub fn spawn(
        program: &Path,
        shares: &[Share],
        servers: &[String],
        common: &[(&str, String)],
        messages: usize,
    ) -> anyhow::Result<Fleet> {
        anyhow::ensure!(!servers.is_empty(), "no server to subscribe to");
        let (sender, events) = mpsc::unbounded_channel();
        let mut children = Vec::new();
        let mut stdins = Vec::new();
        for (index, share) in shares.iter().enumerate() {
            let mut words = vec!["client".to_string()];
            words.extend(to_words(common));
            words.extend(to_words(&[
                ("conns", share.connections.to_string()),
                ("first", share.first_index.to_string()),
                ("server", servers[index % servers.len()].clone()),
            ]));
            let mut child = Command::new(program)
                .args(&words)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                // Whatever happens to the coordinator, no client outlives it.
                .kill_on_drop(true)
                .spawn()
                .context("cannot start a client process")?;
            let stdout = child.stdout.take().context("the client has no stdout")?;
            stdins.push(child.stdin.take());
            children.push(child);
            let sender = sender.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(stdout).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(event) = parse_line(&line) {
                        let _ = sender.send((index, event));
                    }
                }
                let _ = sender.send((index, Event::Closed));
            });
        }
        let count = shares.len();
        Ok(Fleet {
            children,
            stdins,
            events,
            ready: vec![None; count],
            have: vec![vec![false; messages]; count],
            results: vec![None; count],
        })
    }

    pub fn pids(&self) -> Vec<u32> {
        self.children.iter().filter_map(Child::id).collect()
    }

    /// Waits until every client is ready.
    pub async fn wait_ready(&mut self, timeout: Duration) -> anyhow::Result<Vec<Ready>> {
        let done = self.wait(timeout, |fleet| fleet.ready.iter().all(Option::is_some)).await?;
        anyhow::ensure!(done, "the clients were not all connected within {timeout:?}");
        Ok(self.ready.iter().flatten().copied().collect())
    }

    /// Waits until every client has message `seq` on every connection; false on timeout.
    pub async fn wait_have(&mut self, seq: u32, timeout: Duration) -> anyhow::Result<bool> {
        self.wait(timeout, |fleet| fleet.have.iter().all(|have| have.get(seq as usize) == Some(&true))).await
    }

    /// CPU seconds used by the clients so far.
    pub fn cpu_seconds(&self) -> f64 {
        self.pids().into_iter().filter_map(process::cpu_seconds).sum()
    }

    /// Tells the clients to close, and collects their results.
    pub async fn finish(mut self, timeout: Duration) -> anyhow::Result<Vec<Value>> {
        for stdin in &mut self.stdins {
            if let Some(mut pipe) = stdin.take() {
                let _ = pipe.write_all(b"finish\n").await;
            }
        }
        let done = self.wait(timeout, |fleet| fleet.results.iter().all(Option::is_some)).await?;
        anyhow::ensure!(done, "the clients did not report within {timeout:?}");
        for child in &mut self.children {
            if tokio::time::timeout(timeout, child.wait()).await.is_err() {
                let _ = child.kill().await;
            }
        }
        Ok(self.results.into_iter().flatten().collect())
    }

    async fn wait(&mut self, timeout: Duration, done: impl Fn(&Fleet) -> bool) -> anyhow::Result<bool> {
        let deadline = Instant::now() + timeout;
        while !done(self) {
            let Ok(Some((index, event))) = tokio::time::timeout_at(deadline, self.events.recv()).await else {
                return Ok(false);
            };
            match event {
                Event::Ready(ready) => self.ready[index] = Some(ready),
                Event::Have(seq) => {
                    if let Some(have) = self.have[index].get_mut(seq as usize) {
                        *have = true;
                    }
                }
                Event::Result(result) => self.results[index] = Some(*result),
                Event::Closed if self.results[index].is_none() => {
                    bail!("client {index} exited without a result (see its stderr above)")
                }
                Event::Closed => {}
            }
        }
        Ok(true)
    }
}

fn parse_line(line: &str) -> Option<Event> {
    let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
    match word {
        "ready" => {
            let mut numbers = rest.split_whitespace();
            Some(Event::Ready(Ready {
                connected: numbers.next()?.parse().ok()?,
                failed: numbers.next()?.parse().ok()?,
                connect_ms: numbers.next()?.parse().ok()?,
            }))
        }
        "have" => Some(Event::Have(rest.trim().parse().ok()?)),
        "result" => Some(Event::Result(Box::new(serde_json::from_str(rest).ok()?))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_cover_every_connection_once() {
        let split = shares(19_001, 2);
        assert_eq!(split.iter().map(|s| s.connections).collect::<Vec<_>>(), [9_501, 9_500]);
        assert_eq!(split[1].first_index, 9_501);
    }
}
