//! Plain records that cross the storage boundary.

use time::OffsetDateTime;
use tryvoha_core::{AlertId, RegionId, Role};

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
