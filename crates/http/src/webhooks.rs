//! `/webhooks` (admin): register, list, change, pause, remove and test endpoints, and read their
//! recent deliveries. The deliveries themselves are `tryvoha-webhooks`' (docs/webhooks.md).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tryvoha_core::{AlertKind, AlertStatus, RegionId};
use tryvoha_store::{WebhookFormat, WebhookId, WebhookRecord, WebhookSpec};
use tryvoha_webhooks::{Attempt, Change, PauseState, WebhookError, Webhooks};

use crate::AppState;
use crate::auth::{Admins, Authorized};
use crate::body::{JsonBody, stored_id};
use crate::openapi;
use crate::problem::ApiError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/webhooks", get(list).post(create))
        .route("/webhooks/{id}", get(one).patch(change).delete(remove))
        .route("/webhooks/{id}/test", post(test))
        .route("/webhooks/{id}/deliveries", get(deliveries))
}

/// An endpoint, without its secret.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Webhook)]
pub(crate) struct WebhookView {
    id: u64,
    url: String,
    /// Events on these regions, their ancestors and descendants; every region when empty.
    regions: Vec<RegionId>,
    /// Every kind when empty.
    kinds: Vec<AlertKind>,
    /// Every status when empty.
    statuses: Vec<AlertStatus>,
    /// `tryvoha` (the signed frame) or `ukrainealarm` (registered through /api/v3/webhook).
    #[schema(value_type = String, example = "tryvoha")]
    format: &'static str,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    /// Null while deliveries go on; otherwise when and why they stopped.
    #[schema(required = true)]
    paused: Option<PausedView>,
    /// The last event the endpoint has (its cursor); null until the sender started.
    #[schema(required = true)]
    acknowledged_seq: Option<u64>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = WebhookPause)]
pub(crate) struct PausedView {
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
    reason: String,
}

pub(crate) async fn view(record: WebhookRecord, webhooks: &Webhooks) -> WebhookView {
    WebhookView {
        id: record.id,
        acknowledged_seq: webhooks.acknowledged(record.id).await,
        url: record.spec.url,
        regions: record.spec.regions,
        kinds: record.spec.kinds,
        statuses: record.spec.statuses,
        format: match record.spec.format {
            WebhookFormat::Tryvoha => "tryvoha",
            WebhookFormat::Ukrainealarm => "ukrainealarm",
        },
        created_at: record.created_at,
        paused: record.paused.map(|p| PausedView { at: p.at, reason: p.reason }),
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = CreateWebhookRequest)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateBody {
    /// `https://…`; `http://` only into a range the operator allows (`webhooks.allow_private`). Every address the
    /// host resolves to must be public or in such a range. At most 2048 characters, no credentials.
    url: String,
    #[serde(default)]
    regions: Vec<RegionId>,
    #[serde(default)]
    kinds: Vec<AlertKind>,
    #[serde(default)]
    statuses: Vec<AlertStatus>,
    /// The kinds of event delivered: `alerts` (the default), `incidents` (public ones only),
    /// `shelters`.
    #[serde(default)]
    types: Vec<tryvoha_core::EventFamily>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = CreatedWebhook)]
struct Created {
    #[serde(flatten)]
    webhook: WebhookView,
    /// Signs every delivery (`Tryvoha-Signature`, docs/webhooks.md); shown this once.
    #[schema(pattern = "^whsec_[0-9a-f]{64}$")]
    secret: String,
}

#[derive(Serialize, utoipa::ToSchema)]
struct WebhookList {
    webhooks: Vec<WebhookView>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = ChangeWebhookRequest)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChangeBody {
    url: Option<String>,
    regions: Option<Vec<RegionId>>,
    kinds: Option<Vec<AlertKind>>,
    statuses: Option<Vec<AlertStatus>>,
    /// `true` stops deliveries; `false` resumes them from the endpoint's cursor (what it missed comes first).
    paused: Option<bool>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct DeliveryList {
    /// The newest first, at most 100, since the server started.
    #[schema(value_type = Vec<Object>)]
    deliveries: Vec<Attempt>,
}

pub(crate) fn webhooks(state: &AppState) -> Result<&Arc<Webhooks>, ApiError> {
    state.webhooks.as_ref().ok_or_else(|| {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "webhooks are not available on this server")
    })
}

fn webhook_id(text: &str) -> Result<WebhookId, ApiError> {
    stored_id(text).ok_or_else(|| not_found(text))
}

