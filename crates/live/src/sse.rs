//! Reading a Server-Sent Events stream back into frames: for the CLI (`watch`, `verify`) and
//! tests. Follows the WHATWG parsing rules that matter here: `field: value` lines, a blank line
//! ends a frame, comments (`:`) are skipped, several `data` lines join with newlines.

/// One frame as received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SseMessage {
    pub id: Option<String>,
    pub event: String,
    pub data: String,
}

/// Accumulates bytes as they arrive and yields whole frames.
///
/// It takes bytes, not text: a network chunk can end inside a multi-byte UTF-8 character (most
/// Ukrainian letters are two bytes), and decoding chunk by chunk would corrupt it. A frame ends
/// at a blank line, which is ASCII, so a complete frame is whole UTF-8.
#[derive(Default)]
pub struct SseParser {
    buffer: Vec<u8>,
}

impl SseParser {
    /// Adds received bytes and returns the frames they completed (frames without data, such as
    /// `retry:` lines or heartbeats, are not returned).
    pub fn push(&mut self, bytes: &[u8]) -> Vec<SseMessage> {
        self.buffer.extend(bytes.iter().filter(|&&b| b != b'\r'));
        let mut frames = Vec::new();
        while let Some(end) = self.buffer.windows(2).position(|pair| pair == b"\n\n") {
            let block: Vec<u8> = self.buffer.drain(..end + 2).collect();
            frames.extend(parse_block(&String::from_utf8_lossy(&block)));
        }
        frames
    }
}

fn parse_block(block: &str) -> Option<SseMessage> {
    let (mut id, mut event, mut data) = (None, "message".to_owned(), Vec::new());
    for line in block.lines().filter(|l| !l.starts_with(':')) {
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "id" => id = Some(value.to_owned()),
            "event" => event = value.to_owned(),
            "data" => data.push(value),
            _ => {}
        }
    }
    (!data.is_empty()).then(|| SseMessage { id, event, data: data.join("\n") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_character_split_between_chunks_arrives_whole() {
        let frame = "id: 1\ndata: {\"uk\":\"Тривога\"}\n\n".as_bytes();
        let split = frame.iter().position(|&b| b >= 0x80).unwrap() + 1; // inside «Т»
        let mut parser = SseParser::default();
        assert!(parser.push(&frame[..split]).is_empty());
        let frames = parser.push(&frame[split..]);
        assert_eq!(frames[0].data, "{\"uk\":\"Тривога\"}");
    }

    #[test]
    fn frames_split_across_chunks_are_joined_and_comments_skipped() {
        let mut parser = SseParser::default();
        assert!(parser.push(b"retry: 1000\n\n: keepalive\n\nid: 4\nevent: decl").is_empty());
        let frames = parser.push(b"ared\ndata: {\"a\":1}\n\nid: 5\r\ndata: x\r\ndata: y\r\n\r\n");
        assert_eq!(
            frames,
            [
                SseMessage { id: Some("4".into()), event: "declared".into(), data: "{\"a\":1}".into() },
                SseMessage { id: Some("5".into()), event: "message".into(), data: "x\ny".into() },
            ]
        );
    }
}
