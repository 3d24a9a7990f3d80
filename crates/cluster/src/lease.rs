//! Singleton work under a lease. The node that holds the lease runs the work; the others try
//! to take it every quarter of its life. The holder renews it as often; if a renewal fails (the
//! store unreachable, the lease taken after this node stalled), it stops the work before the
//! lease can have run out by its own clock, and competes again. The work is at-least-once with
//! cursors in the store, so a handover repeats the tail the old holder had not recorded; it
//! never skips.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use tryvoha_store::LeaseStore;

/// How long a lease lasts without renewal: a dead holder's work moves within this.
pub const LEASE_TTL: Duration = Duration::from_secs(6);

/// Whether this node does the work now, and how often it took it over (for `/metrics`).
#[derive(Debug, Default)]
pub struct LeaseStatus {
    held: AtomicBool,
    acquired: AtomicU64,
}

impl LeaseStatus {
    pub fn held(&self) -> bool {
        self.held.load(Ordering::Relaxed)
    }

    pub fn times_acquired(&self) -> u64 {
        self.acquired.load(Ordering::Relaxed)
    }
}

/// One piece of singleton work and its lease.
pub struct Singleton {
    pub store: Arc<dyn LeaseStore>,
    /// The lease's name: the work's (`mqtt`, `webhooks`, `push`).
    pub name: &'static str,
    /// This node, as [`crate::node_name`] names it.
    pub holder: String,
    pub ttl: Duration,
    pub status: Arc<LeaseStatus>,
}

impl Singleton {
    /// Runs until `stop`: `work` is started (with a token of its own to stop it) each time this
    /// node takes the lease, stopped and awaited each time it loses it, and at `stop`, after
    /// which the lease is released so that another node takes over at once.
    pub async fn run<W, F>(self, mut work: W, stop: CancellationToken)
    where
        W: FnMut(CancellationToken) -> F,
        F: Future<Output = ()> + Send + 'static,
    {
        // Four tries per life, each given a sixth of it: a holder that missed one renewal
        // tries again before it must stop.
        let every = self.ttl / 4;
        while !stop.is_cancelled() {
            let asked = Instant::now();
            if !self.take().await {
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(every) => continue,
                }
            }
            // The lease lasts `ttl` from before it was asked for, by this node's clock.
            let mut valid_until = asked + self.ttl;
            self.status.held.store(true, Ordering::Relaxed);
            self.status.acquired.fetch_add(1, Ordering::Relaxed);
            tracing::info!(work = self.name, "this node took the lease; running it here");
            let working = CancellationToken::new();
            // Aborted with this task, should it be: the work never outlives its lease's keeper.
            let mut task = tokio_util::task::AbortOnDropHandle::new(tokio::spawn(work(working.clone())));
            let lost = loop {
                tokio::select! {
                    () = stop.cancelled() => break false,
                    ended = &mut task => {
                        // The work ended on its own (a bug): let another node try.
                        tracing::error!(work = self.name, ?ended, "the work ended by itself; giving its lease up");
                        tokio::time::sleep(every).await;
                        break true;
                    }
                    () = tokio::time::sleep(every) => {}
                }
                let asked = Instant::now();
                if self.take().await {
                    valid_until = asked + self.ttl;
                } else if Instant::now() + every + self.ttl / 6 >= valid_until {
                    // Not renewed, and the next try could end after the lease has run out.
                    break true;
                }
            };
            working.cancel();
            if !task.is_finished() {
                let _ = (&mut task).await;
            }
            self.status.held.store(false, Ordering::Relaxed);
            if lost {
                tracing::warn!(work = self.name, "this node lost the lease; stopped the work here");
            }
            self.release().await;
        }
    }

    /// For a server alone on its store (which its data directory's lock keeps to itself): the
    /// work runs here until `stop`, with no lease to take, renew, or lose under load.
    pub async fn run_alone<W, F>(self, work: W, stop: CancellationToken)
    where
        W: FnOnce(CancellationToken) -> F,
        F: Future<Output = ()> + Send + 'static,
    {
        self.status.held.store(true, Ordering::Relaxed);
        self.status.acquired.fetch_add(1, Ordering::Relaxed);
        work(stop).await;
        self.status.held.store(false, Ordering::Relaxed);
    }

    /// Takes or renews the lease; false when another holds it or the store did not answer in
    /// time.
    async fn take(&self) -> bool {
        let (store, name, holder, ttl) = (self.store.clone(), self.name, self.holder.clone(), self.ttl);
        let asked = tokio::task::spawn_blocking(move || store.take_lease(name, &holder, ttl));
        match tokio::time::timeout(self.ttl / 6, asked).await {
            Ok(Ok(Ok(taken))) => taken,
            Ok(Ok(Err(error))) => {
                tracing::warn!(work = self.name, %error, "cannot take or renew the lease");
                false
            }
            Ok(Err(_)) | Err(_) => {
                tracing::warn!(work = self.name, "the store did not answer the lease in time");
                false
            }
        }
    }

    async fn release(&self) {
        let (store, name, holder) = (self.store.clone(), self.name, self.holder.clone());
        let released = tokio::task::spawn_blocking(move || store.release_lease(name, &holder));
        if !matches!(tokio::time::timeout(self.ttl / 3, released).await, Ok(Ok(Ok(())))) {
            tracing::warn!(work = self.name, "cannot release the lease; it runs out by itself");
        }
    }
}
