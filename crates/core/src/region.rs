//! The region hierarchy (for Ukraine: oblast > raion > hromada) and the state of a region.

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A region's identifier. For the bundled Ukrainian registry this is the ID the Ukrainian alert
/// APIs already use (alerts.in.ua location UID = ukrainealarm region ID).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "openapi",
    schema(
        minimum = 0,
        maximum = 4294967295.0,
        description = "A region's numeric id. For the bundled registry of Ukraine this is the id the Ukrainian alert APIs already use (alerts.in.ua location UID, ukrainealarm region ID)."
    )
)]
#[serde(transparent)]
pub struct RegionId(pub u32);

impl fmt::Display for RegionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The tier of a region in the hierarchy, from the top.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = RegionLevel, description = "The tier of a region, from the top."))]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Oblast,
    Raion,
    Hromada,
}

impl Level {
    pub fn parse(text: &str) -> Option<Level> {
        match text {
            "oblast" => Some(Level::Oblast),
            "raion" => Some(Level::Raion),
            "hromada" => Some(Level::Hromada),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Oblast => "oblast",
            Level::Raion => "raion",
            Level::Hromada => "hromada",
        }
    }
}

/// One administrative unit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Region {
    pub id: RegionId,
    pub parent_id: Option<RegionId>,
    pub level: Level,
    /// The code in the national codifier (KATOTTG in Ukraine); unique when present.
    pub code: Option<String>,
    pub name_uk: String,
    pub name_en: String,
    /// Seconds people have to reach a shelter once an alert starts, as the registry file says
    /// for this region itself (`shelter_within_s`); descendants inherit it (`ShelterTimes`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shelter_within_s: Option<u32>,
}

