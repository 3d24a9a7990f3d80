//! The public air-raid history datasets (Vadimkin/ukrainian-air-raid-sirens-dataset): official
//! (`oblast,raion,hromada,level,started_at,finished_at,source`, in Ukrainian or English) and
//! volunteer (`region,started_at,finished_at,naive`). Names map to region ids through the
//! bundled table of the names these datasets use.

use std::collections::HashMap;

use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};
use tryvoha_core::lines::LineCounter;
use tryvoha_core::{AlertKind, AlertLevel, AlertStatus, RegionId};
use tryvoha_store::{HistoryRecord, ImportedRecord};

/// (level, oblast name, raion name for hromadas or empty, unit name) → region id.
pub struct HistoryNames {
    names: HashMap<(String, String, String, String), RegionId>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the history names table is broken: {0}")]
pub struct NamesError(String);

impl HistoryNames {
    /// Reads `level,oblast,raion,name,region_id` (data/regions/ukraine-history-names.csv).
    pub fn from_csv(text: &str) -> Result<HistoryNames, NamesError> {
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let mut names = HashMap::new();
        for row in reader.records() {
            let row = row.map_err(|e| NamesError(e.to_string()))?;
            let id = row.get(4).and_then(|id| id.parse().ok()).ok_or_else(|| NamesError(format!("{row:?}")))?;
            let key = (row[0].to_owned(), row[1].to_owned(), row[2].to_owned(), row[3].to_owned());
            names.insert(key, RegionId(id));
        }
        Ok(HistoryNames { names })
    }

    /// By the unit's name in its oblast (and, for a hromada, its raion); a hromada whose raion
    /// the file names differently is still found when its name is unique in the oblast.
    fn find(&self, level: &str, oblast: &str, raion: &str, name: &str) -> Option<RegionId> {
        let key = |raion: &str| (level.to_owned(), oblast.to_owned(), raion.to_owned(), name.to_owned());
        self.names.get(&key(raion)).or_else(|| self.names.get(&key(""))).copied()
    }
}

/// One row: its line number in the file and the record, or why it cannot be imported; and what
/// was odd about a row that was read all the same.
#[derive(Debug, PartialEq, Eq)]
pub struct DatasetRow {
    pub line: usize,
    pub result: Result<ImportedRecord, String>,
    pub warning: Option<String>,
}

/// The sources a history record can have: `live` for alerts this server ran, the rest from the
/// datasets (`volunteer-naive`: the volunteers saw no end and assumed 30 minutes).
pub const SOURCES: [&str; 4] = ["live", "official", "volunteer", "volunteer-naive"];

/// Reads a whole file. `Err` when the header is neither format.
pub fn read_dataset(text: &str, names: &HistoryNames) -> Result<Vec<DatasetRow>, String> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().map_err(|e| e.to_string())?.iter().map(str::to_owned).collect();
    let format = match header.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["oblast", "raion", "hromada", "level", "started_at", "finished_at", "source"] => Format::Official,
        ["region", "started_at", "finished_at", "naive"] => Format::Volunteer,
        _ => {
            return Err(format!(
                "unknown header {header:?}: expected oblast,raion,hromada,level,started_at,finished_at,source \
                 or region,started_at,finished_at,naive"
            ));
        }
    };
    let mut lines = LineCounter::new(text);
    Ok(reader
        .records()
        .enumerate()
        .map(|(index, row)| {
            let line =
                row.as_ref().ok().and_then(|r| r.position()).map_or(index + 2, |p| lines.line_at(p.byte() as usize));
            match row.map_err(|e| e.to_string()).and_then(|row| format.record(&row, names)) {
                Ok((record, warning)) => DatasetRow { line, result: Ok(record), warning },
                Err(reason) => DatasetRow { line, result: Err(reason), warning: None },
            }
        })
        .collect())
}

#[derive(Clone, Copy)]
enum Format {
    Official,
    Volunteer,
}

