//! ukrainealarm's webhook registration, `POST|PATCH|DELETE /api/v3/webhook {"webHookUrl": …}`,
//! as the `ua-alarm` client calls it, mapped onto tryvoha's webhooks: one endpoint per key (the
//! token), every region, real alerts only, ukrainealarm's body (docs/compat.md says what of it
//! is inferred). Deliveries, retries and the SSRF checks are the same as for every webhook.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use serde_json::json;
use tryvoha_core::Role;
use tryvoha_engine::AuthError;
use tryvoha_store::{TokenId, WebhookFormat, WebhookSpec};
use tryvoha_webhooks::{Change, WebhookError};

use super::DESCRIPTION;
use crate::AppState;
use crate::openapi;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v3/webhook", post(subscribe).patch(change).delete(unsubscribe))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = UkrainealarmWebhookRequest)]
struct Body {
    #[serde(rename = "webHookUrl")]
    web_hook_url: String,
}

/// Who registers: the key's token id (0 for the admin secret of the configuration, which is no
/// token), and whether the endpoint may reach the operator's private ranges (an admin's may; a
/// reader's or operator's key reaches only public addresses).
async fn owner(state: &AppState, parts: &Parts) -> Result<(TokenId, bool), Response> {
    let key = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(|v| {
        let v = v.trim();
        v.split_once(' ').filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer")).map_or(v, |(_, key)| key)
    });
    // Upstream: no key is 403, a wrong key 401 with an empty body. Registering needs a key even
    // where reading is anonymous: the endpoint belongs to it.
    let Some(key) = key.filter(|k| !k.is_empty()) else { return Err(StatusCode::FORBIDDEN.into_response()) };
    match state.engine.authenticate(key).await {
        Ok(principal) => Ok((principal.actor.token_id.unwrap_or(0), principal.grant.role == Role::Admin)),
        Err(AuthError::Invalid | AuthError::Revoked) => Err(StatusCode::UNAUTHORIZED.into_response()),
        Err(AuthError::Unavailable(_)) => Err(StatusCode::SERVICE_UNAVAILABLE.into_response()),
    }
}

fn refused(error: WebhookError) -> Response {
    let status = match error {
        WebhookError::Target(_) | WebhookError::UnknownRegion { .. } => StatusCode::BAD_REQUEST,
        WebhookError::NotFound(_) | WebhookError::NoneForKey => StatusCode::NOT_FOUND,
        WebhookError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
    };
    (status, Json(json!({ "message": error.to_string() }))).into_response()
}

fn spec(url: String, (owner, may_reach_private): (TokenId, bool)) -> WebhookSpec {
    WebhookSpec {
        url,
        regions: Vec::new(),
        kinds: Vec::new(),
        statuses: Vec::new(),
        types: Vec::new(),
        format: WebhookFormat::Ukrainealarm,
        owner: Some(owner),
        may_reach_private,
    }
}

async fn parts_and_body(
    state: &AppState,
    request: axum::extract::Request,
) -> Result<((TokenId, bool), Body, std::sync::Arc<tryvoha_webhooks::Webhooks>), Response> {
    let (parts, body) = request.into_parts();
    let owner = owner(state, &parts).await?;
    let webhooks = crate::webhooks::webhooks(state).map_err(IntoResponse::into_response)?.clone();
    let bytes = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map_err(|_| (StatusCode::BAD_REQUEST, Json(json!({ "message": "the body is unreadable" }))).into_response())?;
    let body: Body = serde_json::from_slice(&bytes).map_err(|error| {
        (StatusCode::BAD_REQUEST, Json(json!({ "message": format!("webHookUrl: {error}") }))).into_response()
    })?;
    Ok((owner, body, webhooks))
}

