//! What a WebSocket client may send to a stream (RFC 6455 §5): pings, which are answered,
//! pongs, and a close. A stream takes no messages, so every frame a client may send is a
//! control frame of at most 125 bytes, and what waits for the rest of a frame stays that small.

use tokio::net::TcpStream;
use tryvoha_live::websocket::{self, CLOSE, PING, PONG};

/// The most a client frame takes: a header with its mask, and 125 bytes.
const MAX_CLIENT_FRAME: usize = 2 + 4 + 125;

/// What the client's bytes come to.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Heard {
    /// Nothing to do (a pong, or part of a frame).
    Nothing,
    /// The answers to write (pongs for pings), then go on.
    Answer(Vec<u8>),
    /// The client closed: write these (any pongs, then the close that answers it), then end.
    Closed(Vec<u8>),
    /// The connection ended or failed.
    Left,
    /// The client broke the protocol or sent a message: close with this code and reason.
    Refused(u16, &'static str),
}

/// The part of a frame that has arrived; empty (and unallocated) between frames.
#[derive(Default)]
pub(super) struct ClientFrames {
    partial: Vec<u8>,
}

impl ClientFrames {
    /// Reads what the socket has and says what it comes to.
    pub(super) fn read(&mut self, stream: &TcpStream) -> Heard {
        let mut buffer = [0u8; 512];
        let mut answers = Vec::new();
        loop {
            match stream.try_read(&mut buffer) {
                Ok(0) => return Heard::Left,
                Ok(read) => match self.take(&buffer[..read], &mut answers) {
                    Heard::Nothing => continue,
                    other => return other,
                },
                Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(_) => return Heard::Left,
            }
        }
        if answers.is_empty() { Heard::Nothing } else { Heard::Answer(answers) }
    }

    /// Takes `bytes` (what arrived after the rest): answers to pings are added to `answers`;
    /// a close or a refusal is returned at once.
    fn take(&mut self, bytes: &[u8], answers: &mut Vec<u8>) -> Heard {
        self.partial.extend_from_slice(bytes);
        let mut used = 0;
        let heard = loop {
            match next_frame(&self.partial[used..]) {
                Err((code, reason)) => break Heard::Refused(code, reason),
                Ok(None) => break Heard::Nothing,
                Ok(Some(ClientFrame { opcode, payload, length })) => {
                    used += length;
                    match opcode {
                        PING => answers.extend_from_slice(&websocket::frame(PONG, &payload)),
                        CLOSE => break Heard::Closed([std::mem::take(answers), close_answer(&payload)].concat()),
                        _ => {} // a pong
                    }
                }
            }
        };
        self.partial.drain(..used);
        if self.partial.is_empty() {
            self.partial = Vec::new();
        }
        heard
    }
}

/// The close that answers a client's: its code echoed (RFC 6455 §5.5.1), or none if it gave none.
fn close_answer(payload: &[u8]) -> Vec<u8> {
    match payload {
        [high, low, ..] => websocket::close(u16::from_be_bytes([*high, *low]), ""),
        _ => websocket::frame(CLOSE, &[]),
    }
}

/// A whole frame from the client.
struct ClientFrame {
    opcode: u8,
    /// Unmasked.
    payload: Vec<u8>,
    /// How many bytes it took, header included.
    length: usize,
}

