//! What a change did to an alert: the fields it changed, and how a repeated declaration
//! escalates an active alert.

use std::fmt;

use crate::alert::{Alert, AlertLevel};
use crate::book::Declaration;

/// A field of an alert that an update or an escalation may change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AlertField {
    Level,
    Threats,
    Message,
    Instruction,
    ExpiresAt,
}

impl AlertField {
    pub const ALL: [AlertField; 5] =
        [AlertField::Level, AlertField::Threats, AlertField::Message, AlertField::Instruction, AlertField::ExpiresAt];

    /// The field's name on the wire (the alert's JSON member).
    pub fn as_str(self) -> &'static str {
        match self {
            AlertField::Level => "level",
            AlertField::Threats => "threats",
            AlertField::Message => "message",
            AlertField::Instruction => "instruction",
            AlertField::ExpiresAt => "expires_at",
        }
    }
}

impl fmt::Display for AlertField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The fields in which `after` differs from `before`, in [`AlertField::ALL`] order.
pub fn changed_fields(before: &Alert, after: &Alert) -> Vec<AlertField> {
    AlertField::ALL
        .into_iter()
        .filter(|field| match field {
            AlertField::Level => before.level != after.level,
            AlertField::Threats => before.threats != after.threats,
            AlertField::Message => before.message != after.message,
            AlertField::Instruction => before.instruction != after.instruction,
            AlertField::ExpiresAt => before.expires_at != after.expires_at,
        })
        .collect()
}

/// `existing` as a repeated declaration leaves it: the higher level (a declaration never lowers
/// one: only an update may), the union of the threats, and the declaration's texts and expiry
/// where it gives them. Everything else (id, start, who declared it) stays.
pub(crate) fn escalate(existing: &Alert, declaration: &Declaration) -> Alert {
    let mut escalated = existing.clone();
    if declaration.level == AlertLevel::Red {
        escalated.level = AlertLevel::Red;
    }
    escalated.threats.extend(declaration.threats.iter().copied());
    escalated.threats.sort();
    escalated.threats.dedup();
    if let Some(message) = &declaration.message {
        escalated.message = Some(message.clone());
    }
    if let Some(instruction) = &declaration.instruction {
        escalated.instruction = Some(instruction.clone());
    }
    if let Some(expiry) = declaration.expires_at {
        escalated.expires_at = Some(expiry);
    }
    escalated
}