#[utoipa::path(
    post, path = "/api/v3/webhook", operation_id = "compat_api_v3_webhook_subscribe", tag = "compatible",
    summary = "ukrainealarm: subscribe a webhook (one per key)",
    description = DESCRIPTION,
    request_body(content = Body, content_type = "application/json"),
    responses(
        (status = 200, description = "Subscribed (an earlier URL of this key is replaced): `{\"webHookUrl\": …}`.", body = Object, content_type = "application/json"),
        (status = 400, description = "The URL is refused (`{\"message\": …}`): not public, or http:// outside the allowed ranges.", body = Object, content_type = "application/json"),
        (status = 401, description = "The key is not valid. Empty body."),
        (status = 403, description = "No key. Empty body."),
        (status = 429, response = openapi::RateLimited),
    )
)]
async fn subscribe(State(state): State<AppState>, request: axum::extract::Request) -> Response {
    let (owner, body, webhooks) = match parts_and_body(&state, request).await {
        Ok(parsed) => parsed,
        Err(response) => return response,
    };
    // One endpoint per key, decided with the turn to write held: two subscribes at once make one.
    webhooks
        .subscribe_owned(owner.0, spec(body.web_hook_url, owner))
        .await
        .map_or_else(refused, |record| answer(&record.spec.url))
}

#[utoipa::path(
    patch, path = "/api/v3/webhook", operation_id = "compat_api_v3_webhook_change", tag = "compatible",
    summary = "ukrainealarm: change the key's webhook URL",
    description = DESCRIPTION,
    request_body(content = Body, content_type = "application/json"),
    responses(
        (status = 200, description = "Changed: `{\"webHookUrl\": …}`.", body = Object, content_type = "application/json"),
        (status = 400, description = "The URL is refused (`{\"message\": …}`).", body = Object, content_type = "application/json"),
        (status = 401, description = "The key is not valid. Empty body."),
        (status = 403, description = "No key. Empty body."),
        (status = 404, description = "This key has no webhook (`{\"message\": …}`).", body = Object, content_type = "application/json"),
        (status = 429, response = openapi::RateLimited),
    )
)]
async fn change(State(state): State<AppState>, request: axum::extract::Request) -> Response {
    let (owner, body, webhooks) = match parts_and_body(&state, request).await {
        Ok(parsed) => parsed,
        Err(response) => return response,
    };
    let Some(existing) = webhooks.owned_by(owner.0) else {
        return refused(WebhookError::NoneForKey);
    };
    let change = Change { url: Some(body.web_hook_url), ..Change::default() };
    webhooks.change(existing.id, change).await.map_or_else(refused, |record| answer(&record.spec.url))
}

#[utoipa::path(
    delete, path = "/api/v3/webhook", operation_id = "compat_api_v3_webhook_unsubscribe", tag = "compatible",
    summary = "ukrainealarm: unsubscribe the key's webhook",
    description = DESCRIPTION,
    request_body(content = Body, content_type = "application/json"),
    responses(
        (status = 200, description = "Unsubscribed: `{\"webHookUrl\": …}` (the URL removed).", body = Object, content_type = "application/json"),
        (status = 400, description = "The body is not `{\"webHookUrl\": …}` (`{\"message\": …}`).", body = Object, content_type = "application/json"),
        (status = 401, description = "The key is not valid. Empty body."),
        (status = 403, description = "No key. Empty body."),
        (status = 404, description = "This key has no webhook (`{\"message\": …}`).", body = Object, content_type = "application/json"),
        (status = 429, response = openapi::RateLimited),
    )
)]
async fn unsubscribe(State(state): State<AppState>, request: axum::extract::Request) -> Response {
    let (owner, _body, webhooks) = match parts_and_body(&state, request).await {
        Ok(parsed) => parsed,
        Err(response) => return response,
    };
    let Some(existing) = webhooks.owned_by(owner.0) else {
        return refused(WebhookError::NoneForKey);
    };
    webhooks.remove(existing.id).await.map_or_else(refused, |()| answer(&existing.spec.url))
}

/// Upstream's `WebHook` model: the `ua-alarm` client reads it from every answer (an empty body
/// makes it fail).
fn answer(url: &str) -> Response {
    Json(json!({ "webHookUrl": url })).into_response()
}
