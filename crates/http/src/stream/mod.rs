//! Live streams: `GET /stream` (Server-Sent Events, served by [`sse`] straight on the socket)
//! and `GET /ws` (WebSocket, served by [`crate::transport::websocket`] straight on the socket;
//! through axum when hyper has read the handshake: [`websocket`]), with `GET /keys` (the public
//! signing key) and `/metrics`.
//!
//! Both transports write the bytes a [`tryvoha_live::Feed`] yields; the SSE frame bytes and the WebSocket
//! text are made once per event by the hub and shared by every subscriber.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use tryvoha_core::{AlertKind, AlertStatus, EventFamily, RegionId, Seq};
use tryvoha_live::{Filter, Resume, Transport};

use crate::limits::ConnectionPermit;
use crate::openapi;
use crate::problem::ApiError;
use crate::transport::sse;
use crate::{AppState, Live};

pub(crate) mod websocket;

/// The longest list a stream filter (`regions=`, `kinds=`, `status=`) takes. A subscriber of
/// more regions than this subscribes to all (no `regions=`) and filters itself.
pub const MAX_FILTER_ITEMS: usize = 512;

/// The keys and the metrics: ordinary requests.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/keys", get(keys)).route("/metrics", get(metrics))
}

/// The live streams, which the transport keeps out of the inner layers (`transport::around`).
pub fn streams() -> Router<AppState> {
    Router::new().route("/api/v1/stream", get(sse::handler)).route("/api/v1/ws", get(websocket::websocket))
}

/// `after`, as the OpenAPI document describes it for the streams.
pub(crate) const AFTER: &str =
    "Resume after this sequence number: every matching event after it from the log, then live ones.";

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct StreamQuery {
    /// Comma-separated region ids. A region hears alerts on itself, its ancestors and its descendants. Without it:
    /// every region. At most 512 values (400 `list-too-long`); a value given twice counts once.
    #[param(example = "14,73")]
    regions: Option<String>,
    /// Comma-separated alert kinds (`air_raid`, `artillery_shelling`, `urban_fights`, `chemical`, `nuclear`). At
    /// most 512 values (400 `list-too-long`); a value given twice counts once.
    #[param(example = "air_raid,chemical")]
    kinds: Option<String>,
    /// Comma-separated statuses (`actual`, `exercise`, `test`). At most 512 values (400 `list-too-long`); a value
    /// given twice counts once.
    #[param(example = "actual")]
    status: Option<String>,
    /// Comma-separated kinds of event: `alerts` (the default), `incidents` (public ones), `shelters` (status
    /// changes). A client that does not ask hears alerts only.
    #[param(example = "alerts,incidents")]
    types: Option<String>,
    /// Described with each stream ([`AFTER`]): the list of active alerts takes no resume point.
    #[param(ignore)]
    after: Option<Seq>,
    /// With `lon`, instead of or beside `regions`: the hromada (or finest region) at this point, and so its
    /// ancestors and descendants.
    #[param(minimum = -90, maximum = 90)]
    lat: Option<f64>,
    /// With `lat`.
    #[param(minimum = -180, maximum = 180)]
    lon: Option<f64>,
}

impl StreamQuery {
    pub(crate) fn filter(&self, state: &AppState) -> Result<Filter, ApiError> {
        let registry = state.engine.registry();
        let mut regions = parse_list(&self.regions, "regions", |text| {
            let id = RegionId(text.parse().ok()?);
            registry.get(id).map(|_| id)
        })?;
        match (self.lat, self.lon) {
            (Some(lat), Some(lon)) => {
                regions.push(crate::places::region_at(state, crate::places::coordinates(lat, lon)?)?)
            }
            (None, None) => {}
            (Some(_), None) => return Err(ApiError::invalid_query("lon", "lat needs lon")),
            (None, Some(_)) => return Err(ApiError::invalid_query("lat", "lon needs lat")),
        }
        let kinds = parse_list(&self.kinds, "kinds", AlertKind::parse)?;
        let statuses = parse_list(&self.status, "status", AlertStatus::parse)?;
        let families = parse_list(&self.types, "types", EventFamily::parse)?;
        Ok(Filter::new(regions, kinds, statuses).with_families(families))
    }

    /// `Last-Event-ID` wins over `?after=`: a browser reconnecting keeps the original URL but
    /// sends the id it saw last.
    pub(crate) fn resume(&self, last_event_id: Option<&[u8]>) -> Result<Resume, ApiError> {
        match last_event_id {
            Some(value) => std::str::from_utf8(value)
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .map(Resume::After)
                .ok_or_else(|| ApiError::invalid_query("Last-Event-ID", "Last-Event-ID must be a sequence number")),
            None => Ok(self.after.map_or(Resume::Fresh, Resume::After)),
        }
    }
}

pub(crate) fn parse_list<T>(
    text: &Option<String>,
    field: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Vec<T>, ApiError> {
    let Some(text) = text else { return Ok(Vec::new()) };
    let items = text.split(',').filter(|item| !item.trim().is_empty()).count();
    if items > MAX_FILTER_ITEMS {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "list-too-long",
            format!("{field} lists {items} values; at most {MAX_FILTER_ITEMS} are taken"),
        )
        .with_field(field));
    }
    text.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            parse(item).ok_or_else(|| ApiError::invalid_query(field, format!("{item:?} is not a known {field} value")))
        })
        .collect()
}

