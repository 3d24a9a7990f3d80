//! `tryvoha migrate --from DIR --to postgres://…`: an embedded deployment (its data directory,
//! with the server stopped) into a PostgreSQL store for cluster mode, every id kept: the log,
//! the alerts, idempotency keys, tokens, shelters, history, webhooks, push subscriptions and
//! the channels' cursors, then the signing and VAPID keys as the cluster's. The copy is proven
//! by reading both stores back (tryvoha_store::transfer). Running it again adds nothing; a run
//! cut short is finished by the next.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use tryvoha_postgres::{PostgresStore, SchemaName};
use tryvoha_sqlite::SqliteStore;
use tryvoha_store::TransferError;

use crate::config::{FlagSettings, Settings};
use crate::data_lock::DataDirLock;
use crate::keys;
use crate::store_url::{SQLITE_FILE, StoreUrl};

#[derive(Args)]
pub struct MigrateArgs {
    /// The embedded deployment's data directory (its server stopped).
    #[arg(long)]
    from: PathBuf,
    /// The PostgreSQL store to move it into: postgres://USER@HOST/DATABASE.
    #[arg(long)]
    to: String,
    /// The cluster's name, the store's schema there [default: tryvoha], as for `serve`.
    #[arg(long, env = "TRYVOHA_CLUSTER_NAME")]
    cluster_name: Option<String>,
    /// The deployment's signing key file, if `serve` was given one [default: FROM/signing-key].
    #[arg(long, env = "TRYVOHA_SIGNING_KEY_FILE")]
    signing_key_file: Option<PathBuf>,
    /// The configuration file `serve` used, for its `signing_key_file`.
    #[arg(long, env = "TRYVOHA_CONFIG")]
    config: Option<PathBuf>,
}

pub fn run(args: MigrateArgs) -> anyhow::Result<()> {
    let schema = match &args.cluster_name {
        Some(name) => SchemaName::parse(name).context("the setting `cluster-name`")?,
        None => SchemaName::default(),
    };
    // Shown (in errors and the report) without its password.
    let shown = StoreUrl::parse(&args.to).context("the setting `to`")?;
    let StoreUrl::Postgres { url, .. } = &shown else {
        bail!("--to names a PostgreSQL store (postgres://USER@HOST/DATABASE); {shown} is not one");
    };
    let database = args.from.join(SQLITE_FILE);
    if !database.exists() {
        bail!(
            "{} holds no tryvoha database ({SQLITE_FILE}); is --from the server's data directory?",
            args.from.display()
        );
    }
    // Held to the end: the server must not write while its store is copied.
    let _lock = DataDirLock::acquire(&args.from)?;
    // The signing key where `serve` found it: the flag, the environment, the config file, or
    // the data directory.
    let settings = Settings::load(FlagSettings {
        config: args.config.clone(),
        data: Some(args.from.clone()),
        signing_key_file: args.signing_key_file.clone(),
        ..FlagSettings::default()
    })?;
    let key_files = keys::files_to_carry(&settings.signing_key_file, &args.from.join(keys::VAPID_FILE))?;
    let source = SqliteStore::open(&database).with_context(|| format!("cannot open {}", database.display()))?;
    let target = PostgresStore::open(url, &schema)
        .with_context(|| format!("cannot open the store {shown} (schema {schema})"))?;
    keys::check_carry(&target, &key_files)?;

    let copied = tryvoha_store::transfer(&source, &target).map_err(|error| match error {
        TransferError::ForeignLog { .. } | TransferError::TargetAhead { .. } => {
            anyhow::anyhow!(
                "{error}; nothing was migrated. Migrate into a new --cluster-name, or drop its schema first"
            )
        }
        differs @ TransferError::Differs { .. } => anyhow::Error::new(differs),
        other => anyhow::Error::new(other).context("the migration did not finish; run it again to finish it"),
    })?;
    keys::carry(&target, &key_files)?;

    crate::say!("migrated {} into {shown} (schema {schema}):", args.from.display());
    for table in &copied {
        crate::say!("  {:<26} {:>8} in the source, {:>8} written", table.table, table.source, table.written);
    }
    let names: Vec<&str> = key_files.iter().map(|(name, _)| *name).collect();
    crate::say!("  keys carried over: {}", if names.is_empty() { "none".into() } else { names.join(", ") });
    crate::say!(
        "verified: the target holds what the source does; start the nodes with --store {shown} --cluster-name {schema}"
    );
    Ok(())
}
