//! A few connections, opened when first needed and lent one at a time.
//!
//! A connection that broke (the server restarted, the network dropped it, a transaction's end
//! failed) is dropped when it comes back, and the next caller opens a new one: a lost
//! connection costs the calls that were using it an `Unavailable`, never a panic, and heals on
//! the next call.

use std::ops::Deref;
use std::sync::{Condvar, Mutex, MutexGuard};

use tokio_postgres::Config;
use tryvoha_store::StoreResult;

use crate::connection::Connection;
use crate::driver;

pub(crate) struct Pool {
    config: Config,
    size: usize,
    state: Mutex<State>,
    returned: Condvar,
}

struct State {
    idle: Vec<Connection>,
    /// Connections lent out or being opened: with `idle`, never more than `size`.
    lent: usize,
}

impl Pool {
    pub(crate) fn new(config: Config, size: usize) -> Pool {
        Pool {
            config,
            size: size.max(1),
            state: Mutex::new(State { idle: Vec::new(), lent: 0 }),
            returned: Condvar::new(),
        }
    }

    /// Runs `body` on a connection of this pool, blocking the calling thread until it is done.
    pub(crate) fn run<T>(&self, body: impl AsyncFnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        let connection = self.get()?;
        driver::wait(body(&connection))
    }

    /// A connection: an idle one, a new one while the pool has room, or else the next one
    /// given back.
    fn get(&self) -> StoreResult<Lent<'_>> {
        let mut state = self.lock();
        loop {
            while let Some(connection) = state.idle.pop() {
                if connection.is_usable() {
                    state.lent += 1;
                    return Ok(Lent { pool: self, connection: Some(connection) });
                }
            }
            if state.lent < self.size {
                state.lent += 1;
                break;
            }
            state = self.returned.wait(state).unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        // Connect without holding the lock: others may take and give back meanwhile.
        drop(state);
        match Connection::open(self.config.clone()) {
            Ok(connection) => Ok(Lent { pool: self, connection: Some(connection) }),
            Err(error) => {
                self.give_back(None);
                Err(error)
            }
        }
    }

    fn give_back(&self, connection: Option<Connection>) {
        let mut state = self.lock();
        state.lent -= 1;
        // A panic while lent may have left a transaction open: that session is not reused.
        if let Some(connection) = connection.filter(|c| c.is_usable() && !std::thread::panicking()) {
            state.idle.push(connection);
        }
        drop(state);
        self.returned.notify_one();
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is a vector and a count changed under the lock in one step each; a panic
        // elsewhere cannot leave them half-changed.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A lent connection; dropping it gives it back.
struct Lent<'a> {
    pool: &'a Pool,
    /// `Some` until dropped.
    connection: Option<Connection>,
}

impl Deref for Lent<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        // Invariant: `connection` is taken only in `drop`.
        #[allow(clippy::unwrap_used)]
        self.connection.as_ref().unwrap()
    }
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        self.pool.give_back(self.connection.take());
    }
}
