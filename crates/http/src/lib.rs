//! The HTTP API: JSON resources under `/api/v1`, errors as RFC 9457 problem documents, and the
//! OpenAPI description at `/api/openapi.json`.
//!
//! Only this crate knows status codes and wire shapes of requests. Handlers extract and
//! authorize, call the [`Engine`], and map the result; they hold no state of their own. What a
//! CAP message means is `tryvoha_cap_map`'s, what the compatible APIs say is `tryvoha_compat`'s,
//! where a point is and which shelters are near is `tryvoha_places`'s: the handlers parse, call
//! them, execute and render.
//!
//! `transport` holds what lies between a socket and the feature routers: the accept loop, the
//! direct SSE path, the one header policy, problem documents, auth, extractors and limits.
//! The server is a function of a listener and a shutdown future ([`serve`]), so tests bind
//! port 0.

mod alerts;
mod audit;
mod cap;
mod compat;
mod events;
// The parsers of untrusted request bytes, for the fuzz targets in `crates/http/fuzz`.
#[doc(hidden)]
pub mod fuzzing;
mod health;
mod history;
mod incidents;
pub(crate) mod openapi;
mod pages;
mod places;
mod problem_pages;
mod push;
mod regions;
mod rendered;
mod stream;
pub use push::{PushState, SUBSCRIPTIONS_PER_MINUTE};
mod tokens;
mod transport;
mod webhooks;

// Feature handlers name the transport's pieces by these short paths (`crate::problem::ApiError`).
use transport::{auth, body, cors, limits, listener, problem};

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tryvoha_engine::Engine;
use tryvoha_live::{Hub, Signer};
use tryvoha_places::Places;

pub use compat::{CompatAccess, CompatSettings};
pub use cors::Cors;
pub use history::Summaries;
pub use limits::{LimitSettings, Limits, TrustedProxies};
pub use openapi::document_json as openapi_document;
pub use pages::PageCache;
pub use places::{BOUNDARY_ATTRIBUTION, BoundaryLayers, Detail};
pub use problem::ApiError;
pub use stream::{DEFAULT_HEARTBEAT, DEFAULT_WRITE_TIMEOUT};
pub use transport::tasks::{DEFAULT_DRAIN_DEADLINE, Tasks};

/// The largest request body accepted. Alert declarations are a few hundred bytes; 64 KiB leaves
/// room for long texts in both languages and refuses anything that is not an API call.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Handles only: cloning is cheap and every handler gets the same engine.
#[derive(Clone)]
pub struct AppState {
    pub engine: Engine,
    pub live: Live,
    pub places: Arc<Places>,
    pub boundaries: Arc<BoundaryLayers>,
    pub compat: Arc<CompatAccess>,
    /// The `sender` of the CAP messages this server publishes.
    pub cap_sender: Arc<str>,
    /// How long a request may take to be read and answered (the head of the answer: a stream's
    /// body may then last for hours). Bounds clients that send their body slowly.
    pub request_timeout: Duration,
    /// The statistics summary, computed once per log position (`Summaries::default()`).
    pub summaries: Arc<Summaries>,
    /// The base of every absolute link published (the Atom feed), without a trailing `/`:
    /// configured, never taken from a request's `Host`.
    pub public_url: Arc<str>,
    /// How old a received CAP message's `sent` may be.
    pub cap_max_age: Duration,
    /// Connection caps, rate limits and who a client is (`limits`).
    pub limits: Arc<Limits>,
    /// Which web pages may use the API (`cors`).
    pub cors: Arc<Cors>,
    /// The stop signal, and every connection and stream the server waits for when it stops.
    pub tasks: Tasks,
    /// The web pages' map geometry and assets, made once at start.
    pub web: Arc<tryvoha_web::Web>,
    /// The pages as rendered and compressed, shared per log position and minute.
    pub pages: Arc<PageCache>,
    /// Web Push subscriptions and the VAPID key; `None` where the server runs without them.
    pub push: Option<push::PushState>,
    /// The webhook endpoints; `None` where the server runs without them (handler tests).
    pub webhooks: Option<Arc<tryvoha_webhooks::Webhooks>>,
    /// What the channels beside the streams (MQTT, webhooks) add to `/metrics`.
    pub channel_metrics: ChannelMetrics,
    /// In cluster mode, whether the link to the cluster bus (NATS) is up; `None` without a bus.
    pub bus_up: Option<LinkCheck>,
}

/// Renders a part of `/metrics` that lives outside `http`.
pub type ChannelMetrics = Arc<dyn Fn() -> String + Send + Sync>;

/// Whether a link to another service is up now.
pub type LinkCheck = Arc<dyn Fn() -> bool + Send + Sync>;

impl AppState {
    /// A state for handler tests: the given engine, streams and places, no map layers, the
    /// compatible APIs behind tokens without a rate limit, no limits, the default CORS policy,
    /// sender `tryvoha-test` at `https://alerts.example.org`. A test changes what it needs with
    /// `AppState { field, ..AppState::for_tests(…) }`, so a new field needs a default here, not
    /// an edit in every test.
    #[doc(hidden)]
    pub fn for_tests(engine: Engine, live: Live, places: Arc<Places>) -> AppState {
        let web = Arc::new(tryvoha_web::Web::new(engine.book().registry(), &[]));
        AppState {
            engine,
            live,
            places,
            boundaries: Arc::new(BoundaryLayers::new(Default::default())),
            compat: Arc::new(CompatAccess::new(CompatSettings { anonymous: false, per_minute: 0 })),
            cap_sender: "tryvoha-test".into(),
            request_timeout: REQUEST_TIMEOUT,
            summaries: Default::default(),
            public_url: "https://alerts.example.org".into(),
            cap_max_age: Duration::from_secs(3600),
            limits: Arc::new(Limits::unlimited()),
            cors: Arc::new(Cors::default_policy()),
            tasks: Tasks::default(),
            web,
            pages: Default::default(),
            webhooks: None,
            push: None,
            channel_metrics: Arc::new(String::new),
            bus_up: None,
        }
    }
}

/// The default [`AppState::request_timeout`].
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What the live streams need: the hub, the signing key, the heartbeat interval, and how long
/// a frame may wait for room in a subscriber's socket.
#[derive(Clone)]
pub struct Live {
    pub hub: Arc<Hub>,
    pub signer: Arc<Signer>,
    pub heartbeat: Duration,
    pub write_timeout: Duration,
}

/// The feature routers, inside the transport's layers (`transport::around`).
pub fn router(state: AppState) -> Router {
    let features = Router::new()
        .merge(health::router())
        .merge(openapi::router())
        .merge(stream::router())
        .merge(compat::router())
        .merge(cap::router())
        .merge(problem_pages::router())
        .merge(pages::router())
        .nest(
            "/api/v1",
            Router::new()
                .merge(regions::router())
                .merge(places::router())
                .merge(history::router())
                .merge(alerts::router())
                .merge(incidents::router())
                .merge(events::router())
                .merge(tokens::router())
                .merge(webhooks::router())
                .merge(push::router()),
        );
    transport::around(features, stream::streams(), state)
}

/// Serves the API on `listener` until `shutdown` resolves or [`Tasks::stop`] is called on the
/// state's tasks; then closes the listener, ends the live streams, finishes the requests in
/// flight, and returns once every connection has ended (or the drain deadline passed).
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    listener::serve(listener, state, shutdown).await
}