/// Counts a subscriber while its connection lives, and holds its client's place for a stream.
pub(crate) struct Connection {
    pub(crate) metrics: Arc<tryvoha_live::Metrics>,
    /// How long the socket may take nothing of a waiting frame ([`Live::write_timeout`]), in whole
    /// seconds: a `u32` fits beside `transport` where a `Duration` would add 16 bytes to every
    /// waiting stream.
    write_timeout_secs: u32,
    pub(crate) transport: Transport,
    _stream_permit: Option<ConnectionPermit>,
}

impl Connection {
    pub(crate) fn new(live: &Live, transport: Transport, stream_permit: Option<ConnectionPermit>) -> Connection {
        let metrics = live.hub.metrics().clone();
        metrics.connected(transport);
        let write_timeout_secs = u32::try_from(live.write_timeout.as_secs().max(1)).unwrap_or(u32::MAX);
        Connection { metrics, write_timeout_secs, transport, _stream_permit: stream_permit }
    }

    pub(crate) fn write_timeout(&self) -> Duration {
        Duration::from_secs(u64::from(self.write_timeout_secs))
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.metrics.disconnected(self.transport);
    }
}

#[utoipa::path(
    get, path = "/api/v1/keys", operation_id = "publicKeys", tag = "streams",
    summary = "The public key that signs streamed frames",
    responses(
        (status = 200, description = "The Ed25519 public keys.",
            body = openapi::PublicKeys, content_type = "application/json"),
        (status = 429, response = openapi::RateLimited),
    )
)]
async fn keys(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "keys": [state.live.signer.public_key()] }))
}

#[utoipa::path(
    get, path = "/metrics", operation_id = "metrics", tag = "operations",
    summary = "Prometheus metrics",
    responses(
        (status = 200,
            description = "Prometheus text format 0.0.4: subscribers by transport, events delivered, delivery latency \
                histogram, subscribers cut off.",
            body = String, content_type = "text/plain"),
        (status = 429, response = openapi::RateLimited),
    )
)]
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let mut text = state.live.hub.metrics().render();
    // Signing is the costly part of a frame, and each event is meant to be signed once however
    // many subscribers get it (live or catching up): this counter shows whether it is.
    text.push_str(&format!(
        "# HELP tryvoha_frames_signed_total Documents signed with the server's key (frames, snapshots, detached signatures).\n\
         # TYPE tryvoha_frames_signed_total counter\ntryvoha_frames_signed_total {}\n",
        state.live.signer.signatures()
    ));
    text.push_str(&state.limits.render_metrics());
    text.push_str(&crate::health::render_link_metrics(&state).await);
    text.push_str(&(state.channel_metrics)());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text)
}

/// How long a connection may stay silent before a heartbeat: proxies close idle streams.
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(15);

/// How long a subscriber's socket may take nothing of a waiting frame (a WebSocket that hyper
/// upgraded: how long one message may wait), unless configured otherwise
/// (`stream_write_timeout_secs`). A client that stops reading keeps the window shut but answers
/// TCP's probes, so without this its task would wait forever; then it is cut off (counted) and
/// resumes by its last id.
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(60);

/// A stream's heartbeat, first after one `period`; made in the stream's task, whose runtime's
/// timer drives it.
pub(crate) fn heartbeat_every(period: Duration) -> tokio::time::Interval {
    let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    heartbeat
}

#[cfg(test)]
mod tests {
    use std::future::Future;

    use crate::transport::direct_stream::stream_frames;
    use crate::transport::sse::SseClient;
    use crate::transport::websocket::WebSocketClient;

    /// The size of the future that a function of six or seven arguments returns, without
    /// calling it.
    fn future_size<A, B, C, D, E, G, F: Future>(_: fn(A, B, C, D, E, G) -> F) -> usize {
        std::mem::size_of::<F>()
    }

    fn direct_future_size<A, B, C, D, E, G, H, F: Future>(_: fn(A, B, C, D, E, G, H) -> F) -> usize {
        std::mem::size_of::<F>()
    }

    // Tens of thousands of streams wait at once during an attack, and each waiting stream is
    // one of these futures (on the heap, in its task). A stream's future grew by accident
    // before: from the shutdown signal, an inline write timer, and arguments kept twice.
    #[test]
    fn a_waiting_stream_is_a_small_future() {
        let sse = direct_future_size(stream_frames::<SseClient>);
        let websocket = direct_future_size(stream_frames::<WebSocketClient>);
        let through_hyper = future_size(super::websocket::websocket_frames);
        eprintln!(
            "a waiting SSE stream: {sse} bytes; a waiting WebSocket: {websocket} bytes ({through_hyper} through hyper)"
        );
        // 16 of these are the heartbeat's period, kept so that its timer is made in the task,
        // on the streams' runtime.
        assert!(sse <= 640, "an SSE stream's future is {sse} bytes");
        // 24 more hold the part of a client's frame that has arrived.
        assert!(websocket <= 664, "a WebSocket stream's future is {websocket} bytes");
        // The WebSocket library's protocol state is 368 of these.
        assert!(through_hyper <= 1024, "a WebSocket stream's future through hyper is {through_hyper} bytes");
    }
}
