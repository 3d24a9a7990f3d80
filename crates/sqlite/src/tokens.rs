//! The token registry in SQLite.

use rusqlite::{OptionalExtension, Row, params};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tryvoha_core::{RegionId, Role};
use tryvoha_store::{NewToken, StoreError, StoreResult, TokenId, TokenRecord, TokenStore};

use crate::{SqliteStore, decode, encode, unavailable};

const COLUMNS: &str = "id, name, role, regions, secret_hash, created_at, revoked_at";

impl TokenStore for SqliteStore {
    fn create_token(&self, token: &NewToken) -> StoreResult<TokenRecord> {
        let connection = self.writer();
        connection
            .execute(
                "INSERT INTO tokens (name, role, regions, secret_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    token.name,
                    token.role.as_str(),
                    encode(&token.regions)?,
                    token.secret_hash,
                    format(token.created_at)?
                ],
            )
            .map_err(unavailable)?;
        let id = connection.last_insert_rowid() as TokenId;
        Ok(token.stored_as(id))
    }

    fn tokens(&self) -> StoreResult<Vec<TokenRecord>> {
        let connection = self.reader();
        let mut statement =
            connection.prepare_cached(&format!("SELECT {COLUMNS} FROM tokens ORDER BY id")).map_err(unavailable)?;
        let rows = statement.query_map([], raw_token).map_err(unavailable)?;
        rows.map(|row| row.map_err(unavailable).and_then(RawToken::into_record)).collect()
    }

    fn token_by_hash(&self, secret_hash: &str) -> StoreResult<Option<TokenRecord>> {
        self.reader()
            .query_row(&format!("SELECT {COLUMNS} FROM tokens WHERE secret_hash = ?1"), [secret_hash], raw_token)
            .optional()
            .map_err(unavailable)?
            .map(RawToken::into_record)
            .transpose()
    }

    fn revoke_token(&self, id: TokenId, at: OffsetDateTime) -> StoreResult<TokenRecord> {
        let connection = self.writer();
        connection
            .execute("UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1", params![id, format(at)?])
            .map_err(unavailable)?;
        connection
            .query_row(&format!("SELECT {COLUMNS} FROM tokens WHERE id = ?1"), [id], raw_token)
            .optional()
            .map_err(unavailable)?
            .ok_or(StoreError::NotFound)?
            .into_record()
    }
}

/// A row as SQLite returns it, before the text columns are parsed.
struct RawToken {
    id: TokenId,
    name: String,
    role: String,
    regions: String,
    secret_hash: String,
    created_at: String,
    revoked_at: Option<String>,
}

fn raw_token(row: &Row<'_>) -> rusqlite::Result<RawToken> {
    Ok(RawToken {
        id: row.get(0)?,
        name: row.get(1)?,
        role: row.get(2)?,
        regions: row.get(3)?,
        secret_hash: row.get(4)?,
        created_at: row.get(5)?,
        revoked_at: row.get(6)?,
    })
}

impl RawToken {
    fn into_record(self) -> StoreResult<TokenRecord> {
        let role = Role::parse(&self.role).ok_or_else(|| {
            StoreError::Unavailable(format!("unknown role {:?} in the tokens table", self.role).into())
        })?;
        Ok(TokenRecord {
            id: self.id,
            name: self.name,
            role,
            regions: decode::<Vec<RegionId>>(&self.regions)?,
            secret_hash: self.secret_hash,
            created_at: parse(&self.created_at)?,
            revoked_at: self.revoked_at.as_deref().map(parse).transpose()?,
        })
    }
}

fn format(at: OffsetDateTime) -> StoreResult<String> {
    at.format(&Rfc3339).map_err(unavailable)
}

fn parse(text: &str) -> StoreResult<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).map_err(unavailable)
}
