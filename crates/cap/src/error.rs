//! The one error type of this crate: everything that can be wrong with a CAP message.

use thiserror::Error;

/// Why a CAP message was refused, by [`parse`](crate::parse) or by
/// [`check_semantics`](crate::check_semantics).
///
/// Every variant about a part of the message carries its path, such as
/// `alert/info[1]/area[0]/polygon[2]`: element names as in the XML, and a zero-based index on
/// every element that may repeat. [`CapError::path`] returns it, so an API can name the field.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CapError {
    /// The bytes are not well-formed XML 1.0.
    #[error("not well-formed XML at line {line}, column {column}: {reason}")]
    NotXml { line: usize, column: usize, reason: String },

    /// The XML declaration names an encoding this parser does not read.
    #[error("unsupported character encoding {encoding:?}: send UTF-8")]
    UnsupportedEncoding { encoding: String },

    /// A construct refused for safety: a DOCTYPE (and with it every DTD, entity declaration and
    /// external reference), or a reference to an entity other than the five predefined ones.
    #[error("forbidden in a CAP message: {what}")]
    Forbidden { what: String },

    /// The document is longer than the limit.
    #[error("document of {actual} bytes exceeds the limit of {limit} bytes")]
    TooLarge { limit: usize, actual: usize },

    /// Elements are nested deeper than the limit.
    #[error("elements nested deeper than the limit of {limit}")]
    TooDeep { limit: usize },

    /// The root is not an `alert` element in the CAP 1.2 namespace.
    #[error("{path}: expected namespace urn:oasis:names:tc:emergency:cap:1.2, found {}", found.as_deref().unwrap_or("none"))]
    WrongNamespace { path: String, found: Option<String> },

    /// A required element is absent (or not where the CAP 1.2 sequence puts it).
    #[error("{path}: required element is missing")]
    MissingElement { path: String },

    /// An element that CAP 1.2 does not allow at this place: unknown, out of sequence order,
    /// or repeated where it may occur once. `path` is the parent element (`/`, the document,
    /// when the root is not `alert`); `found` is the name, as `{namespace}name` when the
    /// element is not in the CAP namespace.
    #[error("{path}: element <{found}> is not allowed here")]
    UnexpectedElement { path: String, found: String },

    /// An attribute on a CAP element (CAP elements have none, apart from namespace declarations
    /// and `xsi:schemaLocation`).
    #[error("{path}: attribute {name:?} is not allowed")]
    UnexpectedAttribute { path: String, name: String },

    /// A value that is not in its type's lexical space: an unknown enumeration value, a
    /// malformed timestamp, polygon or circle, a coordinate out of range, stray text.
    #[error("{path}: bad value {value:?}: {reason}")]
    BadValue { path: String, value: String, reason: String },

    /// A rule of the CAP 1.2 specification that the XSD does not express, such as an Update
    /// without `references`. Only [`check_semantics`](crate::check_semantics) returns it.
    #[error("{path}: {rule}")]
    Semantic { path: String, rule: String },
}

impl CapError {
    /// The path of the element (or attribute's element) at fault, when there is one.
    pub fn path(&self) -> Option<&str> {
        match self {
            CapError::WrongNamespace { path, .. }
            | CapError::MissingElement { path }
            | CapError::UnexpectedElement { path, .. }
            | CapError::UnexpectedAttribute { path, .. }
            | CapError::BadValue { path, .. }
            | CapError::Semantic { path, .. } => Some(path),
            CapError::NotXml { .. }
            | CapError::UnsupportedEncoding { .. }
            | CapError::Forbidden { .. }
            | CapError::TooLarge { .. }
            | CapError::TooDeep { .. } => None,
        }
    }

    pub(crate) fn bad_value(path: impl Into<String>, value: &str, reason: impl Into<String>) -> CapError {
        // A rejected polygon can be a megabyte long; the error only needs enough to recognise it.
        const SHOWN_CHARS: usize = 120;
        let value = match value.char_indices().nth(SHOWN_CHARS) {
            Some((cut, _)) => format!("{}…", &value[..cut]),
            None => value.to_owned(),
        };
        CapError::BadValue { path: path.into(), value, reason: reason.into() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_names_the_field_for_schema_errors_and_nothing_for_document_errors() {
        let missing = CapError::MissingElement { path: "alert/scope".into() };
        assert_eq!(missing.path(), Some("alert/scope"));
        assert_eq!(missing.to_string(), "alert/scope: required element is missing");
        assert_eq!(CapError::TooDeep { limit: 32 }.path(), None);
    }

    #[test]
    fn long_bad_values_are_shortened_in_the_error() {
        let error = CapError::bad_value("alert/info[0]/area[0]/polygon[0]", &"1,2 ".repeat(1000), "too short");
        let CapError::BadValue { value, .. } = error else { panic!("expected BadValue") };
        assert_eq!(value.chars().count(), 121);
        assert!(value.ends_with('…'));
    }
}
