//! `tryvoha token reset-admin --data DIR`: a new admin token, made offline, for when the last
//! one is lost. It works on the store directly, so the server must be stopped: it takes the
//! locks a server takes (`store_url::lock_store`), and refuses (naming the server) while one
//! holds them.

use anyhow::Context;
use clap::Args;

use crate::config::{FlagSettings, Settings};
use crate::store_url::{IfMissing, lock_store, open_store};

#[derive(Args)]
pub struct ResetAdminArgs {
    /// Data directory [default: ./tryvoha-data], as for `serve`.
    #[arg(long, env = "TRYVOHA_DATA")]
    data: Option<std::path::PathBuf>,
    /// Store URL [default: sqlite:DATA], as for `serve`.
    #[arg(long, env = "TRYVOHA_STORE")]
    store: Option<String>,
    /// TOML configuration file, as for `serve`.
    #[arg(long, env = "TRYVOHA_CONFIG")]
    config: Option<std::path::PathBuf>,
}

pub fn run(args: ResetAdminArgs) -> anyhow::Result<()> {
    let flags = FlagSettings { data: args.data, store: args.store, config: args.config, ..FlagSettings::default() };
    let settings = Settings::load(flags)?;
    if !settings.data.is_dir() {
        anyhow::bail!("{} is no tryvoha data directory; is --data right?", settings.data.display());
    }
    let _locks = lock_store(&settings.data, &settings.store, IfMissing::Refuse)?;
    let store = open_store(&settings.store, IfMissing::Refuse)?;
    let (record, secret) = tryvoha_engine::reset_admin(store.as_ref(), time::OffsetDateTime::now_utc())
        .context("cannot create the admin token")?;
    println!("admin token {} created; its secret is shown only now:\n\n    {secret}\n", record.id);
    Ok(())
}
