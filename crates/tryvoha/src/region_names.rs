//! Regions as people name them: an id (`14`), a KATOTTG code (`UA32000000000030281`), or a name
//! in Ukrainian or English, in any case (`київська область`, `Kyivska oblast`). Resolved against
//! the server's own registry (`GET /api/v1/regions`), so the CLI knows what the server knows; a
//! name that matches nothing, or several regions, is answered with the candidates.

use anyhow::bail;
use reqwest::Method;
use serde_json::Value;

use crate::client::{Connection, call};

/// The registry as the server lists it.
pub struct RegionNames {
    regions: Vec<Entry>,
}

struct Entry {
    id: u64,
    parent_id: Option<u64>,
    level: String,
    katottg: Option<String>,
    name_uk: String,
    name_en: String,
}

/// At most this many suggestions for a name that matches nothing.
const SUGGESTIONS: usize = 5;

impl RegionNames {
    pub async fn fetch(connection: &Connection) -> anyhow::Result<RegionNames> {
        let (_, body) = call(connection, Method::GET, "/api/v1/regions", None).await?;
        Ok(RegionNames::from_list(&body))
    }

    /// The registry when it can be had, or an empty one. For printing and for numeric ids: a
    /// write that succeeded must not be reported as failed because the names could not be read
    /// afterwards, and an id given as a number needs no names to be sent.
    pub async fn fetch_or_empty(connection: &Connection) -> RegionNames {
        RegionNames::fetch(connection).await.unwrap_or(RegionNames { regions: Vec::new() })
    }

    /// The registry to resolve what was said: needed (and its failure reported) only when
    /// something other than a numeric id was said.
    pub async fn to_resolve<'a>(
        connection: &Connection,
        said: impl IntoIterator<Item = &'a String>,
    ) -> anyhow::Result<RegionNames> {
        if said.into_iter().all(|region| region.trim().chars().all(|c| c.is_ascii_digit())) {
            Ok(RegionNames::fetch_or_empty(connection).await)
        } else {
            RegionNames::fetch(connection).await
        }
    }

    /// From the body of `GET /api/v1/regions`.
    pub fn from_list(body: &Value) -> RegionNames {
        let regions = body["regions"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter_map(|region| {
                Some(Entry {
                    id: region["id"].as_u64()?,
                    parent_id: region["parent_id"].as_u64(),
                    level: region["level"].as_str().unwrap_or_default().to_owned(),
                    katottg: region["katottg"].as_str().map(str::to_owned),
                    name_uk: region["name_uk"].as_str().unwrap_or_default().to_owned(),
                    name_en: region["name_en"].as_str().unwrap_or_default().to_owned(),
                })
            })
            .collect();
        RegionNames { regions }
    }

    /// The id of the region `said` names, or an error that says what it might have meant.
    pub fn resolve(&self, said: &str) -> anyhow::Result<u64> {
        let said = said.trim();
        if said.is_empty() {
            bail!("a region is needed: an id, a KATOTTG code or a name (see `tryvoha regions`)");
        }
        if self.regions.is_empty() && !said.chars().all(|c| c.is_ascii_digit()) {
            bail!("{said:?} cannot be looked up: the server's list of regions could not be read; give the id");
        }
        if said.chars().all(|c| c.is_ascii_digit()) {
            let number = said.parse::<u64>().ok();
            if let Some(number) = number
                && self.regions.is_empty()
            {
                return Ok(number); // no registry to check against: the server will
            }
            return match self.regions.iter().find(|r| Some(r.id) == number) {
                Some(region) => Ok(region.id),
                None => bail!("no region has id {said} (see `tryvoha regions`)"),
            };
        }
        if let Some(region) =
            self.regions.iter().find(|r| r.katottg.as_deref().is_some_and(|c| c.eq_ignore_ascii_case(said)))
        {
            return Ok(region.id);
        }
        let wanted = fold(said);
        let matching: Vec<&Entry> =
            self.regions.iter().filter(|r| fold(&r.name_uk) == wanted || fold(&r.name_en) == wanted).collect();
        match matching.as_slice() {
            [one] => Ok(one.id),
            [] => bail!("no region is named {said:?}{}", self.suggest(&wanted)),
            several => {
                let list: Vec<String> = several.iter().map(|r| format!("  {}", self.describe(r))).collect();
                bail!("{said:?} names {} regions; give its id or KATOTTG code:\n{}", several.len(), list.join("\n"))
            }
        }
    }

    /// `14 Київська область (Kyivska oblast)`, or the bare id for a region the list lacks.
    pub fn label(&self, id: u64) -> String {
        match self.regions.iter().find(|r| r.id == id) {
            Some(region) => format!("{} {}", region.id, names(region)),
            None => id.to_string(),
        }
    }

    /// `label` of each id in a JSON list of ids, comma-separated.
    pub fn labels(&self, ids: &Value) -> String {
        let labels: Vec<String> = ids
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter_map(Value::as_u64)
            .map(|id| self.label(id))
            .collect();
        if labels.is_empty() { "none".to_owned() } else { labels.join(", ") }
    }

    /// A region with its level and, for a raion or hromada, where it lies.
    fn describe(&self, region: &Entry) -> String {
        let parent = region.parent_id.and_then(|id| self.regions.iter().find(|r| r.id == id));
        let within = parent.map(|p| format!(", in {}", p.name_uk)).unwrap_or_default();
        let code = region.katottg.as_deref().map(|c| format!(", {c}")).unwrap_or_default();
        format!("{} {} [{}{within}{code}]", region.id, names(region), region.level)
    }

    /// "; did you mean: …" with the names that begin with what was said or are a few edits away.
    fn suggest(&self, wanted: &str) -> String {
        let allowed = (wanted.chars().count() / 3).max(2);
        let mut scored: Vec<(usize, &Entry)> = self
            .regions
            .iter()
            .filter_map(|region| {
                let score = [&region.name_uk, &region.name_en]
                    .iter()
                    .map(|name| {
                        let name = fold(name);
                        if name.starts_with(wanted) { 0 } else { edit_distance(&name, wanted) }
                    })
                    .min()?;
                (score <= allowed).then_some((score, region))
            })
            .collect();
        scored.sort_by_key(|(score, region)| (*score, region.id));
        // The nearest names only: one edit worse than the best is still a likely meaning.
        let cut = scored.first().map_or(0, |(best, _)| best + 1);
        scored.retain(|(score, _)| *score <= cut);
        if scored.is_empty() {
            return " (see `tryvoha regions` for the names)".to_owned();
        }
        let list: Vec<String> =
            scored.iter().take(SUGGESTIONS).map(|(_, region)| format!("  {}", self.describe(region))).collect();
        format!("; did you mean:\n{}", list.join("\n"))
    }
}

