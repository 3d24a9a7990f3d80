//! `Authorization: Bearer <token>` and role checks. Both run as extractors before the body is
//! read, so a caller without the right role learns that first, whatever the body holds.

use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use tryvoha_core::Role;
use tryvoha_engine::Principal;

use crate::AppState;
use crate::problem::ApiError;

/// The roles an endpoint admits.
pub trait Roles: Send + Sync {
    const ALLOWED: &'static [Role];
}

/// Tokens, events: administrators only.
pub struct Admins;

impl Roles for Admins {
    const ALLOWED: &'static [Role] = &[Role::Admin];
}

/// Declaring, updating and cancelling alerts.
pub struct Writers;

impl Roles for Writers {
    const ALLOWED: &'static [Role] = &[Role::Admin, Role::Operator];
}

/// Reporting incidents and shelter statuses (operators and responders in their regions).
pub struct Responders;

impl Roles for Responders {
    const ALLOWED: &'static [Role] = &[Role::Admin, Role::Operator, Role::Responder];
}

/// Any valid token: reading what the token itself may do.
pub struct AnyRole;

impl Roles for AnyRole {
    const ALLOWED: &'static [Role] = &[Role::Admin, Role::Operator, Role::Responder, Role::Reader];
}

/// A caller whose token is valid, not revoked, and has one of `R`'s roles.
pub struct Authorized<R: Roles>(pub Principal, pub PhantomData<R>);

impl<R: Roles> FromRequestParts<AppState> for Authorized<R> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
            ApiError::new(StatusCode::UNAUTHORIZED, "token-missing", "this request needs Authorization: Bearer <token>")
        })?;
        let secret = header.to_str().ok().and_then(bearer_secret).ok_or_else(|| {
            ApiError::new(StatusCode::UNAUTHORIZED, "token-invalid", "the Authorization header must be Bearer <token>")
        })?;
        let principal = state.engine.authenticate(secret).await?;
        if !R::ALLOWED.contains(&principal.grant.role) {
            let wanted: Vec<_> = R::ALLOWED.iter().map(|r| r.as_str()).collect();
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden-role",
                format!("this needs a token with role {}", wanted.join(" or ")),
            ));
        }
        Ok(Authorized(principal, PhantomData))
    }
}

/// The token of a `Bearer` credential; the scheme name is case-insensitive (RFC 9110 §11.1).
pub(crate) fn bearer_secret(value: &str) -> Option<&str> {
    let (scheme, secret) = value.split_once(' ')?;
    let secret = secret.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !secret.is_empty()).then_some(secret)
}

#[cfg(test)]
mod tests {
    use super::bearer_secret;

    #[test]
    fn the_bearer_scheme_is_case_insensitive_and_needs_a_token() {
        assert_eq!(bearer_secret("Bearer abc"), Some("abc"));
        assert_eq!(bearer_secret("BEARER  abc "), Some("abc"));
        assert_eq!(bearer_secret("Basic abc"), None);
        assert_eq!(bearer_secret("Bearer "), None);
        assert_eq!(bearer_secret("Bearer"), None);
    }
}
