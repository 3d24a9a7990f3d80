//! Just enough HTTP/1.1 for the benchmark, written by hand so that each of tens of thousands of
//! subscribers costs a socket, a task and a small buffer, and nothing of a client library.
//!
//! It does not follow redirects, negotiate, or speak TLS; it handles `Content-Length` and
//! `chunked` bodies, which is what tryvoha and nginx send.

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// A request as bytes; `Content-Length` is added when there is a body.
pub fn request(method: &str, path: &str, host: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut text = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\n");
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        text.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    text.push_str("\r\n");
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// A whole response: the publisher's answers and the region list.
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

/// One keep-alive connection that sends a request and reads the whole response.
pub struct Connection {
    host: String,
    stream: BufReader<TcpStream>,
}

impl Connection {
    pub async fn open(address: &str) -> anyhow::Result<Connection> {
        let stream = TcpStream::connect(address).await.with_context(|| format!("cannot connect to {address}"))?;
        stream.set_nodelay(true)?;
        Ok(Connection { host: address.to_string(), stream: BufReader::new(stream) })
    }

    pub async fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> anyhow::Result<Response> {
        let bytes = request(method, path, &self.host, headers, body);
        self.stream.get_mut().write_all(&bytes).await?;
        read_response(&mut self.stream).await.with_context(|| format!("{method} {path}"))
    }
}

async fn read_response(stream: &mut BufReader<TcpStream>) -> anyhow::Result<Response> {
    let mut line = String::new();
    stream.read_line(&mut line).await?;
    let status = parse_status(line.as_bytes())?;
    let mut length = None;
    let mut chunked = false;
    loop {
        line.clear();
        if stream.read_line(&mut line).await? == 0 {
            bail!("the connection closed inside the response headers");
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let Some((name, value)) = header.split_once(':') else { continue };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(value.parse::<usize>().context("bad Content-Length")?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") && value.eq_ignore_ascii_case("chunked") {
            chunked = true;
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            line.clear();
            stream.read_line(&mut line).await?;
            let size = chunk_size(line.trim_end())?;
            let mut chunk = vec![0; size + 2];
            stream.read_exact(&mut chunk).await?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else if let Some(length) = length {
        body.resize(length, 0);
        stream.read_exact(&mut body).await?;
    }
    Ok(Response { status, body })
}

/// The status code of `HTTP/1.1 200 OK`.
pub fn parse_status(line: &[u8]) -> anyhow::Result<u16> {
    let text = std::str::from_utf8(line).context("the status line is not text")?;
    let mut parts = text.split_whitespace();
    match (parts.next(), parts.next().and_then(|code| code.parse().ok())) {
        (Some(version), Some(code)) if version.starts_with("HTTP/1.") => Ok(code),
        _ => bail!("not an HTTP/1.x status line: {:?}", text.trim_end()),
    }
}

fn chunk_size(line: &str) -> anyhow::Result<usize> {
    let digits = line.split(';').next().unwrap_or_default().trim();
    usize::from_str_radix(digits, 16).with_context(|| format!("bad chunk size {digits:?}"))
}

/// The head of a streamed response, once its blank line has arrived.
pub struct Head {
    pub status: u16,
    pub chunked: bool,
    /// Bytes of the head, to drop from the buffer.
    pub length: usize,
}

/// Parses the head at the start of `buffer`, or `None` while it is incomplete.
pub fn parse_head(buffer: &[u8]) -> anyhow::Result<Option<Head>> {
    let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") else { return Ok(None) };
    let text = &buffer[..end];
    let mut lines = text.split(|&b| b == b'\n');
    let status = parse_status(lines.next().unwrap_or_default())?;
    let chunked = lines.any(|line| {
        let line = String::from_utf8_lossy(line).to_ascii_lowercase();
        line.starts_with("transfer-encoding:") && line.contains("chunked")
    });
    Ok(Some(Head { status, chunked, length: end + 4 }))
}

/// Undoes `Transfer-Encoding: chunked` on a stream, whatever the read boundaries.
#[derive(Default)]
pub struct Dechunker {
    pending: Vec<u8>,
    /// Data bytes left in the current chunk; at 0 its closing CRLF is still to come.
    in_chunk: Option<usize>,
}

impl Dechunker {
    /// Appends the body bytes found in `input` to `output`.
    pub fn feed(&mut self, input: &[u8], output: &mut Vec<u8>) -> anyhow::Result<()> {
        self.pending.extend_from_slice(input);
        let mut at = 0;
        loop {
            match self.in_chunk {
                Some(0) => {
                    if self.pending.len() - at < 2 {
                        break;
                    }
                    at += 2;
                    self.in_chunk = None;
                }
                Some(left) => {
                    let take = left.min(self.pending.len() - at);
                    if take == 0 {
                        break;
                    }
                    output.extend_from_slice(&self.pending[at..at + take]);
                    at += take;
                    self.in_chunk = Some(left - take);
                }
                None => {
                    let Some(end) = self.pending[at..].windows(2).position(|w| w == b"\r\n") else { break };
                    let line = std::str::from_utf8(&self.pending[at..at + end]).context("bad chunk size line")?;
                    let size = chunk_size(line)?;
                    if size == 0 {
                        bail!("the stream ended (last chunk)");
                    }
                    at += end + 2;
                    self.in_chunk = Some(size);
                }
            }
        }
        self.pending.drain(..at);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dechunker_joins_chunks_split_at_any_byte() {
        let wire = b"6\r\nretry:\r\n3\r\n 1\n\r\n";
        for split in 0..wire.len() {
            let mut dechunker = Dechunker::default();
            let mut body = Vec::new();
            dechunker.feed(&wire[..split], &mut body).unwrap();
            dechunker.feed(&wire[split..], &mut body).unwrap();
            assert_eq!(body, b"retry: 1\n", "split at {split}");
        }
    }

    #[test]
    fn head_is_found_once_complete() {
        let head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nrest";
        assert!(parse_head(&head[..20]).unwrap().is_none());
        let parsed = parse_head(head).unwrap().unwrap();
        assert_eq!((parsed.status, parsed.chunked, parsed.length), (200, true, head.len() - 4));
    }
}
