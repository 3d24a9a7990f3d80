//! The incident and shelter status indexes in SQLite: written by `append` with their events,
//! read here.

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use time::OffsetDateTime;
use tryvoha_core::{Incident, IncidentEvent, IncidentId, IncidentKind, RegionId, Seq, ShelterEvent, ShelterStatus};
use tryvoha_store::{IncidentQuery, IncidentStore, StoreError, StoreResult};

use crate::{SqliteStore, decode, encode, unavailable};

pub(crate) fn index_incident(transaction: &Transaction<'_>, event: &IncidentEvent) -> StoreResult<()> {
    let incident = &event.incident;
    transaction
        .execute(
            "INSERT INTO incidents (id, region_id, alert_id, status, public, reported_at, seq, body, kind) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
             ON CONFLICT (id) DO UPDATE SET region_id = excluded.region_id, alert_id = excluded.alert_id, \
             status = excluded.status, public = excluded.public, seq = excluded.seq, body = excluded.body",
            params![
                incident.id.0,
                incident.region_id.0,
                incident.alert_id.map(|id| id.0),
                incident.status.as_str(),
                incident.public,
                millis(incident.reported_at),
                event.seq,
                encode(incident)?,
                incident.kind.as_str()
            ],
        )
        .map_err(unavailable)?;
    Ok(())
}

pub(crate) fn index_shelter(transaction: &Transaction<'_>, event: &ShelterEvent) -> StoreResult<()> {
    transaction
        .execute(
            "INSERT INTO shelter_status (shelter_id, seq, body) VALUES (?1, ?2, ?3) \
             ON CONFLICT (shelter_id) DO UPDATE SET seq = excluded.seq, body = excluded.body",
            params![event.shelter.shelter_id.0, event.seq, encode(&event.shelter)?],
        )
        .map_err(unavailable)?;
    Ok(())
}

fn millis(at: OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000_000) as i64
}

fn incident(connection: &Connection, id: IncidentId) -> StoreResult<Option<Incident>> {
    let body: Option<String> = connection
        .query_row("SELECT body FROM incidents WHERE id = ?1", [id.0], |row| row.get(0))
        .optional()
        .map_err(unavailable)?;
    body.map(|body| decode(&body)).transpose()
}

impl IncidentStore for SqliteStore {
    fn incident(&self, id: IncidentId) -> StoreResult<Option<Incident>> {
        incident(&self.reader(), id)
    }

    fn incident_for_writer(&self, id: IncidentId) -> StoreResult<Option<Incident>> {
        incident(&self.writer(), id)
    }

    fn highest_incident_id(&self) -> StoreResult<Option<IncidentId>> {
        let id: Option<u64> =
            self.writer().query_row("SELECT MAX(id) FROM incidents", [], |row| row.get(0)).map_err(unavailable)?;
        Ok(id.map(IncidentId))
    }

    fn incidents(&self, query: &IncidentQuery) -> StoreResult<Vec<Incident>> {
        let mut sql = String::from("SELECT body FROM incidents WHERE 1 = 1");
        let mut values: Vec<rusqlite::types::Value> = Vec::new();
        let mut bind = |sql: &mut String, clause: &str, value: rusqlite::types::Value| {
            values.push(value);
            sql.push_str(&clause.replace('?', &format!("?{}", values.len())));
        };
        if let Some(regions) = &query.regions {
            let list = regions.iter().map(|r| r.0.to_string()).collect::<Vec<_>>().join(",");
            sql.push_str(&format!(" AND region_id IN ({list})"));
        }
        if let Some(alert) = query.alert_id {
            bind(&mut sql, " AND alert_id = ?", (alert.0 as i64).into());
        }
        if !query.statuses.is_empty() {
            let list = query.statuses.iter().map(|s| format!("'{}'", s.as_str())).collect::<Vec<_>>().join(",");
            sql.push_str(&format!(" AND status IN ({list})"));
        }
        if let Some(from) = query.from {
            bind(&mut sql, " AND reported_at >= ?", millis(from).into());
        }
        if let Some(to) = query.to {
            bind(&mut sql, " AND reported_at < ?", millis(to).into());
        }
        if query.public_only {
            sql.push_str(" AND public");
        }
        sql.push_str(&format!(" ORDER BY reported_at DESC, id DESC LIMIT {}", query.limit));
        let connection = self.reader();
        let mut statement = connection.prepare(&sql).map_err(unavailable)?;
        let bodies = statement
            .query_map(rusqlite::params_from_iter(values), |row| row.get::<_, String>(0))
            .map_err(unavailable)?;
        bodies.map(|body| decode(&body.map_err(unavailable)?)).collect()
    }

    fn incident_counts(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
        public_only: bool,
    ) -> StoreResult<Vec<(RegionId, IncidentKind, u64)>> {
        let connection = self.scanner();
        let mut statement = connection
            .prepare_cached(
                "SELECT region_id, kind, COUNT(*) FROM incidents WHERE reported_at >= ?1 AND reported_at < ?2 \
                 AND (public OR NOT ?3) GROUP BY region_id, kind ORDER BY region_id, kind",
            )
            .map_err(unavailable)?;
        let rows = statement
            .query_map(params![millis(from), millis(to), public_only], |row| {
                Ok((row.get::<_, u32>(0)?, row.get::<_, String>(1)?, row.get::<_, u64>(2)?))
            })
            .map_err(unavailable)?;
        let mut counts = Vec::new();
        for row in rows {
            let (region, kind, count) = row.map_err(unavailable)?;
            let kind = IncidentKind::parse(&kind).ok_or_else(|| {
                StoreError::Unavailable(format!("the store holds an incident of kind {kind:?}").into())
            })?;
            counts.push((RegionId(region), kind, count));
        }
        Ok(counts)
    }

    fn shelter_statuses(&self) -> StoreResult<Vec<(Seq, ShelterStatus)>> {
        let connection = self.reader();
        let mut statement = connection
            .prepare_cached("SELECT seq, body FROM shelter_status ORDER BY shelter_id")
            .map_err(unavailable)?;
        let rows = statement
            .query_map([], |row| Ok((row.get::<_, Seq>(0)?, row.get::<_, String>(1)?)))
            .map_err(unavailable)?;
        rows.map(|row| {
            let (seq, body) = row.map_err(unavailable)?;
            Ok((seq, decode(&body)?))
        })
        .collect()
    }

    fn shelter_events_between(&self, from: OffsetDateTime, to: OffsetDateTime) -> StoreResult<Vec<ShelterEvent>> {
        let connection = self.scanner();
        // `at` is in whole seconds: the bounds are widened to them and the events checked exactly.
        let mut statement = connection
            .prepare_cached(
                "SELECT body FROM events WHERE type = 'shelter_status' AND at >= ?1 AND at <= ?2 ORDER BY seq",
            )
            .map_err(unavailable)?;
        let bodies = statement
            .query_map(params![from.unix_timestamp(), to.unix_timestamp()], |row| row.get::<_, String>(0))
            .map_err(unavailable)?;
        let mut events = Vec::new();
        for body in bodies {
            let event: ShelterEvent = decode(&body.map_err(unavailable)?)?;
            if event.at >= from && event.at < to {
                events.push(event);
            }
        }
        Ok(events)
    }
}
