//! Watching the parts a server cannot live without: the engine's writer thread, the hub's
//! fan-out task and the expiry task. Any of them stopping while the server runs is a failure
//! that must be loud: a server that takes no writes, delivers no events while its streams keep
//! sending heartbeats, or never ends a timed alert, looks alive to everyone who depends on it.
//! So the supervisor cuts every live stream (clients reconnect, elsewhere), stops the server,
//! and says why, so that `run` returns an error and the process exits non-zero. Meanwhile
//! `/healthz` and `/readyz` already answer 503 for the writer and the fan-out (they look at the
//! same parts).

use std::future::Future;
use std::sync::Arc;

use tokio::task::{JoinError, JoinHandle};
use tryvoha_engine::Engine;
use tryvoha_http::Tasks;
use tryvoha_live::Hub;

/// The tasks watched beside the writer (which the engine reports on itself).
pub struct Vital {
    pub fan_out: JoinHandle<()>,
    pub expiry: JoinHandle<()>,
}

/// Watches until `served` resolves (the server has stopped serving: its connections and
/// streams have ended) or a vital part stops first; in that case it closes the hub, stops the
/// server (`tasks`) and returns why. Either way the fan-out and the expiry task have ended when
/// this returns: they are aborted then. (Not before the streams ended: a stream cut by the hub
/// would tell its client it was too slow, instead of that the server is stopping.)
pub async fn supervise(
    engine: Engine,
    hub: Arc<Hub>,
    tasks: Tasks,
    vital: Vital,
    served: impl Future<Output = ()>,
) -> Option<String> {
    let Vital { mut fan_out, mut expiry } = vital;
    // Each branch hands back the tasks still running (a finished handle cannot be awaited again).
    let (failure, running) = tokio::select! {
        _ = served => (None, [Some(fan_out), Some(expiry)]),
        reason = engine.writer_stopped() => (Some(format!("the writer stopped: {reason}")), [Some(fan_out), Some(expiry)]),
        ended = &mut fan_out => (Some(stopped("the fan-out of live events", ended)), [None, Some(expiry)]),
        ended = &mut expiry => (Some(stopped("the expiry of timed alerts", ended)), [Some(fan_out), None]),
    };
    if let Some(reason) = &failure {
        tracing::error!(%reason, "a vital part of the server stopped; closing every stream and shutting down");
        hub.close();
        tasks.stop();
    }
    for task in running.into_iter().flatten() {
        task.abort();
        // Cancelled, as asked; a panic at this point would already have been the failure.
        let _ = task.await;
    }
    failure
}

fn stopped(part: &str, ended: Result<(), JoinError>) -> String {
    match ended {
        Ok(()) => format!("{part} ended"),
        Err(error) if error.is_panic() => format!("{part} panicked"),
        Err(error) => format!("{part} was stopped: {error}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tryvoha_core::RegionRegistry;
    use tryvoha_engine::SystemClock;
    use tryvoha_live::{Filter, Metrics};

    #[tokio::test]
    async fn an_expiry_task_that_ends_is_a_failure_that_stops_the_server_and_cuts_every_stream() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Arc::new(tryvoha_sqlite::SqliteStore::open(&dir.path().join("t.db")).expect("store"));
        let registry = Arc::new(
            RegionRegistry::from_csv("id,parent_id,level,katottg,name_uk,name_en\n1,,oblast,,O,O\n").expect("registry"),
        );
        let engine = Engine::start(store, registry.clone(), Arc::new(SystemClock), None).expect("engine");
        let hub = Hub::new(registry, Arc::new(Metrics::default()), 16);
        let _subscriber = hub.subscribe(Filter::new(Vec::new(), Vec::new(), Vec::new()));
        let tasks = Tasks::default();
        let vital = Vital { fan_out: tokio::spawn(std::future::pending()), expiry: tokio::spawn(async {}) };

        let failure = supervise(engine, hub.clone(), tasks.clone(), vital, std::future::pending()).await;
        assert_eq!(failure.as_deref(), Some("the expiry of timed alerts ended"));
        assert!(tasks.is_stopping(), "the server was told to stop");
        assert_eq!(hub.subscriber_count(), 0, "every stream was cut");
    }
}
