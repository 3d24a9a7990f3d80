//! `tryvoha serve`: wires the store, the registry, the engine and the HTTP API together.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use anyhow::Context;
use std::collections::HashMap;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use tryvoha_core::{Level, RegionRegistry};
use tryvoha_engine::{AdminCredential, Clock, Engine, EngineTasks, SystemClock};
use tryvoha_geo::{Locator, geometry_texts, parse_boundaries, read_shelter_file};
use tryvoha_http::{AppState, BoundaryLayers, CompatAccess, CompatSettings, Detail, Limits, Live, Tasks};
use tryvoha_live::{Hub, Metrics};
use tryvoha_places::Places;
use tryvoha_store::Store;

use crate::config::{LogFormat, Settings};
use crate::store_url::{IfMissing, StoreUrl, lock_store, open_store};
use crate::supervision;

/// The registry of Ukraine (oblasts, raions, hromadas), built by tools/build_ukraine_regions.py.
const BUNDLED_REGIONS: &str = include_str!("../../../data/regions/ukraine.csv");

/// The boundaries of every region of the bundled registry, finest level first, in full and
/// simplified for drawing (tools/build_ukraine_boundaries.py; data/boundaries/NOTICE.md).
const BUNDLED_BOUNDARIES: [(Level, &str, &str); 3] = [
    (
        Level::Hromada,
        include_str!("../../../data/boundaries/ukraine-hromada.geojson"),
        include_str!("../../../data/boundaries/ukraine-hromada-simplified.geojson"),
    ),
    (
        Level::Raion,
        include_str!("../../../data/boundaries/ukraine-raion.geojson"),
        include_str!("../../../data/boundaries/ukraine-raion-simplified.geojson"),
    ),
    (
        Level::Oblast,
        include_str!("../../../data/boundaries/ukraine-oblast.geojson"),
        include_str!("../../../data/boundaries/ukraine-oblast-simplified.geojson"),
    ),
];

/// Kyiv metro stations, seeded into a new data directory as example shelters (ODbL).
const BUNDLED_SHELTERS: &str = include_str!("../../../data/shelters/kyiv-metro.geojson");

pub async fn run_until_signal(settings: Settings) -> anyhow::Result<()> {
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TRYVOHA_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr);
    match settings.log_format {
        LogFormat::Text => logs.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())).init(),
        LogFormat::Json => logs.json().init(),
    }
    raise_open_file_limit();
    let listener = bind(settings.listen).with_context(|| format!("cannot listen on {}", settings.listen))?;
    run(listener, settings, shutdown_signal()).await
}

/// Raises the soft open-file limit to the hard one: each connection holds a descriptor, and the
/// soft limit is often 1024 while the hard one allows far more. Where it cannot be raised the
/// server runs with what it has (the connection cap follows the limit in force).
fn raise_open_file_limit() {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => tracing::info!(open_files = limit, "open-file limit"),
        Err(error) => tracing::warn!(%error, "cannot raise the open-file limit"),
    }
}

/// The open-file limit in force; without one known, a common default.
fn open_file_limit() -> u64 {
    rlimit::Resource::NOFILE.get().map_or(1024, |(soft, _hard)| soft)
}

/// How many connections may wait to be accepted. The default (128) drops SYNs when thousands of
/// subscribers reconnect at once (after a restart, say); the kernel caps it at somaxconn.
const LISTEN_BACKLOG: u32 = 8192;

fn bind(address: std::net::SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if address.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(address)?;
    socket.listen(LISTEN_BACKLOG)
}

/// The server as a function of a listener and a shutdown future. It returns an error if a
/// vital part (the writer, the fan-out of live events, the expiry) stopped: see `supervision`.
///
/// When `shutdown` resolves, the listener closes (new connections are refused), the live
/// streams end, and the requests in flight are answered; `run` returns once every connection
/// and stream has ended (or `settings.drain_deadline` passed, which is logged), the fan-out and
/// expiry tasks are stopped, and the writer thread, having answered its last request, is joined.
pub async fn run(
    listener: TcpListener,
    settings: Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    run_with(listener, settings, Seams::default(), shutdown).await
}

/// The fan-out task's future, as [`Seams::fan_out`] receives and returns it.
pub type FanOut = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Wraps a store in another, as [`Seams::store`] does.
pub type StoreWrapper = Box<dyn FnOnce(Arc<dyn Store>) -> Arc<dyn Store> + Send>;

