//! What a change did to an alert: the fields it changed, and how a repeated declaration
//! escalates an active alert.

use std::fmt;

use crate::alert::{Alert, AlertLevel};
use crate::book::{AlertChanges, Declaration};

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

/// What a repeated declaration changes on `existing`: the higher level (a declaration never
/// lowers one: only an update may), the union of the threats, and the declaration's texts and
/// expiry where it gives them. Everything else (id, start, who declared it) stays.
pub(crate) fn escalation(existing: &Alert, declaration: &Declaration) -> AlertChanges {
    let mut threats = existing.threats.clone();
    threats.extend(declaration.threats.iter().copied());
    AlertChanges {
        level: (declaration.level == AlertLevel::Red).then_some(AlertLevel::Red),
        threats: Some(threats),
        message: declaration.message.clone(),
        instruction: declaration.instruction.clone(),
        expires_at: declaration.expires_at,
    }
}

/// `current` with `changes` applied: each given field replaced (threats sorted, once each),
/// the rest as they were. Updates and escalations both go through here.
pub(crate) fn apply(current: &Alert, changes: &AlertChanges) -> Alert {
    let mut updated = current.clone();
    if let Some(level) = changes.level {
        updated.level = level;
    }
    if let Some(threats) = &changes.threats {
        updated.threats = threats.clone();
        updated.threats.sort();
        updated.threats.dedup();
    }
    if let Some(message) = &changes.message {
        updated.message = Some(message.clone());
    }
    if let Some(instruction) = &changes.instruction {
        updated.instruction = Some(instruction.clone());
    }
    if let Some(expiry) = changes.expires_at {
        updated.expires_at = Some(expiry);
    }
    updated
}
