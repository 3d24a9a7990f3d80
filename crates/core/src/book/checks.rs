//! The checks every declaration and update passes before the book decides: texts (length,
//! characters XML 1.0 allows) and expiry, shared by every path (JSON API, CAP in).

use time::OffsetDateTime;

use crate::alert::LocalizedText;
use crate::book::AlertError;

pub(super) fn check_texts(
    message: Option<&LocalizedText>,
    instruction: Option<&LocalizedText>,
) -> Result<(), AlertError> {
    let fields = [
        ("message", ["message.uk", "message.en"], message),
        ("instruction", ["instruction.uk", "instruction.en"], instruction),
    ];
    for (field, [uk, en], text) in fields {
        let Some(text) = text else { continue };
        if text.longest_chars() > LocalizedText::MAX_CHARS {
            return Err(AlertError::TextTooLong { field });
        }
        if let Some((language, c)) = text.first_forbidden_character() {
            let field = if language == "uk" { uk } else { en };
            return Err(AlertError::InvalidCharacters { field, code_point: u32::from(c) });
        }
    }
    Ok(())
}

pub(super) fn check_expiry(expires_at: Option<OffsetDateTime>, now: OffsetDateTime) -> Result<(), AlertError> {
    match expires_at {
        Some(expiry) if expiry <= now => Err(AlertError::ExpiryNotInFuture),
        _ => Ok(()),
    }
}
