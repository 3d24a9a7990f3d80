//! The shelter registry in SQLite.

use rusqlite::{OptionalExtension, params};
use tryvoha_core::{Shelter, ShelterId, ShelterInfo};
use tryvoha_store::{ShelterStore, StoreError, StoreResult};

use crate::{SqliteStore, decode, encode, unavailable};

pub(crate) const SEEDED: &str = "shelters_seeded";

impl ShelterStore for SqliteStore {
    fn shelters(&self) -> StoreResult<Vec<Shelter>> {
        let connection = self.reader();
        let mut statement =
            connection.prepare_cached("SELECT id, body FROM shelters ORDER BY id").map_err(unavailable)?;
        let rows = statement
            .query_map([], |row| Ok((row.get::<_, u64>(0)?, row.get::<_, String>(1)?)))
            .map_err(unavailable)?;
        rows.map(|row| {
            let (id, body) = row.map_err(unavailable)?;
            Ok(Shelter { id: ShelterId(id), info: decode(&body)? })
        })
        .collect()
    }

    fn add_shelters(&self, shelters: &[ShelterInfo]) -> StoreResult<Vec<Shelter>> {
        let mut connection = self.writer();
        let transaction = connection.transaction().map_err(unavailable)?;
        let added = insert_all(&transaction, shelters)?;
        transaction.commit().map_err(unavailable)?;
        Ok(added)
    }

    fn update_shelter(&self, id: ShelterId, info: &ShelterInfo) -> StoreResult<Shelter> {
        let changed = self
            .writer()
            .execute("UPDATE shelters SET body = ?2 WHERE id = ?1", params![id.0, encode(info)?])
            .map_err(unavailable)?;
        match changed {
            0 => Err(StoreError::NotFound),
            _ => Ok(Shelter { id, info: info.clone() }),
        }
    }

    fn remove_shelter(&self, id: ShelterId) -> StoreResult<()> {
        match self.writer().execute("DELETE FROM shelters WHERE id = ?1", [id.0]).map_err(unavailable)? {
            0 => Err(StoreError::NotFound),
            _ => Ok(()),
        }
    }

    fn seed_shelters_once(&self, shelters: &[ShelterInfo]) -> StoreResult<bool> {
        let mut connection = self.writer();
        let transaction = connection.transaction().map_err(unavailable)?;
        let seeded: Option<String> = transaction
            .query_row("SELECT value FROM meta WHERE key = ?1", [SEEDED], |row| row.get(0))
            .optional()
            .map_err(unavailable)?;
        if seeded.is_some() {
            return Ok(false);
        }
        insert_all(&transaction, shelters)?;
        transaction.execute("INSERT INTO meta (key, value) VALUES (?1, 'yes')", [SEEDED]).map_err(unavailable)?;
        transaction.commit().map_err(unavailable)?;
        Ok(true)
    }
}

fn insert_all(transaction: &rusqlite::Transaction<'_>, shelters: &[ShelterInfo]) -> StoreResult<Vec<Shelter>> {
    let mut statement = transaction.prepare_cached("INSERT INTO shelters (body) VALUES (?1)").map_err(unavailable)?;
    shelters
        .iter()
        .map(|info| {
            statement.execute([encode(info)?]).map_err(unavailable)?;
            Ok(Shelter { id: ShelterId(transaction.last_insert_rowid() as u64), info: info.clone() })
        })
        .collect()
}
