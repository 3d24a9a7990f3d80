//! Just enough WebSocket (RFC 6455) for the benchmark: the client's handshake request, the
//! server's unmasked frames read back into messages, and a frame as a server writes it (the
//! floor's). The client sends nothing after the handshake: the servers under test ping, and
//! none of them closes a subscriber that does not answer within a benchmark's minutes.

/// The handshake request for `path`. The key is fixed: nothing here relies on the answer's
/// `Sec-WebSocket-Accept` (the status line says whether the server upgraded).
pub fn request(path: &str, host: &str) -> Vec<u8> {
    format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    .into_bytes()
}

/// A text frame as a server sends it: FIN, opcode 1, no mask.
pub fn server_text_frame(payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![0x81];
    match payload.len() {
        len @ 0..=125 => frame.push(len as u8),
        len @ 126..=0xFFFF => {
            frame.push(126);
            frame.extend_from_slice(&(len as u16).to_be_bytes());
        }
        len => {
            frame.push(127);
            frame.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    frame.extend_from_slice(payload);
    frame
}

/// Reassembles a server's frames from the bytes as they arrive.
#[derive(Default)]
pub struct FrameReader {
    buffered: Vec<u8>,
    /// A fragmented message so far.
    message: Vec<u8>,
}

impl FrameReader {
    /// Feeds bytes; calls `on_message` with each complete text or binary message. Control
    /// frames (ping, pong, close) are skipped. Fails on a frame no server sends (a masked one).
    pub fn feed(&mut self, bytes: &[u8], mut on_message: impl FnMut(&[u8])) -> anyhow::Result<()> {
        self.buffered.extend_from_slice(bytes);
        let mut at = 0;
        while let Some((header, length)) = frame_header(&self.buffered[at..])? {
            let (first, end) = (at + header, at + header + length);
            if self.buffered.len() < end {
                break;
            }
            let (fin, opcode) = (self.buffered[at] & 0x80 != 0, self.buffered[at] & 0x0F);
            if opcode < 8 {
                self.message.extend_from_slice(&self.buffered[first..end]);
                if fin {
                    on_message(&self.message);
                    self.message.clear();
                }
            }
            at = end;
        }
        self.buffered.drain(..at);
        Ok(())
    }
}

/// The header's length and the payload's, once the whole header has arrived.
fn frame_header(bytes: &[u8]) -> anyhow::Result<Option<(usize, usize)>> {
    let [_, second, ..] = bytes else { return Ok(None) };
    anyhow::ensure!(second & 0x80 == 0, "a server sent a masked frame");
    Ok(match second & 0x7F {
        126 if bytes.len() >= 4 => Some((4, u16::from_be_bytes([bytes[2], bytes[3]]) as usize)),
        127 if bytes.len() >= 10 => {
            let length = u64::from_be_bytes(bytes[2..10].try_into().unwrap_or_default());
            Some((10, usize::try_from(length)?))
        }
        126 | 127 => None,
        length => Some((2, length as usize)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_split_anywhere_come_back_whole_and_pings_are_skipped() {
        let long = vec![b'x'; 600];
        let mut stream = server_text_frame(b"first");
        stream.extend_from_slice(&[0x89, 0x00]); // ping
        stream.extend_from_slice(&server_text_frame(&long));
        stream.extend_from_slice(&[0x01, 0x02, b'a', b'b', 0x80, 0x01, b'c']); // fragmented "abc"
        for split in 0..stream.len() {
            let mut reader = FrameReader::default();
            let mut messages = Vec::new();
            reader.feed(&stream[..split], |m| messages.push(m.to_vec())).unwrap();
            reader.feed(&stream[split..], |m| messages.push(m.to_vec())).unwrap();
            assert_eq!(messages, [b"first".to_vec(), long.clone(), b"abc".to_vec()], "split at {split}");
        }
    }

    #[test]
    fn a_masked_frame_is_refused() {
        assert!(FrameReader::default().feed(&[0x81, 0x85, 1, 2, 3, 4, 5], |_| ()).is_err());
    }
}
