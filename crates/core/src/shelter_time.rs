//! Time to shelter (Israel's `migun_time`): how many seconds people in a region have to reach a
//! shelter once an alert starts. A region has the time set on it, by an admin or in the
//! registry file, or else its nearest ancestor's; a region with neither has none.

use std::collections::BTreeMap;

use crate::region::{RegionId, RegionRegistry};

/// The most a time to shelter may be: an hour. (Zero is allowed: "at once", as on a front line.)
pub const MAX_SHELTER_WITHIN_S: u32 = 3600;

/// The times admins set, by region, over those of the registry file. Kept in the store; every
/// node of a cluster reads them again within seconds (they are not in the log).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShelterTimes {
    set: BTreeMap<RegionId, u32>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ShelterTimeError {
    #[error("region {0} is not in the registry")]
    UnknownRegion(RegionId),
    #[error("shelter_within_s must be 0 to {MAX_SHELTER_WITHIN_S} seconds, not {0}")]
    OutOfRange(u32),
}

impl ShelterTimes {
    /// Checks a time an admin asks to set on `region`.
    pub fn check(region: RegionId, seconds: u32, registry: &RegionRegistry) -> Result<(), ShelterTimeError> {
        if registry.get(region).is_none() {
            return Err(ShelterTimeError::UnknownRegion(region));
        }
        if seconds > MAX_SHELTER_WITHIN_S {
            return Err(ShelterTimeError::OutOfRange(seconds));
        }
        Ok(())
    }

    /// Sets (`Some`) or clears (`None`, back to the file's or the inherited time) the time of
    /// `region`.
    pub fn set(&mut self, region: RegionId, seconds: Option<u32>) {
        match seconds {
            Some(seconds) => self.set.insert(region, seconds),
            None => self.set.remove(&region),
        };
    }

    /// The time set on `region` itself, by an admin or else in the registry file.
    pub fn own(&self, region: RegionId, registry: &RegionRegistry) -> Option<u32> {
        self.set.get(&region).copied().or_else(|| registry.get(region)?.shelter_within_s)
    }

    /// The time that holds in `region`: its own, or its nearest ancestor's.
    pub fn within(&self, region: RegionId, registry: &RegionRegistry) -> Option<u32> {
        std::iter::once(region).chain(registry.ancestors(region)).find_map(|id| self.own(id, registry))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> RegionRegistry {
        RegionRegistry::from_csv(
            "id,parent_id,level,katottg,name_uk,name_en,shelter_within_s\n1,,oblast,,O,O,90\n2,1,raion,,R,R,\n\
             3,2,hromada,,H,H,\n4,,oblast,,P,P,\n5,4,raion,,Q,Q,30\n",
        )
        .unwrap()
    }

    #[test]
    fn a_region_inherits_its_nearest_ancestors_time() {
        let registry = registry();
        let times = ShelterTimes::default();
        assert_eq!(times.within(RegionId(3), &registry), Some(90), "from the oblast in the file");
        assert_eq!(times.within(RegionId(4), &registry), None, "nothing set on it or above it");
        assert_eq!(times.within(RegionId(5), &registry), Some(30));
    }

    #[test]
    fn an_admins_time_overrides_the_files_for_the_region_and_below_until_cleared() {
        let registry = registry();
        let mut times = ShelterTimes::default();
        times.set(RegionId(2), Some(120));
        assert_eq!(times.within(RegionId(3), &registry), Some(120), "the raion's, nearer than the oblast's");
        assert_eq!(times.within(RegionId(1), &registry), Some(90), "the oblast keeps its own");
        times.set(RegionId(1), Some(0));
        assert_eq!(times.within(RegionId(1), &registry), Some(0), "zero means at once, not unset");
        times.set(RegionId(2), None);
        assert_eq!(times.within(RegionId(3), &registry), Some(0));
    }

    #[test]
    fn a_time_for_an_unknown_region_or_over_an_hour_is_refused() {
        let registry = registry();
        assert_eq!(
            ShelterTimes::check(RegionId(99), 60, &registry),
            Err(ShelterTimeError::UnknownRegion(RegionId(99)))
        );
        assert_eq!(ShelterTimes::check(RegionId(1), 3601, &registry), Err(ShelterTimeError::OutOfRange(3601)));
        assert_eq!(ShelterTimes::check(RegionId(1), 3600, &registry), Ok(()));
    }

    #[test]
    fn a_registry_file_with_a_time_over_an_hour_is_refused() {
        let file = "id,parent_id,level,katottg,name_uk,name_en,shelter_within_s\n1,,oblast,,O,O,3601\n";
        assert!(matches!(RegionRegistry::from_csv(file), Err(crate::RegistryError::BadRow { row: 2, .. })));
    }

    #[test]
    fn a_registry_without_the_column_still_loads() {
        let registry =
            RegionRegistry::from_csv("id,parent_id,level,katottg,name_uk,name_en\n1,,oblast,,O,O\n").unwrap();
        assert_eq!(ShelterTimes::default().within(RegionId(1), &registry), None);
    }
}
