//! What a WebSocket client may send to a stream (RFC 6455 §5): pings, which are answered,
//! pongs, and a close. A stream takes no messages, so every frame a client may send is a
//! control frame of at most 125 bytes, and what waits for the rest of a frame stays that small.

use tokio::net::TcpStream;
use tryvoha_live::websocket::{self, CLOSE, PING, PONG};

use crate::transport::direct_stream::Heard;

/// The most a client frame takes: a header with its mask, and 125 bytes.
const MAX_CLIENT_FRAME: usize = 2 + 4 + 125;

/// The most bytes read at one readiness: readiness stays set, so the rest is read at the next
/// turn, and a client that floods the socket does not hold the thread meanwhile.
const MOST_READ_AT_ONCE: usize = 8 * 512;

/// What the bytes taken so far come to.
#[derive(Debug, PartialEq, Eq)]
enum Taken {
    /// Nothing that ends the stream (pings are answered, pongs need nothing, a frame may be
    /// partly here).
    More,
    /// The client closed: write these (the pong, if any, then the close that answers it).
    Closed(Vec<u8>),
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
        // Only the latest ping is answered (RFC 6455 §5.5.3 allows it): a client that sends
        // many gets one pong, not a pile of them.
        let mut pong = None;
        for _ in 0..MOST_READ_AT_ONCE / buffer.len() {
            match stream.try_read(&mut buffer) {
                Ok(0) => return Heard::Left,
                Ok(read) => match self.take(&buffer[..read], &mut pong) {
                    Taken::More => continue,
                    Taken::Closed(answer) => return Heard::Last(answer),
                    Taken::Refused(code, reason) => return Heard::Last(websocket::close(code, reason)),
                },
                Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(_) => return Heard::Left,
            }
        }
        pong.map_or(Heard::Nothing, Heard::Answer)
    }

    /// Takes `bytes` (what arrived after the rest): the answer to the latest ping is left in
    /// `pong`; a close or a refusal is returned at once.
    fn take(&mut self, bytes: &[u8], pong: &mut Option<Vec<u8>>) -> Taken {
        self.partial.extend_from_slice(bytes);
        let mut used = 0;
        let taken = loop {
            match next_frame(&self.partial[used..]) {
                Err((code, reason)) => break Taken::Refused(code, reason),
                Ok(None) => break Taken::More,
                Ok(Some(ClientFrame { opcode, payload, length })) => {
                    used += length;
                    match opcode {
                        PING => *pong = Some(websocket::frame(PONG, &payload)),
                        CLOSE => {
                            break Taken::Closed([pong.take().unwrap_or_default(), close_answer(&payload)].concat());
                        }
                        _ => {} // a pong
                    }
                }
            }
        };
        self.partial.drain(..used);
        if self.partial.is_empty() {
            self.partial = Vec::new();
        } else {
            // What waits is part of one frame: no more room is kept than one frame takes.
            self.partial.shrink_to(MAX_CLIENT_FRAME);
        }
        taken
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
        0 => return Err((1002, "a continuation of no message")),
        1 | 2 => return Err((1003, "this stream takes no messages: send only pongs and close")),
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
    let payload: Vec<u8> = bytes[6..whole].iter().enumerate().map(|(at, byte)| byte ^ mask[at % 4]).collect();
    if opcode == CLOSE {
        check_close(&payload)?;
    }
    Ok(Some(ClientFrame { opcode, payload, length: whole }))
}

