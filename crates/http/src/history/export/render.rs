//! The bytes of an export: records as CSV rows or JSON objects, opened and closed per format.

use std::sync::Arc;

use axum::body::Bytes;
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tryvoha_core::{RegionId, RegionRegistry};
use tryvoha_store::HistoryRecord;

use super::Format;

/// Turns records into the bytes of one format.
pub(crate) struct Renderer {
    pub(crate) registry: Arc<RegionRegistry>,
    pub(crate) format: Format,
}

/// The CSV columns, also the JSON members of each record.
pub(super) const COLUMNS: &str =
    "id,region_id,region_name_uk,region_name_en,kind,level,status,started_at,finished_at,duration_s,source";

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = HistoryRow)]
pub(crate) struct Row<'a> {
    id: u64,
    region_id: RegionId,
    region_name_uk: &'a str,
    region_name_en: &'a str,
    kind: &'static str,
    level: &'static str,
    status: &'static str,
    started_at: String,
    finished_at: String,
    duration_s: i64,
    source: &'a str,
}

impl Renderer {
    pub(super) fn opening(&self) -> Bytes {
        match self.format {
            Format::Json => Bytes::from_static(b"{\"alerts\":["),
            // The header row always: an empty export is still a CSV file of these columns.
            Format::Csv => Bytes::from(format!("{COLUMNS}\n")),
        }
    }

    /// The records' bytes, and whether any record was written (a record of a region this
    /// registry does not know is left out). `first`: no record was written before.
    pub(super) fn rows(&self, records: &[HistoryRecord], first: bool) -> (Bytes, bool) {
        let mut rows = records.iter().filter_map(|record| self.row(record)).peekable();
        let wrote = rows.peek().is_some();
        let bytes = match self.format {
            Format::Json => {
                let mut out = Vec::with_capacity(records.len() * 300);
                for (index, row) in rows.enumerate() {
                    if index > 0 || !first {
                        out.push(b',');
                    }
                    // A struct of strings and numbers always serializes.
                    let _ = serde_json::to_writer(&mut out, &row);
                }
                Bytes::from(out)
            }
            Format::Csv => {
                let mut writer =
                    csv::WriterBuilder::new().has_headers(false).from_writer(Vec::with_capacity(records.len() * 120));
                for row in rows {
                    // Writing strings and numbers into memory cannot fail.
                    let _ = writer.serialize(row);
                }
                Bytes::from(writer.into_inner().unwrap_or_default())
            }
        };
        (bytes, wrote)
    }

    pub(super) fn closing(&self, next: Option<&str>) -> Bytes {
        match self.format {
            // A struct of one string always serializes.
            Format::Json => Bytes::from(format!("],\"next\":{}}}", serde_json::to_string(&next).unwrap_or_default())),
            Format::Csv => Bytes::new(),
        }
    }

    fn row<'a>(&'a self, record: &'a HistoryRecord) -> Option<Row<'a>> {
        let region = self.registry.get(record.region_id)?;
        Some(Row {
            id: record.id,
            region_id: record.region_id,
            region_name_uk: &region.name_uk,
            region_name_en: &region.name_en,
            kind: record.kind.as_str(),
            level: record.level.as_str(),
            status: record.status.as_str(),
            started_at: rfc3339(record.started_at),
            finished_at: rfc3339(record.finished_at),
            duration_s: (record.finished_at - record.started_at).whole_seconds(),
            source: &record.source,
        })
    }
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}
