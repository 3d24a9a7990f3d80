//! Who hears an event: the regions whose state it can change, and the subscriptions listening
//! on them, looked up instead of testing every subscription against every event.
//!
//! An event on region X can change the state of X, of X's ancestors (they become `partial`) and
//! of X's descendants (an oblast-wide alert covers every hromada in it), so those are the regions
//! that hear it. [`Audience`] precomputes that list for every region of the registry once;
//! [`AudienceIndex`] keeps subscriptions by the regions they listen on and answers, per event
//! region, which of them hear it. The live hub uses both now, and the channels will.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::sync::Arc;

use crate::region::{RegionId, RegionRegistry};

/// For each region, the regions that hear an event on it.
#[derive(Debug)]
pub struct Audience {
    hearing: HashMap<RegionId, Box<[RegionId]>>,
}

impl Audience {
    pub fn new(registry: &RegionRegistry) -> Audience {
        let hearing = registry.all().iter().map(|region| (region.id, walk(registry, region.id))).collect();
        Audience { hearing }
    }

    /// The region itself first, then its ancestors nearest first, then its descendants from the
    /// top down; each once. Empty for a region the registry does not know.
    pub fn regions_hearing(&self, region: RegionId) -> &[RegionId] {
        self.hearing.get(&region).map(|regions| &regions[..]).unwrap_or_default()
    }

    /// True when an event on `event_region` can change the state of `listener`: one lies in the
    /// other's subtree.
    pub fn hears(&self, listener: RegionId, event_region: RegionId) -> bool {
        self.regions_hearing(event_region).contains(&listener)
    }
}

/// The walk the table is built from, done once per region.
fn walk(registry: &RegionRegistry, region: RegionId) -> Box<[RegionId]> {
    let mut regions: Vec<RegionId> = std::iter::once(region).chain(registry.ancestors(region)).collect();
    let first_descendant = regions.len();
    regions.extend_from_slice(registry.children(region));
    let mut next = first_descendant;
    while next < regions.len() {
        let children = registry.children(regions[next]);
        regions.extend_from_slice(children);
        next += 1;
    }
    regions.into_boxed_slice()
}

/// Subscriptions, named by `K`, indexed by the regions they listen on. A subscription with no
/// region listens everywhere.
#[derive(Debug)]
pub struct AudienceIndex<K> {
    audience: Arc<Audience>,
    by_region: HashMap<RegionId, HashSet<K>>,
    everywhere: HashSet<K>,
}

impl<K: Copy + Eq + Hash + Ord> AudienceIndex<K> {
    pub fn new(audience: Arc<Audience>) -> AudienceIndex<K> {
        AudienceIndex { audience, by_region: HashMap::new(), everywhere: HashSet::new() }
    }

    pub fn audience(&self) -> &Arc<Audience> {
        &self.audience
    }

    /// Lists `key` under each of `regions`, or everywhere when there are none.
    pub fn insert(&mut self, key: K, regions: &[RegionId]) {
        if regions.is_empty() {
            self.everywhere.insert(key);
        }
        for region in regions {
            self.by_region.entry(*region).or_default().insert(key);
        }
    }

    /// Takes `key` off the `regions` it was inserted with.
    pub fn remove(&mut self, key: K, regions: &[RegionId]) {
        self.everywhere.remove(&key);
        for region in regions {
            if let Some(keys) = self.by_region.get_mut(region) {
                keys.remove(&key);
                if keys.is_empty() {
                    self.by_region.remove(region);
                }
            }
        }
    }

    /// Every subscription that hears an event on `region`, each once (one listening on several
    /// regions that all hear it, too): those listening everywhere first.
    pub fn matching(&self, region: RegionId) -> Vec<K> {
        let mut matching: Vec<K> = self.everywhere.iter().copied().collect();
        let first_listening = matching.len();
        let mut regions_listened = 0;
        for hearing in self.audience.regions_hearing(region) {
            if let Some(keys) = self.by_region.get(hearing) {
                matching.extend(keys.iter().copied());
                regions_listened += 1;
            }
        }
        // Keys of one region are a set already; only keys from several can repeat.
        if regions_listened > 1 {
            let mut listening = matching.split_off(first_listening);
            listening.sort_unstable();
            listening.dedup();
            matching.append(&mut listening);
        }
        matching
    }
}

#[cfg(test)]
mod tests;
