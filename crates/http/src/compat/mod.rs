//! Drop-in compatibility with the APIs Ukrainian apps, bots, LED maps and Home Assistant
//! already speak: alerts.in.ua v1 (and the v2 IoT strings) and ukrainealarm v3. Wire formats and
//! the quirks of their real clients: docs/compat.md.
//!
//! What they say is computed by `tryvoha_compat`; here are the routes, who may read (`access`),
//! and each dialect's status codes and caching headers. These APIs cannot say "this is a
//! drill", so only alerts with status `actual` appear in them.

mod access;
pub(crate) mod alerts_in_ua;
pub(crate) mod ukrainealarm;
pub(crate) mod ukrainealarm_webhook;

use axum::Router;

pub use access::{CompatAccess, CompatSettings};

use crate::AppState;

/// Every compatible operation's description in the OpenAPI document.
const DESCRIPTION: &str =
    "Compatible API (docs/compat.md): the upstream wire format, not problem+json; only `actual` alerts.";

pub fn router() -> Router<AppState> {
    Router::new().merge(alerts_in_ua::router()).merge(ukrainealarm::router()).merge(ukrainealarm_webhook::router())
}
