//! The shapes of answers that are built as JSON values rather than from a type of their own
//! (health, readiness, keys, stream frames), described for the OpenAPI document. The types are
//! never built: each mirrors the `json!` or frame writer it is named after. Where a serde
//! attribute says it best (`flatten`, `deny_unknown_fields`), a serde derive carries it.

#![allow(dead_code)]

use std::collections::HashMap;

use tryvoha_core::{Alert, Event, RegionId, RegionState};
use utoipa::ToSchema;

/// Any JSON object.
#[derive(ToSchema)]
pub struct AnyObject(HashMap<String, serde_json::Value>);

/// `GET /api/v1/keys` (`stream::keys`).
#[derive(ToSchema)]
pub struct PublicKeys {
    keys: Vec<PublicKey>,
}

#[derive(ToSchema)]
struct PublicKey {
    kid: String,
    algorithm: Algorithm,
    /// Base64 of the 32-byte Ed25519 public key.
    public_key: String,
}

#[derive(ToSchema)]
enum Algorithm {
    Ed25519,
}

/// Always the last member of a streamed frame. The signed bytes are the frame's text before the
/// last `,"sig":{`, followed by `}` (docs/signatures.md).
#[derive(serde::Serialize, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Signature {
    /// Key id: the first 16 hex digits of the SHA-256 of the public key.
    kid: String,
    /// Base64 (standard, padded) 64-byte Ed25519 signature.
    ed25519: String,
}

/// A `snapshot` (first frame without a resume point) or `reset` (a resume point beyond the log):
/// the state after event `seq` (the hub's state frames, `tryvoha_live`).
#[derive(ToSchema)]
pub struct StreamState {
    r#type: StateFrame,
    seq: u64,
    /// The regions asked for; without a region filter, every region that is not clear.
    regions: Vec<RegionAndState>,
    alerts: Vec<Alert>,
    /// Only on `reset`: the resume point that could not be served.
    #[schema(nullable = false)]
    requested_after: Option<u64>,
    sig: Signature,
}

#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
enum StateFrame {
    Snapshot,
    Reset,
}

#[derive(ToSchema)]
struct RegionAndState {
    id: RegionId,
    state: RegionState,
}

/// An event frame: the event as in the log, signed (the public view: only public incidents,
/// the authority as the actor).
#[derive(serde::Serialize, ToSchema)]
pub struct StreamEvent {
    #[serde(flatten)]
    event: Event,
    sig: Signature,
}

/// `GET /api/v1/history.json`: the page's records, streamed (`history::export`).
#[derive(ToSchema)]
pub struct HistoryPage {
    alerts: Vec<crate::history::export::Row<'static>>,
    /// The cursor of the next page; null on the last page.
    next: Option<String>,
}

/// `POST /api/v1/shelters/import`.
#[derive(ToSchema)]
pub struct SheltersImported {
    added: u64,
    unchanged: u64,
}

/// The compatible APIs' error body, as upstream.
#[derive(ToSchema)]
pub struct CompatMessage {
    message: String,
}

/// A field an update or an escalating declaration changed (`AlertWithChanges.changed`).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum ChangedField {
    Level,
    Threats,
    Message,
    Instruction,
    ExpiresAt,
}
