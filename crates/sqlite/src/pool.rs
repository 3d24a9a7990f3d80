//! A few reader connections handed out one at a time.
//!
//! WAL lets any number of connections read while the writer writes; what a reader must not do
//! is wait for another reader's statement. Each [`ReaderPool`] lends its connections for one
//! statement (or one page) and takes them back when the guard drops.

use std::ops::Deref;
use std::path::Path;
use std::sync::{Condvar, Mutex, MutexGuard};

use rusqlite::Connection;
use tryvoha_store::StoreResult;

use crate::{configure, unavailable};

pub(crate) struct ReaderPool {
    idle: Mutex<Vec<Connection>>,
    returned: Condvar,
}

impl ReaderPool {
    pub(crate) fn open(path: &Path, size: usize) -> StoreResult<ReaderPool> {
        let idle = (0..size.max(1))
            .map(|_| {
                let connection = Connection::open(path).map_err(unavailable)?;
                configure(&connection)?;
                Ok(connection)
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(ReaderPool { idle: Mutex::new(idle), returned: Condvar::new() })
    }

    /// A connection of this pool, waiting for one to come back if all are lent out.
    pub(crate) fn get(&self) -> PooledReader<'_> {
        let mut idle = self.lock();
        loop {
            if let Some(connection) = idle.pop() {
                return PooledReader { pool: self, connection: Some(connection) };
            }
            idle = self.returned.wait(idle).unwrap_or_else(|poisoned| poisoned.into_inner());
        }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Connection>> {
        // The vector is only pushed to and popped from; a panic elsewhere cannot corrupt it.
        self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A lent connection; dropping it gives it back.
pub(crate) struct PooledReader<'a> {
    pool: &'a ReaderPool,
    /// `Some` until dropped.
    connection: Option<Connection>,
}

impl Deref for PooledReader<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        // Invariant: `connection` is taken only in `drop`.
        #[allow(clippy::unwrap_used)]
        self.connection.as_ref().unwrap()
    }
}

impl Drop for PooledReader<'_> {
    fn drop(&mut self) {
        if let Some(connection) = self.connection.take() {
            self.pool.lock().push(connection);
            self.pool.returned.notify_one();
        }
    }
}
