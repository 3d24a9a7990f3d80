//! `/push`: the VAPID key browsers subscribe with, and Web Push (and UnifiedPush) subscriptions:
//! anonymous, one per endpoint, removed with the subscription's own `auth` as proof
//! (docs/push.md). The sending is `tryvoha-push`'s.

use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tryvoha_core::{AlertKind, AlertStatus, Coordinates, RegionId};
use tryvoha_push::{PushError, SubscriptionRequest, Subscriptions};

use crate::AppState;
use crate::body::JsonBody;
use crate::limits::{ClientAddress, ClientKey, ClientRateLimit, rate_limited, with_retry_after};
use crate::openapi;
use crate::problem::ApiError;

/// How many subscription changes one client may make per minute (a browser makes one when the
/// user taps "notify me"): storage is not for anyone to fill.
pub const SUBSCRIPTIONS_PER_MINUTE: u32 = 20;

/// What the push routes need: the subscriptions, the VAPID public key, and the per-client rate
/// of subscription changes.
#[derive(Clone)]
pub struct PushState {
    pub subscriptions: Arc<Subscriptions>,
    pub vapid_public_key: Arc<str>,
    changes: Arc<ClientRateLimit>,
}

impl PushState {
    pub fn new(subscriptions: Arc<Subscriptions>, vapid_public_key: impl Into<Arc<str>>) -> PushState {
        let changes = Arc::new(ClientRateLimit::per_minute(SUBSCRIPTIONS_PER_MINUTE, SUBSCRIPTIONS_PER_MINUTE));
        PushState { subscriptions, vapid_public_key: vapid_public_key.into(), changes }
    }

    /// Counts a change against its client's rate: when it is over, the wait until the next.
    fn admit(&self, client: Option<Extension<ClientAddress>>) -> Result<(), std::time::Duration> {
        match client {
            Some(Extension(ClientAddress(client))) => self.changes.check(ClientKey::of(client)),
            None => Ok(()),
        }
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/push/vapid-key", get(vapid_key))
        .route("/push/subscriptions", axum::routing::post(subscribe).delete(unsubscribe))
}

#[derive(Serialize, utoipa::ToSchema)]
struct VapidKeyAnswer {
    /// The server's VAPID public key: the uncompressed P-256 point, base64url. Browsers pass it as
    /// `applicationServerKey` to `PushManager.subscribe`.
    public_key: String,
}

fn push(state: &AppState) -> Result<&PushState, ApiError> {
    state.push.as_ref().ok_or_else(|| {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "Web Push is not available on this server")
    })
}

#[utoipa::path(
    get, path = "/api/v1/push/vapid-key", operation_id = "pushVapidKey", tag = "push",
    summary = "The VAPID public key",
    description = "No token needed. The key a browser or a UnifiedPush app subscribes with.",
    responses(
        (status = 200, description = "The key.", body = VapidKeyAnswer, content_type = "application/json"),
        (status = 429, response = openapi::RateLimited),
    )
)]
async fn vapid_key(State(state): State<AppState>) -> Result<Json<VapidKeyAnswer>, ApiError> {
    Ok(Json(VapidKeyAnswer { public_key: push(&state)?.vapid_public_key.to_string() }))
}

/// A browser's `PushSubscription.toJSON()`: the endpoint and its keys.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = PushSubscriptionJson)]
struct Subscription {
    /// The push service's URL: `https://`, or under a prefix the operator allows (`push.allow_endpoints`). At most
    /// 1000 bytes.
    endpoint: String,
    keys: Keys,
    /// Sent by browsers; not used.
    #[serde(default, rename = "expirationTime")]
    #[allow(dead_code)]
    expiration_time: Option<serde_json::Value>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = PushSubscriptionKeys)]
#[serde(deny_unknown_fields)]
struct Keys {
    /// The browser's P-256 public key, uncompressed, base64url.
    p256dh: String,
    /// The 16-byte authentication secret, base64url.
    auth: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = CreatePushSubscriptionRequest)]
#[serde(deny_unknown_fields)]
pub(crate) struct SubscribeBody {
    subscription: Subscription,
    /// The regions to be notified about (with their ancestors and descendants), 1 to 64; or `lat` and `lon`.
    #[serde(default)]
    regions: Vec<RegionId>,
    /// A place instead of `regions`: its hromada (with its raion and oblast above it).
    lat: Option<f64>,
    lon: Option<f64>,
    /// Every kind when empty.
    #[serde(default)]
    kinds: Vec<AlertKind>,
    /// Every status when empty (each message carries its status; an exercise says so).
    #[serde(default)]
    statuses: Vec<AlertStatus>,
    /// `uk` (the default) or `en`.
    lang: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = PushSubscriptionView)]
struct SubscriptionView {
    endpoint: String,
    regions: Vec<RegionId>,
    kinds: Vec<AlertKind>,
    statuses: Vec<AlertStatus>,
    lang: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = DeletePushSubscriptionRequest)]
#[serde(deny_unknown_fields)]
pub(crate) struct UnsubscribeBody {
    endpoint: String,
    /// The subscription's `keys.auth`: the proof that the caller is the browser that subscribed.
    auth: String,
}

