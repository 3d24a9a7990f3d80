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
use tryvoha_engine::AuthError;
use tryvoha_store::{TokenId, WebhookFormat, WebhookSpec};
use tryvoha_webhooks::WebhookError;

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

/// The key's owner: its token id, or 0 for the admin secret of the configuration (no token).
async fn owner(state: &AppState, parts: &Parts) -> Result<TokenId, Response> {
    let key = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(|v| {
        let v = v.trim();
        v.split_once(' ').filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer")).map_or(v, |(_, key)| key)
    });
    // Upstream: no key is 403, a wrong key 401 with an empty body. Registering needs a key even
    // where reading is anonymous: the endpoint belongs to it.
    let Some(key) = key.filter(|k| !k.is_empty()) else { return Err(StatusCode::FORBIDDEN.into_response()) };
    match state.engine.authenticate(key).await {
        Ok(principal) => Ok(principal.actor.token_id.unwrap_or(0)),
        Err(AuthError::Invalid | AuthError::Revoked) => Err(StatusCode::UNAUTHORIZED.into_response()),
        Err(AuthError::Unavailable(_)) => Err(StatusCode::SERVICE_UNAVAILABLE.into_response()),
    }
}

fn refused(error: WebhookError) -> Response {
    let status = match error {
        WebhookError::Target(_) | WebhookError::UnknownRegion { .. } => StatusCode::BAD_REQUEST,
        WebhookError::NotFound(_) => StatusCode::NOT_FOUND,
        WebhookError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
    };
    (status, Json(json!({ "message": error.to_string() }))).into_response()
}

fn spec(url: String, owner: TokenId) -> WebhookSpec {
    WebhookSpec {
        url,
        regions: Vec::new(),
        kinds: Vec::new(),
        statuses: Vec::new(),
        format: WebhookFormat::Ukrainealarm,
        owner: Some(owner),
    }
}

async fn parts_and_body(
    state: &AppState,
    request: axum::extract::Request,
) -> Result<(TokenId, Body, std::sync::Arc<tryvoha_webhooks::Webhooks>), Response> {
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
    let result = match webhooks.owned_by(owner) {
        Some(existing) => webhooks.update(existing.id, spec(body.web_hook_url, owner)).await,
        None => webhooks.create(spec(body.web_hook_url, owner)).await,
    };
    result.map_or_else(refused, |record| answer(&record.spec.url))
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
    let Some(existing) = webhooks.owned_by(owner) else {
        return refused(WebhookError::NotFound(0));
    };
    webhooks
        .update(existing.id, spec(body.web_hook_url, owner))
        .await
        .map_or_else(refused, |record| answer(&record.spec.url))
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
    let Some(existing) = webhooks.owned_by(owner) else {
        return refused(WebhookError::NotFound(0));
    };
    webhooks.remove(existing.id).await.map_or_else(refused, |()| answer(&existing.spec.url))
}

/// Upstream's `WebHook` model: the `ua-alarm` client reads it from every answer (an empty body
/// makes it fail).
fn answer(url: &str) -> Response {
    Json(json!({ "webHookUrl": url })).into_response()
}