/// Where a test may put its own part in place of the real one, to make it fail on purpose.
#[doc(hidden)]
#[derive(Default)]
pub struct Seams {
    /// Wraps the SQLite store the engine uses (a store whose append panics or misreports).
    pub store: Option<StoreWrapper>,
    /// Wraps the hub's fan-out future (one that dies on a signal).
    pub fan_out: Option<Box<dyn FnOnce(FanOut) -> FanOut + Send>>,
    /// The engine's clock instead of the system's (to make alerts expire).
    pub clock: Option<Arc<dyn Clock>>,
}

#[doc(hidden)]
pub async fn run_with(
    listener: TcpListener,
    settings: Settings,
    seams: Seams,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let registry = Arc::new(load_registry(&settings)?);
    std::fs::create_dir_all(&settings.data)
        .with_context(|| format!("cannot create the data directory {}", settings.data.display()))?;
    // Held until this function returns: the directory (and the store) is this server's as long
    // as it serves.
    let _locks = lock_store(&settings.data, &settings.store, IfMissing::Create)?;
    let mut store = open_store(&settings.store, IfMissing::Create)?;
    let admin = settings.admin_token.as_ref().map(|secret| AdminCredential::new(&secret.0));
    if let Some(wrap) = seams.store {
        store = wrap(store);
    }
    let clock = seams.clock.unwrap_or_else(|| Arc::new(SystemClock));
    let (engine, EngineTasks { writer, expiry }) =
        Engine::start_with_tasks(store.clone(), registry.clone(), clock, admin)
            .context("cannot load the active alerts")?;
    let store_for_channels = store.clone();
    let store_for_cluster = store.clone();
    let (places, boundaries) = load_places(store, &registry, &settings)?;
    let web = Arc::new(tryvoha_web::Web::new(&registry, &boundaries.drawn()));
    if let Some(secret) = engine.ensure_admin().await.context("cannot create the first admin token")? {
        println!("Created the admin token; it is shown only this once, keep it safe:\n\n    {secret}\n");
        println!("(Set TRYVOHA_ADMIN_TOKEN or --admin-token-file to choose your own.)");
    }
    // A store other nodes share: a cluster's, whose nodes sign with one key and follow one log.
    let shared = matches!(settings.store, StoreUrl::Postgres { .. });
    let signer = crate::keys::signer(store_for_channels.as_ref(), shared, &settings.signing_key_file)?;
    let signer = Arc::new(signer.with_authority(settings.authority.clone()));
    let vapid = Arc::new(crate::keys::vapid(
        store_for_channels.as_ref(),
        shared,
        &settings.data.join(crate::keys::VAPID_FILE),
    )?);
    let hub = Hub::new(registry.clone(), Arc::new(Metrics::default()), settings.subscriber_queue);
    // The fan-out task follows the engine's events until the server stops it; until then the
    // supervisor watches it (and the writer, and the expiry), and it stopping is a failure.
    let mut fan_out: FanOut = Box::pin(hub.clone().run(engine.event_source(), signer.clone()));
    if let Some(wrap) = seams.fan_out {
        fan_out = wrap(fan_out);
    }
    let tasks = Tasks::new(settings.drain_deadline);
    let vital = supervision::Vital { fan_out: tokio::spawn(fan_out), expiry };
    let stopped_serving = CancellationToken::new();
    let supervisor = tokio::spawn(supervision::supervise(
        engine.clone(),
        hub.clone(),
        tasks.clone(),
        vital,
        stopped_serving.clone().cancelled_owned(),
    ));
    let channels = Arc::new(
        crate::channels::Channels::start(
            settings.mqtt.as_ref(),
            &settings.webhooks,
            &settings.push,
            crate::channels::Parts {
                engine: &engine,
                hub: &hub,
                signer: &signer,
                store: store_for_channels,
                registry: &registry,
                vapid,
                shared,
            },
        )
        .await?,
    );
    let cluster =
        crate::cluster::Cluster::start(&settings, &engine, &places, store_for_cluster.as_ref(), shared).await?;
    // Shelter statuses follow the log (this node's events and the others'), until the server
    // has stopped serving.
    let statuses_stop = CancellationToken::new();
    let statuses = tokio::spawn(places.clone().follow_statuses(engine.event_source(), statuses_stop.clone()));
    let live = Live { hub, signer, heartbeat: settings.heartbeat, write_timeout: settings.stream_write_timeout };
    let shelters = places.shelters().len();
    let compat = Arc::new(CompatAccess::new(CompatSettings {
        anonymous: settings.compat_anonymous,
        per_minute: settings.compat_rate_limit,
    }));
    let limits = Arc::new(Limits::new(&settings.limits, open_file_limit()));
    let address = listener.local_addr().context("the listener has no address")?;
    tracing::info!(
        regions = registry.len(),
        active_alerts = engine.book().active().count(),
        shelters,
        max_connections = limits.connections.max_total(),
        data = %settings.data.display(),
        store = %settings.store,
        "tryvoha serving http://{address}"
    );
    let served = tryvoha_http::serve(
        listener,
        AppState {
            engine,
            live,
            places,
            boundaries,
            compat,
            cap_sender: settings.cap_sender.as_str().into(),
            request_timeout: tryvoha_http::REQUEST_TIMEOUT,
            summaries: Default::default(),
            public_url: settings.public_url.clone().unwrap_or_else(|| format!("http://{address}")).into(),
            cap_max_age: settings.cap_max_age,
            limits,
            cors: Arc::new(settings.cors),
            tasks: tasks.clone(),
            web,
            pages: Default::default(),
            webhooks: Some(channels.webhooks.clone()),
            push: Some(channels.push.clone()),
            channel_metrics: {
                let (channels, bus) = (channels.clone(), cluster.bus_status());
                Arc::new(move || {
                    let mut text = channels.metrics();
                    text.push_str(&bus.as_ref().map(|bus| bus.render_metrics()).unwrap_or_default());
                    text
                })
            },
            bus_up: cluster.bus_status().map(|bus| Arc::new(move || bus.up()) as tryvoha_http::LinkCheck),
        },
        shutdown,
    )
    .await;
    // Every connection has ended (or the drain deadline passed): the supervisor stops the
    // fan-out and the expiry, then the writer answers what is still queued and its thread is
    // joined (a panic there is reported too).
    tasks.stop();
    // The channels stop before the writer, so that their last cursors are written.
    channels.stop().await;
    cluster.stop().await;
    statuses_stop.cancel();
    let _ = statuses.await;
    stopped_serving.cancel();
    let failure = supervisor.await.unwrap_or_else(|error| Some(format!("the supervisor failed: {error}")));
    let writer_ended = writer.stop().await;
    served.context("the HTTP server failed")?;
    if let Some(reason) = failure {
        anyhow::bail!("the server failed: {reason}");
    }
    writer_ended.map_err(|reason| anyhow::anyhow!("the server failed: {reason}"))
}

