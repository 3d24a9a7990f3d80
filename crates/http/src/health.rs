//! `GET /healthz`: the process is up and its log answers.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::AppState;
use crate::problem::ApiError;

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(health))
}

async fn health(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let last_seq = state.engine.last_seq().await?;
    Ok(Json(json!({ "status": "ok", "last_seq": last_seq })))
}
