//! The incident and shelter status indexes: written by `append` in the log's transaction,
//! read here.

use time::OffsetDateTime;
use tryvoha_core::{Event, Incident, IncidentId, IncidentKind, RegionId, Seq, ShelterEvent, ShelterStatus};
use tryvoha_store::{IncidentQuery, IncidentStore, StoreResult};

use crate::PostgresStore;
use crate::columns::{bigint, corrupt, decode, encode, get, get_u32, get_u64, millis};
use crate::connection::Connection;

/// A commit's incident and shelter events as the statements that index them, prepared before
/// any connection is taken.
#[derive(Default)]
pub(crate) struct IndexRows {
    incidents: Vec<IncidentRow>,
    shelters: Vec<(i64, i64, String)>,
}

/// The columns of `incidents`: id, region_id, alert_id, status, public, reported_at, seq, body,
/// kind.
type IncidentRow = (i64, i64, Option<i64>, &'static str, bool, i64, i64, String, &'static str);

impl IndexRows {
    pub(crate) fn of(events: &[Event]) -> StoreResult<IndexRows> {
        let mut rows = IndexRows::default();
        for event in events {
            match event {
                Event::Alert(_) => {}
                Event::Incident(event) => {
                    let incident = &event.incident;
                    rows.incidents.push((
                        bigint(incident.id.0)?,
                        i64::from(incident.region_id.0),
                        incident.alert_id.map(|id| bigint(id.0)).transpose()?,
                        incident.status.as_str(),
                        incident.public,
                        millis(incident.reported_at),
                        bigint(event.seq)?,
                        encode(incident)?,
                        incident.kind.as_str(),
                    ));
                }
                Event::Shelter(event) => rows.shelters.push((
                    bigint(event.shelter.shelter_id.0)?,
                    bigint(event.seq)?,
                    encode(&event.shelter)?,
                )),
            }
        }
        Ok(rows)
    }

    /// In seq order, one statement each: a commit holds few of them (most hold none).
    pub(crate) async fn upsert(&self, connection: &Connection) -> StoreResult<()> {
        for (id, region, alert, status, public, reported, seq, body, kind) in &self.incidents {
            connection
                .execute(
                    "INSERT INTO incidents (id, region_id, alert_id, status, public, reported_at, seq, body, kind) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                     ON CONFLICT (id) DO UPDATE SET region_id = excluded.region_id, alert_id = excluded.alert_id, \
                     status = excluded.status, public = excluded.public, seq = excluded.seq, body = excluded.body",
                    &[id, region, alert, status, public, reported, seq, body, kind],
                )
                .await?;
        }
        for (shelter, seq, body) in &self.shelters {
            connection
                .execute(
                    "INSERT INTO shelter_status (shelter_id, seq, body) VALUES ($1, $2, $3) \
                     ON CONFLICT (shelter_id) DO UPDATE SET seq = excluded.seq, body = excluded.body",
                    &[shelter, seq, body],
                )
                .await?;
        }
        Ok(())
    }
}

async fn incident(connection: &Connection, id: IncidentId) -> StoreResult<Option<Incident>> {
    let row = connection.query_opt("SELECT body FROM incidents WHERE id = $1", &[&bigint(id.0)?]).await?;
    row.map(|row| decode(get(&row, 0)?)).transpose()
}

impl IncidentStore for PostgresStore {
    fn incident(&self, id: IncidentId) -> StoreResult<Option<Incident>> {
        self.lookups.run(async |connection| incident(connection, id).await)
    }

    fn incident_for_writer(&self, id: IncidentId) -> StoreResult<Option<Incident>> {
        self.writer.run(async |connection| incident(connection, id).await)
    }

    fn highest_incident_id(&self) -> StoreResult<Option<IncidentId>> {
        let row =
            self.writer.run(async |connection| connection.query_one("SELECT MAX(id) FROM incidents", &[]).await)?;
        let id: Option<i64> = get(&row, 0)?;
        id.map(|id| u64::try_from(id).map(IncidentId).map_err(|_| corrupt(format!("incident id {id} is stored"))))
            .transpose()
    }

    fn incidents(&self, query: &IncidentQuery) -> StoreResult<Vec<Incident>> {
        let regions: Option<Vec<i64>> = query.regions.as_ref().map(|r| r.iter().map(|r| i64::from(r.0)).collect());
        let alert = query.alert_id.map(|id| bigint(id.0)).transpose()?;
        let statuses: Option<Vec<&str>> =
            (!query.statuses.is_empty()).then(|| query.statuses.iter().map(|s| s.as_str()).collect());
        let (from, to) = (query.from.map(millis), query.to.map(millis));
        let limit = i64::try_from(query.limit).unwrap_or(i64::MAX);
        let rows = self.lookups.run(async |connection| {
            connection
                .query(
                    "SELECT body FROM incidents WHERE ($1::bigint[] IS NULL OR region_id = ANY($1)) \
                     AND ($2::bigint IS NULL OR alert_id = $2) AND ($3::text[] IS NULL OR status = ANY($3)) \
                     AND ($4::bigint IS NULL OR reported_at >= $4) AND ($5::bigint IS NULL OR reported_at < $5) \
                     AND (NOT $6 OR public) ORDER BY reported_at DESC, id DESC LIMIT $7",
                    &[&regions, &alert, &statuses, &from, &to, &query.public_only, &limit],
                )
                .await
        })?;
        rows.iter().map(|row| decode(get(row, 0)?)).collect()
    }

    fn incident_counts(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
        public_only: bool,
    ) -> StoreResult<Vec<(RegionId, IncidentKind, u64)>> {
        let (from, to) = (millis(from), millis(to));
        let rows = self.scans.run(async |connection| {
            connection
                .query(
                    "SELECT region_id, kind, COUNT(*) FROM incidents WHERE reported_at >= $1 AND reported_at < $2 \
                     AND (public OR NOT $3) GROUP BY region_id, kind ORDER BY region_id, kind",
                    &[&from, &to, &public_only],
                )
                .await
        })?;
        rows.iter()
            .map(|row| {
                let kind: String = get(row, 1)?;
                let kind =
                    IncidentKind::parse(&kind).ok_or_else(|| corrupt(format!("incident kind {kind:?} is stored")))?;
                Ok((RegionId(get_u32(row, 0)?), kind, get_u64(row, 2)?))
            })
            .collect()
    }

    fn shelter_statuses(&self) -> StoreResult<Vec<(Seq, ShelterStatus)>> {
        let rows = self.lookups.run(async |connection| {
            connection.query("SELECT seq, body FROM shelter_status ORDER BY shelter_id", &[]).await
        })?;
        rows.iter().map(|row| Ok((get_u64(row, 0)?, decode(get(row, 1)?)?))).collect()
    }

    fn shelter_events_between(&self, from: OffsetDateTime, to: OffsetDateTime) -> StoreResult<Vec<ShelterEvent>> {
        // `at` is in whole seconds: the bounds are widened to them and the events checked exactly.
        let (low, high) = (from.unix_timestamp(), to.unix_timestamp());
        let rows = self.scans.run(async |connection| {
            connection
                .query(
                    "SELECT body FROM events WHERE type = 'shelter_status' AND at >= $1 AND at <= $2 ORDER BY seq",
                    &[&low, &high],
                )
                .await
        })?;
        let mut events = Vec::new();
        for row in &rows {
            let event: ShelterEvent = decode(get(row, 0)?)?;
            if event.at >= from && event.at < to {
                events.push(event);
            }
        }
        Ok(events)
    }
}
