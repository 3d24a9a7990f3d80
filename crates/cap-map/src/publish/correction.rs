//! What the messages of an alert that reinstates another say: the all-clear that ended the other
//! was sent in error. A mistaken all-clear sends people out of their shelters, so its correction
//! is said where a person reads (every description, in both languages whatever the `info`'s, as
//! the drill marker is: a feed summary shows only the first) and where a machine looks (`note`
//! and `references`).
//!
//! Said while the reinstating alert is active; its own all-clear, when it comes, is a plain one.

use tryvoha_cap::Reference;
use tryvoha_core::{Alert, AlertId};

use super::{Language, OWN_IDENTIFIER, declaration_identifier, timestamp};

/// Begins the correction in every description, in both languages.
const MARKER: &str = "ПОМИЛКОВИЙ ВІДБІЙ / ALL-CLEAR SENT IN ERROR";

/// The cancelled alert `alert` reinstates, while `alert` is active.
fn reinstating(alert: &Alert) -> Option<AlertId> {
    alert.reinstates.filter(|_| alert.is_active())
}

/// The message's `note`, in both languages, naming the declaration of the cancelled alert.
pub(super) fn note(alert: &Alert) -> Option<String> {
    let cancelled = format!("{OWN_IDENTIFIER}{}", reinstating(alert)?);
    Some(format!(
        "Скасовує відбій {cancelled}, надісланий помилково: тривога триває. / \
         Takes back the all-clear of {cancelled}, sent in error: the alert is in effect."
    ))
}

/// The paragraph that opens the description (after a drill's notice).
pub(super) fn notice(alert: &Alert, language: Language) -> Option<String> {
    reinstating(alert)?;
    let sentence = match language {
        Language::Ukrainian => "Відбій тривоги було надіслано помилково. Тривога триває.",
        Language::English => "The all-clear was sent in error. The alert is in effect.",
    };
    Some(format!("{MARKER}. {sentence}"))
}

/// The messages of the cancelled alert that the declaration of `alert` refers to: its
/// declaration and its all-clear (its last message). None when the caller could not say which.
pub(super) fn references(alert: &Alert, reinstated: Option<&Alert>, sender: &str) -> Vec<Reference> {
    let Some(cancelled) = reinstated.filter(|cancelled| alert.reinstates == Some(cancelled.id)) else {
        return Vec::new();
    };
    let declaration = declaration_identifier(cancelled);
    vec![
        Reference { sender: sender.to_owned(), identifier: declaration.clone(), sent: timestamp(cancelled.started_at) },
        Reference {
            sender: sender.to_owned(),
            identifier: format!("{declaration}-{}", cancelled.seq),
            sent: timestamp(cancelled.updated_at),
        },
    ]
}
