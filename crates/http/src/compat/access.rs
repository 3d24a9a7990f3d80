//! Who may read the compatible APIs, and how often: tokens in each dialect's own way, an
//! optional anonymous mode, and a per-client rate limit.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use tryvoha_engine::AuthError;

use crate::AppState;

/// What the operator chose for the compatible APIs.
#[derive(Clone, Copy, Debug)]
pub struct CompatSettings {
    /// Serve without a token (what Home Assistant's `uasiren` expects of siren.pp.ua).
    pub anonymous: bool,
    /// Requests per minute per client address; 0 turns the limit off.
    pub per_minute: u32,
}

/// The settings and the rate limiter's counters.
pub struct CompatAccess {
    pub settings: CompatSettings,
    windows: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

/// Why a compat request was refused; each dialect renders it its own way.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    NoToken,
    BadToken,
    TooManyRequests,
    Unavailable,
}

const WINDOW: Duration = Duration::from_secs(60);

impl CompatAccess {
    pub fn new(settings: CompatSettings) -> CompatAccess {
        CompatAccess { settings, windows: Mutex::new(HashMap::new()) }
    }

    /// Counts the request against its client's minute; false when over the limit.
    fn admit(&self, client: Option<IpAddr>) -> bool {
        let (Some(client), limit) = (client, self.settings.per_minute) else { return true };
        if limit == 0 {
            return true;
        }
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if windows.len() > 100_000 {
            // Forget finished windows so that many distinct clients cannot grow the map forever.
            windows.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let (start, count) = windows.entry(client).or_insert((now, 0));
        if now.duration_since(*start) >= WINDOW {
            *start = now;
            *count = 0;
        }
        *count += 1;
        *count <= limit
    }
}

/// Admits a request that carries `secret` (or none): the rate limit first, then the token.
pub async fn admit(state: &AppState, parts: &Parts, secret: Option<&str>) -> Result<(), Refusal> {
    let client = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip());
    if !state.compat.admit(client) {
        return Err(Refusal::TooManyRequests);
    }
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
        assert!(access.admit(a) && access.admit(a));
        assert!(!access.admit(a), "the third in a minute is refused");
        assert!(access.admit(b), "another client has its own minute");
        let off = CompatAccess::new(CompatSettings { anonymous: false, per_minute: 0 });
        assert!((0..1000).all(|_| off.admit(a)));
    }
}
