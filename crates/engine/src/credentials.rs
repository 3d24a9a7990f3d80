//! API tokens: creation (the secret is shown once and stored only as a SHA-256 hash),
//! authentication, revocation, and the first admin credential.
//!
//! Secrets are 192 random bits, so a plain SHA-256 is enough (no password stretching needed),
//! and a lookup by hash leaks nothing useful through its timing.

use rand::Rng as _;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use tryvoha_core::{Actor, Grant, RegionId, Role};
use tryvoha_store::{NewToken, StoreError, TokenId, TokenRecord, TokenStore};

use crate::{AuthError, Engine, TokenError};

/// The admin secret given in the configuration. It is not stored; `Debug` never shows it.
#[derive(Clone)]
pub struct AdminCredential {
    secret_hash: String,
}

impl AdminCredential {
    pub fn new(secret: &str) -> AdminCredential {
        AdminCredential { secret_hash: hash_secret(secret) }
    }
}

impl std::fmt::Debug for AdminCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminCredential(<redacted>)")
    }
}

/// Who is calling, once their token checked out.
#[derive(Clone, Debug)]
pub struct Principal {
    pub actor: Actor,
    pub grant: Grant,
    /// A stable name for the caller, used to keep idempotency keys apart.
    pub owner: String,
}

#[derive(Clone, Debug)]
pub struct NewTokenRequest {
    pub name: String,
    pub role: Role,
    pub regions: Vec<RegionId>,
}

impl Engine {
    pub async fn authenticate(&self, secret: &str) -> Result<Principal, AuthError> {
        let hash = hash_secret(secret);
        if let Some(admin) = &self.inner.admin
            && constant_time_eq(admin.secret_hash.as_bytes(), hash.as_bytes())
        {
            return Ok(Principal { actor: Actor::configured_admin(), grant: Grant::admin(), owner: "admin".into() });
        }
        let record = self
            .blocking(move |store| store.token_by_hash(&hash))
            .await
            .map_err(|e| match e {
                crate::EngineError::Unavailable(source) => AuthError::Unavailable(source),
                other => AuthError::Unavailable(StoreError::Unavailable(other.to_string().into())),
            })?
            .ok_or(AuthError::Invalid)?;
        if record.revoked_at.is_some() {
            return Err(AuthError::Revoked);
        }
        Ok(Principal {
            actor: Actor { token_id: Some(record.id), name: record.name.clone() },
            grant: Grant { role: record.role, regions: record.regions },
            owner: format!("token:{}", record.id),
        })
    }

    /// Creates a token; returns its record and the secret, which is not kept anywhere.
    pub async fn create_token(&self, request: NewTokenRequest) -> Result<(TokenRecord, String), TokenError> {
        let name = request.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(TokenError::BadName);
        }
        match (request.role, request.regions.is_empty()) {
            (Role::Operator | Role::Responder, true) => return Err(TokenError::RegionsRequired),
            (Role::Admin | Role::Reader, false) => return Err(TokenError::RegionsNotAllowed),
            _ => {}
        }
        if let Some(&id) = request.regions.iter().find(|&&id| self.registry().get(id).is_none()) {
            return Err(TokenError::UnknownRegion { id });
        }
        if !crate::handoff::take_current() {
            return Err(TokenError::Unavailable(StoreError::Unavailable("the caller gave up waiting".into())));
        }
        let secret = new_secret();
        let token = NewToken {
            name,
            role: request.role,
            regions: request.regions,
            secret_hash: hash_secret(&secret),
            created_at: self.now(),
        };
        let record = self.blocking(move |store| store.create_token(&token)).await.map_err(token_unavailable)?;
        tracing::info!(target: crate::audit::TARGET, action = "create-token", token = record.id, name = %record.name, role = record.role.as_str(), regions = ?record.regions, "token created");
        Ok((record, secret))
    }

    pub async fn tokens(&self) -> Result<Vec<TokenRecord>, TokenError> {
        self.blocking(|store| store.tokens()).await.map_err(token_unavailable)
    }

    /// Revokes a token, unless it is the last active admin token and no admin secret is
    /// configured: nobody could administer the server after that (see `token reset-admin`).
    pub async fn revoke_token(&self, id: TokenId) -> Result<TokenRecord, TokenError> {
        // Check and revoke as one step: two revocations of the last two admin tokens must not
        // both see the other one still active.
        let _one_change_at_a_time = self.inner.token_changes.lock().await;
        if self.inner.admin.is_none() {
            let tokens = self.tokens().await?;
            let target = tokens.iter().find(|t| t.id == id).ok_or(TokenError::NotFound { id })?;
            let active_admin = |t: &TokenRecord| t.role == Role::Admin && t.revoked_at.is_none();
            if active_admin(target) && !tokens.iter().any(|t| t.id != id && active_admin(t)) {
                tracing::warn!(target: crate::audit::TARGET, action = "revoke-token", token = id, refused = "last-admin", "refused write");
                return Err(TokenError::LastAdmin { id });
            }
        }
        if !crate::handoff::take_current() {
            return Err(TokenError::Unavailable(StoreError::Unavailable("the caller gave up waiting".into())));
        }
        let at = self.now();
        let record = match self.blocking(move |store| store.revoke_token(id, at)).await {
            Err(crate::EngineError::Unavailable(StoreError::NotFound)) => Err(TokenError::NotFound { id }),
            other => other.map_err(token_unavailable),
        }?;
        tracing::info!(target: crate::audit::TARGET, action = "revoke-token", token = id, name = %record.name, role = record.role.as_str(), "token revoked");
        Ok(record)
    }

    /// Makes sure someone can administer the server. With no admin secret configured and no
    /// live admin token stored, creates one and returns its secret, to be shown once.
    pub async fn ensure_admin(&self) -> Result<Option<String>, TokenError> {
        if self.inner.admin.is_some() {
            return Ok(None);
        }
        let tokens = self.tokens().await?;
        if tokens.iter().any(|t| t.role == Role::Admin && t.revoked_at.is_none()) {
            return Ok(None);
        }
        let request =
            NewTokenRequest { name: "admin (created at first start)".into(), role: Role::Admin, regions: vec![] };
        let (_, secret) = self.create_token(request).await?;
        Ok(Some(secret))
    }
}

/// Creates an admin token straight in the store, for `tryvoha token reset-admin` while the
/// server is stopped (the caller holds the data directory's lock). Returns its secret, which is
/// not kept anywhere.
pub fn reset_admin(store: &dyn TokenStore, now: OffsetDateTime) -> Result<(TokenRecord, String), StoreError> {
    let secret = new_secret();
    let token = NewToken {
        name: "admin (reset offline)".into(),
        role: Role::Admin,
        regions: vec![],
        secret_hash: hash_secret(&secret),
        created_at: now,
    };
    let record = store.create_token(&token)?;
    tracing::info!(target: crate::audit::TARGET, action = "create-token", token = record.id, name = %record.name, role = "admin", "admin token created offline");
    Ok((record, secret))
}

fn token_unavailable(error: crate::EngineError) -> TokenError {
    match error {
        crate::EngineError::Unavailable(source) => TokenError::Unavailable(source),
        other => TokenError::Unavailable(StoreError::Unavailable(other.to_string().into())),
    }
}

fn new_secret() -> String {
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    format!("tv_{}", hex(&bytes))
}

pub(crate) fn hash_secret(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// A digest of any bytes, for request fingerprints.
pub fn fingerprint(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares secrets (or their hashes) in time that does not depend on where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