impl Format {
    /// The record, and a warning when the row had to be read otherwise than it says.
    fn record(self, row: &csv::StringRecord, names: &HistoryNames) -> Result<(ImportedRecord, Option<String>), String> {
        let field = |i: usize| row.get(i).unwrap_or_default().trim();
        let mut warning = None;
        let (region, started, finished, source) = match self {
            Format::Official => {
                let level = field(3);
                let region = match official_region(names, level, field(0), field(1), field(2))? {
                    Some(region) => region,
                    // The published file has a row whose oblast and raion columns are swapped
                    // (official_data_en.csv line 18, the same in the Ukrainian copy): read it
                    // the other way round when only that way names a unit.
                    None => match official_region(names, level, field(1), field(0), field(2))? {
                        Some(region) => {
                            warning = Some(format!(
                                "the oblast and raion columns are swapped ({:?}, {:?}); read as oblast {:?}",
                                field(0),
                                field(1),
                                field(1)
                            ));
                            region
                        }
                        None => {
                            let unit = if level == "oblast" {
                                field(0)
                            } else if level == "raion" {
                                field(1)
                            } else {
                                field(2)
                            };
                            return Err(format!("no {level} named {unit:?} in oblast {:?}", field(0)));
                        }
                    },
                };
                let source = match field(6) {
                    "" | "official" => "official",
                    other => return Err(format!("source {other:?} is not official")),
                };
                (region, field(4), field(5), source.to_owned())
            }
            Format::Volunteer => {
                let region = names
                    .find("oblast", field(0), "", field(0))
                    .ok_or_else(|| format!("no region named {:?}", field(0)))?;
                // `naive`: no end was reported and the dataset assumed 30 minutes.
                let source = match field(3) {
                    "True" => "volunteer-naive",
                    "False" => "volunteer",
                    other => return Err(format!("naive {other:?} is not True or False")),
                };
                (region, field(1), field(2), source.to_owned())
            }
        };
        let started_at = parse_time(started).map_err(|e| format!("started_at {started:?}: {e}"))?;
        let finished_at = parse_time(finished).map_err(|e| format!("finished_at {finished:?}: {e}"))?;
        if finished_at < started_at {
            return Err(format!("finished_at {finished} is before started_at {started}"));
        }
        // The same region starting at the same second is the same alert, whatever the file:
        // re-importing, or importing the Ukrainian copy after the English one, adds nothing.
        let family = if source.starts_with("volunteer") { "volunteer" } else { "official" };
        let key = format!("{family}:{}:{}", region.0, started_at.unix_timestamp());
        let record = HistoryRecord {
            id: 0,
            region_id: region,
            kind: AlertKind::AirRaid,
            level: AlertLevel::Red,
            status: AlertStatus::Actual,
            started_at,
            finished_at,
            source,
        };
        Ok((ImportedRecord { key, record }, warning))
    }
}

/// The unit an official row names, if its columns name one; `Err` for a level that is none of
/// the three.
fn official_region(
    names: &HistoryNames,
    level: &str,
    oblast: &str,
    raion: &str,
    hromada: &str,
) -> Result<Option<RegionId>, String> {
    let (unit, within_raion) = match level {
        "oblast" => (oblast, ""),
        "raion" => (raion, ""),
        "hromada" => (hromada, raion),
        other => return Err(format!("level {other:?} is not oblast, raion or hromada")),
    };
    Ok(names.find(level, oblast, within_raion, unit))
}

