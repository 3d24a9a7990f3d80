//! The engine's errors, one enum per concern.

use tryvoha_core::{AlertError, AlertId, IncidentError, IncidentId, RegionId, ShelterStatusError, ShelterTimeError};
use tryvoha_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Alert(#[from] AlertError),
    #[error("this token may not act on region {region}")]
    OutOfScope { region: RegionId },
    #[error("the Idempotency-Key was already used with a different request")]
    IdempotencyKeyReused,
    #[error("the event log is unavailable")]
    Unavailable(#[source] StoreError),
    #[error("the server is shutting down")]
    ShuttingDown,
    #[error(transparent)]
    ShelterTime(#[from] ShelterTimeError),
    #[error(transparent)]
    Incident(#[from] IncidentError),
    #[error("incident {id} does not exist")]
    IncidentNotFound { id: IncidentId },
    #[error("alert {id} does not exist")]
    AlertNotFound { id: AlertId },
    #[error(transparent)]
    ShelterStatus(#[from] ShelterStatusError),
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("the token is not known")]
    Invalid,
    #[error("the token was revoked")]
    Revoked,
    #[error("the token store is unavailable")]
    Unavailable(#[source] StoreError),
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the name must be 1 to 100 characters")]
    BadName,
    #[error("an operator or responder token needs at least one region")]
    RegionsRequired,
    #[error("only operator and responder tokens are scoped to regions")]
    RegionsNotAllowed,
    #[error("region {id} is not in the registry")]
    UnknownRegion { id: RegionId },
    #[error("token {id} does not exist")]
    NotFound { id: u64 },
    #[error(
        "token {id} is the last active admin token; create another admin token first (or run `tryvoha token reset-admin` while the server is stopped)"
    )]
    LastAdmin { id: u64 },
    #[error("the token store is unavailable")]
    Unavailable(#[source] StoreError),
}
