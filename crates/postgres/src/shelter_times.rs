//! The times to shelter an admin set: one row per region.

use tryvoha_core::RegionId;
use tryvoha_store::{ShelterTimeStore, StoreResult};

use crate::PostgresStore;
use crate::columns::{get, get_u32};

impl ShelterTimeStore for PostgresStore {
    fn shelter_times(&self) -> StoreResult<Vec<(RegionId, u32)>> {
        let sql = "SELECT region_id, seconds FROM shelter_times ORDER BY region_id";
        let rows = self.lookups.run(async |connection| connection.query(sql, &[]).await)?;
        rows.iter()
            .map(|row| {
                let seconds: i32 = get(row, 1)?;
                Ok((RegionId(get_u32(row, 0)?), u32::try_from(seconds).unwrap_or(0)))
            })
            .collect()
    }

    fn set_shelter_time(&self, region: RegionId, seconds: Option<u32>) -> StoreResult<()> {
        let region = i64::from(region.0);
        self.lookups.run(async |connection| {
            match seconds {
                Some(seconds) => {
                    let seconds = i32::try_from(seconds).unwrap_or(i32::MAX);
                    connection
                        .execute(
                            "INSERT INTO shelter_times (region_id, seconds) VALUES ($1, $2) \
                             ON CONFLICT (region_id) DO UPDATE SET seconds = excluded.seconds",
                            &[&region, &seconds],
                        )
                        .await?
                }
                None => connection.execute("DELETE FROM shelter_times WHERE region_id = $1", &[&region]).await?,
            };
            Ok(())
        })
    }
}
