//! What a node of a cluster runs beside the server (docs/DEPLOYMENT.md): the bus, which
//! publishes this node's events and hands the others' to its engine, and, on a shared store,
//! the reading again of what other nodes changed beside the log (the shelters, the times to
//! shelter). Started after
//! the engine and stopped before its writer, as the channels are.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tryvoha_cluster::{Bus, BusStatus, reread_every};
use tryvoha_engine::Engine;
use tryvoha_places::Places;
use tryvoha_store::Store;

use crate::config::Settings;

/// How often a node reads again the shelters and the times to shelter other nodes changed.
const SHELTER_RELOAD: Duration = Duration::from_secs(5);
/// How long a stopping cluster task may take.
const STOP_DEADLINE: Duration = Duration::from_secs(5);

pub struct Cluster {
    stop: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
    bus: Option<Arc<BusStatus>>,
}

impl Cluster {
    pub async fn start(
        settings: &Settings,
        engine: &Engine,
        places: &Arc<Places>,
        store: &dyn Store,
        shared: bool,
    ) -> anyhow::Result<Cluster> {
        let stop = CancellationToken::new();
        let mut tasks = Vec::new();
        let mut status = None;
        if let Some(url) = &settings.bus {
            let bus = Bus::connect(url, settings.cluster_name.as_str(), &cluster_id(store)?)
                .await
                .with_context(|| format!("cannot use the bus {url}"))?;
            status = Some(bus.status.clone());
            tasks.push(tokio::spawn(bus.clone().publish(engine.committed(), stop.child_token())));
            let offered = engine.clone();
            tasks.push(tokio::spawn(bus.follow(move |event| offered.offer(event), stop.child_token())));
            tracing::info!(bus = %url, cluster = %settings.cluster_name, "following the cluster bus");
        }
        if shared {
            let places = places.clone();
            tasks.push(tokio::spawn(reread_every("shelters", SHELTER_RELOAD, stop.child_token(), move || {
                let places = places.clone();
                async move { places.reload().await }
            })));
            let times = engine.clone();
            tasks.push(tokio::spawn(reread_every("times to shelter", SHELTER_RELOAD, stop.child_token(), move || {
                let times = times.clone();
                async move { times.reload_shelter_times().await }
            })));
        }
        Ok(Cluster { stop, tasks, bus: status })
    }

    pub fn bus_status(&self) -> Option<Arc<BusStatus>> {
        self.bus.clone()
    }

    /// Stops the bus and the rereading; a task still waiting on NATS (a stream being set up
    /// while it is down) after `STOP_DEADLINE` is stopped where it stands.
    pub async fn stop(self) {
        self.stop.cancel();
        for task in self.tasks {
            let abort = task.abort_handle();
            if tokio::time::timeout(STOP_DEADLINE, task).await.is_err() {
                tracing::warn!("a cluster task did not stop in time; stopped");
                abort.abort();
            }
        }
    }
}

/// The cluster's id, made by the first node and kept in the store: what tells this cluster's
/// bus messages from another's that shares the NATS server and the name.
fn cluster_id(store: &dyn Store) -> anyhow::Result<String> {
    // The first node's name (host, process, start time) is as good an id as any: no other
    // cluster's first node had it.
    let made = tryvoha_cluster::node_name();
    let kept = store.offer_cluster_key("bus-id", made.as_bytes()).context("cannot read the cluster's id")?;
    String::from_utf8(kept).context("the cluster's id in the store is not text")
}
