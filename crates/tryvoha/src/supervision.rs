//! Watching the parts a server cannot live without: the engine's writer thread and the hub's
//! fan-out task. Either stopping while the server runs is a failure that must be loud: a
//! server that takes no writes, or delivers no events while its streams keep sending
//! heartbeats, looks alive to everyone who depends on it. So the supervisor cuts every live
//! stream (clients reconnect, elsewhere), and says why, so that the server stops and exits
//! non-zero. Meanwhile `/healthz` and `/readyz` already answer 503 (they look at the same parts).

use std::sync::Arc;

use tokio::task::JoinHandle;
use tryvoha_engine::Engine;
use tryvoha_live::Hub;

/// Resolves when the writer or the fan-out stops, with what stopped and why. Meant to be
/// dropped (or aborted) when the server stops on its own: then neither end is a failure.
pub async fn first_failure(engine: Engine, hub: Arc<Hub>, fan_out: JoinHandle<()>) -> String {
    let reason = tokio::select! {
        reason = engine.writer_stopped() => format!("the writer stopped: {reason}"),
        ended = fan_out => match ended {
            Ok(()) => "the fan-out of live events ended".to_owned(),
            Err(error) if error.is_panic() => "the fan-out of live events panicked".to_owned(),
            Err(error) => format!("the fan-out of live events was stopped: {error}"),
        },
    };
    tracing::error!(%reason, "a vital part of the server stopped; closing every stream and shutting down");
    hub.close();
    reason
}
