//! Reading again, every so often, what other nodes of a cluster change in the store beside the
//! log (webhook endpoints, push subscriptions, shelters): one loop for each kind of record.

use std::fmt::Display;
use std::future::Future;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// Calls `reread` every `period` until `stop` (which also ends a read in progress); a failure
/// is logged as being about `what`, and the next period tries again.
pub async fn reread_every<F, T, E>(what: &str, period: Duration, stop: CancellationToken, mut reread: impl FnMut() -> F)
where
    F: Future<Output = Result<T, E>>,
    E: Display,
{
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(period) => {}
        }
        let read = tokio::select! {
            () = stop.cancelled() => return,
            read = reread() => read,
        };
        if let Err(error) = read {
            tracing::warn!(%error, "cannot read the {what} again; later");
        }
    }
}
