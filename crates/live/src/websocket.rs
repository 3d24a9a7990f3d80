//! WebSocket frames as a server writes them (RFC 6455 §5.2): final, unfragmented, unmasked.
//! A frame's bytes are made once per event beside its SSE bytes, so a WebSocket subscriber's
//! delivery is one write of shared bytes, like an SSE one.

/// A text message: what every event is.
pub const TEXT: u8 = 0x1;
/// Ends the connection, with a code and a reason.
pub const CLOSE: u8 = 0x8;
/// Asks the client to answer with a pong: the WebSocket's heartbeat.
pub const PING: u8 = 0x9;
/// Answers a ping.
pub const PONG: u8 = 0xA;

/// The largest header: two bytes and an eight-byte length.
const MAX_HEADER: usize = 10;

/// The header of a final, unmasked frame of `opcode` carrying `len` bytes: its bytes are the
/// first `.1` of `.0`.
fn header(opcode: u8, len: usize) -> ([u8; MAX_HEADER], usize) {
    let mut header = [0u8; MAX_HEADER];
    header[0] = 0x80 | opcode;
    let used = if len < 126 {
        header[1] = len as u8;
        2
    } else if let Ok(len) = u16::try_from(len) {
        header[1] = 126;
        header[2..4].copy_from_slice(&len.to_be_bytes());
        4
    } else {
        header[1] = 127;
        header[2..10].copy_from_slice(&(len as u64).to_be_bytes());
        10
    };
    (header, used)
}

/// A whole frame: the header, then `payload`.
pub fn frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let (header, used) = header(opcode, payload.len());
    let mut frame = Vec::with_capacity(used + payload.len());
    frame.extend_from_slice(&header[..used]);
    frame.extend_from_slice(payload);
    frame
}

/// A close frame with `code` and `reason`, cut to the 123 bytes a control frame has room for
/// (at a character boundary).
pub fn close(code: u16, reason: &str) -> Vec<u8> {
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let payload = [&code.to_be_bytes()[..], &reason.as_bytes()[..end]].concat();
    frame(CLOSE, &payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_length_takes_the_shortest_header_that_holds_it() {
        assert_eq!(frame(TEXT, b"hi"), [0x81, 2, b'h', b'i']);
        assert_eq!(&header(TEXT, 125).0[..2], [0x81, 125]);
        assert_eq!(header(TEXT, 126), ([0x81, 126, 0, 126, 0, 0, 0, 0, 0, 0], 4));
        assert_eq!(header(TEXT, 65_535).1, 4);
        assert_eq!(header(TEXT, 65_536), ([0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0], 10));
        assert_eq!(frame(PING, b""), [0x89, 0]);
    }

    #[test]
    fn a_close_says_its_code_and_a_reason_that_fits_a_control_frame() {
        assert_eq!(close(1001, "bye"), [0x88, 5, 0x03, 0xE9, b'b', b'y', b'e']);
        // 62 two-byte letters are 124 bytes: cut before the last, not inside it.
        let long = close(4008, &"ї".repeat(62));
        assert_eq!((long[1], long.len()), (124, 126));
        assert!(std::str::from_utf8(&long[4..]).is_ok());
    }
}
