//! Who may read the compatible APIs, and how often: tokens in each dialect's own way, an
//! optional anonymous mode, and a per-client rate limit.
//!
//! The client is the one [`crate::limits`] names (behind a trusted proxy, the client it
//! forwarded for; IPv6 by its /64), so clients behind one proxy no longer share one bucket.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use tryvoha_engine::AuthError;

use crate::AppState;
use crate::limits::{ClientAddress, ClientKey, ClientRateLimit};

/// What the operator chose for the compatible APIs.
#[derive(Clone, Copy, Debug)]
pub struct CompatSettings {
    /// Serve without a token (what Home Assistant's `uasiren` expects of siren.pp.ua).
    pub anonymous: bool,
    /// Requests per minute per client address; 0 turns the limit off.
    pub per_minute: u32,
}

/// The settings and the rate limiter's buckets.
pub struct CompatAccess {
    pub settings: CompatSettings,
    limit: ClientRateLimit,
}

/// Why a compat request was refused; each dialect renders it its own way.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    NoToken,
    BadToken,
    /// Over the rate; a request would be admitted after this long (`Retry-After`).
    TooManyRequests(Duration),
    Unavailable,
}

impl CompatAccess {
    pub fn new(settings: CompatSettings) -> CompatAccess {
        // A minute's worth at once, then one every 60/per_minute seconds: the old fixed
        // window's allowance, without its double burst at the window's edge.
        CompatAccess { settings, limit: ClientRateLimit::per_minute(settings.per_minute, settings.per_minute) }
    }

    /// Counts the request against its client's rate.
    fn admit(&self, client: Option<IpAddr>) -> Result<(), Duration> {
        match client {
            Some(client) => self.limit.check(ClientKey::of(client)),
            None => Ok(()),
        }
    }
}

/// Admits a request that carries `secret` (or none): the rate limit first, then the token.
pub async fn admit(state: &AppState, parts: &Parts, secret: Option<&str>) -> Result<(), Refusal> {
    let client = parts.extensions.get::<ClientAddress>().map(|client| client.0);
    let client = client.or_else(|| parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip()));
    state.compat.admit(client).map_err(Refusal::TooManyRequests)?;
    match secret.map(str::trim).filter(|s| !s.is_empty()) {
        None if state.compat.settings.anonymous => Ok(()),
        None => Err(Refusal::NoToken),
        // Any valid token reads: readers, operators and admins.
        Some(secret) => match state.engine.authenticate(secret).await {
            Ok(_) => Ok(()),
            Err(AuthError::Invalid | AuthError::Revoked) => Err(Refusal::BadToken),
            Err(AuthError::Unavailable(_)) => Err(Refusal::Unavailable),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_counts_each_client_apart_and_zero_turns_it_off() {
        let access = CompatAccess::new(CompatSettings { anonymous: false, per_minute: 2 });
        let (a, b) = (Some(IpAddr::from([127, 0, 0, 2])), Some(IpAddr::from([127, 0, 0, 3])));
        assert!(access.admit(a).is_ok() && access.admit(a).is_ok());
        let wait = access.admit(a).unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(30), "the third is refused for a while: {wait:?}");
        assert!(access.admit(b).is_ok(), "another client has its own bucket");
        let off = CompatAccess::new(CompatSettings { anonymous: false, per_minute: 0 });
        assert!((0..1000).all(|_| off.admit(a).is_ok()));
    }
}
