//! Honouring the XML declaration's `encoding` without an encoding library: CAP publishers use
//! UTF-8 almost always, US-ASCII and ISO-8859-1 sometimes, and those three are exact to decode by
//! hand. Anything else is refused by name rather than misread.

use std::borrow::Cow;

use quick_xml::Reader;
use quick_xml::events::Event;

use crate::CapError;
use crate::document::not_xml;

/// The document as text, decoded as its XML declaration (or UTF-8 byte order mark) says.
pub(crate) fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, CapError> {
    let utf16 = [[0xFE, 0xFF], [0xFF, 0xFE], [0x00, b'<'], [b'<', 0x00]];
    if utf16.iter().any(|start| bytes.starts_with(start)) {
        return Err(CapError::UnsupportedEncoding { encoding: "UTF-16".into() });
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let declared = declared_encoding(bytes)?.map(|name| name.to_ascii_lowercase());
    match declared.as_deref() {
        None | Some("utf-8" | "utf8") => utf8(bytes),
        Some("us-ascii" | "ascii") => match bytes.iter().position(|byte| !byte.is_ascii()) {
            None => utf8(bytes),
            Some(offset) => {
                let before = String::from_utf8_lossy(&bytes[..offset]);
                Err(not_xml(&before, offset, format!("byte 0x{:02X} in a US-ASCII document", bytes[offset])))
            }
        },
        // ISO-8859-1 maps each byte to the code point of the same number.
        Some("iso-8859-1" | "iso_8859-1" | "latin1" | "latin-1" | "l1") => {
            Ok(Cow::Owned(bytes.iter().map(|&byte| char::from(byte)).collect()))
        }
        Some(_) => Err(CapError::UnsupportedEncoding { encoding: declared.unwrap_or_default() }),
    }
}

fn utf8(bytes: &[u8]) -> Result<Cow<'_, str>, CapError> {
    std::str::from_utf8(bytes).map(Cow::Borrowed).map_err(|error| {
        let valid = String::from_utf8_lossy(&bytes[..error.valid_up_to()]);
        not_xml(&valid, error.valid_up_to(), "invalid UTF-8".into())
    })
}

/// The `encoding` of a leading XML declaration, if there is one.
fn declared_encoding(bytes: &[u8]) -> Result<Option<String>, CapError> {
    // A declaration is ASCII and short; past this many bytes the main parser will complain.
    const LONGEST_DECLARATION: usize = 512;
    let starts_declaration = bytes.starts_with(b"<?xml") && bytes.get(5).is_some_and(u8::is_ascii_whitespace);
    if !starts_declaration {
        return Ok(None);
    }
    let window = &bytes[..bytes.len().min(LONGEST_DECLARATION)];
    let Some(end) = window.windows(2).position(|pair| pair == b"?>") else {
        return Ok(None);
    };
    let Ok(text) = std::str::from_utf8(&bytes[..end + 2]) else {
        return Ok(None);
    };
    match Reader::from_str(text).read_event() {
        Ok(Event::Decl(declaration)) => match declaration.encoding() {
            Some(Ok(name)) => Ok(Some(name.into_owned())),
            Some(Err(error)) => Err(not_xml(text, 0, error.to_string())),
            None => Ok(None),
        },
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_latin1_as_declared() {
        let document = b"<?xml version='1.0' encoding='ISO-8859-1'?><a>Bj\xF6rk</a>";
        assert!(decode(document).unwrap().contains("Björk"));
    }

    #[test]
    fn utf8_is_the_default_and_its_byte_order_mark_is_skipped() {
        assert_eq!(decode("\u{FEFF}<a>тривога</a>".as_bytes()).unwrap(), "<a>тривога</a>");
        assert!(matches!(decode(b"<a>\xFF</a>"), Err(CapError::NotXml { line: 1, column: 4, .. })));
    }

    #[test]
    fn refuses_encodings_it_cannot_read_exactly() {
        let shift_jis = b"<?xml version=\"1.0\" encoding=\"Shift_JIS\"?><a/>";
        assert_eq!(decode(shift_jis), Err(CapError::UnsupportedEncoding { encoding: "shift_jis".into() }));
        assert_eq!(decode(b"\xFF\xFE<\x00a\x00"), Err(CapError::UnsupportedEncoding { encoding: "UTF-16".into() }));
        assert!(decode(b"<?xml version='1.0' encoding='us-ascii'?><a>\xC3\xA9</a>").is_err());
    }
}