fn not_found(id: impl std::fmt::Display) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "webhook-not-found", format!("no webhook has id {id}")).with_field("id")
}

impl From<WebhookError> for ApiError {
    fn from(error: WebhookError) -> ApiError {
        let detail = error.to_string();
        match error {
            WebhookError::Target(_) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "webhook-target-refused", detail).with_field("url")
            }
            WebhookError::UnknownRegion { index, .. } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unknown-region", detail)
                    .with_field(format!("regions[{index}]"))
            }
            WebhookError::NotFound(id) => not_found(id),
            WebhookError::NoneForKey => ApiError::new(StatusCode::NOT_FOUND, "webhook-not-found", detail),
            WebhookError::Unavailable(source) => ApiError::from(tryvoha_engine::EngineError::Unavailable(source)),
        }
    }
}

#[utoipa::path(
    post, path = "/api/v1/webhooks", operation_id = "createWebhook", tag = "webhooks",
    summary = "Register a webhook",
    description = "Role: admin.\n\nRegisters an endpoint: from now on it receives every matching event's signed frame, in \
        sequence order, at least once, each POST signed with the secret in the answer (shown this once). A target that \
        is not public (loopback, private, link-local, multicast, reserved) or `http://` outside the ranges the operator \
        allows is refused, and nothing is stored.",
    request_body(content = CreateBody, content_type = "application/json"),
    security(("bearerAuth" = [])),
    responses(
        openapi::TokenAdminRefusals,
        (status = 201, description = "Registered.", body = Created, content_type = "application/json"),
        (status = 400, response = openapi::BodyUnreadable),
        (status = 413, response = openapi::BodyTooLarge),
        (status = 415, response = openapi::UnsupportedMediaType),
        (status = 422,
            description = "A field is missing, unknown or of the wrong type (`invalid-field`); the target is refused \
                (`webhook-target-refused`, `field`: `url`); a region is not in the registry (`unknown-region`, \
                `field`: `regions[i]`).",
            body = openapi::Problem, content_type = "application/problem+json"),
    )
)]
async fn create(
    State(state): State<AppState>,
    _: Authorized<Admins>,
    JsonBody(body): JsonBody<CreateBody>,
) -> Result<Response, ApiError> {
    let webhooks = webhooks(&state)?;
    let spec = WebhookSpec {
        url: body.url,
        regions: body.regions,
        kinds: body.kinds,
        statuses: body.statuses,
        types: body.types,
        format: WebhookFormat::Tryvoha,
        owner: None,
        may_reach_private: true,
    };
    let record = webhooks.create(spec).await?;
    let secret = record.secret.clone();
    Ok((StatusCode::CREATED, Json(Created { webhook: view(record, webhooks).await, secret })).into_response())
}

#[utoipa::path(
    get, path = "/api/v1/webhooks", operation_id = "listWebhooks", tag = "webhooks",
    summary = "List webhooks",
    description = "Role: admin.\n\nEvery endpoint, without secrets, with its cursor and whether it is paused (and why).",
    security(("bearerAuth" = [])),
    responses(
        openapi::TokenAdminRefusals,
        (status = 200, description = "The endpoints.", body = WebhookList, content_type = "application/json"),
    )
)]
async fn list(State(state): State<AppState>, _: Authorized<Admins>) -> Result<Json<WebhookList>, ApiError> {
    let webhooks = webhooks(&state)?;
    let mut views = Vec::new();
    for record in webhooks.list() {
        views.push(view(record, webhooks).await);
    }
    Ok(Json(WebhookList { webhooks: views }))
}

#[utoipa::path(
    get, path = "/api/v1/webhooks/{id}", operation_id = "getWebhook", tag = "webhooks",
    summary = "Get a webhook",
    description = "Role: admin.",
    params(("id" = u64, Path, description = "The webhook id; anything else is 404 `webhook-not-found`.")),
    security(("bearerAuth" = [])),
    responses(
        openapi::TokenAdminRefusals,
        (status = 200, description = "The endpoint.", body = WebhookView, content_type = "application/json"),
        (status = 404, response = openapi::WebhookNotFound),
    )
)]
async fn one(
    State(state): State<AppState>,
    _: Authorized<Admins>,
    Path(id): Path<String>,
) -> Result<Json<WebhookView>, ApiError> {
    let webhooks = webhooks(&state)?;
    let id = webhook_id(&id)?;
    let record = webhooks.get(id).ok_or_else(|| not_found(id))?;
    Ok(Json(view(record, webhooks).await))
}

