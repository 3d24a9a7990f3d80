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
mod reserve;

use std::fmt::Write as _;
use std::io;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use tokio::net::{TcpListener, TcpStream};

pub use accept::AcceptBackoff;
pub use client::{ClientAddress, ClientKey, TrustedProxies};
pub use connections::{ConnectionPermit, ConnectionRefusal, Connections};
pub use declared_body::refuse_oversized_bodies;
pub use rate::{ClientRateLimit, limit_requests, rate_limited, retry_after_secs, with_retry_after};
pub use reserve::ReserveDescriptor;

use crate::problem::ApiError;

/// File descriptors kept back from connections when their cap follows the open-file limit
/// (`max_connections` = 0), so that at the limit the cap's 503 is what answers and the rest of
/// the server keeps what it needs: a process out of descriptors cannot open a socket to a push
/// service or a webhook, nor a file SQLite asks for. Counted for the busiest moment, an alert,
/// when subscribers and outgoing requests peak together:
///
/// - the process itself, [`PROCESS_FILES`];
/// - Web Push, [`PUSH_FILES`]: one socket per request (HTTP/1.1), up to
///   [`tryvoha_push::sender::PER_SERVICE`] in flight to each push service at once, and four
///   services are common (Google's, Mozilla's, Apple's, Microsoft's);
/// - the other channels, [`CHANNEL_FILES`]: one request at a time per webhook endpoint, with a
///   kept-alive socket or two beside it, and one connection to the MQTT broker.
///
/// 64 + 4 × 128 + 64 = 640. A limit under twice that keeps back half (a server that small
/// should have its limit raised: docs/limits.md).
pub const RESERVED_FILES: u64 = PROCESS_FILES + PUSH_FILES + CHANNEL_FILES;

/// What the process holds whatever its clients do: 28 at start on an embedded store (measured
/// in /proc/PID/fd: stdio, the runtime's epoll and waker, the listener, SQLite's writer and six
/// readers with the database, its WAL and the shared-memory index, the data directory's lock,
/// the reserve descriptor); the rest is room for PostgreSQL's nine connections and the cluster
/// bus instead of SQLite, DNS lookups in flight, and a refused connection's moment of life.
pub const PROCESS_FILES: u64 = 64;
/// Four push services, each with as many requests in flight as the push sender allows.
pub const PUSH_FILES: u64 = 4 * tryvoha_push::sender::PER_SERVICE as u64;
/// Webhook endpoints (a few dozen) and the MQTT broker.
pub const CHANNEL_FILES: u64 = 64;

/// What the operator chose.
#[derive(Clone, Debug)]
pub struct LimitSettings {
    /// Connections in all; 0 means the open-file limit less `RESERVED_FILES` (640; or less half of
    /// it, for a limit under twice that).
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
        let kept_back = RESERVED_FILES.min(open_files / 2);
        usize::try_from((open_files - kept_back).max(16)).unwrap_or(usize::MAX)
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
    // A std mutex: only the accept loop takes it, for a few system calls, never across an await.
    reserve: Mutex<ReserveDescriptor>,
    accept_errors: AtomicU64,
    /// Connections answered 503 through the reserve descriptor, `accept` having failed for want
    /// of descriptors.
    refused_out_of_files: AtomicU64,
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
            // Opened with the server, while descriptors are still to be had.
            reserve: Mutex::new(ReserveDescriptor::open()),
            accept_errors: AtomicU64::new(0),
            refused_out_of_files: AtomicU64::new(0),
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

    /// After `accept` failed with `error`: if the descriptors ran out, the connections waiting
    /// are answered 503 `server-at-capacity` through the reserve descriptor
    /// (`ReserveDescriptor`) instead of hanging in the kernel's queue, and counted. Returns
    /// how many were answered.
    pub fn refuse_waiting(&self, listener: &TcpListener, error: &io::Error) -> usize {
        let mut reserve = self.reserve.lock().unwrap_or_else(PoisonError::into_inner);
        let answered = reserve.answer_waiting(listener, error);
        self.refused_out_of_files.fetch_add(answered as u64, Relaxed);
        answered
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

    /// Writes `refusal` on a connection just accepted and reads away what the client sent, so
    /// that closing it (the caller drops it next) does not reset the connection before the
    /// answer is read. The send buffer of a new socket is empty: the short answer fits without
    /// waiting.
    pub fn write_refusal(stream: &TcpStream, refusal: ConnectionRefusal) {
        let _ = stream.try_write(&Limits::refusal_answer(refusal));
        let mut sink = [0u8; 1024];
        for _ in 0..16 {
            if !matches!(stream.try_read(&mut sink), Ok(n) if n > 0) {
                break;
            }
        }
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
            "# HELP tryvoha_connections_refused_total Connections refused at accept: by a cap, or \
             (open_files) when accept found no file descriptor left.\n\
             # TYPE tryvoha_connections_refused_total counter\n\
             tryvoha_connections_refused_total{{cap=\"per_client\"}} {}\n\
             tryvoha_connections_refused_total{{cap=\"total\"}} {}\n\
             tryvoha_connections_refused_total{{cap=\"streams_per_client\"}} {}\n\
             tryvoha_connections_refused_total{{cap=\"open_files\"}} {}",
            connections.refused_per_client.load(Relaxed),
            connections.refused_total.load(Relaxed),
            self.streams.refused_per_client.load(Relaxed),
            self.refused_out_of_files.load(Relaxed)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_derived_cap_keeps_descriptors_back_for_the_rest_of_the_server() {
        let cases = [(0, 16), (20, 16), (256, 128), (1024, 512), (1280, 640), (4096, 3456), (1 << 20, (1 << 20) - 640)];
        for (open_files, expected) in cases {
            assert_eq!(LimitSettings::connections_for_open_files(open_files), expected, "{open_files} open files");
        }
    }

    #[test]
    fn refusals_at_the_open_file_limit_are_a_cap_of_their_own_in_the_metrics() {
        let metrics = Limits::unlimited().render_metrics();
        assert!(metrics.contains("tryvoha_connections_refused_total{cap=\"open_files\"} 0\n"), "{metrics}");
        let help = metrics.lines().find(|line| line.starts_with("# HELP tryvoha_connections_refused_total"));
        assert!(help.is_some_and(|help| help.contains("open_files")), "{metrics}");
    }
}
