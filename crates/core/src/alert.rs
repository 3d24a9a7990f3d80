//! What an alert is: its kind, level, status, texts and timestamps.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::access::Actor;
use crate::region::RegionId;

/// An alert's identifier, assigned in declaration order by the [`crate::AlertBook`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "openapi",
    schema(minimum = 1, description = "An alert's id, assigned in declaration order and never reused.")
)]
#[serde(transparent)]
pub struct AlertId(pub u64);

impl fmt::Display for AlertId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Generates `as_str` and `ALL` for a snake_case string enum, so that the wire names, the error
/// messages listing accepted values and the store all use one spelling.
macro_rules! wire_names {
    ($ty:ident { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $name),+ }
            }

            pub fn parse(text: &str) -> Option<$ty> {
                match text { $($name => Some($ty::$variant),)+ _ => None }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    AirRaid,
    ArtilleryShelling,
    UrbanFights,
    Chemical,
    Nuclear,
}

wire_names!(AlertKind {
    AirRaid => "air_raid",
    ArtilleryShelling => "artillery_shelling",
    UrbanFights => "urban_fights",
    Chemical => "chemical",
    Nuclear => "nuclear",
});

/// `red` is the alert proper; `yellow` is a heightened threat without an alert (the "yellow"
/// regions of alerts.in.ua v2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "openapi",
    schema(description = "`red` is the alert proper; `yellow` is a heightened threat without an alert.")
)]
#[serde(rename_all = "snake_case")]
pub enum AlertLevel {
    #[default]
    Red,
    Yellow,
}

wire_names!(AlertLevel { Red => "red", Yellow => "yellow" });

/// Whether an alert is real. Only `actual` alerts change a region's state; `exercise` (a drill)
/// and `test` alerts are carried everywhere with their status so that no consumer mistakes them
/// for a real alert.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "openapi",
    schema(
        description = "Whether the alert is real. Only `actual` alerts change a region's `state`; `exercise` (a drill) and `test` alerts are published with their status."
    )
)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    #[default]
    Actual,
    Exercise,
    Test,
}

wire_names!(AlertStatus { Actual => "actual", Exercise => "exercise", Test => "test" });

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Threat {
    Drones,
    BallisticMissiles,
    CruiseMissiles,
    GuidedAerialBombs,
    Aviation,
    Artillery,
}

wire_names!(Threat {
    Drones => "drones",
    BallisticMissiles => "ballistic_missiles",
    CruiseMissiles => "cruise_missiles",
    GuidedAerialBombs => "guided_aerial_bombs",
    Aviation => "aviation",
    Artillery => "artillery",
});

/// Why an alert ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "openapi",
    schema(
        description = "`cancelled`: the all-clear, given by an operator. `expired`: its `expires_at` passed without an all-clear."
    )
)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// The all-clear, given by an operator.
    Cancelled,
    /// Its `expires_at` passed without an all-clear.
    Expired,
}

/// A text in Ukrainian and English; either may be absent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "openapi",
    schema(
        description = "A text in Ukrainian and English; either may be absent (absent languages are omitted). Each language may hold at most 2000 characters; a longer one is refused with 422 `text-too-long`. A text with a character XML 1.0 does not allow (control characters other than tab, line feed and carriage return; U+FFFE, U+FFFF) is refused with 422 `invalid-characters`."
    )
)]
#[serde(deny_unknown_fields)]
pub struct LocalizedText {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false, max_length = 2000))]
    pub uk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false, max_length = 2000))]
    pub en: Option<String>,
}

impl LocalizedText {
    /// The longest text accepted in one language, in characters.
    pub const MAX_CHARS: usize = 2000;

    pub fn longest_chars(&self) -> usize {
        [&self.uk, &self.en].iter().filter_map(|t| t.as_ref()).map(|t| t.chars().count()).max().unwrap_or(0)
    }

    /// The first language (`"uk"`, `"en"`) whose text holds a character XML 1.0 does not allow,
    /// with that character. Such a text could never be published in CAP or Atom, so the domain
    /// refuses it on every path (declaration, update, CAP in).
    pub fn first_forbidden_character(&self) -> Option<(&'static str, char)> {
        [("uk", &self.uk), ("en", &self.en)]
            .into_iter()
            .find_map(|(language, text)| text.as_deref()?.chars().find(|c| !is_xml_char(*c)).map(|c| (language, c)))
    }
}

/// A character XML 1.0 allows in a document (its `Char` production): tab, line feed, carriage
/// return, and everything from U+0020 up except U+FFFE and U+FFFF (Rust has no surrogates).
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
}

/// An alert as it stands after its latest event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "openapi",
    schema(description = "An alert as it stands after its latest event. Timestamps are RFC 3339.")
)]
pub struct Alert {
    pub id: AlertId,
    pub region_id: RegionId,
    pub kind: AlertKind,
    pub level: AlertLevel,
    pub status: AlertStatus,
    /// Sorted and without duplicates.
    pub threats: Vec<Threat>,
    /// Omitted when the alert has no message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub message: Option<LocalizedText>,
    /// What to do; omitted when the alert has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub instruction: Option<LocalizedText>,
    /// When the alert was declared.
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// When the alert last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// When the server ends the alert by itself; null for none.
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub expires_at: Option<OffsetDateTime>,
    /// When the alert ended; null while it is active.
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub finished_at: Option<OffsetDateTime>,
    /// Why the alert ended; null while it is active.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub finish_reason: Option<FinishReason>,
    /// Who declared it.
    pub declared_by: Actor,
    /// The sequence number of the latest event about this alert.
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub seq: u64,
    /// The cancelled alert this one reinstates, as its all-clear was sent in error; omitted otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub reinstates: Option<AlertId>,
    /// Seconds people in the region have to reach a shelter from `started_at` (the region's
    /// time to shelter when the alert was declared); omitted where none is configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false, maximum = 3600))]
    pub shelter_within_s: Option<u32>,
}

impl Alert {
    pub fn is_active(&self) -> bool {
        self.finished_at.is_none()
    }
}
