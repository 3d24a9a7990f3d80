//! The engine as its followers see it: a [`LogReader`] over its store and book, and the
//! [`EventSource`] of its committed events (the broadcast, caught up from the log).

use std::sync::{Arc, Weak};

use tryvoha_core::{AlertBook, Event, Seq};
use tryvoha_follow::{EventSource, LocalSource, LogReader, ReadError, ReadFuture};
use tryvoha_store::{Store, StoreError};

use crate::{Engine, Inner};

impl Engine {
    /// The committed events from any resume point, for the hub and the channels. The source
    /// holds the engine weakly: its followers end when the engine does, never keep it running.
    pub fn event_source(&self) -> Arc<dyn EventSource> {
        let log: Weak<dyn LogReader> = Arc::downgrade(&self.inner) as Weak<Inner>;
        Arc::new(LocalSource::new(log, self.inner.committed.downgrade()))
    }
}

impl LogReader for Engine {
    fn events_after(&self, after: Seq, limit: usize) -> ReadFuture<'_, Vec<Event>> {
        self.inner.events_after(after, limit)
    }

    fn head(&self) -> ReadFuture<'_, Seq> {
        self.inner.head()
    }

    fn book(&self) -> Arc<AlertBook> {
        self.inner.current_book()
    }
}

impl LogReader for Inner {
    fn events_after(&self, after: Seq, limit: usize) -> ReadFuture<'_, Vec<Event>> {
        Box::pin(read(self.store.clone(), move |store| store.events_after(after, limit)))
    }

    fn head(&self) -> ReadFuture<'_, Seq> {
        Box::pin(read(self.store.clone(), |store| store.last_seq()))
    }

    fn book(&self) -> Arc<AlertBook> {
        self.current_book()
    }
}

/// Runs a store read off the async threads.
async fn read<T: Send + 'static>(
    store: Arc<dyn Store>,
    call: impl FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ReadError> {
    tokio::task::spawn_blocking(move || call(store.as_ref()))
        .await
        // Only a runtime shutting down fails to run the read: the engine is going away.
        .map_err(|_| ReadError::Closed)?
        .map_err(|error| ReadError::Unavailable(Box::new(error)))
}