/// `2022-03-15 16:10:34+00:00`, at an instant that exists in UTC: the store keeps instants as
/// UTC milliseconds, and one past the year 9999 there (`9999-12-31 23:00:00-05:00`) could be
/// written but never read back, failing every read of the history.
fn parse_time(text: &str) -> Result<OffsetDateTime, String> {
    let format = format_description!(
        "[year]-[month]-[day] [hour]:[minute]:[second][offset_hour sign:mandatory]:[offset_minute]"
    );
    let at = OffsetDateTime::parse(text, format).map_err(|e| e.to_string())?;
    at.checked_to_offset(UtcOffset::UTC).map(|_| at).ok_or_else(|| "is past the year 9999 in UTC".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: &str = "level,oblast,raion,name,region_id\noblast,Kyivska oblast,,Kyivska oblast,14\n\
                         raion,Kyivska oblast,,Bilotserkivskyi raion,73\noblast,Київська область,,Київська область,14\n";

    #[test]
    fn official_rows_map_by_level_and_bad_rows_say_why_with_their_line() {
        let names = HistoryNames::from_csv(NAMES).unwrap();
        let file = "oblast,raion,hromada,level,started_at,finished_at,source\n\
                    Kyivska oblast,,,oblast,2022-03-15 16:10:34+00:00,2022-03-15 16:50:07+00:00,official\n\
                    Kyivska oblast,Bilotserkivskyi raion,,raion,2022-03-16 01:00:00+00:00,2022-03-16 02:00:00+00:00,official\n\
                    Lubenskyi raion,Poltavska oblast,,raion,2023-01-01 00:00:00+00:00,2023-01-01 01:00:00+00:00,official\n\
                    Kyivska oblast,,,oblast,2022-03-17 10:00:00+00:00,2022-03-17 09:00:00+00:00,official\n\
                    Kyivska oblast,,,oblast,yesterday,2022-03-17 09:00:00+00:00,official\n";
        let rows = read_dataset(file, &names).unwrap();
        let first = rows[0].result.as_ref().unwrap();
        assert_eq!((first.record.region_id, first.key.as_str()), (RegionId(14), "official:14:1647360634"));
        assert_eq!(rows[1].result.as_ref().unwrap().record.region_id, RegionId(73));
        let errors: Vec<(usize, &str)> =
            rows[2..].iter().map(|r| (r.line, r.result.as_ref().unwrap_err().as_str())).collect();
        assert_eq!(errors[0], (4, "no raion named \"Poltavska oblast\" in oblast \"Lubenskyi raion\""));
        assert!(errors[1].1.contains("is before started_at"));
        assert!(errors[2].1.starts_with("started_at \"yesterday\""));
    }

    #[test]
    fn a_row_with_its_oblast_and_raion_swapped_is_read_with_a_warning() {
        let names = HistoryNames::from_csv(
            "level,oblast,raion,name,region_id\noblast,Poltavska oblast,,Poltavska oblast,16\n\
             raion,Poltavska oblast,,Lubenskyi raion,90\n\
             hromada,Poltavska oblast,Lubenskyi raion,Hrebinkivska terytorialna hromada,900\n",
        )
        .unwrap();
        // official_data_en.csv line 18, as published.
        let file = "oblast,raion,hromada,level,started_at,finished_at,source\n\
                    Lubenskyi raion,Poltavska oblast,Hrebinkivska terytorialna hromada,hromada,\
                    2022-03-15 16:46:43+00:00,2022-03-15 16:58:17+00:00,official\n\
                    Poltavska oblast,Lubenskyi raion,Hrebinkivska terytorialna hromada,hromada,\
                    2022-03-16 16:46:43+00:00,2022-03-16 16:58:17+00:00,official\n";
        let rows = read_dataset(file, &names).unwrap();
        assert_eq!(rows[0].result.as_ref().unwrap().record.region_id, RegionId(900));
        let warning = rows[0].warning.as_deref().unwrap();
        assert!(warning.contains("swapped") && warning.contains("Poltavska oblast"), "{warning}");
        assert_eq!(rows[1].result.as_ref().unwrap().record.region_id, RegionId(900));
        assert_eq!(rows[1].warning, None, "a row in order has no warning");
    }

    #[test]
    fn an_official_row_of_another_source_is_refused() {
        let names = HistoryNames::from_csv(NAMES).unwrap();
        let file = "oblast,raion,hromada,level,started_at,finished_at,source\n\
                    Kyivska oblast,,,oblast,2022-03-15 16:10:34+00:00,2022-03-15 16:50:07+00:00,rumour\n";
        let rows = read_dataset(file, &names).unwrap();
        assert_eq!(rows[0].result, Err("source \"rumour\" is not official".to_owned()));
    }

    #[test]
    fn volunteer_rows_keep_whether_their_end_was_estimated() {
        let names = HistoryNames::from_csv(NAMES).unwrap();
        let file = "region,started_at,finished_at,naive\n\
                    Kyivska oblast,2022-02-25 16:36:22+00:00,2022-02-25 17:06:22+00:00,True\n\
                    Kyivska oblast,2022-02-26 16:36:22+00:00,2022-02-26 17:00:00+00:00,False\n";
        let rows = read_dataset(file, &names).unwrap();
        let sources: Vec<&str> = rows.iter().map(|r| r.result.as_ref().unwrap().record.source.as_str()).collect();
        assert_eq!(sources, ["volunteer-naive", "volunteer"]);
    }

    #[test]
    fn line_numbers_are_right_in_files_with_crlf_endings() {
        let names = HistoryNames::from_csv(NAMES).unwrap();
        let file = "region,started_at,finished_at,naive\r\n\
                    Kyivska oblast,2022-02-25 16:36:22+00:00,2022-02-25 17:06:22+00:00,True\r\n\
                    Nowhere,2022-02-26 16:36:22+00:00,2022-02-26 17:00:00+00:00,False\r\n";
        let rows = read_dataset(file, &names).unwrap();
        assert_eq!(rows[1].line, 3);
    }

    #[test]
    fn a_time_past_the_year_9999_in_utc_is_refused() {
        // Found by the history fuzz target (crates/history/fuzz): the store could not read it back.
        let names = HistoryNames::from_csv(NAMES).unwrap();
        let file = "region,started_at,finished_at,naive\n\
                    Kyivska oblast,9999-12-31 18:00:00-05:00,9999-12-31 23:00:00-05:00,True\n\
                    Kyivska oblast,9999-12-31 20:00:00+00:00,9999-12-31 23:59:59+00:00,True\n";
        let rows = read_dataset(file, &names).unwrap();
        assert_eq!(
            rows[0].result,
            Err("finished_at \"9999-12-31 23:00:00-05:00\": is past the year 9999 in UTC".to_owned())
        );
        assert!(rows[1].result.is_ok(), "the last second of 9999 in UTC is a time like any other");
    }

    #[test]
    fn an_unknown_header_refuses_the_whole_file() {
        let names = HistoryNames::from_csv(NAMES).unwrap();
        assert!(read_dataset("when,where\n1,2\n", &names).unwrap_err().starts_with("unknown header"));
    }
}
