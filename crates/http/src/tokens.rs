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
use crate::auth::{Admins, AnyRole, Authorized};
use crate::body::{JsonBody, stored_id};
use crate::openapi;
use crate::problem::ApiError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tokens", get(list).post(create))
        .route("/tokens/self", get(own))
        .route("/tokens/{id}", delete(revoke))
}

/// What the caller's own token may do.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = OwnToken)]
struct Own {
    /// Null for the configured admin secret, which is no stored token.
    #[schema(required = true)]
    id: Option<u64>,
    name: String,
    role: Role,
    /// For an operator, the roots of the region subtrees it may act in; empty for other roles.
    regions: Vec<RegionId>,
}

#[utoipa::path(
    get, path = "/api/v1/tokens/self", operation_id = "ownToken", tag = "tokens",
    summary = "The caller's own token",
    description = "Any valid token.\n\nThe token's id, name, role and regions (never its secret): what it may do. The \
        operator console shows it.",
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "The token.", body = Own, content_type = "application/json"),
        (status = 401, response = openapi::TokenRequired),
        (status = 429, response = openapi::RateLimited),
        (status = 503, response = openapi::TokenStoreUnavailable),
    )
)]
async fn own(Authorized(principal, _): Authorized<AnyRole>) -> Json<Own> {
    Json(Own {
        id: principal.actor.token_id,
        name: principal.actor.name,
        role: principal.grant.role,
        regions: principal.grant.regions,
    })
}

/// A token without its secret.
/// An API token, without its secret.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Token)]
struct TokenView {
    id: u64,
    name: String,
    role: Role,
    /// For an operator, the roots of the region subtrees it may act in; empty for other roles.
    regions: Vec<RegionId>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    /// Null while the token is valid.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(required = true)]
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

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = CreateTokenRequest)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateBody {
    /// Trimmed; 1 to 100 characters after trimming.
    #[schema(min_length = 1, max_length = 100)]
    name: String,
    role: Role,
    /// Required (at least one) for `operator`: the roots of the subtrees it may act in. Must be empty or absent for
    /// `admin` and `reader`. Every id must be in the registry.
    #[serde(default)]
    #[schema(default = json!([]))]
    regions: Vec<RegionId>,
}

/// A new token, with its secret. The secret is shown this once and is not stored.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = CreatedToken)]
struct Created {
    #[serde(flatten)]
    record: TokenView,
    /// The secret, for `Authorization: Bearer <token>`; shown this once.
    #[schema(pattern = "^tv_[0-9a-f]{48}$")]
    token: String,
}

#[utoipa::path(
    post, path = "/api/v1/tokens", operation_id = "createToken", tag = "tokens",
    summary = "Create a token",
    description = "Role: admin.\n\nCreates a token. The answer holds the secret in `token`; it is shown this once and only its \
        hash is stored. The body is at most 64 KiB.",
    request_body(content = CreateBody, content_type = "application/json"),
    security(("bearerAuth" = [])),
    responses(
        openapi::TokenAdminRefusals,
        (status = 201, description = "The token was created.", body = Created, content_type = "application/json"),
        (status = 400, response = openapi::BodyUnreadable),
        (status = 413, response = openapi::BodyTooLarge),
        (status = 415, response = openapi::UnsupportedMediaType),
        (status = 422,
            description = "A field is missing, unknown or of the wrong type; `name` is empty or longer than 100 characters; \
                `regions` is empty for an operator or not empty for another role (`invalid-field`); or a region in \
                `regions` is not in the registry (`unknown-region`, `field`: `regions`). Problem codes: \
                `invalid-field`, `unknown-region`.",
            body = openapi::Problem, content_type = "application/problem+json"),
    )
)]
async fn create(
    State(state): State<AppState>,
    _: Authorized<Admins>,
    JsonBody(body): JsonBody<CreateBody>,
) -> Result<Response, ApiError> {
    let request = NewTokenRequest { name: body.name, role: body.role, regions: body.regions };
    let (record, secret) = state.engine.create_token(request).await?;
    Ok((StatusCode::CREATED, Json(Created { record: record.into(), token: secret })).into_response())
}

#[derive(Serialize, utoipa::ToSchema)]
struct TokenList {
    tokens: Vec<TokenView>,
}

#[utoipa::path(
    get, path = "/api/v1/tokens", operation_id = "listTokens", tag = "tokens",
    summary = "List tokens",
    description = "Role: admin.\n\nEvery token, revoked ones included, without secrets.",
    security(("bearerAuth" = [])),
    responses(
        openapi::TokenAdminRefusals,
        (status = 200, description = "The tokens.", body = TokenList, content_type = "application/json"),
    )
)]
async fn list(State(state): State<AppState>, _: Authorized<Admins>) -> Result<Json<TokenList>, ApiError> {
    let tokens = state.engine.tokens().await?.into_iter().map(TokenView::from).collect();
    Ok(Json(TokenList { tokens }))
}

#[utoipa::path(
    delete, path = "/api/v1/tokens/{id}", operation_id = "revokeToken", tag = "tokens",
    summary = "Revoke a token",
    description = "Role: admin.\n\nRevokes a token: requests made with it are refused from then on with 401 `token-revoked`. \
        Revoking a revoked token changes nothing and answers 200 with its original `revoked_at`. The last active \
        admin token cannot be revoked while no admin secret is configured (409 `last-admin`): create another admin \
        token first, or see `tryvoha token reset-admin`.",
    params(
        ("id" = u64, Path, minimum = 0,
            description = "The token id. A value that is not a non-negative integer is answered with 404 `token-not-found`."),
    ),
    security(("bearerAuth" = [])),
    responses(
        openapi::TokenAdminRefusals,
        (status = 200, description = "The revoked token.", body = TokenView, content_type = "application/json"),
        (status = 404,
            description = "No token has this id, or the id is not a number. Problem code: `token-not-found`.",
            body = openapi::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The token is the last active admin token. Problem code: `last-admin`.",
            body = openapi::Problem, content_type = "application/problem+json"),
    )
)]
async fn revoke(
    State(state): State<AppState>,
    _: Authorized<Admins>,
    Path(id): Path<String>,
) -> Result<Json<TokenView>, ApiError> {
    // Not a number, or one too large to be stored: no token has it.
    let id = stored_id(&id).ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "token-not-found", format!("{id:?} is not a token id")).with_field("id")
    })?;
    let revoked = state.engine.revoke_token(id).await?;
    // A revoked key's ukrainealarm webhook goes with it: nothing is sent on a revoked key's
    // behalf.
    if let Some(webhooks) = &state.webhooks
        && let Err(error) = webhooks.remove_owned(id).await
    {
        tracing::warn!(%error, token = id, "cannot remove the revoked token's webhook");
    }
    Ok(Json(revoked.into()))
}
