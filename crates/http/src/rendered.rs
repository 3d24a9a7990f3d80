//! `Rendered`: answers computed once per key and shared, off the async workers.
//!
//! The map layers and the statistics summary are the same for every client until the log moves:
//! during an attack every map client asks at once. The first request for a key computes it on
//! the blocking pool (never under a lock, never on an async worker); requests that arrive while
//! it runs wait for that one computation instead of starting their own.

use std::collections::VecDeque;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

/// One key's value: empty until its first computation succeeds.
type Slot<V> = Arc<OnceCell<Arc<V>>>;

pub struct Rendered<K, V> {
    /// The newest keys last; at most `capacity`.
    entries: Mutex<VecDeque<(K, Slot<V>)>>,
    capacity: usize,
}

/// The computation panicked or the runtime is shutting down.
#[derive(Debug)]
pub struct RenderFailed;

/// Runs CPU work on the blocking pool.
pub async fn off_workers<V: Send + 'static>(work: impl FnOnce() -> V + Send + 'static) -> Result<V, RenderFailed> {
    tokio::task::spawn_blocking(work).await.map_err(|_| RenderFailed)
}

impl<K: Eq + Hash + Clone, V: Send + Sync + 'static> Rendered<K, V> {
    /// Keeps the values of the `capacity` most recently added keys.
    pub fn new(capacity: usize) -> Rendered<K, V> {
        Rendered { entries: Mutex::new(VecDeque::new()), capacity: capacity.max(1) }
    }

    /// The value for `key`, computed by `render` on the blocking pool if no request computed it
    /// yet (or is computing it now).
    pub async fn get(&self, key: K, render: impl FnOnce() -> V + Send + 'static) -> Result<Arc<V>, RenderFailed> {
        self.get_with(key, off_workers(render)).await
    }

    /// The value for `key`, from `render` if no request computed it yet (or is computing it
    /// now: then `render` is dropped unpolled). A failed `render` is not kept: the next request
    /// tries again. CPU work inside `render` belongs in [`off_workers`].
    pub async fn get_with<E>(
        &self,
        key: K,
        render: impl std::future::Future<Output = Result<V, E>>,
    ) -> Result<Arc<V>, E> {
        let cell = self.cell(key);
        let value = cell.get_or_try_init(|| async { render.await.map(Arc::new) }).await?;
        Ok(value.clone())
    }

    fn cell(&self, key: K) -> Slot<V> {
        // Held only to find or add an entry; no computation runs under it, and a panic cannot
        // leave the queue half-changed.
        let mut entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((_, cell)) = entries.iter().find(|(k, _)| *k == key) {
            return cell.clone();
        }
        if entries.len() == self.capacity {
            entries.pop_front();
        }
        let cell = Arc::new(OnceCell::new());
        entries.push_back((key, cell.clone()));
        cell
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_requests_for_one_key_share_one_rendering() {
        let rendered: Arc<Rendered<u64, String>> = Arc::new(Rendered::new(4));
        let renders = Arc::new(AtomicUsize::new(0));
        // The first rendering waits until every request has asked: they all find it running.
        let (release, released) = std::sync::mpsc::channel::<()>();
        let released = Arc::new(Mutex::new(released));
        let mut requests = Vec::new();
        for _ in 0..8 {
            let (rendered, renders, released) = (rendered.clone(), renders.clone(), released.clone());
            requests.push(tokio::spawn(async move {
                rendered
                    .get(7, move || {
                        renders.fetch_add(1, Ordering::SeqCst);
                        let _ = released.lock().unwrap().recv_timeout(std::time::Duration::from_secs(20));
                        "layer at 7".to_owned()
                    })
                    .await
                    .unwrap()
            }));
        }
        // Every request holds the one cell (the cache's reference, this look, and eight waiting)
        // before the rendering may finish.
        let mut waiting = 0;
        for _ in 0..2000 {
            waiting = Arc::strong_count(&rendered.cell(7)) - 2;
            if waiting == 8 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert_eq!(waiting, 8, "every request waits on the rendering in progress");
        release.send(()).unwrap();
        for request in requests {
            assert_eq!(*request.await.unwrap(), "layer at 7");
        }
        assert_eq!(renders.load(Ordering::SeqCst), 1, "rendered once for all");
        let next = rendered.get(8, || "layer at 8".to_owned()).await.unwrap();
        assert_eq!(*next, "layer at 8", "a new key renders anew");
    }

    #[tokio::test]
    async fn only_the_newest_keys_are_kept() {
        let rendered: Rendered<u64, u64> = Rendered::new(2);
        for key in 1..=3 {
            rendered.get(key, move || key * 10).await.unwrap();
        }
        let again = rendered.get(1, || 99).await.unwrap();
        assert_eq!(*again, 99, "the oldest key was dropped and renders again");
        assert_eq!(*rendered.get(3, || 0).await.unwrap(), 30, "a kept key does not");
    }
}
