//! How many connections the server holds, in all and per client.
//!
//! Each connection holds a file descriptor for as long as it lives, and a live stream lives for
//! hours. Without a cap one client with a few hundred idle sockets exhausts the descriptors and
//! `accept` fails for everyone. Counted at accept time, by peer address: the request headers
//! are not read yet, so a trusted proxy (which carries many clients) is exempt from the
//! per-client cap and counts only towards the total.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

use super::client::{ClientKey, TrustedProxies};

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionRefusal {
    /// This client holds its share already.
    PerClient,
    /// The server holds as many as it may.
    Total,
}

/// The open connections, and the counters of refusals for `/metrics`.
pub struct Connections {
    max_total: usize,
    /// 0: no per-client cap.
    max_per_client: usize,
    trusted_proxies: TrustedProxies,
    // A std mutex: held for a map update at accept and at close, never across an await.
    open: Mutex<Open>,
    pub(super) refused_per_client: AtomicU64,
    pub(super) refused_total: AtomicU64,
}

#[derive(Default)]
struct Open {
    total: usize,
    per_client: HashMap<ClientKey, usize>,
}

/// One accepted connection; dropping it frees its place.
pub struct ConnectionPermit {
    connections: Arc<Connections>,
    client: Option<ClientKey>,
}

impl Connections {
    pub fn new(max_total: usize, max_per_client: usize, trusted_proxies: TrustedProxies) -> Connections {
        Connections {
            max_total,
            max_per_client,
            trusted_proxies,
            open: Mutex::new(Open::default()),
            refused_per_client: AtomicU64::new(0),
            refused_total: AtomicU64::new(0),
        }
    }

    /// Takes a place for a connection from `peer`, or says why there is none.
    pub fn open(self: &Arc<Self>, peer: IpAddr) -> Result<ConnectionPermit, ConnectionRefusal> {
        let client = (self.max_per_client > 0 && !self.trusted_proxies.contains(peer)).then(|| ClientKey::of(peer));
        let mut open = self.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if open.total >= self.max_total {
            self.refused_total.fetch_add(1, Relaxed);
            return Err(ConnectionRefusal::Total);
        }
        if let Some(client) = client {
            let held = open.per_client.entry(client).or_insert(0);
            if *held >= self.max_per_client {
                self.refused_per_client.fetch_add(1, Relaxed);
                return Err(ConnectionRefusal::PerClient);
            }
            *held += 1;
        }
        open.total += 1;
        Ok(ConnectionPermit { connections: self.clone(), client })
    }

    pub fn open_count(&self) -> usize {
        self.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).total
    }

    pub fn max_total(&self) -> usize {
        self.max_total
    }
}

impl Drop for ConnectionPermit {
    fn drop(&mut self) {
        let mut open = self.connections.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        open.total -= 1;
        if let Some(client) = self.client
            && let Some(held) = open.per_client.get_mut(&client)
        {
            *held -= 1;
            if *held == 0 {
                // Forget the client, so that many distinct clients cannot grow the map.
                open.per_client.remove(&client);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn a_client_gets_its_share_and_others_still_get_theirs() {
        let connections = Arc::new(Connections::new(10, 2, TrustedProxies::default()));
        let a = [connections.open(ip("192.0.2.1")).unwrap(), connections.open(ip("192.0.2.1")).unwrap()];
        assert_eq!(connections.open(ip("192.0.2.1")).err(), Some(ConnectionRefusal::PerClient));
        let b = connections.open(ip("192.0.2.2")).unwrap();
        drop(a);
        assert!(connections.open(ip("192.0.2.1")).is_ok(), "a closed connection frees its place");
        drop(b);
        assert_eq!(connections.open_count(), 0);
    }

    #[test]
    fn the_total_caps_everyone_and_trusted_proxies_count_only_towards_it() {
        let proxies = TrustedProxies::parse(&["10.0.0.1".into()]).unwrap();
        let connections = Arc::new(Connections::new(3, 1, proxies));
        let held: Vec<_> = (0..3).map(|_| connections.open(ip("10.0.0.1")).unwrap()).collect();
        assert_eq!(connections.open(ip("192.0.2.9")).err(), Some(ConnectionRefusal::Total));
        drop(held);
        let same_64 = connections.open(ip("2001:db8::1")).unwrap();
        assert_eq!(connections.open(ip("2001:db8::2")).err(), Some(ConnectionRefusal::PerClient));
        drop(same_64);
    }
}