/// A close says nothing, or a code that may be sent (RFC 6455 §7.4) and a UTF-8 reason.
fn check_close(payload: &[u8]) -> Result<(), Refusal> {
    match payload {
        [] => Ok(()),
        [_] => Err((1002, "a close's payload starts with a two-byte code")),
        [high, low, reason @ ..] => match u16::from_be_bytes([*high, *low]) {
            1000..=1003 | 1007..=1014 | 3000..=4999 if std::str::from_utf8(reason).is_ok() => Ok(()),
            1000..=1003 | 1007..=1014 | 3000..=4999 => Err((1007, "a close's reason must be UTF-8")),
            _ => Err((1002, "a close code that may not be sent")),
        },
    }
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

    /// What `bytes` come to, and the pong they leave.
    fn heard(bytes: &[u8]) -> (Taken, Option<Vec<u8>>) {
        let mut pong = None;
        let taken = ClientFrames::default().take(bytes, &mut pong);
        (taken, pong)
    }

    #[test]
    fn the_latest_ping_is_answered_with_its_payload_and_pongs_need_nothing() {
        let bytes = [client_frame(PING, b"a"), client_frame(PONG, b""), client_frame(PING, b"bc")].concat();
        assert_eq!(heard(&bytes), (Taken::More, Some(websocket::frame(PONG, b"bc"))));
        assert_eq!(heard(&client_frame(PONG, b"x")), (Taken::More, None));
    }

    #[test]
    fn a_frame_split_anywhere_is_taken_once_whole_and_nothing_is_kept_after() {
        let frame = client_frame(PING, b"hello");
        for split in 1..frame.len() {
            let mut frames = ClientFrames::default();
            let mut pong = None;
            assert_eq!(frames.take(&frame[..split], &mut pong), Taken::More);
            assert_eq!(pong, None, "nothing answered at {split}");
            assert_eq!(frames.take(&frame[split..], &mut pong), Taken::More);
            assert_eq!(pong, Some(websocket::frame(PONG, b"hello")), "split at {split}");
            assert_eq!(frames.partial.capacity(), 0, "nothing held between frames");
        }
    }

    #[test]
    fn what_waits_for_the_rest_of_a_frame_keeps_no_more_room_than_a_frame() {
        let mut bytes: Vec<u8> = (0..40).flat_map(|_| client_frame(PONG, b"")).collect();
        bytes.extend_from_slice(&client_frame(PING, &[7; 100])[..50]);
        let mut frames = ClientFrames::default();
        assert_eq!(frames.take(&bytes, &mut None), Taken::More);
        assert_eq!(frames.partial.len(), 50);
        assert!(frames.partial.capacity() <= MAX_CLIENT_FRAME, "{} kept", frames.partial.capacity());
    }

    #[test]
    fn a_close_is_answered_with_its_code_after_the_pongs_before_it() {
        let bytes = [client_frame(PING, b""), client_frame(CLOSE, &[0x03, 0xE8, b'o', b'k'])].concat();
        assert_eq!(heard(&bytes).0, Taken::Closed([websocket::frame(PONG, b""), websocket::close(1000, "")].concat()));
        assert_eq!(heard(&client_frame(CLOSE, b"")).0, Taken::Closed(vec![0x88, 0]));
        assert_eq!(heard(&client_frame(CLOSE, &[0x0F, 0xA0])).0, Taken::Closed(websocket::close(4000, "")));
    }

    #[test]
    fn messages_and_broken_frames_are_refused_at_their_header() {
        // A 1 MiB binary message is refused from its first two bytes: nothing waits for it.
        assert_eq!(
            heard(&[0x82, 0xFF]).0,
            Taken::Refused(1003, "this stream takes no messages: send only pongs and close")
        );
        assert!(matches!(heard(&client_frame(0x1, b"hi")).0, Taken::Refused(1003, _)));
        let unmasked = websocket::frame(PING, b"");
        for (bytes, why) in [
            (unmasked, "unmasked"),
            (vec![0xC9, 0x80], "a reserved bit"),
            (vec![0x83, 0x80], "opcode 3"),
            (vec![0x09, 0x80], "a fragmented ping"),
            (vec![0x89, 0xFE], "a ping over 125 bytes"),
            (client_frame(CLOSE, b"x"), "a one-byte close"),
            (client_frame(CLOSE, &[0x03, 0xED]), "close code 1005, which is never sent"),
            (client_frame(CLOSE, &[0x07, 0xD0]), "close code 2000, reserved"),
            (vec![0x80, 0x80], "a continuation of nothing"),
        ] {
            assert!(matches!(heard(&bytes).0, Taken::Refused(1002, _)), "{why}");
        }
    }
}
