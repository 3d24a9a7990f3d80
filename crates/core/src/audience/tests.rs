use proptest::prelude::*;

use super::*;
use crate::region::{Level, Region};

/// Oblast 1 with raions 2 and 3; hromadas 4, 5 in raion 2 and 6 in raion 3; oblast 7 apart.
fn small() -> RegionRegistry {
    RegionRegistry::from_csv(
        "id,parent_id,level,katottg,name_uk,name_en\n1,,oblast,,O,O\n2,1,raion,,R,R\n3,1,raion,,S,S\n\
         4,2,hromada,,H,H\n5,2,hromada,,G,G\n6,3,hromada,,F,F\n7,,oblast,,P,P\n",
    )
    .expect("a valid registry")
}

fn ids(raw: &[u32]) -> Vec<RegionId> {
    raw.iter().copied().map(RegionId).collect()
}

#[test]
fn a_raion_is_heard_by_itself_its_oblast_and_its_hromadas_in_that_order() {
    let audience = Audience::new(&small());
    assert_eq!(audience.regions_hearing(RegionId(2)), ids(&[2, 1, 4, 5]));
    assert_eq!(audience.regions_hearing(RegionId(1)), ids(&[1, 2, 3, 4, 5, 6]));
    assert_eq!(audience.regions_hearing(RegionId(6)), ids(&[6, 3, 1]));
    assert_eq!(audience.regions_hearing(RegionId(7)), ids(&[7]));
}

#[test]
fn a_region_the_registry_does_not_know_is_heard_by_nobody() {
    let audience = Audience::new(&small());
    assert!(audience.regions_hearing(RegionId(99)).is_empty());
    assert!(!audience.hears(RegionId(99), RegionId(99)));
}

#[test]
fn a_hromada_hears_its_oblast_but_not_its_cousin() {
    let audience = Audience::new(&small());
    assert!(audience.hears(RegionId(4), RegionId(1)));
    assert!(audience.hears(RegionId(1), RegionId(4)));
    assert!(!audience.hears(RegionId(5), RegionId(4)));
    assert!(!audience.hears(RegionId(7), RegionId(4)));
}

#[test]
fn a_subscription_on_two_regions_that_both_hear_an_event_matches_it_once() {
    let mut index = AudienceIndex::new(Arc::new(Audience::new(&small())));
    index.insert(10u64, &ids(&[1, 4]));
    index.insert(11, &[]);
    index.insert(12, &ids(&[7]));
    assert_eq!(index.matching(RegionId(4)), [11, 10]);
    assert_eq!(index.matching(RegionId(7)), [11, 12]);
    index.remove(10, &ids(&[1, 4]));
    index.remove(11, &[]);
    assert!(index.matching(RegionId(4)).is_empty());
    assert!(!index.by_region.contains_key(&RegionId(1)), "an emptied region is forgotten");
}

/// A random registry: `oblasts` oblasts, each raion under a chosen oblast, each hromada under a
/// chosen raion (ids in that order from 1).
fn registry() -> impl Strategy<Value = RegionRegistry> {
    (1..4usize, prop::collection::vec(any::<prop::sample::Index>(), 0..8))
        .prop_flat_map(|(oblasts, raions)| {
            let hromadas = if raions.is_empty() {
                Just(Vec::new()).boxed()
            } else {
                prop::collection::vec(any::<prop::sample::Index>(), 0..16).boxed()
            };
            (Just(oblasts), Just(raions), hromadas)
        })
        .prop_map(|(oblasts, raions, hromadas)| {
            let mut regions = Vec::new();
            let mut add = |parent: Option<u32>, level| {
                let id = regions.len() as u32 + 1;
                let name = format!("r{id}");
                regions.push(Region {
                    id: RegionId(id),
                    parent_id: parent.map(RegionId),
                    level,
                    code: None,
                    name_uk: name.clone(),
                    name_en: name,
                    shelter_within_s: None,
                });
                id
            };
            let oblast_ids: Vec<u32> = (0..oblasts).map(|_| add(None, Level::Oblast)).collect();
            let raion_ids: Vec<u32> =
                raions.iter().map(|pick| add(Some(*pick.get(&oblast_ids)), Level::Raion)).collect();
            for pick in &hromadas {
                add(Some(*pick.get(&raion_ids)), Level::Hromada);
            }
            RegionRegistry::new(regions).expect("a valid random registry")
        })
}

fn naive_hearing(registry: &RegionRegistry, region: RegionId) -> Vec<RegionId> {
    let mut regions: Vec<RegionId> = registry
        .all()
        .iter()
        .map(|r| r.id)
        .filter(|&other| registry.is_within(other, region) || registry.is_within(region, other))
        .collect();
    regions.sort();
    regions
}

proptest! {
    #[test]
    fn the_table_matches_the_ancestor_and_descendant_walk(registry in registry(), pick in any::<prop::sample::Index>()) {
        let audience = Audience::new(&registry);
        let region = pick.get(registry.all()).id;
        let hearing = audience.regions_hearing(region);
        prop_assert_eq!(hearing[0], region);
        let mut sorted = hearing.to_vec();
        sorted.sort();
        sorted.dedup();
        prop_assert_eq!(sorted.len(), hearing.len(), "each region once");
        prop_assert_eq!(sorted, naive_hearing(&registry, region));
    }

    #[test]
    fn the_index_matches_testing_every_subscription(
        registry in registry(),
        subscriptions in prop::collection::vec(prop::collection::vec(any::<prop::sample::Index>(), 0..3), 0..12),
        removed in prop::collection::vec(any::<bool>(), 12),
        pick in any::<prop::sample::Index>(),
    ) {
        let all = registry.all();
        let mut index = AudienceIndex::new(Arc::new(Audience::new(&registry)));
        let mut kept = Vec::new();
        for (key, picks) in subscriptions.iter().enumerate() {
            let regions: Vec<RegionId> = picks.iter().map(|p| p.get(all).id).collect();
            index.insert(key, &regions);
            if removed[key] { index.remove(key, &regions) } else { kept.push((key, regions)) }
        }
        let region = pick.get(all).id;
        let mut expected: Vec<usize> = kept
            .iter()
            .filter(|(_, regions)| regions.is_empty() || regions.iter().any(|&r| naive_hearing(&registry, region).contains(&r)))
            .map(|(key, _)| *key)
            .collect();
        expected.sort();
        let mut matching = index.matching(region);
        let count = matching.len();
        matching.sort();
        matching.dedup();
        prop_assert_eq!(matching.len(), count, "each subscription once");
        prop_assert_eq!(matching, expected);
    }
}
