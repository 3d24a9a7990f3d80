//! `GET /healthz`: the process is up, its writer and fan-out run, and its log answers.
//! `GET /readyz`: the same checks one by one, for a load balancer deciding whether to send
//! traffic here (200 when all pass, 503 naming the one that failed).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::AppState;
use crate::problem::ApiError;

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(health)).route("/readyz", get(ready))
}

async fn health(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    if let Some(stopped) = stopped_part(&state) {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "server-failed",
            format!("the {stopped} stopped; this server is going down, use another one"),
        ));
    }
    let last_seq = state.engine.last_seq().await?;
    Ok(Json(json!({ "status": "ok", "last_seq": last_seq })))
}

async fn ready(State(state): State<AppState>) -> Response {
    let writer = state.engine.writer_running();
    let fan_out = state.live.hub.is_fanning_out();
    // A cheap read of the log's head: the store answers.
    let last_seq = state.engine.last_seq().await.ok();
    let ready = writer && fan_out && last_seq.is_some();
    let check = |ok: bool| if ok { "ok" } else { "failed" };
    let body = json!({
        "status": if ready { "ready" } else { "not-ready" },
        "checks": { "writer": check(writer), "fan_out": check(fan_out), "store": check(last_seq.is_some()) },
        "last_seq": last_seq,
    });
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(body)).into_response()
}

/// The part of the server that stopped, if one did: then nothing it promises holds any more.
fn stopped_part(state: &AppState) -> Option<&'static str> {
    if !state.engine.writer_running() {
        Some("writer")
    } else if !state.live.hub.is_fanning_out() {
        Some("fan-out of live events")
    } else {
        None
    }
}
