//! `Authorization: Bearer <token>` and role checks.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use tryvoha_core::Role;
use tryvoha_engine::Principal;

use crate::AppState;
use crate::problem::ApiError;

/// A caller whose token is valid and not revoked.
pub struct Caller(pub Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "token-missing",
                "this request needs Authorization: Bearer <token>",
            )
        })?;
        let secret = header
            .to_str()
            .ok()
            .and_then(|value| {
                value
                    .strip_prefix("Bearer ")
                    .or_else(|| value.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|secret| !secret.is_empty())
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "token-invalid",
                    "the Authorization header must be Bearer <token>",
                )
            })?;
        Ok(Caller(state.engine.authenticate(secret).await?))
    }
}

impl Caller {
    /// Refuses callers whose role is not among `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<&Principal, ApiError> {
        if roles.contains(&self.0.grant.role) {
            Ok(&self.0)
        } else {
            let wanted: Vec<_> = roles.iter().map(|r| r.as_str()).collect();
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden-role",
                format!("this needs a token with role {}", wanted.join(" or ")),
            ))
        }
    }
}
