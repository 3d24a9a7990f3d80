//! OASIS Common Alerting Protocol 1.2: reading, checking and writing alert messages, and the
//! Atom index that publishes them.
//!
//! - [`parse`] turns untrusted bytes into an [`Alert`], enforcing what the CAP 1.2 XSD enforces
//!   (namespace, element order and cardinality, enumerations, timestamp pattern) plus the syntax
//!   and ranges of polygons, circles, references and lists. It is safe by construction: no
//!   DOCTYPE is accepted, so no entity is ever declared or expanded and nothing external is
//!   fetched; only the five predefined entities and character references are read; size and
//!   nesting depth are limited ([`Limits`]).
//! - [`check_semantics`] adds the rules the XSD leaves to the specification text, such as an
//!   Update needing `references`.
//! - [`write`] produces XML that validates against the XSD and that [`parse`] reads back equal.
//! - [`atom`] writes an Atom 1.0 index of CAP messages, as the OASIS CAP feeds practice
//!   describes.
//!
//! ```
//! let xml = br#"<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
//!   <identifier>UA-14-0001</identifier><sender>ops@example.org</sender>
//!   <sent>2026-11-27T10:00:00+02:00</sent><status>Actual</status><msgType>Alert</msgType>
//!   <scope>Public</scope>
//!   <info><category>Safety</category><event>Air raid</event><urgency>Immediate</urgency>
//!     <severity>Extreme</severity><certainty>Observed</certainty></info>
//! </alert>"#;
//! let alert = tryvoha_cap::parse(xml)?;
//! tryvoha_cap::check_semantics(&alert)?;
//! assert_eq!(alert.sent.to_string(), "2026-11-27T10:00:00+02:00");
//! let written = tryvoha_cap::write(&alert);
//! assert_eq!(tryvoha_cap::parse(written.as_bytes())?, alert);
//!
//! let update = String::from_utf8_lossy(xml).replace("<msgType>Alert", "<msgType>Update");
//! let error = tryvoha_cap::check_semantics(&tryvoha_cap::parse(update.as_bytes())?).unwrap_err();
//! assert_eq!(error.path(), Some("alert/references"));
//! # Ok::<(), tryvoha_cap::CapError>(())
//! ```
//!
//! What it deliberately does not do: verify XML signatures. An enveloped `<Signature>` (or any
//! element in the XML-DSig namespace) at the end of `alert` is tolerated, as the XSD allows, and
//! ignored; it is neither checked nor kept, so a tampered signed message parses like an unsigned
//! one. CAP 1.2 §3.3.2.1 lets a receiver that cannot verify a signature accept the message. It
//! also does no I/O, reads no other CAP version, and does not decode `derefUri` or check `digest`.

mod document;
mod encoding;
mod error;
mod geometry;
mod lists;
mod model;
mod schema;
mod semantics;
mod sequence;
mod timestamp;
mod vocabulary;
mod write;

pub mod atom;

pub use error::CapError;
pub use geometry::{Circle, GeometryError, Point, Polygon};
pub use model::{Alert, Area, Info, NamedValue, Reference, Resource};
pub use semantics::check_semantics;
pub use timestamp::{Timestamp, TimestampError};
pub use vocabulary::{Category, Certainty, MessageType, ResponseType, Scope, Severity, Status, UnknownValue, Urgency};
pub use write::write;

/// The namespace of every CAP 1.2 element.
pub const CAP_NAMESPACE: &str = "urn:oasis:names:tc:emergency:cap:1.2";

/// The namespace of XML signatures, the only foreign elements CAP 1.2 allows (at the end of
/// `alert`).
pub const XMLDSIG_NAMESPACE: &str = "http://www.w3.org/2000/09/xmldsig#";

/// The MIME type of a CAP message.
pub const CAP_MIME_TYPE: &str = "application/cap+xml";

/// The largest document [`parse`] reads: 1 MiB. The largest message in the test corpus, an
/// IPAWS alert with embedded audio, is 459 KB; Google Public Alerts caps a whole feed at 900 KB.
pub const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;

/// The deepest element nesting [`parse`] reads. CAP itself nests five deep
/// (`alert/info/area/geocode/value`) and an XML-DSig signature about seven.
pub const MAX_DEPTH: usize = 32;

/// Bounds on what [`parse_with_limits`] reads; [`Limits::DEFAULT`] is what [`parse`] uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Documents longer than this many bytes are refused before parsing.
    pub max_bytes: usize,
    /// Elements nested deeper than this are refused.
    pub max_depth: usize,
}

impl Limits {
    pub const DEFAULT: Limits = Limits { max_bytes: MAX_DOCUMENT_BYTES, max_depth: MAX_DEPTH };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// Reads a CAP 1.2 message with the default [`Limits`]. See the crate documentation for what is
/// checked; [`check_semantics`] checks the rest.
pub fn parse(bytes: &[u8]) -> Result<Alert, CapError> {
    parse_with_limits(bytes, Limits::DEFAULT)
}

/// Reads a CAP 1.2 message within the given limits.
pub fn parse_with_limits(bytes: &[u8], limits: Limits) -> Result<Alert, CapError> {
    let root = document::read_document(bytes, limits)?;
    schema::read_alert(&root)
}
