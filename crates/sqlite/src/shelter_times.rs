//! The times to shelter an admin set, in SQLite: one row per region.

use rusqlite::params;
use tryvoha_core::RegionId;
use tryvoha_store::{ShelterTimeStore, StoreResult};

use crate::{SqliteStore, unavailable};

impl ShelterTimeStore for SqliteStore {
    fn shelter_times(&self) -> StoreResult<Vec<(RegionId, u32)>> {
        let connection = self.reader();
        let mut statement = connection
            .prepare_cached("SELECT region_id, seconds FROM shelter_times ORDER BY region_id")
            .map_err(unavailable)?;
        let rows = statement.query_map([], |row| Ok((RegionId(row.get(0)?), row.get(1)?))).map_err(unavailable)?;
        rows.map(|row| row.map_err(unavailable)).collect()
    }

    fn set_shelter_time(&self, region: RegionId, seconds: Option<u32>) -> StoreResult<()> {
        let connection = self.writer();
        match seconds {
            Some(seconds) => connection.execute(
                "INSERT INTO shelter_times (region_id, seconds) VALUES (?1, ?2) \
                 ON CONFLICT (region_id) DO UPDATE SET seconds = excluded.seconds",
                params![region.0, seconds],
            ),
            None => connection.execute("DELETE FROM shelter_times WHERE region_id = ?1", [region.0]),
        }
        .map_err(unavailable)?;
        Ok(())
    }
}
