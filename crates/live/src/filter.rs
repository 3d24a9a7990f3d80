//! Which events a subscriber hears.

use tryvoha_core::{Alert, AlertKind, AlertStatus, Event, EventFamily, RegionId, RegionRegistry};

/// An empty list means "any". A subscriber of a region hears alerts on that region, on its
/// ancestors (an oblast-wide alert covers a hromada) and on its descendants (they make the
/// region `partial`): every alert that can change the region's state; incidents and shelter
/// statuses by the same rule. `kinds` and `statuses` are the alerts'.
///
/// `families` are the kinds of event heard (`types=`): alerts only unless asked, so that a
/// client written before incidents existed never meets an event type it does not know.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Filter {
    pub regions: Vec<RegionId>,
    pub kinds: Vec<AlertKind>,
    pub statuses: Vec<AlertStatus>,
    pub families: Vec<EventFamily>,
}

impl Default for Filter {
    fn default() -> Filter {
        Filter { regions: Vec::new(), kinds: Vec::new(), statuses: Vec::new(), families: vec![EventFamily::Alerts] }
    }
}

impl Filter {
    /// A filter without repeated entries (the first of each kept, in order): a region asked for
    /// twice would otherwise be listed twice in the snapshot.
    pub fn new(regions: Vec<RegionId>, kinds: Vec<AlertKind>, statuses: Vec<AlertStatus>) -> Filter {
        Filter { regions: distinct(regions), kinds: distinct(kinds), statuses: distinct(statuses), ..Filter::default() }
    }

    /// This filter hearing the given families of events instead of alerts only (none given:
    /// alerts only).
    pub fn with_families(self, families: Vec<EventFamily>) -> Filter {
        let families = if families.is_empty() { vec![EventFamily::Alerts] } else { distinct(families) };
        Filter { families, ..self }
    }

    /// Whether a subscriber of this filter hears `event`. Streams are public: an incident that
    /// is not public is heard by none.
    pub fn matches_event(&self, event: &Event, registry: &RegionRegistry) -> bool {
        if !self.families.contains(&event.family()) || !event.is_public() {
            return false;
        }
        match event {
            Event::Alert(event) => self.matches(&event.alert, registry),
            other => {
                let region = other.region_id();
                self.regions.is_empty() || self.regions.iter().any(|&r| related(registry, r, region))
            }
        }
    }

    pub fn matches(&self, alert: &Alert, registry: &RegionRegistry) -> bool {
        (self.kinds.is_empty() || self.kinds.contains(&alert.kind))
            && (self.statuses.is_empty() || self.statuses.contains(&alert.status))
            && (self.regions.is_empty() || self.regions.iter().any(|&r| related(registry, r, alert.region_id)))
    }
}

fn distinct<T: PartialEq>(items: Vec<T>) -> Vec<T> {
    let mut kept: Vec<T> = Vec::with_capacity(items.len());
    for item in items {
        if !kept.contains(&item) {
            kept.push(item);
        }
    }
    kept
}

/// True when one region lies in the other's subtree.
pub fn related(registry: &RegionRegistry, a: RegionId, b: RegionId) -> bool {
    registry.is_within(a, b) || registry.is_within(b, a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filter_keeps_each_entry_once_in_the_order_first_given() {
        let filter = Filter::new(
            vec![RegionId(31), RegionId(7), RegionId(31), RegionId(31)],
            vec![AlertKind::AirRaid, AlertKind::AirRaid],
            vec![],
        );
        assert_eq!(filter.regions, [RegionId(31), RegionId(7)]);
        assert_eq!(filter.kinds, [AlertKind::AirRaid]);
    }
}