impl From<PushError> for ApiError {
    fn from(error: PushError) -> ApiError {
        match error {
            PushError::Refused(refused) => ApiError::invalid_field(refused.field.clone(), refused.to_string()),
            PushError::NotFound => ApiError::new(
                StatusCode::NOT_FOUND,
                "push-subscription-not-found",
                "no subscription has this endpoint and auth",
            )
            .with_field("endpoint"),
            PushError::Full { .. } => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "push-subscriptions-full",
                format!("{error}: try again later"),
            ),
            PushError::Unavailable(source) => ApiError::from(tryvoha_engine::EngineError::Unavailable(source)),
        }
    }
}

#[utoipa::path(
    post, path = "/api/v1/push/subscriptions", operation_id = "createPushSubscription", tag = "push",
    summary = "Subscribe a browser or app to Web Push",
    description = "No token needed; at most 20 subscription changes per client per minute (429 `rate-limited`). The same endpoint again replaces its keys and filter. \
        Each matching declaration, update and all-clear is then pushed: the event's signed frame, encrypted \
        (aes128gcm), VAPID-signed, `Urgency: high` for alerts, `Topic` per region. A refusal names the field and \
        stores nothing.",
    request_body(content = SubscribeBody, content_type = "application/json"),
    responses(
        (status = 201, description = "Subscribed.", body = SubscriptionView, content_type = "application/json"),
        (status = 200, description = "The endpoint was known: its keys and filter replaced.", body = SubscriptionView,
            content_type = "application/json"),
        (status = 400, response = openapi::BodyUnreadable),
        (status = 404, response = openapi::OutsideRegions),
        (status = 413, response = openapi::BodyTooLarge),
        (status = 415, response = openapi::UnsupportedMediaType),
        (status = 422, description = "A field is missing, unknown or refused (`invalid-field` naming it: \
            `subscription.endpoint`, `subscription.keys.p256dh`, `subscription.keys.auth`, `regions`, `regions[i]`, \
            `lat`, `lon`, `lang`).", body = openapi::Problem, content_type = "application/problem+json"),
        (status = 429, response = openapi::RateLimited),
        (status = 503, description = "The storage is unavailable (`unavailable`), or the server holds as many \
            subscriptions as it may (`push-subscriptions-full`, `push.max_subscriptions`); nothing is stored.",
            body = openapi::Problem, content_type = "application/problem+json"),
    )
)]
async fn subscribe(
    State(state): State<AppState>,
    client: Option<Extension<ClientAddress>>,
    JsonBody(body): JsonBody<SubscribeBody>,
) -> Result<Response, ApiError> {
    let push = push(&state)?;
    if let Err(wait) = push.admit(client) {
        return Ok(with_retry_after(rate_limited(wait).into_response(), wait));
    }
    let regions = match (body.lat, body.lon) {
        (None, None) => body.regions,
        (Some(lat), Some(lon)) if body.regions.is_empty() => {
            let at = Coordinates::parse(lat, lon)
                .map_err(|error| ApiError::invalid_field(error.field(), error.to_string()))?;
            vec![crate::places::region_at(&state, at)?]
        }
        (Some(_), Some(_)) => return Err(ApiError::invalid_field("regions", "give regions, or lat and lon, not both")),
        (None, Some(_)) => return Err(ApiError::invalid_field("lat", "lat and lon come together")),
        (Some(_), None) => return Err(ApiError::invalid_field("lon", "lat and lon come together")),
    };
    let request = SubscriptionRequest {
        endpoint: body.subscription.endpoint,
        p256dh: body.subscription.keys.p256dh,
        auth: body.subscription.keys.auth,
        regions,
        kinds: body.kinds,
        statuses: body.statuses,
        lang: body.lang,
    };
    let (stored, created) = push.subscriptions.subscribe(request).await?;
    let view = SubscriptionView {
        endpoint: stored.endpoint,
        regions: stored.filter.regions,
        kinds: stored.filter.kinds,
        statuses: stored.filter.statuses,
        lang: stored.filter.lang,
    };
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(view)).into_response())
}

#[utoipa::path(
    delete, path = "/api/v1/push/subscriptions", operation_id = "deletePushSubscription", tag = "push",
    summary = "Unsubscribe",
    description = "No token needed: the subscription's own `auth` is the proof. A wrong `auth` is answered as an \
        unknown endpoint.",
    request_body(content = UnsubscribeBody, content_type = "application/json"),
    responses(
        (status = 204, description = "Unsubscribed."),
        (status = 400, response = openapi::BodyUnreadable),
        (status = 404, description = "No subscription has this endpoint and auth. Problem code: \
            `push-subscription-not-found`.", body = openapi::Problem, content_type = "application/problem+json"),
        (status = 413, response = openapi::BodyTooLarge),
        (status = 415, response = openapi::UnsupportedMediaType),
        (status = 422, description = "A field is missing or unknown (`invalid-field`).", body = openapi::Problem,
            content_type = "application/problem+json"),
        (status = 429, response = openapi::RateLimited),
        (status = 503, response = openapi::StorageUnavailable),
    )
)]
async fn unsubscribe(
    State(state): State<AppState>,
    client: Option<Extension<ClientAddress>>,
    JsonBody(body): JsonBody<UnsubscribeBody>,
) -> Result<Response, ApiError> {
    let push = push(&state)?;
    if let Err(wait) = push.admit(client) {
        return Ok(with_retry_after(rate_limited(wait).into_response(), wait));
    }
    push.subscriptions.unsubscribe(&body.endpoint, &body.auth).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
