//! Places: where a point is (the region locator) and the shelter registry with its index.
//!
//! Shelter writes go to the store first; the in-memory index is rebuilt from what was written
//! and swapped in whole, so a reader sees either the old registry or the new one.
//!
//! Apart from the engine on purpose: the write path of alerts needs no R-tree, and the
//! transports that answer "where" (HTTP, later others) ask [`Places`] rather than `tryvoha-geo`.
//! A shelter write honours the engine's [`Handoff`](tryvoha_engine::Handoff) as a command does,
//! so a 408 still means "not applied".

use std::sync::{Arc, RwLock};

use tryvoha_core::{Shelter, ShelterError, ShelterId, ShelterInfo};
use tryvoha_geo::{Locator, ShelterIndex};
use tryvoha_store::{ShelterImport, Store, StoreError};

mod statuses;

pub use statuses::Statuses;

/// How far a shelter may be and still be offered as the nearest, unless the request says.
pub const DEFAULT_SHELTER_DISTANCE_M: f64 = 20_000.0;

pub struct Places {
    store: Arc<dyn Store>,
    locator: Locator,
    /// The default of `max_distance_m` for the nearest shelters.
    shelter_distance_m: f64,
    index: RwLock<Arc<ShelterIndex>>,
    /// Each shelter's latest status (the store's index of the log's shelter events), read
    /// with the shelters and kept current by [`Places::status_changed`].
    statuses: RwLock<Arc<Statuses>>,
    /// Writers take turns so that each rebuild starts from the store's latest state.
    writing: tokio::sync::Mutex<()>,
}

#[derive(Debug, thiserror::Error)]
pub enum ShelterUpdateError {
    /// The shelter at `index` of the request (0 for a single shelter) is invalid.
    #[error("shelter {index}: {error}")]
    Invalid { index: usize, error: ShelterError },
    #[error("shelter {id} does not exist")]
    NotFound { id: u64 },
    #[error("the shelter registry is unavailable")]
    Unavailable(#[source] StoreError),
}

impl Places {
    /// Seeds the bundled shelters into a store that never had them, then builds the index.
    pub fn load(store: Arc<dyn Store>, locator: Locator, bundled: &[ShelterInfo]) -> Result<Places, StoreError> {
        store.seed_shelters_once(bundled)?;
        let index = ShelterIndex::new(store.shelters()?);
        let statuses = Statuses::of(store.shelter_statuses()?);
        Ok(Places {
            store,
            locator,
            shelter_distance_m: DEFAULT_SHELTER_DISTANCE_M,
            index: RwLock::new(Arc::new(index)),
            statuses: RwLock::new(Arc::new(statuses)),
            writing: tokio::sync::Mutex::new(()),
        })
    }

    /// Places without a map (a registry with no boundaries, handler tests): no point lies in a
    /// region; the shelters are the store's.
    pub fn without_boundaries(store: Arc<dyn Store>) -> Result<Places, StoreError> {
        Places::load(store, Locator::new(Vec::new()), &[])
    }

    /// Offers shelters at most `metres` away as the nearest, unless a request says otherwise.
    pub fn with_shelter_distance(self, metres: f64) -> Places {
        Places { shelter_distance_m: metres, ..self }
    }

    pub fn shelter_distance_m(&self) -> f64 {
        self.shelter_distance_m
    }

    pub fn locator(&self) -> &Locator {
        &self.locator
    }

    /// The current index: a snapshot that later writes do not change.
    pub fn shelters(&self) -> Arc<ShelterIndex> {
        // The lock only guards swapping an Arc; a panic cannot leave it half-written.
        self.index.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// Adds all the shelters or, if any is invalid or the store fails, none.
    pub async fn add(&self, shelters: Vec<ShelterInfo>) -> Result<Vec<Shelter>, ShelterUpdateError> {
        let shelters = validated(shelters)?;
        self.write(move |store| store.add_shelters(&shelters)).await
    }

    /// Adds the shelters not yet in the registry (by name and place, see
    /// [`tryvoha_store::shelter_key`]): importing the same file twice adds nothing the second
    /// time. If any is invalid or the store fails, adds none.
    pub async fn import(&self, shelters: Vec<ShelterInfo>) -> Result<ShelterImport, ShelterUpdateError> {
        let shelters = validated(shelters)?;
        self.write(move |store| store.import_shelters(&shelters)).await
    }

    pub async fn update(&self, id: ShelterId, info: ShelterInfo) -> Result<Shelter, ShelterUpdateError> {
        let info = info.validate().map_err(|error| ShelterUpdateError::Invalid { index: 0, error })?;
        self.write(move |store| store.update_shelter(id, &info)).await.map_err(|e| not_found(e, id))
    }

    pub async fn remove(&self, id: ShelterId) -> Result<(), ShelterUpdateError> {
        self.write(move |store| store.remove_shelter(id)).await.map_err(|e| not_found(e, id))
    }

    /// Reads the shelters from the store again: in a cluster, what other nodes added, changed
    /// or removed reaches this node's index. (Their statuses come by the log.)
    pub async fn reload(&self) -> Result<usize, StoreError> {
        let _turn = self.writing.lock().await;
        let store = self.store.clone();
        let shelters = tokio::task::spawn_blocking(move || store.shelters())
            .await
            .map_err(|panic| StoreError::Unavailable(Box::new(panic)))??;
        let count = shelters.len();
        self.replace_index(shelters);
        Ok(count)
    }

    /// The index rebuilt from the shelters as stored, and swapped whole.
    fn replace_index(&self, shelters: Vec<Shelter>) {
        let index = Arc::new(ShelterIndex::new(shelters));
        *self.index.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = index;
    }

    async fn write<T: Send + 'static>(
        &self,
        change: impl FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, ShelterUpdateError> {
        let _turn = self.writing.lock().await;
        // From here the write is applied and answered, whatever the caller's time limit says.
        if !tryvoha_engine::Handoff::take_current() {
            return Err(ShelterUpdateError::Unavailable(StoreError::Unavailable("the caller gave up waiting".into())));
        }
        let store = self.store.clone();
        let (result, shelters) = tokio::task::spawn_blocking(move || {
            let result = change(store.as_ref())?;
            Ok::<_, StoreError>((result, store.shelters()?))
        })
        .await
        .map_err(|e| ShelterUpdateError::Unavailable(StoreError::Unavailable(Box::new(e))))?
        .map_err(ShelterUpdateError::Unavailable)?;
        self.replace_index(shelters);
        Ok(result)
    }
}

fn validated(shelters: Vec<ShelterInfo>) -> Result<Vec<ShelterInfo>, ShelterUpdateError> {
    shelters
        .into_iter()
        .enumerate()
        .map(|(index, info)| info.validate().map_err(|error| ShelterUpdateError::Invalid { index, error }))
        .collect()
}

fn not_found(error: ShelterUpdateError, id: ShelterId) -> ShelterUpdateError {
    match error {
        ShelterUpdateError::Unavailable(StoreError::NotFound) => ShelterUpdateError::NotFound { id: id.0 },
        other => other,
    }
}
