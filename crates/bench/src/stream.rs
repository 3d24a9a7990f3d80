//! Finding the benchmark's messages in an SSE stream, whichever server sent it.
//!
//! Every message the publisher sends carries `bench run=<run> seq=<i> t=<ns>` in its text, and
//! both servers put that text, unchanged, on a `data:` line: tryvoha inside the event's JSON,
//! nchan as the raw body. A line scan therefore serves both. Frames named `snapshot` or
//! `reset` are skipped: they restate alerts already delivered.

use crate::http::Dechunker;
use crate::ws::FrameReader;

/// The text the publisher puts in message `seq` of run `run`, sent at `sent_ns`.
pub fn message_text(run: &str, seq: u32, sent_ns: u64) -> String {
    format!("bench run={run} seq={seq} t={sent_ns}")
}

/// One benchmark message found in the stream.
#[derive(Debug, PartialEq, Eq)]
pub struct Found {
    pub seq: u32,
    /// The publisher's `CLOCK_MONOTONIC` stamp.
    pub sent_ns: u64,
    /// Length of the `data:` line, to compare payload sizes between servers.
    pub data_bytes: usize,
}

pub struct Scanner {
    marker: Vec<u8>,
    partial: Vec<u8>,
    in_state_frame: bool,
}

impl Scanner {
    pub fn new(run: &str) -> Scanner {
        Scanner { marker: format!("bench run={run} seq=").into_bytes(), partial: Vec::new(), in_state_frame: false }
    }

    /// Scans decoded body bytes; a line cut by a read boundary is kept for the next call.
    pub fn feed(&mut self, body: &[u8], found: &mut Vec<Found>) {
        self.partial.extend_from_slice(body);
        let mut start = 0;
        while let Some(end) = self.partial[start..].iter().position(|&b| b == b'\n') {
            let line = &self.partial[start..start + end];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() {
                self.in_state_frame = false;
            } else if let Some(name) = line.strip_prefix(b"event:") {
                let name = name.trim_ascii();
                self.in_state_frame = name == b"snapshot" || name == b"reset";
            } else if line.starts_with(b"data:")
                && !self.in_state_frame
                && let Some(message) = parse_message(line, &self.marker)
            {
                found.push(message);
            }
            start += end + 1;
        }
        self.partial.drain(..start);
    }
}

/// How a subscriber's bytes become messages: an SSE body (chunked through hyper, raw when
/// written straight to the socket) or WebSocket frames, each a message's JSON or body.
pub enum Decoder {
    Sse { dechunker: Option<Dechunker>, scanner: Scanner, body: Vec<u8> },
    WebSocket { frames: FrameReader, marker: Vec<u8> },
}

impl Decoder {
    pub fn sse(run: &str, chunked: bool) -> Decoder {
        Decoder::Sse { dechunker: chunked.then(Dechunker::default), scanner: Scanner::new(run), body: Vec::new() }
    }

    pub fn websocket(run: &str) -> Decoder {
        Decoder::WebSocket { frames: FrameReader::default(), marker: Scanner::new(run).marker }
    }

    /// The benchmark messages in `bytes` (and in what earlier calls left incomplete).
    pub fn feed(&mut self, bytes: &[u8], found: &mut Vec<Found>) -> anyhow::Result<()> {
        match self {
            Decoder::Sse { dechunker: None, scanner, .. } => scanner.feed(bytes, found),
            Decoder::Sse { dechunker: Some(dechunker), scanner, body } => {
                body.clear();
                dechunker.feed(bytes, body)?;
                scanner.feed(body, found);
            }
            Decoder::WebSocket { frames, marker } => frames.feed(bytes, |message| {
                // A state frame restates what is active; it is not a delivery.
                let state = [&b"\"type\":\"snapshot\""[..], b"\"type\":\"reset\""];
                if !state.iter().any(|tag| message.windows(tag.len()).any(|w| w == *tag)) {
                    found.extend(parse_message(message, marker));
                }
            })?,
        }
        Ok(())
    }
}

fn parse_message(line: &[u8], marker: &[u8]) -> Option<Found> {
    let at = line.windows(marker.len()).position(|w| w == marker)? + marker.len();
    let (seq, rest) = leading_number(&line[at..])?;
    let (sent_ns, _) = leading_number(rest.strip_prefix(b" t=")?)?;
    Some(Found { seq: u32::try_from(seq).ok()?, sent_ns, data_bytes: line.len() })
}

fn leading_number(text: &[u8]) -> Option<(u64, &[u8])> {
    let digits = text.iter().take_while(|b| b.is_ascii_digit()).count();
    let number = std::str::from_utf8(&text[..digits]).ok()?.parse().ok()?;
    Some((number, &text[digits..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_messages_split_across_reads_and_skips_snapshots() {
        let stream = concat!(
            "retry: 1000\n\n",
            "id: 3\nevent: snapshot\ndata: {\"message\":{\"en\":\"bench run=r1 seq=0 t=5\"}}\n\n",
            "id: 4\nevent: declared\ndata: {\"message\":{\"en\":\"bench run=r1 seq=1 t=123\"}}\n\n",
            ": keepalive\n\n",
            "data: {\"m\":\"bench run=r2 seq=2 t=9\"}\n\n",
            "id: 1:0\ndata: {\"m\":\"bench run=r1 seq=2 t=456\",\"pad\":\"x\"}\n\n",
        );
        for split in 0..stream.len() {
            let mut scanner = Scanner::new("r1");
            let mut found = Vec::new();
            scanner.feed(&stream.as_bytes()[..split], &mut found);
            scanner.feed(&stream.as_bytes()[split..], &mut found);
            let seen: Vec<(u32, u64)> = found.iter().map(|f| (f.seq, f.sent_ns)).collect();
            assert_eq!(seen, [(1, 123), (2, 456)], "split at {split}");
        }
    }

    #[test]
    fn websocket_messages_are_found_and_state_frames_skipped() {
        let mut wire = crate::ws::server_text_frame(br#"{"type":"snapshot","a":"bench run=r1 seq=0 t=1"}"#);
        wire.extend(crate::ws::server_text_frame(br#"{"type":"declared","m":"bench run=r1 seq=3 t=77"}"#));
        wire.extend(crate::ws::server_text_frame(br#"{"m":"bench run=r1 seq=4 t=78","pad":" "}"#));
        let mut decoder = Decoder::websocket("r1");
        let mut found = Vec::new();
        decoder.feed(&wire, &mut found).unwrap();
        assert_eq!(found.iter().map(|f| (f.seq, f.sent_ns)).collect::<Vec<_>>(), [(3, 77), (4, 78)]);
    }

    #[test]
    fn message_text_round_trips() {
        let line = format!("data: {{\"en\":\"{}\"}}", message_text("abc", 7, 99));
        let found = parse_message(line.as_bytes(), b"bench run=abc seq=").unwrap();
        assert_eq!(found, Found { seq: 7, sent_ns: 99, data_bytes: line.len() });
    }
}
