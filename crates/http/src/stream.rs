//! Live streams: `GET /stream` (Server-Sent Events) and `GET /ws` (WebSocket), with
//! `GET /keys` (the public signing key) and `/metrics`.
//!
//! Both transports write the bytes a [`Feed`] yields; the SSE frame bytes and the WebSocket
//! text are made once per event by the hub and shared by every subscriber.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use tryvoha_core::{AlertKind, AlertStatus, RegionId, Seq};
use tryvoha_live::{Feed, Filter, Frame, Resume, Transport};

use crate::AppState;
use crate::body::Query;
use crate::problem::ApiError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/stream", get(sse))
        .route("/api/v1/ws", get(websocket))
        .route("/api/v1/keys", get(keys))
        .route("/metrics", get(metrics))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StreamQuery {
    regions: Option<String>,
    kinds: Option<String>,
    status: Option<String>,
    after: Option<Seq>,
}

impl StreamQuery {
    fn filter(&self, state: &AppState) -> Result<Filter, ApiError> {
        let registry = state.engine.registry();
        let regions = parse_list(&self.regions, "regions", |text| {
            let id = RegionId(text.parse().ok()?);
            registry.get(id).map(|_| id)
        })?;
        let kinds = parse_list(&self.kinds, "kinds", AlertKind::parse)?;
        let statuses = parse_list(&self.status, "status", AlertStatus::parse)?;
        Ok(Filter { regions, kinds, statuses })
    }

    /// `Last-Event-ID` wins over `?after=`: a browser reconnecting keeps the original URL but
    /// sends the id it saw last.
    fn resume(&self, headers: &HeaderMap) -> Result<Resume, ApiError> {
        match headers.get("last-event-id") {
            Some(value) => value
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .map(Resume::After)
                .ok_or_else(|| ApiError::invalid_query("Last-Event-ID", "Last-Event-ID must be a sequence number")),
            None => Ok(self.after.map_or(Resume::Fresh, Resume::After)),
        }
    }
}

fn parse_list<T>(text: &Option<String>, field: &str, parse: impl Fn(&str) -> Option<T>) -> Result<Vec<T>, ApiError> {
    let Some(text) = text else { return Ok(Vec::new()) };
    text.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            parse(item).ok_or_else(|| ApiError::invalid_query(field, format!("{item:?} is not a known {field} value")))
        })
        .collect()
}

async fn sse(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<StreamQuery>,
) -> Result<Response, ApiError> {
    let filter = query.filter(&state)?;
    let resume = query.resume(&headers)?;
    let live = &state.live;
    let feed = Feed::open(&state.engine, &live.hub, &live.signer, filter, resume);
    let connection = Connection::new(live.hub.metrics().clone(), Transport::Sse);
    let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + live.heartbeat, live.heartbeat);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first chunk tells browsers to reconnect after one second instead of three.
    let opening = futures_util::stream::once(async { Ok::<_, Infallible>(Bytes::from_static(b"retry: 1000\n\n")) });
    let frames = futures_util::stream::unfold(Some((feed, heartbeat, connection)), |state| async move {
        let (mut feed, mut heartbeat, connection) = state?;
        tokio::select! {
            next = feed.next() => match next {
                Ok(Some(frame)) => {
                    connection.metrics.delivered(frame.decided_at);
                    Some((Ok(frame.sse.clone()), Some((feed, heartbeat, connection))))
                }
                Ok(None) => {
                    let note = format!(": cut off as too slow; resume with Last-Event-ID {}\n\n", feed.last_sent());
                    Some((Ok(Bytes::from(note)), None))
                }
                Err(error) => {
                    tracing::warn!(%error, "stream ended: cannot catch up from the log");
                    None
                }
            },
            _ = heartbeat.tick() => Some((Ok(Bytes::from_static(b": keepalive\n\n")), Some((feed, heartbeat, connection)))),
        }
    });
    let body = Body::from_stream(futures_util::StreamExt::chain(opening, frames));
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // Tells nginx not to buffer the stream.
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

async fn websocket(
    State(state): State<AppState>,
    Query(query): Query<StreamQuery>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    // The parameters first, so that a bad one is named whatever the handshake looks like.
    let filter = query.filter(&state)?;
    let resume = query.after.map_or(Resume::Fresh, Resume::After);
    let upgrade = upgrade.map_err(|rejection| {
        ApiError::new(StatusCode::UPGRADE_REQUIRED, "websocket-required", format!("this is a WebSocket endpoint: {rejection}"))
    })?;
    Ok(upgrade.on_upgrade(move |socket| serve_websocket(socket, state, filter, resume)))
}

async fn serve_websocket(mut socket: WebSocket, state: AppState, filter: Filter, resume: Resume) {
    let live = &state.live;
    let mut feed = Feed::open(&state.engine, &live.hub, &live.signer, filter, resume);
    let connection = Connection::new(live.hub.metrics().clone(), Transport::WebSocket);
    let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + live.heartbeat, live.heartbeat);
    loop {
        tokio::select! {
            next = feed.next() => match next {
                Ok(Some(frame)) => {
                    if socket.send(text(&frame)).await.is_err() {
                        return;
                    }
                    connection.metrics.delivered(frame.decided_at);
                }
                Ok(None) => {
                    let reason = format!("too slow; resume with ?after={}", feed.last_sent());
                    let _ = socket.send(Message::Close(Some(CloseFrame { code: 4008, reason: reason.into() }))).await;
                    return;
                }
                Err(error) => {
                    tracing::warn!(%error, "stream ended: cannot catch up from the log");
                    let _ = socket.send(Message::Close(Some(CloseFrame { code: 1011, reason: "log unavailable".into() }))).await;
                    return;
                }
            },
            _ = heartbeat.tick() => {
                if socket.send(Message::Ping(Bytes::new())).await.is_err() {
                    return;
                }
            }
            incoming = socket.recv() => match incoming {
                // Clients have nothing to say; a close or an error ends the stream.
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}

fn text(frame: &Frame) -> Message {
    // The JSON is built from Rust strings, so it is UTF-8; the fallback is never taken.
    Message::Text(Utf8Bytes::try_from(frame.json.clone()).unwrap_or_else(|_| Utf8Bytes::from_static("{}")))
}

/// Counts a subscriber while its connection lives.
struct Connection {
    metrics: Arc<tryvoha_live::Metrics>,
    transport: Transport,
}

impl Connection {
    fn new(metrics: Arc<tryvoha_live::Metrics>, transport: Transport) -> Connection {
        metrics.connected(transport);
        Connection { metrics, transport }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.metrics.disconnected(self.transport);
    }
}

async fn keys(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "keys": [state.live.signer.public_key()] }))
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.live.hub.metrics().render())
}

/// How long a connection may stay silent before a heartbeat: proxies close idle streams.
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(15);
