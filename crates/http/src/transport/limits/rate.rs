//! Requests per client over time: a GCRA token bucket per [`ClientKey`] (`governor`), which
//! answers "not before" so that a refusal can say when to come back (`Retry-After`).

use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use super::client::{ClientAddress, ClientKey};
use crate::AppState;
use crate::problem::ApiError;

type KeyedLimiter = RateLimiter<ClientKey, DefaultKeyedStateStore<ClientKey>, DefaultClock>;

/// Above this many remembered clients, buckets that are full again are forgotten (at most once
/// a minute), so that many distinct clients cannot grow the map without end.
const PRUNE_ABOVE: usize = 10_000;
const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// A rate per client; `None` inside when the limit is off.
pub struct ClientRateLimit {
    limiter: Option<KeyedLimiter>,
    clock: DefaultClock,
    // A std mutex: only taken to decide whether to prune, never across an await.
    last_prune: Mutex<Instant>,
}

impl ClientRateLimit {
    /// `per_minute` requests a minute on average, up to `burst` at once; 0 turns the limit off.
    pub fn per_minute(per_minute: u32, burst: u32) -> ClientRateLimit {
        let limiter = NonZeroU32::new(per_minute).map(|rate| {
            let burst = NonZeroU32::new(burst).unwrap_or(rate);
            RateLimiter::keyed(Quota::per_minute(rate).allow_burst(burst))
        });
        ClientRateLimit { limiter, clock: DefaultClock::default(), last_prune: Mutex::new(Instant::now()) }
    }

    /// Counts one request of `client`; `Err` holds how long until one would be admitted.
    pub fn check(&self, client: ClientKey) -> Result<(), Duration> {
        let Some(limiter) = &self.limiter else { return Ok(()) };
        let outcome = limiter.check_key(&client).map_err(|not_until| not_until.wait_time_from(self.clock.now()));
        if limiter.len() > PRUNE_ABOVE {
            let mut last = self.last_prune.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if last.elapsed() >= PRUNE_EVERY {
                *last = Instant::now();
                limiter.retain_recent();
                limiter.shrink_to_fit();
            }
        }
        outcome
    }
}

/// Whole seconds for `Retry-After`, rounded up, at least 1.
pub fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0 || wait.is_zero())
}

/// A 429 `rate-limited` problem with `Retry-After`.
pub fn rate_limited(wait: Duration) -> ApiError {
    let secs = retry_after_secs(wait);
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate-limited",
        format!("too many requests from this client; retry after {secs} s"),
    )
}

/// Names the client of each request (its [`ClientAddress`] goes into the extensions) and
/// counts the request against the client's rate.
pub async fn limit_requests(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<std::net::SocketAddr>>().copied() else {
        return next.run(request).await; // not from a socket (handler tests): nobody to count
    };
    let client = state.limits.client_address(peer.ip(), request.headers());
    request.extensions_mut().insert(ClientAddress(client));
    match state.limits.requests.check(ClientKey::of(client)) {
        Ok(()) => {
            let mut response = next.run(request).await;
            // A handler's 429 (a stream over the client's share) says when to come back too.
            if response.status() == StatusCode::TOO_MANY_REQUESTS
                && !response.headers().contains_key(header::RETRY_AFTER)
            {
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            response
        }
        Err(wait) => {
            state.limits.count_rate_limited();
            with_retry_after(rate_limited(wait).into_response(), wait)
        }
    }
}

/// Adds `Retry-After` (in seconds) to a refusal.
pub fn with_retry_after(mut response: Response, wait: Duration) -> Response {
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs(wait)));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_over_its_burst_is_told_when_to_return_and_others_are_not_affected() {
        let limit = ClientRateLimit::per_minute(60, 3);
        let (a, b) = (ClientKey::of([192, 0, 2, 1].into()), ClientKey::of([192, 0, 2, 2].into()));
        assert!((0..3).all(|_| limit.check(a).is_ok()));
        let wait = limit.check(a).unwrap_err();
        assert!(wait <= Duration::from_secs(1), "one a second comes back: {wait:?}");
        assert_eq!(retry_after_secs(wait), 1);
        assert!(limit.check(b).is_ok());
        let off = ClientRateLimit::per_minute(0, 0);
        assert!((0..10_000).all(|_| off.check(a).is_ok()));
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_secs(2)), 2);
        assert_eq!(retry_after_secs(Duration::from_millis(2001)), 3);
    }
}
