//! What a node of a cluster runs beside the server (docs/DEPLOYMENT.md): the bus, which
//! publishes this node's events and hands the others' to its engine, and, on a shared store,
//! the reading again of what other nodes changed beside the log (the shelters). Started after
//! the engine and stopped before its writer, as the channels are.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tryvoha_cluster::{Bus, BusStatus};
use tryvoha_engine::Engine;
use tryvoha_places::Places;

use crate::config::Settings;

/// How often a node reads again the shelters other nodes changed.
const SHELTER_RELOAD: Duration = Duration::from_secs(5);

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
        shared: bool,
    ) -> anyhow::Result<Cluster> {
        let stop = CancellationToken::new();
        let mut tasks = Vec::new();
        let mut status = None;
        if let Some(url) = &settings.bus {
            let bus = Bus::connect(url, settings.cluster_name.as_str())
                .await
                .with_context(|| format!("cannot use the bus {url}"))?;
            status = Some(bus.status.clone());
            tasks.push(tokio::spawn(bus.clone().publish(engine.committed(), stop.child_token())));
            let offered = engine.clone();
            tasks.push(tokio::spawn(bus.follow(move |event| offered.offer(event), stop.child_token())));
            tracing::info!(bus = %url, cluster = %settings.cluster_name, "following the cluster bus");
        }
        if shared {
            let (places, stopped) = (places.clone(), stop.child_token());
            tasks.push(tokio::spawn(async move {
                loop {
                    tokio::select! {
                        () = stopped.cancelled() => return,
                        () = tokio::time::sleep(SHELTER_RELOAD) => {}
                    }
                    if let Err(error) = places.reload().await {
                        tracing::warn!(%error, "cannot read the shelters again; later");
                    }
                }
            }));
        }
        Ok(Cluster { stop, tasks, bus: status })
    }

    pub fn bus_status(&self) -> Option<Arc<BusStatus>> {
        self.bus.clone()
    }

    pub async fn stop(self) {
        self.stop.cancel();
        for task in self.tasks {
            let _ = task.await;
        }
    }
}
