//! Any text as a shelter file (`tryvoha shelters import FILE`, GeoJSON or CSV). The reader must
//! return, never panic, hang or blow up memory; every row it accepts must already be a valid
//! shelter (validating it again changes nothing), numbered as documented; and the nearest-shelter
//! index built from the accepted rows must find each shelter at its own position.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tryvoha_core::{Shelter, ShelterId};
use tryvoha_geo::{ShelterIndex, read_shelter_file};

/// How many accepted shelters are looked up in the index: enough to catch a misplaced one,
/// few enough that a large file stays fast.
const LOOKUPS: usize = 16;

fuzz_target!(|data: &[u8]| {
    // The importer reads the file with `read_to_string`: a file that is not UTF-8 stops there.
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(rows) = read_shelter_file(text) else { return };
    let geojson = text.trim_start().starts_with('{');
    let mut shelters = Vec::new();
    for (index, row) in rows.iter().enumerate() {
        if geojson {
            assert_eq!(row.number, index + 1, "GeoJSON features are numbered from 1 in file order");
        } else {
            assert!(row.number >= 1, "CSV row numbered {}", row.number);
        }
        let Ok(info) = &row.result else { continue };
        assert_eq!(info.clone().validate().as_ref(), Ok(info), "row {} is not as validation leaves it", row.number);
        shelters.push(Shelter { id: ShelterId(index as u64 + 1), info: info.clone() });
    }
    let index = ShelterIndex::new(shelters.clone());
    assert_eq!(index.len(), shelters.len());
    for shelter in shelters.iter().take(LOOKUPS) {
        let at = shelter.info.coordinates();
        let nearest = index.nearest(at, 1);
        assert!(
            nearest.first().is_some_and(|found| found.distance_m < 0.01),
            "shelter {:?} at {at:?} is not found at its own position: {nearest:?}",
            shelter.id
        );
        let [lon, lat] = [at.lon, at.lat];
        assert!(index.within([lon, lat, lon, lat]).iter().any(|found| found.id == shelter.id));
    }
});
