//! Who listens to a batch's events, as a fan-out walks them: each subscriber once, in the order
//! they subscribed.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use tryvoha_core::{AudienceIndex, RegionId};

use super::Subscriber;
use crate::filter::Filter;
use crate::tap::Tap;

/// A subscriber as a fan-out sees it.
pub(crate) struct Member {
    pub(crate) id: u64,
    pub(crate) tap: Arc<Tap>,
    pub(crate) filter: Arc<Filter>,
}

/// Everyone subscribed to events on any of `regions` (by the index: each one's filter decides
/// the rest), once each, in the order they subscribed, which is about the order their sockets
/// were opened in: the kernel's records of neighbouring sockets (the descriptor table, the
/// sockets themselves) were made together and are read together, fewer misses than at random.
pub(crate) fn listening_to_any(
    regions: &HashSet<RegionId>,
    index: &AudienceIndex<u64>,
    subscribers: &HashMap<u64, Subscriber>,
) -> Vec<Member> {
    let mut ids: Vec<u64> = regions.iter().flat_map(|&region| index.matching(region)).collect();
    ids.sort_unstable();
    ids.dedup();
    ids.into_iter()
        .filter_map(|id| {
            let subscriber = subscribers.get(&id)?;
            Some(Member { id, tap: subscriber.tap.clone(), filter: subscriber.filter.clone() })
        })
        .collect()
}