#[utoipa::path(
    patch, path = "/api/v1/webhooks/{id}", operation_id = "changeWebhook", tag = "webhooks",
    summary = "Change, pause or resume a webhook",
    description = "Role: admin.\n\nThe fields given replace the endpoint's (checked as at registration); `paused` stops or \
        resumes deliveries. A resumed endpoint gets what it missed first, from its cursor. A refused change stores nothing.",
    params(("id" = u64, Path, description = "The webhook id.")),
    request_body(content = ChangeBody, content_type = "application/json"),
    security(("bearerAuth" = [])),
    responses(
        openapi::TokenAdminRefusals,
        (status = 200, description = "The endpoint as changed.", body = WebhookView, content_type = "application/json"),
        (status = 400, response = openapi::BodyUnreadable),
        (status = 404, response = openapi::WebhookNotFound),
        (status = 413, response = openapi::BodyTooLarge),
        (status = 415, response = openapi::UnsupportedMediaType),
        (status = 422, description = "As at registration: `invalid-field`, `webhook-target-refused`, `unknown-region`.",
            body = openapi::Problem, content_type = "application/problem+json"),
    )
)]
async fn change(
    State(state): State<AppState>,
    _: Authorized<Admins>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ChangeBody>,
) -> Result<Json<WebhookView>, ApiError> {
    let webhooks = webhooks(&state)?;
    let id = webhook_id(&id)?;
    let paused = body.paused.map(|paused| if paused { PauseState::Paused } else { PauseState::Running });
    // The fields and the pause in one write: a refused change changes nothing.
    let change = Change { url: body.url, regions: body.regions, kinds: body.kinds, statuses: body.statuses, paused };
    let record = webhooks.change(id, change).await?;
    Ok(Json(view(record, webhooks).await))
}

#[utoipa::path(
    delete, path = "/api/v1/webhooks/{id}", operation_id = "removeWebhook", tag = "webhooks",
    summary = "Remove a webhook",
    description = "Role: admin.\n\nRemoves the endpoint and its cursor; deliveries stop at once.",
    params(("id" = u64, Path, description = "The webhook id.")),
    security(("bearerAuth" = [])),
    responses(
        openapi::TokenAdminRefusals,
        (status = 204, description = "Removed."),
        (status = 404, response = openapi::WebhookNotFound),
    )
)]
async fn remove(
    State(state): State<AppState>,
    _: Authorized<Admins>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = webhook_id(&id)?;
    webhooks(&state)?.remove(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post, path = "/api/v1/webhooks/{id}/test", operation_id = "testWebhook", tag = "webhooks",
    summary = "Send a test delivery",
    description = "Role: admin.\n\nPOSTs a signed `{\"type\": \"test\"}` document to the endpoint now (outside the log, \
        `Tryvoha-Event-Id: 0`) and answers what came of it.",
    params(("id" = u64, Path, description = "The webhook id.")),
    security(("bearerAuth" = [])),
    responses(
        openapi::TokenAdminRefusals,
        (status = 200, description = "The attempt: the endpoint's status code (null when it did not answer), latency, error.",
            body = Object, content_type = "application/json"),
        (status = 404, response = openapi::WebhookNotFound),
    )
)]
async fn test(
    State(state): State<AppState>,
    _: Authorized<Admins>,
    Path(id): Path<String>,
) -> Result<Json<Attempt>, ApiError> {
    let id = webhook_id(&id)?;
    Ok(Json(webhooks(&state)?.test(id).await?))
}

#[utoipa::path(
    get, path = "/api/v1/webhooks/{id}/deliveries", operation_id = "webhookDeliveries", tag = "webhooks",
    summary = "Recent deliveries of a webhook",
    description = "Role: admin.\n\nThe newest 100 attempts since the server started: seq, when, status code (null without \
        an answer), latency, error.",
    params(("id" = u64, Path, description = "The webhook id.")),
    security(("bearerAuth" = [])),
    responses(
        openapi::TokenAdminRefusals,
        (status = 200, description = "The attempts.", body = DeliveryList, content_type = "application/json"),
        (status = 404, response = openapi::WebhookNotFound),
    )
)]
async fn deliveries(
    State(state): State<AppState>,
    _: Authorized<Admins>,
    Path(id): Path<String>,
) -> Result<Json<DeliveryList>, ApiError> {
    let id = webhook_id(&id)?;
    let deliveries = webhooks(&state)?.deliveries(id).ok_or_else(|| not_found(id))?;
    Ok(Json(DeliveryList { deliveries }))
}
