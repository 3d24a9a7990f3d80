//! `tryvoha token reset-admin --data DIR`: a new admin token, made offline, for when the last
//! one is lost. It works on the data directory directly, so the server must be stopped: it
//! takes the directory's lock, and refuses (naming the server) while one holds it.

use anyhow::Context;
use clap::Args;
use tryvoha_sqlite::SqliteStore;

use crate::config::{FlagSettings, Settings};
use crate::data_lock::DataDirLock;

#[derive(Args)]
pub struct ResetAdminArgs {
    /// Data directory [default: ./tryvoha-data], as for `serve`.
    #[arg(long, env = "TRYVOHA_DATA")]
    data: Option<std::path::PathBuf>,
    /// TOML configuration file, as for `serve`.
    #[arg(long, env = "TRYVOHA_CONFIG")]
    config: Option<std::path::PathBuf>,
}

pub fn run(args: ResetAdminArgs) -> anyhow::Result<()> {
    let settings = Settings::load(FlagSettings { data: args.data, config: args.config, ..FlagSettings::default() })?;
    let database = settings.data.join("tryvoha.db");
    if !database.exists() {
        anyhow::bail!("{} holds no tryvoha database; is --data right?", settings.data.display());
    }
    let _lock = DataDirLock::acquire(&settings.data)?;
    let store = SqliteStore::open(&database).with_context(|| format!("cannot open {}", database.display()))?;
    let (record, secret) = tryvoha_engine::reset_admin(&store, time::OffsetDateTime::now_utc())
        .context("cannot create the admin token")?;
    println!("admin token {} created; its secret is shown only now:\n\n    {secret}\n", record.id);
    Ok(())
}
