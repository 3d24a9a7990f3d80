//! Plain records that cross the storage boundary.

use time::OffsetDateTime;
use tryvoha_core::{AlertId, AlertKind, AlertLevel, AlertStatus, RegionId, Role};

pub type TokenId = u64;

/// A token as the store keeps it: the secret itself is never stored, only its hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRecord {
    pub id: TokenId,
    pub name: String,
    pub role: Role,
    pub regions: Vec<RegionId>,
    pub secret_hash: String,
    pub created_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewToken {
    pub name: String,
    pub role: Role,
    pub regions: Vec<RegionId>,
    pub secret_hash: String,
    pub created_at: OffsetDateTime,
}

impl NewToken {
    /// The record of this token once stored under `id`: not revoked.
    pub fn stored_as(&self, id: TokenId) -> TokenRecord {
        TokenRecord {
            id,
            name: self.name.clone(),
            role: self.role,
            regions: self.regions.clone(),
            secret_hash: self.secret_hash.clone(),
            created_at: self.created_at,
            revoked_at: None,
        }
    }
}

/// The answer given to a request that carried an `Idempotency-Key`, kept so that a retry gets
/// the same answer instead of a second alert.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// Whose key it is (keys of different tokens never collide).
    pub owner: String,
    pub key: String,
    /// A digest of the request body: the same key with another body is an error.
    pub fingerprint: String,
    pub alert_id: AlertId,
    /// Whether the original request created the alert (201) or found it (200).
    pub created: bool,
}

/// Imported history records take ids from here up, apart from live alert ids.
pub const IMPORTED_ID_BASE: u64 = 1 << 40;

/// A finished alert, live or imported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryRecord {
    pub id: u64,
    pub region_id: RegionId,
    pub kind: AlertKind,
    pub level: AlertLevel,
    pub status: AlertStatus,
    pub started_at: OffsetDateTime,
    pub finished_at: OffsetDateTime,
    /// `live` for alerts this server ran; for imported ones, what the import said (for the
    /// bundled dataset: `official` or `volunteer`).
    pub source: String,
}

/// A record to import, with the key that identifies it in its source file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportedRecord {
    pub key: String,
    pub record: HistoryRecord,
}

/// Which history to read: alerts on any of `regions` (all when `None`) from any of `sources`
/// (all when `None`) that overlap the time range.
///
/// Pages (with [`HistoryOrder::Started`]): the records whose position is after `after` and at
/// or before `through`, at most `limit` of them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HistoryQuery {
    pub regions: Option<Vec<RegionId>>,
    pub sources: Option<Vec<String>>,
    pub from: Option<OffsetDateTime>,
    pub to: Option<OffsetDateTime>,
    pub order: HistoryOrder,
    pub after: Option<HistoryPosition>,
    pub through: Option<HistoryPosition>,
    pub limit: Option<usize>,
}

/// Where a record stands in the oldest-first order: its start, then its id (ids are unique, so
/// every record has a position of its own and a page can end between two that started together).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HistoryPosition {
    pub started_at: OffsetDateTime,
    pub id: u64,
}

impl HistoryRecord {
    pub fn position(&self) -> HistoryPosition {
        HistoryPosition { started_at: self.started_at, id: self.id }
    }
}

/// Where a page of history ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageEnd {
    /// The position of the page's last record.
    pub last: HistoryPosition,
    /// Whether any record follows it.
    pub more: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HistoryOrder {
    /// Oldest first.
    #[default]
    Started,
    /// The newest first, at most this many.
    Latest(usize),
    /// By region, then start: the cheapest, for callers that group by region anyway.
    Region,
}
