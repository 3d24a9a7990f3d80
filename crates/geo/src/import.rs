//! Reading shelter files: GeoJSON points, or CSV with `lat`/`lon` columns. Every row is checked
//! and reported by its number, so that a file is imported whole or not at all.
//!
//! Columns (CSV) or properties (GeoJSON): `name_uk` (or `name:uk`, `name`), `name_en` (or
//! `name:en`), `kind`, `capacity`, `wheelchair` (`yes`/`true`, or `no`/`false`/`limited`:
//! only full access counts, so that nobody in a wheelchair is sent where they cannot enter),
//! `address`, `opening_hours`. OpenStreetMap metro stations (`station=subway`) are
//! `metro_station` without a `kind`.

use std::collections::HashMap;

use serde_json::Value;
use tryvoha_core::lines::LineCounter;
use tryvoha_core::{ShelterError, ShelterInfo, ShelterKind};

/// One row of the file: its number (the CSV line, or the GeoJSON feature counted from 1) and
/// the shelter or why it was refused.
#[derive(Debug, PartialEq)]
pub struct ImportedRow {
    pub number: usize,
    pub result: Result<ShelterInfo, RowError>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RowError {
    #[error("the file is neither GeoJSON nor CSV with lat and lon columns: {0}")]
    UnreadableFile(String),
    #[error("{field}: {reason}")]
    BadValue { field: String, reason: String },
    #[error(transparent)]
    Invalid(#[from] ShelterError),
}

/// Reads the whole file; `Err` only when the file itself cannot be read as either format.
pub fn read_shelter_file(text: &str) -> Result<Vec<ImportedRow>, RowError> {
    if text.trim_start().starts_with('{') { read_geojson(text) } else { read_csv(text) }
}

fn read_geojson(text: &str) -> Result<Vec<ImportedRow>, RowError> {
    let document: Value = serde_json::from_str(text).map_err(|e| RowError::UnreadableFile(e.to_string()))?;
    let features =
        document["features"].as_array().ok_or_else(|| RowError::UnreadableFile("no \"features\" array".into()))?;
    Ok(features
        .iter()
        .enumerate()
        .map(|(index, feature)| ImportedRow { number: index + 1, result: geojson_row(feature) })
        .collect())
}

fn geojson_row(feature: &Value) -> Result<ShelterInfo, RowError> {
    let geometry = &feature["geometry"];
    if geometry["type"] != "Point" {
        return Err(bad("geometry", "must be a Point"));
    }
    let position = geometry["coordinates"]
        .as_array()
        .filter(|c| c.len() >= 2)
        .ok_or_else(|| bad("geometry", "a Point needs [lon, lat]"))?;
    let number = |v: &Value, field: &str| v.as_f64().ok_or_else(|| bad(field, "not a number"));
    let (lon, lat) = (number(&position[0], "lon")?, number(&position[1], "lat")?);
    let properties: HashMap<String, String> = feature["properties"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(key, value)| (key.clone(), value.as_str().map_or_else(|| value.to_string(), str::to_owned)))
        .collect();
    shelter(lat, lon, &properties)
}

fn read_csv(text: &str) -> Result<Vec<ImportedRow>, RowError> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| RowError::UnreadableFile(e.to_string()))?
        .iter()
        .map(|h| h.trim().to_lowercase())
        .collect();
    let has = |names: &[&str]| headers.iter().any(|h| names.contains(&h.as_str()));
    if !has(&["lat", "latitude"]) || !has(&["lon", "lng", "longitude"]) {
        return Err(RowError::UnreadableFile(format!("the header {headers:?} has no lat and lon columns")));
    }
    let mut lines = LineCounter::new(text);
    Ok(reader
        .records()
        .enumerate()
        .map(|(index, record)| {
            // The header is line 1; records may span lines, so count from the record's start.
            let number =
                record.as_ref().ok().and_then(|r| r.position()).map_or(index + 2, |p| lines.line_at(p.byte() as usize));
            let result = record.map_err(|e| bad("row", &e.to_string())).and_then(|record| {
                let fields: HashMap<String, String> =
                    headers.iter().cloned().zip(record.iter().map(str::to_owned)).collect();
                let coordinate = |names: &[&str], field: &str| {
                    let text = names.iter().find_map(|n| fields.get(*n)).map(|t| t.trim()).unwrap_or_default();
                    text.parse::<f64>().map_err(|_| bad(field, &format!("{text:?} is not a number")))
                };
                shelter(
                    coordinate(&["lat", "latitude"], "lat")?,
                    coordinate(&["lon", "lng", "longitude"], "lon")?,
                    &fields,
                )
            });
            ImportedRow { number, result }
        })
        .collect())
}

