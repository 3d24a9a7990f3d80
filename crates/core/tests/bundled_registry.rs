//! The registry of Ukraine that the server bundles parses and has the shape the issue names.

// Test code: an unwrap that fails is a failing test, which is what it should be.
#![allow(clippy::unwrap_used)]

use tryvoha_core::{Level, RegionId, RegionRegistry};

const UKRAINE: &str = include_str!("../../../data/regions/ukraine.csv");

#[test]
fn ukraine_has_every_oblast_raion_and_hromada() {
    let registry = RegionRegistry::from_csv(UKRAINE).unwrap();
    let count = |level| registry.all().iter().filter(|r| r.level == level).count();
    assert_eq!((count(Level::Oblast), count(Level::Raion), count(Level::Hromada)), (27, 136, 1469));
    assert!(registry.all().iter().all(|r| r.code.is_some()), "every unit has its KATOTTG code");
}

#[test]
fn ids_are_those_of_the_ukrainian_alert_apis() {
    let registry = RegionRegistry::from_csv(UKRAINE).unwrap();
    let name = |id| registry.get(RegionId(id)).map(|r| r.name_uk.as_str());
    assert_eq!(name(31), Some("м. Київ"));
    assert_eq!(name(14), Some("Київська область"));
    assert_eq!(name(73), Some("Білоцерківський район"));
    let bila_tserkva = registry.by_code("UA32020010000093088").unwrap();
    assert_eq!(bila_tserkva.id, RegionId(711));
    assert_eq!(registry.ancestors(bila_tserkva.id).collect::<Vec<_>>(), [RegionId(73), RegionId(14)]);
}

#[test]
fn units_without_an_api_id_take_the_reserved_range() {
    let registry = RegionRegistry::from_csv(UKRAINE).unwrap();
    let reserved: Vec<_> = registry.all().iter().filter(|r| r.id.0 > 100_000).collect();
    assert_eq!(reserved.len(), 21, "10 Crimean raions and 11 occupied Luhansk hromadas");
    assert!(reserved.iter().all(|r| r.level != Level::Oblast));
}
