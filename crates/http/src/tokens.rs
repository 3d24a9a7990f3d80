//! `/tokens`: create, list and revoke API tokens (admin only).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tryvoha_core::{RegionId, Role};
use tryvoha_engine::NewTokenRequest;
use tryvoha_store::TokenRecord;

use crate::AppState;
use crate::auth::{Admins, Authorized};
use crate::body::{JsonBody, stored_id};
use crate::problem::ApiError;

pub fn router() -> Router<AppState> {
    Router::new().route("/tokens", get(list).post(create)).route("/tokens/{id}", delete(revoke))
}

/// A token without its secret.
#[derive(Serialize)]
struct TokenView {
    id: u64,
    name: String,
    role: Role,
    regions: Vec<RegionId>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    revoked_at: Option<OffsetDateTime>,
}

impl From<TokenRecord> for TokenView {
    fn from(record: TokenRecord) -> TokenView {
        TokenView {
            id: record.id,
            name: record.name,
            role: record.role,
            regions: record.regions,
            created_at: record.created_at,
            revoked_at: record.revoked_at,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    name: String,
    role: Role,
    #[serde(default)]
    regions: Vec<RegionId>,
}

#[derive(Serialize)]
struct Created {
    #[serde(flatten)]
    record: TokenView,
    /// The secret, shown this once.
    token: String,
}

async fn create(
    State(state): State<AppState>,
    _: Authorized<Admins>,
    JsonBody(body): JsonBody<CreateBody>,
) -> Result<Response, ApiError> {
    let request = NewTokenRequest { name: body.name, role: body.role, regions: body.regions };
    let (record, secret) = state.engine.create_token(request).await?;
    Ok((StatusCode::CREATED, Json(Created { record: record.into(), token: secret })).into_response())
}

#[derive(Serialize)]
struct TokenList {
    tokens: Vec<TokenView>,
}

async fn list(State(state): State<AppState>, _: Authorized<Admins>) -> Result<Json<TokenList>, ApiError> {
    let tokens = state.engine.tokens().await?.into_iter().map(TokenView::from).collect();
    Ok(Json(TokenList { tokens }))
}

async fn revoke(
    State(state): State<AppState>,
    _: Authorized<Admins>,
    Path(id): Path<String>,
) -> Result<Json<TokenView>, ApiError> {
    // Not a number, or one too large to be stored: no token has it.
    let id = stored_id(&id).ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "token-not-found", format!("{id:?} is not a token id")).with_field("id")
    })?;
    Ok(Json(state.engine.revoke_token(id).await?.into()))
}
