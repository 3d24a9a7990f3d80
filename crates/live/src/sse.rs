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
#[derive(Default)]
pub struct SseParser {
    buffer: String,
}

impl SseParser {
    /// Adds received text and returns the frames it completed (frames without data, such as
    /// `retry:` lines or heartbeats, are not returned).
    pub fn push(&mut self, text: &str) -> Vec<SseMessage> {
        self.buffer.push_str(&text.replace("\r\n", "\n"));
        let mut frames = Vec::new();
        while let Some(end) = self.buffer.find("\n\n") {
            let block: String = self.buffer.drain(..end + 2).collect();
            frames.extend(parse_block(&block));
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
    fn frames_split_across_chunks_are_joined_and_comments_skipped() {
        let mut parser = SseParser::default();
        assert!(parser.push("retry: 1000\n\n: keepalive\n\nid: 4\nevent: decl").is_empty());
        let frames = parser.push("ared\ndata: {\"a\":1}\n\nid: 5\r\ndata: x\r\ndata: y\r\n\r\n");
        assert_eq!(
            frames,
            [
                SseMessage { id: Some("4".into()), event: "declared".into(), data: "{\"a\":1}".into() },
                SseMessage { id: Some("5".into()), event: "message".into(), data: "x\ny".into() },
            ]
        );
    }
}
