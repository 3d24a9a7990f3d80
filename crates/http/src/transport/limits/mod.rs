//! What one client may take of the server: connections (in all and per client), requests over
//! time per client, and who a client is (the peer, or behind a trusted proxy the client it
//! forwarded for). docs/limits.md tells operators how to set them.
//!
//! A public warning system is read by everyone at once, on the night it matters, while someone
//! may be trying to take it down. The limits keep one client (one address, one IPv6 /64) from
//! starving the others; they are generous by default, because many phones share one address
//! behind carrier NAT.

mod accept;
mod client;
mod connections;
mod declared_body;
mod rate;

use std::fmt::Write as _;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};

pub use accept::AcceptBackoff;
pub use client::{ClientAddress, ClientKey, TrustedProxies};
pub use connections::{ConnectionPermit, ConnectionRefusal, Connections};
pub use declared_body::refuse_oversized_bodies;
pub use rate::{ClientRateLimit, limit_requests, rate_limited, retry_after_secs, with_retry_after};

use crate::problem::ApiError;

/// File descriptors kept back from connections: the database and its WAL, the signing key,
/// the listener, the runtime's own, and a refused connection's moment of life.
pub const RESERVED_FILES: u64 = 64;

/// What the operator chose.
#[derive(Clone, Debug)]
pub struct LimitSettings {
    /// Connections in all; 0 means the open-file limit less [`RESERVED_FILES`].
    pub max_connections: usize,
    /// Connections per client; 0 turns the cap off. Never more than half of the total, so that
    /// one client cannot take every place.
    pub max_connections_per_client: usize,
    /// Requests a minute per client, on average; 0 turns the limit off.
    pub requests_per_minute: u32,
    /// Requests a client may make at once before the average applies.
    pub request_burst: u32,
    pub trusted_proxies: TrustedProxies,
}

impl LimitSettings {
    /// The total to use when [`LimitSettings::max_connections`] is 0, given the open-file limit.
    pub fn connections_for_open_files(open_files: u64) -> usize {
        usize::try_from(open_files.saturating_sub(RESERVED_FILES).max(16)).unwrap_or(usize::MAX)
    }
}

/// The limits in force and their counters.
pub struct Limits {
    pub connections: Arc<Connections>,
    /// Live streams per client, counted by the client a request names (behind a trusted proxy
    /// the forwarded client), under the same cap as connections: for a direct client it never
    /// binds first, for one behind a proxy it is the only cap per client.
    pub streams: Arc<Connections>,
    pub requests: ClientRateLimit,
    trusted_proxies: TrustedProxies,
    accept_errors: AtomicU64,
    rate_limited: AtomicU64,
}

impl Limits {
    /// `open_files`: the process's open-file limit, used when the total is left to it.
    pub fn new(settings: &LimitSettings, open_files: u64) -> Limits {
        let total = match settings.max_connections {
            0 => LimitSettings::connections_for_open_files(open_files),
            set => set,
        };
        let per_client = match settings.max_connections_per_client {
            0 => 0,
            set => set.min((total / 2).max(1)),
        };
        Limits {
            connections: Arc::new(Connections::new(total, per_client, settings.trusted_proxies.clone())),
            streams: Arc::new(Connections::new(usize::MAX, per_client, TrustedProxies::default())),
            requests: ClientRateLimit::per_minute(settings.requests_per_minute, settings.request_burst),
            trusted_proxies: settings.trusted_proxies.clone(),
            accept_errors: AtomicU64::new(0),
            rate_limited: AtomicU64::new(0),
        }
    }

    /// No limits at all (handler tests).
    pub fn unlimited() -> Limits {
        let settings = LimitSettings {
            max_connections: usize::MAX,
            max_connections_per_client: 0,
            requests_per_minute: 0,
            request_burst: 0,
            trusted_proxies: TrustedProxies::default(),
        };
        Limits::new(&settings, u64::MAX)
    }

    pub fn client_address(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        self.trusted_proxies.client_address(peer, headers)
    }

    pub fn count_accept_error(&self) {
        self.accept_errors.fetch_add(1, Relaxed);
    }

    pub fn count_rate_limited(&self) {
        self.rate_limited.fetch_add(1, Relaxed);
    }

    /// Takes a place for a live stream of `client`; a 429 `too-many-connections` when it holds
    /// its share.
    pub fn open_stream(&self, client: IpAddr) -> Result<ConnectionPermit, ApiError> {
        self.streams.open(client).map_err(|_| {
            ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-connections",
                "this client holds as many live streams as it may; close one and retry",
            )
        })
    }

    /// The refusal of a connection, as an HTTP answer written before the request is read.
    pub fn refusal_answer(refusal: ConnectionRefusal) -> Vec<u8> {
        let (error, retry_after) = match refusal {
            ConnectionRefusal::PerClient => (
                ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too-many-connections",
                    "this client holds as many connections as it may; close one and retry",
                ),
                1,
            ),
            ConnectionRefusal::Total => (
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "server-at-capacity",
                    "the server holds as many connections as it may; retry shortly",
                ),
                5,
            ),
        };
        super::headers::written_problem(&error, &[(header::RETRY_AFTER, HeaderValue::from(retry_after))])
    }

    /// The counters, in the Prometheus text format (appended to `/metrics`).
    pub fn render_metrics(&self) -> String {
        let connections = &self.connections;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP tryvoha_connections Open client connections.\n# TYPE tryvoha_connections gauge\n\
             tryvoha_connections {}",
            connections.open_count()
        );
        let _ = writeln!(
            out,
            "# HELP tryvoha_connections_max The cap on open connections.\n# TYPE tryvoha_connections_max gauge\n\
             tryvoha_connections_max {}",
            connections.max_total()
        );
        let _ = writeln!(
            out,
            "# HELP tryvoha_connections_refused_total Connections refused at accept by a cap.\n\
             # TYPE tryvoha_connections_refused_total counter\n\
             tryvoha_connections_refused_total{{cap=\"per_client\"}} {}\n\
             tryvoha_connections_refused_total{{cap=\"total\"}} {}\n\
             tryvoha_connections_refused_total{{cap=\"streams_per_client\"}} {}",
            connections.refused_per_client.load(Relaxed),
            connections.refused_total.load(Relaxed),
            self.streams.refused_per_client.load(Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP tryvoha_accept_errors_total Failed accepts (most often: out of file descriptors).\n\
             # TYPE tryvoha_accept_errors_total counter\ntryvoha_accept_errors_total {}",
            self.accept_errors.load(Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP tryvoha_requests_rate_limited_total Requests refused with 429 rate-limited.\n\
             # TYPE tryvoha_requests_rate_limited_total counter\ntryvoha_requests_rate_limited_total {}",
            self.rate_limited.load(Relaxed)
        );
        out
    }
}
