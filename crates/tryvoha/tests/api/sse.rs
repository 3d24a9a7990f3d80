//! An SSE reader for the tests, over the product's own parser.

use std::collections::VecDeque;
use std::time::Duration;

use serde_json::Value;
use tryvoha_live::sse::{SseMessage, SseParser};

pub type SseFrame = SseMessage;

pub trait FrameExt {
    fn json(&self) -> Value;
    fn seq(&self) -> u64;
}

impl FrameExt for SseFrame {
    fn json(&self) -> Value {
        serde_json::from_str(&self.data).unwrap_or(Value::Null)
    }

    fn seq(&self) -> u64 {
        self.id.as_deref().and_then(|id| id.parse().ok()).expect("a numeric id")
    }
}

pub struct SseStream {
    response: reqwest::Response,
    parser: SseParser,
    ready: VecDeque<SseFrame>,
    /// The last bytes received, raw: comments (such as the cut-off note) are not frames.
    tail: Vec<u8>,
}

/// What [`SseStream::next_or_end`] found.
#[derive(Debug)]
pub enum Next {
    Frame(SseFrame),
    /// The server closed the stream; `tail` holds its last bytes.
    Ended {
        tail: String,
    },
}

/// How many of the last received bytes [`SseStream`] keeps.
const TAIL: usize = 512;

impl SseStream {
    /// Opens `path` on `base`, with `Last-Event-ID` when given.
    pub async fn open(client: &reqwest::Client, base: &str, path: &str, last_event_id: Option<u64>) -> SseStream {
        let mut request = client.get(format!("{base}{path}")).header("accept", "text/event-stream");
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id.to_string());
        }
        let response = request.send().await.expect("stream request");
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        SseStream { response, parser: SseParser::default(), ready: VecDeque::new(), tail: Vec::new() }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.response.headers().get(name).and_then(|v| v.to_str().ok())
    }

    /// The next frame that carries data, or `None` if the stream ends or `wait` passes first.
    pub async fn next(&mut self, wait: Duration) -> Option<SseFrame> {
        match self.next_or_end(wait).await {
            Some(Next::Frame(frame)) => Some(frame),
            _ => None,
        }
    }

    /// The next frame that carries data, or the end of the stream; `None` if `wait` passes first.
    pub async fn next_or_end(&mut self, wait: Duration) -> Option<Next> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(frame) = self.ready.pop_front() {
                return Some(Next::Frame(frame));
            }
            let chunk = match tokio::time::timeout_at(deadline, self.response.chunk()).await.ok()? {
                Ok(Some(chunk)) => chunk,
                Ok(None) | Err(_) => {
                    return Some(Next::Ended { tail: String::from_utf8_lossy(&self.tail).into_owned() });
                }
            };
            self.tail.extend_from_slice(&chunk);
            self.tail.drain(..self.tail.len().saturating_sub(TAIL));
            self.ready.extend(self.parser.push(&chunk));
        }
    }

    /// Frames until one satisfies `done`, all of them returned; panics after `wait`.
    pub async fn until(&mut self, wait: Duration, done: impl Fn(&SseFrame) -> bool) -> Vec<SseFrame> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut frames = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let frame =
                self.next(left).await.unwrap_or_else(|| panic!("no matching frame in {wait:?}; got {frames:?}"));
            let finished = done(&frame);
            frames.push(frame);
            if finished {
                return frames;
            }
        }
    }
}
