//! Which events a subscriber hears.

use tryvoha_core::{Alert, AlertKind, AlertStatus, RegionId, RegionRegistry};

/// An empty list means "any". A subscriber of a region hears alerts on that region, on its
/// ancestors (an oblast-wide alert covers a hromada) and on its descendants (they make the
/// region `partial`): every alert that can change the region's state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    pub regions: Vec<RegionId>,
    pub kinds: Vec<AlertKind>,
    pub statuses: Vec<AlertStatus>,
}

impl Filter {
    pub fn matches(&self, alert: &Alert, registry: &RegionRegistry) -> bool {
        (self.kinds.is_empty() || self.kinds.contains(&alert.kind))
            && (self.statuses.is_empty() || self.statuses.contains(&alert.status))
            && (self.regions.is_empty() || self.regions.iter().any(|&r| related(registry, r, alert.region_id)))
    }
}

/// True when one region lies in the other's subtree.
pub fn related(registry: &RegionRegistry, a: RegionId, b: RegionId) -> bool {
    registry.is_within(a, b) || registry.is_within(b, a)
}
