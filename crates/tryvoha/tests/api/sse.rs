//! A small Server-Sent Events reader for the tests: frames with their id, event name and data.

use std::time::Duration;

use serde_json::Value;

#[derive(Debug, Clone)]
pub struct SseFrame {
    pub id: Option<String>,
    pub event: String,
    pub data: String,
}

impl SseFrame {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.data).unwrap_or(Value::Null)
    }

    pub fn seq(&self) -> u64 {
        self.id.as_deref().and_then(|id| id.parse().ok()).expect("a numeric id")
    }
}

pub struct SseStream {
    response: reqwest::Response,
    buffer: String,
}

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
        SseStream { response, buffer: String::new() }
    }

    /// The next frame that carries data, or `None` if the stream ends or `wait` passes first.
    pub async fn next(&mut self, wait: Duration) -> Option<SseFrame> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                if let Some(frame) = parse(&block) {
                    return Some(frame);
                }
                continue;
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk()).await.ok()?.ok()??;
            self.buffer.push_str(std::str::from_utf8(&chunk).expect("UTF-8"));
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

fn parse(block: &str) -> Option<SseFrame> {
    let (mut id, mut event, mut data) = (None, "message".to_owned(), Vec::new());
    for line in block.lines() {
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "id" => id = Some(value.to_owned()),
            "event" => event = value.to_owned(),
            "data" => data.push(value.to_owned()),
            _ => {} // comments (heartbeats) and retry
        }
    }
    (!data.is_empty()).then(|| SseFrame { id, event, data: data.join("\n") })
}
