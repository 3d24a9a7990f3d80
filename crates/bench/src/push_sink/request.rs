//! Just enough of an HTTP/1.1 server for push requests: keep-alive, one request after another
//! on a connection (neither reqwest nor Node pipelines), bodies by `Content-Length` only. Both
//! senders the benchmark drives send exactly that; anything else is answered 400 and the
//! connection closed, so a surprise shows as a refusal, never as a hang.

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt};

/// A push message is at most 4096 bytes (RFC 8030 §7.2); a little slack for a sender that
/// gets it wrong, so that it is refused by the checks (and counted) rather than here.
const MAX_BODY: usize = 8 * 1024;
/// The request line and headers together. A VAPID header is about 500 bytes.
const MAX_HEAD: usize = 16 * 1024;
const MAX_HEADERS: usize = 64;

pub struct Request {
    pub method: String,
    pub path: String,
    /// Names in lower case, in the order received.
    pub(super) headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// Why a request could not be read; the connection is answered 400 and closed.
#[derive(Debug)]
pub struct Unreadable(pub &'static str);

/// The next request, or `None` when the peer closed the connection between requests.
pub async fn read(reader: &mut (impl AsyncBufRead + Unpin), line: &mut Vec<u8>) -> Result<Option<Request>, Unreadable> {
    let mut head = 0;
    let first = next_line(reader, line, &mut head).await?;
    let Some(first) = first else { return Ok(None) };
    let mut words = first.split(' ');
    let (Some(method), Some(path), Some(version)) = (words.next(), words.next(), words.next()) else {
        return Err(Unreadable("a bad request line"));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(Unreadable("not HTTP/1.x"));
    }
    let (method, path) = (method.to_string(), path.to_string());
    let mut headers = Vec::new();
    loop {
        let Some(header) = next_line(reader, line, &mut head).await? else {
            return Err(Unreadable("the connection closed inside the headers"));
        };
        if header.is_empty() {
            break;
        }
        let Some((name, value)) = header.split_once(':') else { return Err(Unreadable("a header without a colon")) };
        if headers.len() == MAX_HEADERS {
            return Err(Unreadable("too many headers"));
        }
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    let mut request = Request { method, path, headers, body: Vec::new() };
    if request.header("transfer-encoding").is_some() {
        return Err(Unreadable("Transfer-Encoding is not supported: send Content-Length"));
    }
    let length = match request.header("content-length") {
        None => 0,
        Some(text) => text.parse::<usize>().map_err(|_| Unreadable("a bad Content-Length"))?,
    };
    if length > MAX_BODY {
        return Err(Unreadable("the body is too large"));
    }
    request.body = vec![0; length];
    reader.read_exact(&mut request.body).await.map_err(|_| Unreadable("the connection closed inside the body"))?;
    Ok(Some(request))
}

/// One line without its CRLF, or `None` at end of stream before any byte of it.
async fn next_line(
    reader: &mut (impl AsyncBufRead + Unpin),
    line: &mut Vec<u8>,
    head: &mut usize,
) -> Result<Option<String>, Unreadable> {
    line.clear();
    // Bounded: `take` stops a peer that never sends a newline from growing the buffer.
    let limit = (MAX_HEAD - *head) as u64 + 1;
    let read = (&mut *reader).take(limit).read_until(b'\n', line).await.map_err(|_| Unreadable("a read failed"))?;
    if read == 0 {
        return Ok(None);
    }
    *head += read;
    if *head > MAX_HEAD {
        return Err(Unreadable("the request head is too large"));
    }
    if line.last() != Some(&b'\n') {
        return Err(Unreadable("the connection closed inside a line"));
    }
    let text = std::str::from_utf8(line).map_err(|_| Unreadable("a header is not UTF-8"))?;
    Ok(Some(text.trim_end_matches(['\r', '\n']).to_string()))
}
