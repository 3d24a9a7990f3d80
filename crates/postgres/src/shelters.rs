//! The shelter registry. A batch takes its ids from the table's sequence first (in the order of
//! the batch) and goes in as one statement, so a file of thousands is a few round trips.

use tryvoha_core::{Shelter, ShelterId, ShelterInfo};
use tryvoha_store::{ShelterStore, StoreError, StoreResult};

use crate::PostgresStore;
use crate::columns::{bigint, bigints, decode, encode, get, get_u64};
use crate::connection::Connection;

pub(crate) const SEEDED: &str = "shelters_seeded";

impl ShelterStore for PostgresStore {
    fn shelters(&self) -> StoreResult<Vec<Shelter>> {
        let rows = self
            .lookups
            .run(async |connection| connection.query("SELECT id, body FROM shelters ORDER BY id", &[]).await)?;
        rows.iter().map(|row| Ok(Shelter { id: ShelterId(get_u64(row, 0)?), info: decode(get(row, 1)?)? })).collect()
    }

    fn add_shelters(&self, shelters: &[ShelterInfo]) -> StoreResult<Vec<Shelter>> {
        let bodies = bodies(shelters)?;
        self.lookups.run(async |connection| {
            connection.transaction(async { insert_all(connection, shelters, &bodies).await }).await
        })
    }

    fn update_shelter(&self, id: ShelterId, info: &ShelterInfo) -> StoreResult<Shelter> {
        let (key, body) = (bigint(id.0)?, encode(info)?);
        let changed = self.lookups.run(async |connection| {
            connection.execute("UPDATE shelters SET body = $2 WHERE id = $1", &[&key, &body]).await
        })?;
        match changed {
            0 => Err(StoreError::NotFound),
            _ => Ok(Shelter { id, info: info.clone() }),
        }
    }

    fn remove_shelter(&self, id: ShelterId) -> StoreResult<()> {
        let key = bigint(id.0)?;
        let removed = self
            .lookups
            .run(async |connection| connection.execute("DELETE FROM shelters WHERE id = $1", &[&key]).await)?;
        match removed {
            0 => Err(StoreError::NotFound),
            _ => Ok(()),
        }
    }

    fn seed_shelters_once(&self, shelters: &[ShelterInfo]) -> StoreResult<bool> {
        let bodies = bodies(shelters)?;
        self.lookups.run(async |connection| {
            connection
                .transaction(async {
                    // The mark goes in first: a node seeding at the same time waits on its row,
                    // then finds it and seeds nothing.
                    let marked = connection
                        .execute(
                            "INSERT INTO meta (key, value) VALUES ($1, 'yes') ON CONFLICT (key) DO NOTHING",
                            &[&SEEDED],
                        )
                        .await?;
                    if marked == 0 {
                        return Ok(false);
                    }
                    insert_all(connection, shelters, &bodies).await?;
                    Ok(true)
                })
                .await
        })
    }
}

fn bodies(shelters: &[ShelterInfo]) -> StoreResult<Vec<String>> {
    shelters.iter().map(encode).collect()
}

async fn insert_all(connection: &Connection, shelters: &[ShelterInfo], bodies: &[String]) -> StoreResult<Vec<Shelter>> {
    if shelters.is_empty() {
        return Ok(Vec::new());
    }
    let count = i64::try_from(shelters.len()).unwrap_or(i64::MAX);
    let rows = connection
        .query(
            "SELECT nextval(pg_get_serial_sequence('shelters', 'id')) FROM generate_series(1, $1::bigint)",
            &[&count],
        )
        .await?;
    let mut ids = rows.iter().map(|row| get_u64(row, 0)).collect::<StoreResult<Vec<_>>>()?;
    ids.sort_unstable();
    let keys = bigints(ids.iter().copied())?;
    connection
        .execute("INSERT INTO shelters (id, body) SELECT * FROM unnest($1::bigint[], $2::text[])", &[&keys, &bodies])
        .await?;
    Ok(ids.into_iter().zip(shelters).map(|(id, info)| Shelter { id: ShelterId(id), info: info.clone() }).collect())
}
