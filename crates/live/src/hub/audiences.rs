//! Who listens to events on each region, as a fan-out walks it: kept from one event to the next
//! while nobody subscribes or leaves, so that a fan-out to thousands of subscribers looks none
//! of them up, and walks them in the order they subscribed.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use tryvoha_core::{AudienceIndex, RegionId};

use super::Subscriber;
use crate::filter::Filter;
use crate::tap::Tap;

/// A subscriber as a fan-out sees it.
#[derive(Clone)]
pub(crate) struct Member {
    pub(crate) id: u64,
    pub(crate) tap: Arc<Tap>,
    pub(crate) filter: Arc<Filter>,
}

/// Each region's listeners ([`Audiences::listening_to`]), worked out at the first event on it
/// since the subscribers last changed.
#[derive(Default)]
pub(crate) struct Audiences(HashMap<RegionId, Arc<Vec<Member>>>);

impl Audiences {
    /// Everyone subscribed to events on `region` (by the index: its filter decides the rest),
    /// in the order they subscribed, which is about the order their sockets were opened in: the
    /// kernel's records of neighbouring sockets (the descriptor table, the sockets themselves)
    /// were made together and are read together, fewer misses than at random.
    pub(crate) fn listening_to(
        &mut self,
        region: RegionId,
        index: &AudienceIndex<u64>,
        subscribers: &HashMap<u64, Subscriber>,
    ) -> Arc<Vec<Member>> {
        let members = self.0.entry(region).or_insert_with(|| {
            let mut members: Vec<Member> = index
                .matching(region)
                .into_iter()
                .filter_map(|id| {
                    let subscriber = subscribers.get(&id)?;
                    Some(Member { id, tap: subscriber.tap.clone(), filter: subscriber.filter.clone() })
                })
                .collect();
            members.sort_unstable_by_key(|member| member.id);
            Arc::new(members)
        });
        members.clone()
    }

    /// Everyone subscribed to events on any of `regions`, once each, in the order they
    /// subscribed.
    pub(crate) fn listening_to_any(
        &mut self,
        regions: &HashSet<RegionId>,
        index: &AudienceIndex<u64>,
        subscribers: &HashMap<u64, Subscriber>,
    ) -> Arc<Vec<Member>> {
        if let [region] = regions.iter().copied().collect::<Vec<_>>()[..] {
            return self.listening_to(region, index, subscribers);
        }
        let mut members: Vec<Member> = regions
            .iter()
            .flat_map(|&region| self.listening_to(region, index, subscribers).iter().cloned().collect::<Vec<_>>())
            .collect();
        members.sort_unstable_by_key(|member| member.id);
        members.dedup_by_key(|member| member.id);
        Arc::new(members)
    }

    /// Someone subscribed or left: every region's listeners are worked out again.
    pub(crate) fn changed(&mut self) {
        if !self.0.is_empty() {
            self.0.clear();
        }
    }
}