/// The locator, the map layers and the shelter registry. The bundled boundaries and example
/// shelters belong to the bundled registry; with another registry there are none (yet).
fn load_places(
    store: Arc<dyn Store>,
    registry: &RegionRegistry,
    settings: &Settings,
) -> anyhow::Result<(Arc<Places>, Arc<BoundaryLayers>)> {
    let bundled_registry = settings.regions.is_none();
    let mut levels = Vec::new();
    let mut layers = HashMap::new();
    let mut shelters = Vec::new();
    if bundled_registry {
        for (level, full, simplified) in BUNDLED_BOUNDARIES {
            let areas = parse_boundaries(full)
                .with_context(|| format!("the bundled {} boundaries are broken", level.as_str()))?;
            if let Some(area) = areas.iter().find(|a| registry.get(a.region).is_none()) {
                anyhow::bail!("the bundled boundaries name region {}, which is not in the registry", area.region);
            }
            levels.push(areas);
            for (detail, text) in [(Detail::Full, full), (Detail::Simplified, simplified)] {
                layers.insert((level, detail), geometry_texts(text).context("the bundled boundaries are broken")?);
            }
        }
        let rows = read_shelter_file(BUNDLED_SHELTERS).context("the bundled shelters are broken")?;
        shelters = rows.into_iter().filter_map(|row| row.result.ok()).collect();
    }
    let places = Places::load(store, Locator::new(levels), &shelters)
        .context("cannot load the shelters")?
        .with_shelter_distance(f64::from(settings.shelter_max_distance_m));
    Ok((Arc::new(places), Arc::new(BoundaryLayers::covering(layers, registry))))
}

fn load_registry(settings: &Settings) -> anyhow::Result<RegionRegistry> {
    match &settings.regions {
        None => RegionRegistry::from_csv(BUNDLED_REGIONS).context("the bundled region registry is broken"),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the regions file {}", path.display()))?;
            RegionRegistry::from_csv(&text).with_context(|| format!("the regions file {} is invalid", path.display()))
        }
    }
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(_) => return interrupt.await.unwrap_or(()),
        };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    interrupt.await.unwrap_or(());
    tracing::info!("shutting down: finishing the requests in flight");
}
