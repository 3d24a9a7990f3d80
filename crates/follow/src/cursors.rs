//! A channel's cursors: moved in memory as its far side acknowledges, written to the store in
//! batches.
//!
//! Writing a cursor per acknowledgement would cost one fsync per event per consumer (a hundred
//! webhook endpoints, a hundred fsyncs per event, each taking the store's write lock from the
//! engine). A keeper writes every cursor that moved in one `set_cursors` at most every
//! `interval`, and once more when its channel stops. After a crash a consumer repeats at most
//! what was acknowledged in the last interval: delivery is at least once, never skipping.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tryvoha_core::Seq;
use tryvoha_store::{CursorMove, CursorStore, StoreError};

pub struct CursorKeeper {
    store: Arc<dyn CursorStore>,
    positions: Mutex<HashMap<String, Position>>,
}

#[derive(Clone, Copy)]
struct Position {
    /// What the store holds.
    stored: Seq,
    /// What the far side acknowledged; ahead of `stored` until the next flush.
    acknowledged: Seq,
}

impl CursorKeeper {
    pub fn new(store: Arc<dyn CursorStore>) -> Arc<CursorKeeper> {
        Arc::new(CursorKeeper { store, positions: Mutex::default() })
    }

    /// Where `consumer` stands: what it acknowledged in this process, or what the store holds.
    pub async fn load(&self, consumer: &str) -> Result<Seq, StoreError> {
        if let Some(position) = self.lock().get(consumer) {
            return Ok(position.acknowledged);
        }
        let store = self.store.clone();
        let name = consumer.to_owned();
        let stored = tokio::task::spawn_blocking(move || store.cursor(&name))
            .await
            .map_err(|panic| StoreError::Unavailable(panic.into()))??;
        let mut positions = self.lock();
        let position = positions.entry(consumer.to_owned()).or_insert(Position { stored, acknowledged: stored });
        Ok(position.acknowledged)
    }

    /// Where `consumer` stands; a consumer never seen starts at `head` (it delivers what is
    /// committed from now on, not the whole log), stored at once so that a restart before its
    /// first acknowledgement still starts there.
    pub async fn start(&self, consumer: &str, head: Seq) -> Result<Seq, StoreError> {
        if let Some(position) = self.lock().get(consumer) {
            return Ok(position.acknowledged);
        }
        let store = self.store.clone();
        let name = consumer.to_owned();
        let stored = tokio::task::spawn_blocking(move || match store.stored_cursor(&name)? {
            Some(seq) => Ok(seq),
            None => store.set_cursor(&name, 0, head).map(|()| head),
        })
        .await
        .map_err(|panic| StoreError::Unavailable(panic.into()))??;
        let mut positions = self.lock();
        let position = positions.entry(consumer.to_owned()).or_insert(Position { stored, acknowledged: stored });
        Ok(position.acknowledged)
    }

    /// The far side has everything up to `seq`. Never moves a cursor back. A consumer not
    /// loaded or started (or forgotten since: a removed endpoint whose sender finishes) is
    /// ignored, so that nothing of it is written.
    pub fn acknowledge(&self, consumer: &str, seq: Seq) {
        if let Some(position) = self.lock().get_mut(consumer) {
            position.acknowledged = position.acknowledged.max(seq);
        }
    }

    /// What `consumer` has acknowledged in this process, if anything was loaded or acknowledged.
    pub fn acknowledged(&self, consumer: &str) -> Option<Seq> {
        self.lock().get(consumer).map(|position| position.acknowledged)
    }

    /// Stops keeping `consumer` (its store row is removed by whoever removed the consumer).
    pub fn forget(&self, consumer: &str) {
        self.lock().remove(consumer);
    }

    /// Writes every cursor that moved since the last flush, in one durable write.
    pub async fn flush(&self) -> Result<usize, StoreError> {
        let moves: Vec<CursorMove> = self
            .lock()
            .iter()
            .filter(|(_, p)| p.acknowledged != p.stored)
            .map(|(consumer, p)| CursorMove { consumer: consumer.clone(), expected: p.stored, to: p.acknowledged })
            .collect();
        if moves.is_empty() {
            return Ok(0);
        }
        let store = self.store.clone();
        let written = moves.clone();
        let result = tokio::task::spawn_blocking(move || store.set_cursors(&written))
            .await
            .map_err(|panic| StoreError::Unavailable(panic.into()))?;
        let mut positions = self.lock();
        match result {
            Ok(()) => {
                for CursorMove { consumer, to, .. } in &moves {
                    if let Some(position) = positions.get_mut(consumer) {
                        position.stored = *to;
                    }
                }
                Ok(moves.len())
            }
            Err(StoreError::CursorMoved { consumer, expected, actual }) => {
                // Someone else moved it (or it was removed): take the store's word for where it
                // stands, and write the rest at the next flush.
                // Never back: what this process acknowledged stays acknowledged.
                if let Some(position) = positions.get_mut(&consumer) {
                    position.stored = actual;
                    position.acknowledged = position.acknowledged.max(actual);
                }
                Err(StoreError::CursorMoved { consumer, expected, actual })
            }
            Err(error) => Err(error),
        }
    }

    /// Flushes every `interval` until `stop` resolves, then once more.
    pub async fn keep(self: Arc<CursorKeeper>, interval: Duration, stop: impl Future<Output = ()>) {
        let mut stop = std::pin::pin!(stop);
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                () = &mut stop => break,
            }
            if let Err(error) = self.flush().await {
                tracing::warn!(%error, "cannot write the channel cursors; trying again");
            }
        }
        if let Err(error) = self.flush().await {
            tracing::warn!(%error, "cannot write the channel cursors at stop; the last deliveries will repeat");
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Position>> {
        self.positions.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
