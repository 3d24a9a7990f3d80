//! The token registry: secrets are never stored, only their hashes.

use time::OffsetDateTime;
use tokio_postgres::Row;
use tryvoha_core::{RegionId, Role};
use tryvoha_store::{NewToken, StoreError, StoreResult, TokenId, TokenRecord, TokenStore};

use crate::PostgresStore;
use crate::columns::{bigint, corrupt, decode, encode, get, get_u64, parse_rfc3339, rfc3339};

const COLUMNS: &str = "id, name, role, regions, secret_hash, created_at, revoked_at";

impl TokenStore for PostgresStore {
    fn create_token(&self, token: &NewToken) -> StoreResult<TokenRecord> {
        let (regions, created_at) = (encode(&token.regions)?, rfc3339(token.created_at)?);
        let row = self.lookups.run(async |connection| {
            connection
                .query_one(
                    "INSERT INTO tokens (name, role, regions, secret_hash, created_at) VALUES ($1, $2, $3, $4, $5) \
                     RETURNING id",
                    &[&token.name, &token.role.as_str(), &regions, &token.secret_hash, &created_at],
                )
                .await
        })?;
        Ok(token.stored_as(get_u64(&row, 0)?))
    }

    fn tokens(&self) -> StoreResult<Vec<TokenRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM tokens ORDER BY id");
        let rows = self.lookups.run(async |connection| connection.query(&sql, &[]).await)?;
        rows.iter().map(record).collect()
    }

    fn token_by_hash(&self, secret_hash: &str) -> StoreResult<Option<TokenRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM tokens WHERE secret_hash = $1");
        let row = self.lookups.run(async |connection| connection.query_opt(&sql, &[&secret_hash]).await)?;
        row.as_ref().map(record).transpose()
    }

    fn revoke_token(&self, id: TokenId, at: OffsetDateTime) -> StoreResult<TokenRecord> {
        let (id, at) = (bigint(id)?, rfc3339(at)?);
        // A token revoked before keeps the time it was first revoked.
        let sql = format!("UPDATE tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1 RETURNING {COLUMNS}");
        let row = self.lookups.run(async |connection| connection.query_opt(&sql, &[&id, &at]).await)?;
        record(&row.ok_or(StoreError::NotFound)?)
    }
}

fn record(row: &Row) -> StoreResult<TokenRecord> {
    let role: &str = get(row, 2)?;
    let revoked_at: Option<&str> = get(row, 6)?;
    Ok(TokenRecord {
        id: get_u64(row, 0)?,
        name: get(row, 1)?,
        role: Role::parse(role).ok_or_else(|| corrupt(format!("unknown role {role:?} in the tokens table")))?,
        regions: decode::<Vec<RegionId>>(get(row, 3)?)?,
        secret_hash: get(row, 4)?,
        created_at: parse_rfc3339(get(row, 5)?)?,
        revoked_at: revoked_at.map(parse_rfc3339).transpose()?,
    })
}