/// A close code, and why.
type Refusal = (u16, &'static str);

/// The first whole frame in `bytes`; `None` until it has all arrived. A frame no client may
/// send to a stream is refused at its header, before its payload is waited for.
fn next_frame(bytes: &[u8]) -> Result<Option<ClientFrame>, Refusal> {
    let [first, second, ..] = *bytes else { return Ok(None) };
    let (final_frame, reserved, opcode) = (first & 0x80 != 0, first & 0x70, first & 0x0F);
    let (masked, length) = (second & 0x80 != 0, usize::from(second & 0x7F));
    if reserved != 0 {
        return Err((1002, "reserved bits are set, and no extension was agreed"));
    }
    match opcode {
        0..=2 => return Err((1003, "this stream takes no messages: send only pongs and close")),
        CLOSE | PING | PONG => {}
        _ => return Err((1002, "unknown opcode")),
    }
    if !masked {
        return Err((1002, "a client's frames must be masked"));
    }
    if !final_frame || length > 125 {
        return Err((1002, "a control frame is one frame of at most 125 bytes"));
    }
    let whole = 2 + 4 + length;
    debug_assert!(whole <= MAX_CLIENT_FRAME);
    if bytes.len() < whole {
        return Ok(None);
    }
    let mask = &bytes[2..6];
    let payload = bytes[6..whole].iter().enumerate().map(|(at, byte)| byte ^ mask[at % 4]).collect();
    if opcode == CLOSE && length == 1 {
        return Err((1002, "a close's payload starts with a two-byte code"));
    }
    Ok(Some(ClientFrame { opcode, payload, length: whole }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame as a client sends it: final, masked.
    fn client_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mask = [0x37, 0xfa, 0x21, 0x3d];
        let mut frame = vec![0x80 | opcode, 0x80 | payload.len() as u8];
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(at, byte)| byte ^ mask[at % 4]));
        frame
    }

    fn heard(bytes: &[u8]) -> (Heard, ClientFrames) {
        let mut frames = ClientFrames::default();
        let mut answers = Vec::new();
        let heard = match frames.take(bytes, &mut answers) {
            Heard::Nothing if !answers.is_empty() => Heard::Answer(answers),
            other => other,
        };
        (heard, frames)
    }

    #[test]
    fn pings_are_answered_with_their_payload_and_pongs_need_nothing() {
        let bytes = [client_frame(PING, b"a"), client_frame(PONG, b""), client_frame(PING, b"bc")].concat();
        let expected = [websocket::frame(PONG, b"a"), websocket::frame(PONG, b"bc")].concat();
        assert_eq!(heard(&bytes).0, Heard::Answer(expected));
        assert_eq!(heard(&client_frame(PONG, b"x")).0, Heard::Nothing);
    }

    #[test]
    fn a_frame_split_anywhere_is_taken_once_whole_and_nothing_is_kept_after() {
        let frame = client_frame(PING, b"hello");
        for split in 1..frame.len() {
            let mut frames = ClientFrames::default();
            let mut answers = Vec::new();
            assert_eq!(frames.take(&frame[..split], &mut answers), Heard::Nothing);
            assert!(answers.is_empty(), "nothing answered at {split}");
            assert_eq!(frames.take(&frame[split..], &mut answers), Heard::Nothing);
            assert_eq!(answers, websocket::frame(PONG, b"hello"), "split at {split}");
            assert_eq!(frames.partial.capacity(), 0, "nothing held between frames");
        }
    }

    #[test]
    fn a_close_is_answered_with_its_code_after_the_pongs_before_it() {
        let bytes = [client_frame(PING, b""), client_frame(CLOSE, &[0x03, 0xE8, b'o', b'k'])].concat();
        assert_eq!(heard(&bytes).0, Heard::Closed([websocket::frame(PONG, b""), websocket::close(1000, "")].concat()));
        assert_eq!(heard(&client_frame(CLOSE, b"")).0, Heard::Closed(vec![0x88, 0]));
    }

    #[test]
    fn messages_and_broken_frames_are_refused_at_their_header() {
        // A 1 MiB binary message is refused from its first two bytes: nothing waits for it.
        assert_eq!(
            heard(&[0x82, 0xFF]).0,
            Heard::Refused(1003, "this stream takes no messages: send only pongs and close")
        );
        assert!(matches!(heard(&client_frame(0x1, b"hi")).0, Heard::Refused(1003, _)));
        let unmasked = websocket::frame(PING, b"");
        for (bytes, why) in [
            (unmasked, "unmasked"),
            (vec![0xC9, 0x80], "a reserved bit"),
            (vec![0x83, 0x80], "opcode 3"),
            (vec![0x09, 0x80], "a fragmented ping"),
            (vec![0x89, 0xFE], "a ping over 125 bytes"),
            (client_frame(CLOSE, b"x"), "a one-byte close"),
        ] {
            assert!(matches!(heard(&bytes).0, Heard::Refused(1002, _)), "{why}");
        }
    }
}