/// The alert state of a region, derived from the active real (status `actual`) alerts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "openapi",
    schema(
        description = "Derived from active `actual` alerts only. `alert`: an alert covers the region itself or one of its ancestors. `partial`: none does, but some of its descendants are under alert. `clear`: neither."
    )
)]
#[serde(rename_all = "snake_case")]
pub enum RegionState {
    /// An alert covers the region itself or one of its ancestors.
    Alert,
    /// No alert covers the region, but some of its descendants are under alert.
    Partial,
    Clear,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RegistryError {
    #[error("row {row}: {reason}")]
    BadRow { row: usize, reason: String },
    #[error("region {id} appears twice")]
    DuplicateId { id: RegionId },
    #[error("code {code} appears twice")]
    DuplicateCode { code: String },
    #[error("region {id} names parent {parent}, which is not in the registry")]
    UnknownParent { id: RegionId, parent: RegionId },
    #[error("region {id} is a {level} but its parent {parent} is not one tier above")]
    LevelMismatch { id: RegionId, level: &'static str, parent: RegionId },
    #[error("the registry is empty")]
    Empty,
}

/// The whole hierarchy, validated: unique ids and codes, every parent present and exactly one
/// tier above its child (so there are no cycles and the depth is at most three).
#[derive(Debug)]
pub struct RegionRegistry {
    regions: Vec<Region>,
    index_by_id: HashMap<RegionId, usize>,
    id_by_code: HashMap<String, RegionId>,
    children: HashMap<RegionId, Vec<RegionId>>,
}

#[derive(Deserialize)]
struct RegistryRow {
    id: u32,
    parent_id: Option<u32>,
    level: String,
    #[serde(alias = "katottg")]
    code: Option<String>,
    name_uk: String,
    name_en: String,
    #[serde(default)]
    shelter_within_s: Option<u32>,
}

impl RegionRegistry {
    /// Parses the registry format documented in docs/regions.md: CSV with the header
    /// `id,parent_id,level,katottg,name_uk,name_en` (`code` is accepted for `katottg`), and
    /// optionally `shelter_within_s`.
    pub fn from_csv(text: &str) -> Result<RegionRegistry, RegistryError> {
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let mut regions = Vec::new();
        for (index, row) in reader.deserialize::<RegistryRow>().enumerate() {
            let row_number = index + 2; // the header is row 1
            let bad = |reason: String| RegistryError::BadRow { row: row_number, reason };
            let row = row.map_err(|e| bad(e.to_string()))?;
            let level = Level::parse(&row.level).ok_or_else(|| bad(format!("unknown level {:?}", row.level)))?;
            if row.name_uk.trim().is_empty() || row.name_en.trim().is_empty() {
                return Err(bad("a name is empty".into()));
            }
            if let Some(seconds) = row.shelter_within_s.filter(|&s| s > crate::shelter_time::MAX_SHELTER_WITHIN_S) {
                return Err(bad(format!(
                    "shelter_within_s {seconds} is over {}",
                    crate::shelter_time::MAX_SHELTER_WITHIN_S
                )));
            }
            regions.push(Region {
                id: RegionId(row.id),
                parent_id: row.parent_id.map(RegionId),
                level,
                code: row.code.filter(|c| !c.is_empty()),
                name_uk: row.name_uk,
                name_en: row.name_en,
                shelter_within_s: row.shelter_within_s,
            });
        }
        RegionRegistry::new(regions)
    }

    pub fn new(regions: Vec<Region>) -> Result<RegionRegistry, RegistryError> {
        if regions.is_empty() {
            return Err(RegistryError::Empty);
        }
        let mut index_by_id = HashMap::with_capacity(regions.len());
        let mut id_by_code = HashMap::new();
        let mut children: HashMap<RegionId, Vec<RegionId>> = HashMap::new();
        for (index, region) in regions.iter().enumerate() {
            if index_by_id.insert(region.id, index).is_some() {
                return Err(RegistryError::DuplicateId { id: region.id });
            }
            if let Some(code) = &region.code
                && id_by_code.insert(code.clone(), region.id).is_some()
            {
                return Err(RegistryError::DuplicateCode { code: code.clone() });
            }
        }
        for region in &regions {
            let expected_parent_level = match region.level {
                Level::Oblast => None,
                Level::Raion => Some(Level::Oblast),
                Level::Hromada => Some(Level::Raion),
            };
            let parent_level = match region.parent_id {
                None => None,
                Some(parent) => {
                    let index =
                        index_by_id.get(&parent).ok_or(RegistryError::UnknownParent { id: region.id, parent })?;
                    children.entry(parent).or_default().push(region.id);
                    Some(regions[*index].level)
                }
            };
            if parent_level != expected_parent_level {
                return Err(RegistryError::LevelMismatch {
                    id: region.id,
                    level: region.level.as_str(),
                    parent: region.parent_id.unwrap_or(RegionId(0)),
                });
            }
        }
        Ok(RegionRegistry { regions, index_by_id, id_by_code, children })
    }

    pub fn get(&self, id: RegionId) -> Option<&Region> {
        self.index_by_id.get(&id).map(|&index| &self.regions[index])
    }

    pub fn by_code(&self, code: &str) -> Option<&Region> {
        self.id_by_code.get(code).and_then(|&id| self.get(id))
    }

    /// Every region in registry order.
    pub fn all(&self) -> &[Region] {
        &self.regions
    }

    pub fn children(&self, id: RegionId) -> &[RegionId] {
        self.children.get(&id).map(Vec::as_slice).unwrap_or_default()
    }

    /// The strict ancestors of a region, nearest first.
    pub fn ancestors(&self, id: RegionId) -> impl Iterator<Item = RegionId> + '_ {
        let mut next = self.get(id).and_then(|r| r.parent_id);
        std::iter::from_fn(move || {
            let current = next?;
            next = self.get(current).and_then(|r| r.parent_id);
            Some(current)
        })
    }

    /// True when `id` is `ancestor` itself or lies in its subtree.
    pub fn is_within(&self, id: RegionId, ancestor: RegionId) -> bool {
        id == ancestor || self.ancestors(id).any(|a| a == ancestor)
    }

    pub fn len(&self) -> usize {
        self.regions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.regions.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = "id,parent_id,level,katottg,name_uk,name_en\n\
        1,,oblast,UA1,Область,Oblast\n\
        2,1,raion,UA2,Район,Raion\n\
        3,2,hromada,,Громада,Hromada\n\
        4,1,raion,,Інший район,Other raion\n";

    #[test]
    fn a_small_registry_parses_with_its_hierarchy() {
        let registry = RegionRegistry::from_csv(SMALL).unwrap();
        assert_eq!(registry.len(), 4);
        assert_eq!(registry.ancestors(RegionId(3)).collect::<Vec<_>>(), [RegionId(2), RegionId(1)]);
        assert_eq!(registry.children(RegionId(1)), [RegionId(2), RegionId(4)]);
        assert_eq!(registry.by_code("UA2").unwrap().id, RegionId(2));
        assert!(registry.is_within(RegionId(3), RegionId(1)));
        assert!(!registry.is_within(RegionId(3), RegionId(4)));
    }

    #[test]
    fn broken_registries_are_refused_with_the_reason() {
        let cases = [
            ("1,,oblast,,A,A\n1,,oblast,,B,B\n", RegistryError::DuplicateId { id: RegionId(1) }),
            ("1,,oblast,,A,A\n2,9,raion,,B,B\n", RegistryError::UnknownParent { id: RegionId(2), parent: RegionId(9) }),
            (
                "1,,oblast,,A,A\n2,1,hromada,,B,B\n",
                RegistryError::LevelMismatch { id: RegionId(2), level: "hromada", parent: RegionId(1) },
            ),
            ("1,,oblast,X,A,A\n2,1,raion,X,B,B\n", RegistryError::DuplicateCode { code: "X".into() }),
        ];
        for (rows, expected) in cases {
            let text = format!("id,parent_id,level,katottg,name_uk,name_en\n{rows}");
            assert_eq!(RegionRegistry::from_csv(&text).unwrap_err(), expected, "{rows}");
        }
        let bad_level = "id,parent_id,level,katottg,name_uk,name_en\n1,,country,,A,A\n";
        assert!(matches!(RegionRegistry::from_csv(bad_level), Err(RegistryError::BadRow { row: 2, .. })));
    }
}
