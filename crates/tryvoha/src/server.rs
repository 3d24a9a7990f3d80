//! `tryvoha serve`: wires the store, the registry, the engine and the HTTP API together.

use std::future::Future;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tryvoha_core::RegionRegistry;
use tryvoha_engine::{AdminCredential, Engine, SystemClock};
use tryvoha_http::{AppState, Live};
use tryvoha_live::{Hub, Metrics, Signer};
use tryvoha_sqlite::SqliteStore;

use crate::config::Settings;

/// The registry of Ukraine (oblasts, raions, hromadas), built by tools/build_ukraine_regions.py.
const BUNDLED_REGIONS: &str = include_str!("../../../data/regions/ukraine.csv");

pub async fn run_until_signal(settings: Settings) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TRYVOHA_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let listener =
        TcpListener::bind(settings.listen).await.with_context(|| format!("cannot listen on {}", settings.listen))?;
    run(listener, settings, shutdown_signal()).await
}

/// The server as a function of a listener and a shutdown future.
pub async fn run(
    listener: TcpListener,
    settings: Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let registry = Arc::new(load_registry(&settings)?);
    std::fs::create_dir_all(&settings.data)
        .with_context(|| format!("cannot create the data directory {}", settings.data.display()))?;
    let database = settings.data.join("tryvoha.db");
    let store = SqliteStore::open(&database).with_context(|| format!("cannot open {}", database.display()))?;
    let admin = settings.admin_token.as_ref().map(|secret| AdminCredential::new(&secret.0));
    let engine = Engine::start(Arc::new(store), registry.clone(), Arc::new(SystemClock), admin)
        .context("cannot load the active alerts")?;
    if let Some(secret) = engine.ensure_admin().await.context("cannot create the first admin token")? {
        println!("Created the admin token; it is shown only this once, keep it safe:\n\n    {secret}\n");
        println!("(Set TRYVOHA_ADMIN_TOKEN or --admin-token-file to choose your own.)");
    }
    let key_path = settings.data.join("signing-key");
    let signer =
        Arc::new(Signer::load_or_create(&key_path).with_context(|| format!("cannot load {}", key_path.display()))?);
    let hub = Hub::new(registry.clone(), Arc::new(Metrics::default()), settings.subscriber_queue);
    // The fan-out task ends when the engine's broadcast closes, i.e. when the server is done.
    tokio::spawn(hub.clone().run(engine.committed(), signer.clone()));
    let live = Live { hub, signer, heartbeat: settings.heartbeat };
    let address = listener.local_addr().context("the listener has no address")?;
    tracing::info!(
        regions = registry.len(),
        active_alerts = engine.book().active().count(),
        data = %settings.data.display(),
        "tryvoha serving http://{address}"
    );
    tryvoha_http::serve(listener, AppState { engine, live }, shutdown).await.context("the HTTP server failed")
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
