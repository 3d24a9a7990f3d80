//! The CAP 1.2 message as Rust values, field for field with the XSD.
//!
//! Optional elements are `Option`s and repeatable ones `Vec`s, in the XSD's order. Free text is
//! kept exactly as sent, whitespace included (the XSD's `xs:string` preserves it). Values with
//! a syntax of their own are parsed into types that cannot hold a malformed value: [`Timestamp`],
//! [`Polygon`], [`Circle`] and the vocabulary enums.

use std::fmt;

use crate::geometry::{Circle, Polygon};
use crate::timestamp::Timestamp;
use crate::vocabulary::{Category, Certainty, MessageType, ResponseType, Scope, Severity, Status, Urgency};

/// `alert`: the message envelope.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub identifier: String,
    pub sender: String,
    pub sent: Timestamp,
    pub status: Status,
    pub msg_type: MessageType,
    pub source: Option<String>,
    pub scope: Scope,
    pub restriction: Option<String>,
    /// The space-delimited `addresses` list; entries written with spaces were quoted.
    pub addresses: Vec<String>,
    /// The `code` elements (profiles and special handling, e.g. `IPAWSv1.0`).
    pub codes: Vec<String>,
    pub note: Option<String>,
    /// The messages this one refers to, in the order written.
    pub references: Vec<Reference>,
    /// The space-delimited `incidents` list; entries written with spaces were quoted.
    pub incidents: Vec<String>,
    pub infos: Vec<Info>,
}

/// One `sender,identifier,sent` entry of `references`: the full identity of an earlier message.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    pub sender: String,
    pub identifier: String,
    pub sent: Timestamp,
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{},{},{}", self.sender, self.identifier, self.sent)
    }
}

/// `info`: the event and what to do about it, in one language.
#[derive(Debug, Clone, PartialEq)]
pub struct Info {
    /// `xs:language`; absent means `en-US` (the XSD default), see [`Info::language_or_default`].
    pub language: Option<String>,
    /// At least one.
    pub categories: Vec<Category>,
    pub event: String,
    pub response_types: Vec<ResponseType>,
    pub urgency: Urgency,
    pub severity: Severity,
    pub certainty: Certainty,
    pub audience: Option<String>,
    pub event_codes: Vec<NamedValue>,
    pub effective: Option<Timestamp>,
    pub onset: Option<Timestamp>,
    pub expires: Option<Timestamp>,
    pub sender_name: Option<String>,
    pub headline: Option<String>,
    pub description: Option<String>,
    pub instruction: Option<String>,
    /// `xs:anyURI`, whitespace-collapsed.
    pub web: Option<String>,
    pub contact: Option<String>,
    pub parameters: Vec<NamedValue>,
    pub resources: Vec<Resource>,
    pub areas: Vec<Area>,
}

impl Info {
    /// The XSD's default language when `language` is absent.
    pub const DEFAULT_LANGUAGE: &'static str = "en-US";

    pub fn language_or_default(&self) -> &str {
        self.language.as_deref().unwrap_or(Info::DEFAULT_LANGUAGE)
    }
}

/// A `valueName`/`value` pair, as in `eventCode`, `parameter` and `geocode`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NamedValue {
    pub value_name: String,
    pub value: String,
}

impl NamedValue {
    pub fn new(value_name: impl Into<String>, value: impl Into<String>) -> NamedValue {
        NamedValue { value_name: value_name.into(), value: value.into() }
    }
}

/// `resource`: a file that supplements the `info` (image, audio, document).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub resource_desc: String,
    pub mime_type: String,
    /// In bytes.
    pub size: Option<u64>,
    /// `xs:anyURI`, whitespace-collapsed.
    pub uri: Option<String>,
    /// The content itself, base64-encoded (not decoded or checked here).
    pub deref_uri: Option<String>,
    /// SHA-1 of the content, as sent (not checked against the content).
    pub digest: Option<String>,
}

/// `area`: where the `info` applies.
#[derive(Debug, Clone, PartialEq)]
pub struct Area {
    pub area_desc: String,
    pub polygons: Vec<Polygon>,
    pub circles: Vec<Circle>,
    pub geocodes: Vec<NamedValue>,
    /// `xs:decimal`, feet above mean sea level.
    pub altitude: Option<f64>,
    /// `xs:decimal`, feet above mean sea level; CAP allows it only with `altitude`.
    pub ceiling: Option<f64>,
}