/// Builds and validates a shelter from a row's named values.
fn shelter(lat: f64, lon: f64, fields: &HashMap<String, String>) -> Result<ShelterInfo, RowError> {
    let text = |names: &[&str]| {
        names.iter().find_map(|n| fields.get(*n)).map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
    };
    let kind = match text(&["kind"]) {
        Some(kind) => ShelterKind::parse(&kind).ok_or_else(|| {
            let known: Vec<_> = ShelterKind::ALL.iter().map(|k| k.as_str()).collect();
            bad("kind", &format!("{kind:?} is not one of {}", known.join(", ")))
        })?,
        None if text(&["station"]).as_deref() == Some("subway") => ShelterKind::MetroStation,
        None => return Err(bad("kind", "missing")),
    };
    let capacity = text(&["capacity"])
        .map(|c| c.parse::<u32>().map_err(|_| bad("capacity", &format!("{c:?} is not a whole number"))))
        .transpose()?;
    let wheelchair = match text(&["wheelchair"]).as_deref() {
        None => None,
        Some("yes" | "true") => Some(true),
        Some("no" | "false" | "limited") => Some(false),
        Some(other) => return Err(bad("wheelchair", &format!("{other:?} is not yes, no or limited"))),
    };
    let info = ShelterInfo {
        lat,
        lon,
        name_uk: text(&["name_uk", "name:uk", "name"]).unwrap_or_default(),
        name_en: text(&["name_en", "name:en"]),
        kind,
        capacity,
        wheelchair,
        address: text(&["address"]),
        opening_hours: text(&["opening_hours"]),
    };
    Ok(info.validate()?)
}

fn bad(field: &str, reason: &str) -> RowError {
    RowError::BadValue { field: field.to_owned(), reason: reason.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_are_read_and_bad_ones_reported_by_line() {
        let file = "name_uk,lat,lon,kind,capacity,wheelchair\n\
                    Укриття 1,50.45,30.52,basement,120,yes\n\
                    Укриття 2,north,30.52,basement,,\n\
                    Укриття 3,50.45,30.52,bunker,,\n\
                    ,50.45,30.52,basement,,\n\
                    Укриття 5,95,30.52,basement,,\n";
        let rows = read_shelter_file(file).unwrap();
        assert_eq!(rows.len(), 5);
        let first = rows[0].result.as_ref().unwrap();
        assert_eq!((first.capacity, first.wheelchair, first.kind), (Some(120), Some(true), ShelterKind::Basement));
        let errors: Vec<(usize, String)> =
            rows[1..].iter().map(|r| (r.number, r.result.as_ref().unwrap_err().to_string())).collect();
        assert_eq!(errors[0], (3, "lat: \"north\" is not a number".to_owned()));
        assert!(errors[1].1.starts_with("kind: \"bunker\" is not one of"));
        assert_eq!(errors[2], (5, "name_uk must not be empty".to_owned()));
        assert_eq!(errors[3], (6, "lat must be a number from -90 to 90".to_owned()));
    }

    #[test]
    fn geojson_points_and_osm_metro_stations_are_read() {
        let file = r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{"name":"Хрещатик","name:en":"Khreshchatyk","station":"subway","wheelchair":"no"},
             "geometry":{"type":"Point","coordinates":[30.5225,50.4474]}},
            {"type":"Feature","properties":{"name":"Поле"},"geometry":{"type":"LineString","coordinates":[[0,0],[1,1]]}}]}"#;
        let rows = read_shelter_file(file).unwrap();
        let station = rows[0].result.as_ref().unwrap();
        assert_eq!(
            (station.kind, station.name_en.as_deref(), station.wheelchair),
            (ShelterKind::MetroStation, Some("Khreshchatyk"), Some(false))
        );
        assert_eq!((station.lat, station.lon), (50.4474, 30.5225));
        assert_eq!(rows[1].result, Err(bad("geometry", "must be a Point")));
    }

    #[test]
    fn a_file_of_neither_kind_is_refused_whole() {
        assert!(matches!(read_shelter_file("a,b\n1,2\n"), Err(RowError::UnreadableFile(_))));
        assert!(matches!(read_shelter_file("{\"type\": 1}"), Err(RowError::UnreadableFile(_))));
    }
}
