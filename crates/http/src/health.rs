//! `GET /healthz`: the process is up, its writer and fan-out run, and its log answers.
//! `GET /readyz`: the same checks one by one, for a load balancer deciding whether to send
//! traffic here (200 when all pass, 503 naming the one that failed).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use tryvoha_core::Seq;

use crate::AppState;
use crate::openapi;
use crate::problem::ApiError;

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(health)).route("/readyz", get(ready))
}

#[utoipa::path(
    get, path = "/healthz", operation_id = "getHealth", tag = "service",
    summary = "Check that the server is up",
    description = "Answers 200 when the process is up, its writer and its fan-out of live events run, and its event log can be \
        read. No token needed.",
    responses(
        (status = 200, description = "The server is up.",
            body = Health, content_type = "application/json"),
        (status = 429, response = openapi::RateLimited),
        (status = 503,
            description = "The writer or the fan-out of live events stopped (`server-failed`: the server is going down), the \
                server cannot read its storage right now (`unavailable`), or it is shutting down (`shutting-down`). \
                Problem codes: `server-failed`, `unavailable`, `shutting-down`.",
            body = openapi::Problem, content_type = "application/problem+json"),
    )
)]
async fn health(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    if let Some(stopped) = stopped_part(&state) {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "server-failed",
            format!("the {stopped} stopped; this server is going down, use another one"),
        ));
    }
    let last_seq = state.engine.last_seq().await?;
    Ok(Json(Health { last_seq, status: HealthStatus::Ok }))
}

/// Fields in alphabetical order, as the answer has always listed them.
#[derive(Serialize, utoipa::ToSchema)]
struct Health {
    /// The sequence number of the latest event in the log; 0 when it is empty.
    #[schema(value_type = u64)]
    last_seq: Seq,
    status: HealthStatus,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
enum HealthStatus {
    Ok,
}

#[utoipa::path(
    get, path = "/readyz", operation_id = "getReadiness", tag = "service",
    summary = "Check whether the server should get traffic",
    description = "Each check by name: `writer` (the single writer runs, so writes can be made), `fan_out` (committed events \
        reach the live streams), `store` (a cheap read of the event log answers). 200 when every check passes, 503 \
        with the same body when one fails. `lag` is how far this node is behind the log's head, `links` whether its \
        store and (in cluster mode) its bus are reachable; a bus that is down is reported but does not make the node \
        unready, since it then follows the store directly. No token needed.",
    responses(
        (status = 200, description = "Every check passed.",
            body = Readiness, content_type = "application/json"),
        (status = 429, response = openapi::RateLimited),
        (status = 503, description = "A check failed; the body says which.",
            body = Readiness, content_type = "application/json"),
    )
)]
async fn ready(State(state): State<AppState>) -> Response {
    let writer = state.engine.writer_running();
    let fan_out = state.live.hub.is_fanning_out();
    // A cheap read of the log's head: the store answers.
    let last_seq = state.engine.last_seq().await.ok();
    let ready = writer && fan_out && last_seq.is_some();
    // On a log other nodes append to, how far this node's book is behind it (it catches up
    // within about half a second); 0 on an embedded store.
    let lag = last_seq.map(|head| head.saturating_sub(state.engine.book().last_seq()));
    let check = |ok: bool| if ok { Check::Ok } else { Check::Failed };
    let link = |up: bool| if up { Link::Up } else { Link::Down };
    let body = Readiness {
        checks: Checks { fan_out: check(fan_out), store: check(last_seq.is_some()), writer: check(writer) },
        lag,
        links: Links { bus: state.bus_up.as_ref().map(|up| link(up())), store: link(last_seq.is_some()) },
        last_seq,
        status: if ready { ReadinessStatus::Ready } else { ReadinessStatus::NotReady },
    };
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(body)).into_response()
}

#[derive(Serialize, utoipa::ToSchema)]
struct Readiness {
    checks: Checks,
    /// How many events of the log this server has not applied yet (other nodes' events on a
    /// shared PostgreSQL store, caught up within about half a second); null when the log could
    /// not be read.
    #[schema(value_type = Option<u64>, required = true)]
    lag: Option<u64>,
    links: Links,
    /// The log's head as read for the `store` check; null when that read failed.
    #[schema(value_type = Option<u64>, required = true)]
    last_seq: Option<Seq>,
    status: ReadinessStatus,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
enum ReadinessStatus {
    Ready,
    NotReady,
}

/// The links to the services this node depends on.
#[derive(Serialize, utoipa::ToSchema)]
struct Links {
    /// The cluster bus (NATS JetStream); null without one.
    #[schema(required = true)]
    bus: Option<Link>,
    /// The store (the embedded database, or PostgreSQL): its log answered a read just now.
    store: Link,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
enum Link {
    Up,
    Down,
}

/// `/metrics`: the links and this node's lag behind the log's head.
pub(crate) async fn render_link_metrics(state: &AppState) -> String {
    let head = state.engine.last_seq().await.ok();
    let mut text = format!(
        "# HELP tryvoha_link_up 1 while the link to a service this node depends on is up.\n\
         # TYPE tryvoha_link_up gauge\ntryvoha_link_up{{link=\"store\"}} {}\n",
        u8::from(head.is_some())
    );
    if let Some(up) = &state.bus_up {
        text.push_str(&format!("tryvoha_link_up{{link=\"bus\"}} {}\n", u8::from(up())));
    }
    if let Some(head) = head {
        text.push_str(&format!(
            "# HELP tryvoha_log_lag Events of the log this node has not applied yet.\n\
             # TYPE tryvoha_log_lag gauge\ntryvoha_log_lag {}\n",
            head.saturating_sub(state.engine.book().last_seq())
        ));
    }
    text
}

#[derive(Serialize, utoipa::ToSchema)]
struct Checks {
    fan_out: Check,
    store: Check,
    writer: Check,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
enum Check {
    Ok,
    Failed,
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