fn names(region: &Entry) -> String {
    if region.name_en.is_empty() || region.name_en == region.name_uk {
        region.name_uk.clone()
    } else {
        format!("{} ({})", region.name_uk, region.name_en)
    }
}

/// Lower case, one kind of apostrophe, single spaces: how a name is compared.
fn fold(name: &str) -> String {
    let lower: String =
        name.to_lowercase().chars().map(|c| if matches!(c, '’' | 'ʼ' | '`' | '‘') { '\'' } else { c }).collect();
    lower.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Levenshtein distance over characters (Cyrillic letters are one edit each, not two bytes).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn names() -> RegionNames {
        RegionNames::from_list(&json!({ "regions": [
            { "id": 14, "parent_id": null, "level": "oblast", "katottg": "UA32000000000030281",
              "name_uk": "Київська область", "name_en": "Kyivska oblast" },
            { "id": 31, "parent_id": null, "level": "oblast", "katottg": "UA80000000000093317",
              "name_uk": "м. Київ", "name_en": "Kyiv City" },
            { "id": 27, "parent_id": null, "level": "oblast", "katottg": null,
              "name_uk": "Львівська область", "name_en": "Lvivska oblast" },
            { "id": 500, "parent_id": 14, "level": "hromada", "katottg": "UA32001",
              "name_uk": "Іванівська сільська громада", "name_en": "Ivanivska hromada" },
            { "id": 501, "parent_id": 27, "level": "hromada", "katottg": "UA46001",
              "name_uk": "Іванівська сільська громада", "name_en": "Ivanivska hromada" },
            { "id": 502, "parent_id": 27, "level": "hromada", "katottg": null,
              "name_uk": "Кам'янка-Бузька міська громада", "name_en": "Kamianka-Buzka hromada" }
        ] }))
    }

    #[test]
    fn ids_codes_and_names_in_either_language_and_any_case_resolve() {
        let names = names();
        for (said, id) in [
            ("14", 14),
            ("UA80000000000093317", 31),
            ("ua32000000000030281", 14),
            ("Київська область", 14),
            ("КИЇВСЬКА ОБЛАСТЬ", 14),
            ("kyivska  Oblast", 14),
            ("kyiv city", 31),
            ("Камʼянка-Бузька міська громада", 502),
        ] {
            assert_eq!(names.resolve(said).unwrap(), id, "{said}");
        }
    }

    #[test]
    fn a_typo_is_answered_with_the_nearest_names() {
        let error = names().resolve("Kyivska oblsat").unwrap_err().to_string();
        assert!(error.starts_with("no region is named \"Kyivska oblsat\"; did you mean:"), "{error}");
        assert!(error.contains("14 Київська область (Kyivska oblast) [oblast, UA32000000000030281]"), "{error}");
        assert!(!error.contains("Lviv"), "{error}");
        let error = names().resolve("Kyiv").unwrap_err().to_string();
        assert!(error.contains("14 Київська") && error.contains("31 м. Київ"), "a beginning suggests both: {error}");
        let error = names().resolve("Atlantis").unwrap_err().to_string();
        assert!(error.contains("see `tryvoha regions`"), "{error}");
    }

    #[test]
    fn a_name_that_several_regions_share_is_not_guessed() {
        let error = names().resolve("ivanivska hromada").unwrap_err().to_string();
        assert!(error.contains("names 2 regions"), "{error}");
        assert!(error.contains("500 ") && error.contains("in Київська область"), "{error}");
        assert!(error.contains("501 ") && error.contains("in Львівська область"), "{error}");
    }

    #[test]
    fn an_unknown_id_is_refused_here_and_labels_carry_names() {
        let names = names();
        assert!(names.resolve("999999").unwrap_err().to_string().contains("no region has id 999999"));
        assert_eq!(names.label(14), "14 Київська область (Kyivska oblast)");
        assert_eq!(names.label(4242), "4242");
        assert_eq!(names.labels(&json!([14, 31])), "14 Київська область (Kyivska oblast), 31 м. Київ (Kyiv City)");
        assert_eq!(names.labels(&json!([])), "none");
    }

    #[test]
    fn without_the_registry_an_id_still_goes_through_and_a_name_is_refused_in_words() {
        let none = RegionNames { regions: Vec::new() };
        assert_eq!(none.resolve("14").unwrap(), 14, "the server checks it");
        let error = none.resolve("Kyiv City").unwrap_err().to_string();
        assert!(error.contains("could not be read; give the id"), "{error}");
        assert_eq!(none.label(14), "14");
    }

    #[test]
    fn edit_distance_counts_letters_not_bytes() {
        assert_eq!(edit_distance("київ", "киів"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
