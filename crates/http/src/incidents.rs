//! `/api/v1/incidents`: what responders report during and after a strike. Reports and changes
//! go through the engine (each an event of the log); lists and single incidents are read from
//! the store's index. Anyone sees the public incidents; a token that may see the others (an
//! operator's, a responder's, an admin's) sees every incident, private fields included.

pub(crate) mod read;
pub(crate) mod write;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use axum::routing::get;
use tryvoha_core::Incident;
use tryvoha_engine::Principal;

use crate::AppState;
use crate::auth::{AnyRole, Authorized};
use crate::problem::ApiError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/incidents", get(read::list).post(write::report))
        .route("/incidents/{id}", get(read::one).patch(write::change))
}

/// The caller of a read that anyone may make: `None` without an `Authorization` header; a
/// header that does not carry a valid token is refused (401), never read as "anonymous".
pub(crate) struct Viewer(pub Option<Principal>);

impl Viewer {
    /// Whether this caller sees incidents that are not public.
    pub(crate) fn sees_private(&self) -> bool {
        self.0.as_ref().is_some_and(|principal| principal.grant.sees_private_incidents())
    }

    /// The incident as this caller may see it: whole for those who see private incidents, and
    /// otherwise a public incident as published (the authority as its reporter), or nothing.
    pub(crate) fn view(&self, incident: Incident, authority: &str) -> Option<Incident> {
        if self.sees_private() { Some(incident) } else { incident.public.then(|| incident.published_by(authority)) }
    }
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Viewer, ApiError> {
        if !parts.headers.contains_key(header::AUTHORIZATION) {
            return Ok(Viewer(None));
        }
        let Authorized(principal, _) = Authorized::<AnyRole>::from_request_parts(parts, state).await?;
        Ok(Viewer(Some(principal)))
    }
}
